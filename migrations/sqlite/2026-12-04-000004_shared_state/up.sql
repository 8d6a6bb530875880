-- State every instance behind a load balancer must see alike.

-- Throttle buckets (domain::throttle): failed sign-ins per account, address
-- and trusted device, and public credential lookups per address. One row a
-- bucket; `level` is the count as of `at_ms` (milliseconds since 1970),
-- draining by the bucket's limit; `empty_at_ms` is when it has drained
-- completely, after which the row is pruned.
CREATE TABLE throttle_buckets (
    bucket TEXT PRIMARY KEY NOT NULL,
    level REAL NOT NULL,
    at_ms BIGINT NOT NULL,
    empty_at_ms BIGINT NOT NULL
);
CREATE INDEX throttle_buckets_empty ON throttle_buckets (empty_at_ms);

-- Periodic jobs: a round of a job runs only while its instance holds the
-- job's lease, so two instances never run the same round at once.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    held_until TIMESTAMP NOT NULL
);
