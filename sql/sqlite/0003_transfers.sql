-- Warm transfers to the medical desk. An escalation is stored as a ticket from
-- the moment the agent asks for the desk: `ringing` while the desk is being
-- called or consulted (by the node named in transfer_node), then either `live`
-- (handed over to the member live_to; closed at once) or `fallback` (an open
-- ticket, with why in fallback). Tickets raised without a transfer are `none`.
ALTER TABLE tickets ADD COLUMN transfer TEXT NOT NULL DEFAULT 'none'
    CHECK (transfer IN ('none', 'ringing', 'live', 'fallback'));
ALTER TABLE tickets ADD COLUMN transfer_node TEXT;
ALTER TABLE tickets ADD COLUMN fallback TEXT;
ALTER TABLE tickets ADD COLUMN live_to BIGINT;
CREATE INDEX tickets_ringing ON tickets (transfer_node) WHERE transfer = 'ringing';
