-- Accounts and sessions as a hospital's IT review expects them: a password
-- set by someone else (the first administrator's, an admin's reset) must be
-- changed at the next login, and a session ends after a while unused.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sessions ADD COLUMN last_seen_ms BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_ms = created_ms;
