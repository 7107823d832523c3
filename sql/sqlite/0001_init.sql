-- Sanjeevani schema for SQLite (the embedded default, one dialer node).
-- Instants are milliseconds since the Unix epoch (UTC) in BIGINT columns, dates
-- are ISO text, JSON is text: the same queries run on SQLite and PostgreSQL.

CREATE TABLE contact_lists (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_ms  BIGINT NOT NULL
);

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    -- CampaignSettings as JSON: pacing, calling window, retry rules, questionnaire.
    settings    TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'paused' CHECK (state IN ('running', 'paused', 'stopped')),
    created_ms  BIGINT NOT NULL
);

CREATE TABLE campaign_lists (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list_id     BIGINT NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, list_id)
);

CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    list_id          BIGINT NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
    phone            TEXT NOT NULL,               -- E.164
    name             TEXT NOT NULL DEFAULT '',
    language         TEXT,
    category         TEXT NOT NULL,
    risk_flags       TEXT NOT NULL DEFAULT '',    -- comma-separated
    priority         BIGINT NOT NULL DEFAULT 0,   -- higher first
    follow_up_start  TEXT,                        -- YYYY-MM-DD
    follow_up_days   BIGINT,
    district         TEXT,
    block            TEXT,
    timezone         TEXT,                        -- IANA name, NULL: the campaign's
    attributes       TEXT NOT NULL DEFAULT '{}',  -- JSON object
    -- Where the contact stands.
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'done', 'invalid', 'exhausted', 'discharged', 'do_not_call')),
    next_due_ms      BIGINT NOT NULL,
    attempts_total   BIGINT NOT NULL DEFAULT 0,
    attempts_today   BIGINT NOT NULL DEFAULT 0,
    failures_today   BIGINT NOT NULL DEFAULT 0,
    attempts_day     TEXT,                        -- local date of attempts_today
    last_outcome     TEXT,
    agent_required   BOOLEAN NOT NULL DEFAULT FALSE, -- dial only with an agent reserved
    callback_agent   BIGINT,                      -- scheduled callback: preferred agent
    is_callback      BOOLEAN NOT NULL DEFAULT FALSE,
    lease_owner      TEXT,
    lease_until_ms   BIGINT,
    created_ms       BIGINT NOT NULL,
    -- Phone first: the same index finds a number across lists (do-not-call).
    UNIQUE (phone, list_id)
);
-- The hopper walks pending contacts in dialing order and stops at its limit.
CREATE INDEX contacts_hopper ON contacts (is_callback DESC, priority DESC, next_due_ms, id) WHERE state = 'pending';
CREATE INDEX contacts_lease_owner ON contacts (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE call_attempts (
    id           INTEGER PRIMARY KEY,
    contact_id   BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    node         TEXT NOT NULL,
    agent_id     BIGINT,
    dial_ms      BIGINT NOT NULL,
    ring_ms      BIGINT,
    answer_ms    BIGINT,
    connect_ms   BIGINT,
    end_ms       BIGINT,
    outcome      TEXT,                            -- NULL while the attempt is open
    cause        TEXT
);
-- At most one open attempt per contact: nobody is dialed twice at once.
CREATE UNIQUE INDEX call_attempts_one_open ON call_attempts (contact_id) WHERE outcome IS NULL;
CREATE INDEX call_attempts_contact ON call_attempts (contact_id);
CREATE INDEX call_attempts_campaign_dial ON call_attempts (campaign_id, dial_ms);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'medical')),
    password_hash  TEXT NOT NULL,               -- argon2 PHC string
    created_ms     BIGINT NOT NULL,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE agents (
    id          INTEGER PRIMARY KEY,
    user_id     BIGINT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    endpoint    TEXT,                            -- SIP URI or PBX endpoint of the agent's phone
    languages   TEXT NOT NULL DEFAULT 'hi,en'
);

CREATE TABLE dispositions (
    id          INTEGER PRIMARY KEY,
    attempt_id  BIGINT NOT NULL REFERENCES call_attempts (id) ON DELETE CASCADE,
    contact_id  BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    agent_id    BIGINT,
    code        TEXT NOT NULL,
    answers     TEXT NOT NULL DEFAULT '{}',     -- questionnaire answers, JSON
    notes       TEXT NOT NULL DEFAULT '',
    created_ms  BIGINT NOT NULL
);
CREATE INDEX dispositions_contact ON dispositions (contact_id);

CREATE TABLE do_not_call (
    phone       TEXT PRIMARY KEY,                -- E.164
    reason      TEXT NOT NULL DEFAULT '',
    added_ms    BIGINT NOT NULL
);

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    contact_id      BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id     BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,               -- unreachable_high_risk
    day             TEXT NOT NULL,               -- contact's local date
    detail          TEXT NOT NULL DEFAULT '',
    created_ms      BIGINT NOT NULL,
    acknowledged_ms BIGINT,
    UNIQUE (contact_id, kind, day)
);
