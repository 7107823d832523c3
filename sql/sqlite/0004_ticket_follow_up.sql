-- Which node's desk follows a ticket up (offers its callbacks), and how many
-- callbacks have been tried, so that the follow-up goes on after a restart.
ALTER TABLE tickets ADD COLUMN follow_node TEXT;
ALTER TABLE tickets ADD COLUMN callback_tries BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tickets_follow ON tickets (follow_node) WHERE resolved_ms IS NULL;
