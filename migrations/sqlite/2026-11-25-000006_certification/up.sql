-- The certification pipeline (domain::pipeline), the committee's votes and
-- the credentials it issues (domain::credential).

-- Track policy, set by the committee: the credential number's code, the
-- retake policy of each exam stage, the cool-off after a rejected case,
-- whether the case assessment includes a practical station, and the
-- committee's quorum.
ALTER TABLE tracks ADD COLUMN code TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN stage_attempts INTEGER NOT NULL DEFAULT 3;
ALTER TABLE tracks ADD COLUMN retake_wait_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE tracks ADD COLUMN cooloff_days INTEGER NOT NULL DEFAULT 180;
ALTER TABLE tracks ADD COLUMN requires_practical BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tracks ADD COLUMN quorum INTEGER NOT NULL DEFAULT 3;
UPDATE tracks SET code = UPPER(SUBSTR(REPLACE(track_key, '-', ''), 1, 4));

-- Which pipeline stage an exam serves: written | case | renewal.
ALTER TABLE exams ADD COLUMN stage TEXT NOT NULL DEFAULT 'written';

-- The opaque identifier of a credential holder in signed credentials, so the
-- subject id carries no personal data.
ALTER TABLE people ADD COLUMN holder_ref TEXT;
CREATE UNIQUE INDEX people_holder_ref ON people (holder_ref);

CREATE TABLE credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people (id),
    track_id INTEGER NOT NULL REFERENCES tracks (id),
    year INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP NOT NULL,
    -- active | suspended | revoked | expired
    status TEXT NOT NULL,
    status_reason TEXT,
    suspended_until TIMESTAMP,
    -- Random positions in the two published status lists.
    revocation_index INTEGER NOT NULL,
    suspension_index INTEGER NOT NULL,
    -- Revocation needs two committee members: the first proposes.
    revoke_proposed_by INTEGER REFERENCES people (id),
    revoke_proposed_reason TEXT,
    reminded_90_at TIMESTAMP,
    reminded_30_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX credentials_number ON credentials (number);
CREATE UNIQUE INDEX credentials_sequence ON credentials (track_id, year, sequence);
CREATE UNIQUE INDEX credentials_revocation_index ON credentials (revocation_index);
CREATE UNIQUE INDEX credentials_suspension_index ON credentials (suspension_index);
CREATE INDEX credentials_holder ON credentials (person_id);

-- Every status change of a credential, with who and why.
CREATE TABLE credential_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    credential_id INTEGER NOT NULL REFERENCES credentials (id),
    action TEXT NOT NULL,
    status_from TEXT,
    status_to TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor_id INTEGER REFERENCES people (id),
    at TIMESTAMP NOT NULL
);
CREATE INDEX credential_events_credential ON credential_events (credential_id);

-- A certification case: one doctor in one track (or the renewal of one
-- credential), moving through the stages of domain::pipeline.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES people (id),
    track_id INTEGER NOT NULL REFERENCES tracks (id),
    -- initial | renewal
    kind TEXT NOT NULL,
    stage TEXT NOT NULL,
    stage_entered_at TIMESTAMP NOT NULL,
    -- The credential issued (initial) or renewed (renewal).
    credential_id INTEGER REFERENCES credentials (id),
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
-- At most one open case per doctor and track.
CREATE UNIQUE INDEX cases_one_open ON cases (person_id, track_id) WHERE closed_at IS NULL;
CREATE INDEX cases_stage ON cases (track_id, stage);

-- Every transition, with who or what caused it and why.
CREATE TABLE case_transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    -- A person, or NULL for the system acting on evidence.
    actor_id INTEGER REFERENCES people (id),
    reason TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX case_transitions_case ON case_transitions (case_id);

-- Committee votes: secret until the case is decided.
CREATE TABLE committee_votes (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    member_id INTEGER NOT NULL REFERENCES people (id),
    -- approve | reject
    vote TEXT NOT NULL,
    reason TEXT NOT NULL,
    cast_at TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, member_id)
);
