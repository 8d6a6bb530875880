-- Scheduled exams, registrations (with accommodations), attempts and their
-- papers, saved answers, and the audit trail of every attempt event.

CREATE TABLE exams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    track TEXT NOT NULL,
    title TEXT NOT NULL,
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    pass_mark INTEGER NOT NULL,
    attempts_allowed INTEGER NOT NULL,
    waiting_days INTEGER NOT NULL,
    review_policy TEXT NOT NULL,
    blueprint TEXT NOT NULL,
    grace_seconds INTEGER NOT NULL,
    created_by INTEGER REFERENCES people (id),
    created_at TIMESTAMP NOT NULL,
    results_released_at TIMESTAMP
);

CREATE TABLE registrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exam_id INTEGER NOT NULL REFERENCES exams (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    extra_minutes INTEGER NOT NULL,
    opens_at TIMESTAMP,
    closes_at TIMESTAMP,
    registered_by INTEGER REFERENCES people (id),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX registrations_once ON registrations (exam_id, person_id);

CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exam_id INTEGER NOT NULL REFERENCES exams (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    number INTEGER NOT NULL,
    seed BIGINT NOT NULL,
    drawn_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    deadline TIMESTAMP,
    submitted_at TIMESTAMP,
    auto_submitted BOOLEAN NOT NULL,
    objective_score DOUBLE PRECISION,
    objective_total DOUBLE PRECISION
);
CREATE UNIQUE INDEX attempts_number ON attempts (exam_id, person_id, number);
CREATE INDEX attempts_due ON attempts (submitted_at, deadline);

CREATE TABLE attempt_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    position INTEGER NOT NULL,
    section INTEGER NOT NULL,
    question_id INTEGER NOT NULL REFERENCES questions (id),
    version_id INTEGER NOT NULL REFERENCES question_versions (id),
    points INTEGER NOT NULL,
    option_order TEXT NOT NULL,
    score DOUBLE PRECISION
);
CREATE UNIQUE INDEX attempt_items_position ON attempt_items (attempt_id, position);
CREATE INDEX attempt_items_question ON attempt_items (question_id);

CREATE TABLE answers (
    attempt_item_id INTEGER PRIMARY KEY NOT NULL REFERENCES attempt_items (id),
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    response TEXT NOT NULL,
    seq BIGINT NOT NULL,
    saved_at TIMESTAMP NOT NULL
);
CREATE INDEX answers_attempt ON answers (attempt_id);

CREATE TABLE attempt_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX attempt_events_attempt ON attempt_events (attempt_id);
