-- The green referral channel (domain::referral): the receiving hospital's
-- departments with their reserved capacity, referrals with the minimum
-- patient data, their steps, and the community visits doctors enter.

-- A doctor is flagged for the committee once enough of their referrals are
-- rated and the inappropriate share passes the threshold (percent).
ALTER TABLE tracks ADD COLUMN inappropriate_threshold INTEGER NOT NULL DEFAULT 30;
ALTER TABLE tracks ADD COLUMN flag_min_rated INTEGER NOT NULL DEFAULT 5;

CREATE TABLE departments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The receiving (tertiary) hospital.
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    -- The track whose credential covers referrals to this department.
    track_id INTEGER NOT NULL REFERENCES tracks (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Reserved for the green channel.
    clinic_slots_per_day INTEGER NOT NULL,
    beds INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX departments_code ON departments (institution_id, code);

CREATE TABLE referrals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people (id),
    -- The credential that opened the gate.
    credential_id INTEGER NOT NULL REFERENCES credentials (id),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    patient_name TEXT NOT NULL,
    patient_sex TEXT NOT NULL,
    patient_birth_date DATE NOT NULL,
    guardian_phone TEXT NOT NULL,
    -- routine | urgent
    urgency TEXT NOT NULL,
    reason TEXT NOT NULL,
    diagnosis TEXT NOT NULL,
    findings TEXT NOT NULL,
    -- The reserved clinic day, booked by the doctor or confirmed by the desk.
    slot_date DATE,
    needs_bed BOOLEAN NOT NULL DEFAULT FALSE,
    -- sent | accepted | declined | seen | referred_back
    status TEXT NOT NULL,
    decline_reason TEXT,
    appropriate BOOLEAN,
    rating_comment TEXT,
    back_instructions TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX referrals_number ON referrals (number);
CREATE INDEX referrals_slots ON referrals (department_id, slot_date);
CREATE INDEX referrals_doctor ON referrals (person_id);

-- Every step of a referral, with who and when (and the desk's words).
CREATE TABLE referral_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals (id),
    action TEXT NOT NULL,
    actor_id INTEGER REFERENCES people (id),
    detail TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events (referral_id);

-- First visits a community doctor saw, per day (the channel's denominator).
CREATE TABLE community_visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES people (id),
    visit_date DATE NOT NULL,
    first_visits INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX community_visits_day ON community_visits (person_id, visit_date);
