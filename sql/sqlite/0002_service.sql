-- The service: login sessions, the audit log and escalation tickets.

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,               -- SHA-256 of the token, hex; the token itself is never stored
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    user_id     BIGINT,
    username    TEXT NOT NULL,
    action      TEXT NOT NULL,                   -- pacing_change, export, view_contact, …
    subject     TEXT NOT NULL DEFAULT '',        -- what was acted on, e.g. campaign/3
    detail      TEXT NOT NULL DEFAULT '',
    created_ms  BIGINT NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_ms);

CREATE TABLE tickets (
    id           INTEGER PRIMARY KEY,
    contact_id   BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    attempt_id   BIGINT REFERENCES call_attempts (id) ON DELETE SET NULL,
    urgency      TEXT NOT NULL CHECK (urgency IN ('urgent', 'routine')),
    reason       TEXT NOT NULL DEFAULT '',
    answers      TEXT NOT NULL DEFAULT '{}',     -- questionnaire answers, JSON
    raised_by    BIGINT,                         -- user id of the agent
    assigned_to  BIGINT,                         -- user id of the desk member
    created_ms   BIGINT NOT NULL,
    resolved_ms  BIGINT,
    resolution   TEXT,
    resolved_by  BIGINT,
    notes        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tickets_open ON tickets (created_ms) WHERE resolved_ms IS NULL;
CREATE INDEX tickets_contact ON tickets (contact_id);
