-- The audit trail becomes a hash chain (domain::audit_chain, issue 14).
-- Each event chained from now on carries its place in the chain (seq, from
-- 1), the hash of the event before it (prev_hash; 64 zeros for the first)
-- and its own hash over its canonical content and prev_hash. Events already
-- stored stay unchained: the chain starts with the first event recorded
-- after this migration, and `gatekeeper audit verify` counts the older ones
-- apart (they have no hash to check).
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
-- One event per place: two writers can never both append the same seq.
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
-- The decision record looks events up by what they are about.
CREATE INDEX audit_events_target ON audit_events (target);

-- The chain's head, one row: the last seq and hash. Appending locks it
-- (FOR UPDATE), which serialises appends across connections and instances;
-- it also tells verify how long the chain is, so a deleted tail shows.
-- before_id: events with an id up to it predate the chain.
CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    last_event_id BIGINT,
    before_id BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL
);
INSERT INTO audit_chain (id, seq, hash, last_event_id, before_id, started_at)
SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000', NULL,
       COALESCE(MAX(id), 0), now() AT TIME ZONE 'UTC'
FROM audit_events;
