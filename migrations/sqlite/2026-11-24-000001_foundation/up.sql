-- Foundation: institutions, people and their roles, sign-in sessions, one-time
-- password links, API tokens, the email outbox and the audit trail.
-- Times are UTC. Enumerations are stored as text and parsed in domain/.

CREATE TABLE institutions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    region TEXT NOT NULL,
    alliance_member BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX institutions_name ON institutions (name);

CREATE TABLE people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    practising_certificate TEXT,
    institution_id INTEGER REFERENCES institutions (id),
    password_hash TEXT,
    active BOOLEAN NOT NULL,
    locale TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);
-- Emails are stored lower-cased by domain::people::Email, so this index is
-- case-insensitive uniqueness.
CREATE UNIQUE INDEX people_email ON people (email);
CREATE INDEX people_institution ON people (institution_id);

CREATE TABLE person_roles (
    person_id INTEGER NOT NULL REFERENCES people (id),
    role TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);
CREATE INDEX person_roles_role ON person_roles (role);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people (id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);

CREATE TABLE password_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_tokens_person ON password_tokens (person_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    person_id INTEGER REFERENCES people (id),
    scopes TEXT NOT NULL,
    created_by INTEGER REFERENCES people (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    to_address TEXT NOT NULL,
    to_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    sent_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    ip TEXT,
    detail TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
