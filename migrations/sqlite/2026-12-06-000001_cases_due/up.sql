-- New evidence for a person's certification cases (a released or changed
-- result, a completed course, a practical mark): written in the transaction
-- of the event that brought it, and taken by the pipeline, which moves the
-- person's open cases on and deletes the row in one transaction. The request
-- that wrote the row takes it right after its commit; the cases-due job takes
-- what a crash between the two left behind. See docs/architecture.md.
CREATE TABLE cases_due (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    noted_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_due_person ON cases_due (person_id);
