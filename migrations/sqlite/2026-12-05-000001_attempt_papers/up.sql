-- A predrawn paper rendered ahead of the opening: the items of the attempt's
-- view (stems, options in this candidate's order, points) as JSON, so that a
-- start at the opening minute updates one row and sends bytes already made.
-- Versions are immutable, so the rendering never goes stale; it is used only
-- by the start that begins the attempt (no answers yet).
CREATE TABLE attempt_papers (
    attempt_id INTEGER PRIMARY KEY NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    items TEXT NOT NULL
);
