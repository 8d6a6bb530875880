-- Idempotency-Key: the first answer to a create (a referral, an exam),
-- kept 24 hours, so that the same request sent again by the same caller —
-- a retry after a lost answer, a double click — creates nothing new and
-- gets that answer back. Written in the create's own transaction.
CREATE TABLE idempotency_keys (
    id BIGSERIAL PRIMARY KEY,
    -- Whose key: person:ID or token:ID (a personal token acts as its person).
    owner TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    -- SHA-256 of the operation and its input: the same key with another
    -- request is refused.
    request_hash TEXT NOT NULL,
    -- The first answer's JSON body.
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_once ON idempotency_keys (owner, idem_key);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
