-- The phone a person's calls reach (an Asterisk endpoint such as
-- PJSIP/agent7, or a SIP URI): agents' auto-connected line, the medical desk's
-- consults, a supervisor's listening. NULL: the telephony's rule from the
-- username (ari_agent_endpoint and its kin).
ALTER TABLE users ADD COLUMN phone TEXT;
