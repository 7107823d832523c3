-- The name Asterisk stores a recorded call under (GET /recordings/stored/{name}/file);
-- NULL: not recorded.
ALTER TABLE call_attempts ADD COLUMN recording TEXT;
