-- Question banks. A question has a stable key within its bank; every change
-- to what it says (or its topic, difficulty or points) is a new row in
-- question_versions, so an attempt always shows and grades the version it
-- drew. Retired questions are never drawn again.

CREATE TABLE question_banks (
    id BIGSERIAL PRIMARY KEY,
    bank_key TEXT NOT NULL,
    title TEXT NOT NULL,
    track TEXT NOT NULL,
    language TEXT NOT NULL,
    sample BOOLEAN NOT NULL,
    file_version INTEGER NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    imported_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX question_banks_key ON question_banks (bank_key);

CREATE TABLE questions (
    id BIGSERIAL PRIMARY KEY,
    bank_id BIGINT NOT NULL REFERENCES question_banks (id),
    question_key TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    retired_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX questions_key ON questions (bank_id, question_key);

CREATE TABLE question_versions (
    id BIGSERIAL PRIMARY KEY,
    question_id BIGINT NOT NULL REFERENCES questions (id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    difficulty INTEGER NOT NULL,
    points INTEGER NOT NULL,
    content TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX question_versions_number ON question_versions (question_id, version);
CREATE INDEX question_versions_topic ON question_versions (topic, difficulty);
