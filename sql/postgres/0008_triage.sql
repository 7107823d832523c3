-- A callback asked for during a call outlives that call's end: the time it
-- was asked for tells it apart from the callback the call itself was.
ALTER TABLE contacts ADD COLUMN callback_set_ms BIGINT;
-- The questionnaire rule that made a ticket urgent, as its reason in both
-- languages (JSON), shown to the agent and the doctor alike.
ALTER TABLE tickets ADD COLUMN rule_reason TEXT;
-- A caller handed to a doctor live leaves the ticket open, assigned to them,
-- until they record what they did; this is when the hand-over happened.
ALTER TABLE tickets ADD COLUMN live_ms BIGINT;
-- An agent who saves a call whose answers meet an urgent rule without
-- escalating it says why; the supervisor sees it and the audit keeps it.
ALTER TABLE dispositions ADD COLUMN override_reason TEXT;
-- What an agent has typed for a call so far (answers, notes, the result
-- picked), kept until the call is recorded: a reload or a crashed page loses
-- nothing.
CREATE TABLE call_drafts (
    attempt_id  BIGINT PRIMARY KEY REFERENCES call_attempts (id) ON DELETE CASCADE,
    answers     TEXT NOT NULL DEFAULT '{}',
    notes       TEXT NOT NULL DEFAULT '',
    code        TEXT NOT NULL DEFAULT '',
    updated_ms  BIGINT NOT NULL
);
-- Calls still to be recorded are found by their missing disposition.
CREATE INDEX dispositions_attempt ON dispositions (attempt_id);
CREATE INDEX call_attempts_agent ON call_attempts (agent_id, dial_ms);
