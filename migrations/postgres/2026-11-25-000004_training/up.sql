-- Training: tracks, courses (modules, lessons, quizzes), the open library,
-- offline workshops and each doctor's progress. Tracks and courses are keyed
-- by the stable ids of their files (courses/); a re-import updates them in
-- place: a changed lesson gets a new version, and progress recorded against
-- an older version no longer counts.

-- A question bank is for exams (its keys stay secret until results) or for
-- practice (module quizzes show the answers at once). Never both.
ALTER TABLE question_banks ADD COLUMN purpose TEXT NOT NULL DEFAULT 'exam';

CREATE TABLE tracks (
    id BIGSERIAL PRIMARY KEY,
    track_key TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    validity_months INTEGER NOT NULL,
    renewal_credit_hours DOUBLE PRECISION NOT NULL,
    sample BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tracks_key ON tracks (track_key);

CREATE TABLE courses (
    id BIGSERIAL PRIMARY KEY,
    course_key TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    language TEXT NOT NULL,
    credit_hours DOUBLE PRECISION NOT NULL,
    sample BOOLEAN NOT NULL,
    published BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX courses_key ON courses (course_key);

-- The courses a track requires, in order.
CREATE TABLE track_courses (
    track_id BIGINT NOT NULL REFERENCES tracks (id),
    course_id BIGINT NOT NULL REFERENCES courses (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (track_id, course_id)
);

CREATE TABLE course_modules (
    id BIGSERIAL PRIMARY KEY,
    course_id BIGINT NOT NULL REFERENCES courses (id),
    module_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    -- Comma-separated practice-bank topics; 0 questions means no quiz.
    quiz_topics TEXT NOT NULL,
    quiz_questions INTEGER NOT NULL,
    quiz_pass_percent INTEGER NOT NULL,
    retired_at TIMESTAMP
);
CREATE UNIQUE INDEX course_modules_key ON course_modules (course_id, module_key);

CREATE TABLE lessons (
    id BIGSERIAL PRIMARY KEY,
    course_id BIGINT NOT NULL REFERENCES courses (id),
    module_id BIGINT NOT NULL REFERENCES course_modules (id),
    lesson_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    video_url TEXT,
    body_markdown TEXT NOT NULL,
    -- Rendered and sanitised once, when written; pages serve it as it is.
    body_html TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    retired_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX lessons_key ON lessons (course_id, lesson_key);
CREATE INDEX lessons_module ON lessons (module_id, position);

-- Images of a course's lessons, kept in the database so that every server
-- instance can serve them.
CREATE TABLE course_media (
    id BIGSERIAL PRIMARY KEY,
    course_id BIGINT NOT NULL REFERENCES courses (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    digest TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX course_media_name ON course_media (course_id, name);

CREATE TABLE enrolments (
    id BIGSERIAL PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id),
    track_id BIGINT NOT NULL REFERENCES tracks (id),
    enrolled_at TIMESTAMP NOT NULL,
    enrolled_by BIGINT REFERENCES people (id)
);
CREATE UNIQUE INDEX enrolments_once ON enrolments (person_id, track_id);

-- A lesson is studied at a version; a later version must be studied again.
CREATE TABLE lesson_progress (
    person_id BIGINT NOT NULL REFERENCES people (id),
    lesson_id BIGINT NOT NULL REFERENCES lessons (id),
    version INTEGER NOT NULL,
    studied_at TIMESTAMP NOT NULL,
    PRIMARY KEY (person_id, lesson_id)
);

CREATE TABLE quiz_attempts (
    id BIGSERIAL PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id),
    module_id BIGINT NOT NULL REFERENCES course_modules (id),
    -- JSON: the drawn question versions and each one's option order.
    items TEXT NOT NULL,
    answers TEXT,
    score INTEGER,
    max_score INTEGER NOT NULL,
    passed BOOLEAN,
    started_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP
);
CREATE INDEX quiz_attempts_person ON quiz_attempts (person_id, module_id);

-- Offline workshops a track requires; each is held in scheduled sessions,
-- and attending any one session of a workshop completes it.
CREATE TABLE workshops (
    id BIGSERIAL PRIMARY KEY,
    track_id BIGINT NOT NULL REFERENCES tracks (id),
    workshop_key TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    retired_at TIMESTAMP
);
CREATE UNIQUE INDEX workshops_key ON workshops (track_id, workshop_key);

CREATE TABLE workshop_sessions (
    id BIGSERIAL PRIMARY KEY,
    workshop_id BIGINT NOT NULL REFERENCES workshops (id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    place TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    instructor_id BIGINT NOT NULL REFERENCES people (id),
    reminders_sent_at TIMESTAMP,
    created_by BIGINT REFERENCES people (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX workshop_sessions_start ON workshop_sessions (starts_at);

-- status: booked | waiting | cancelled. The waiting list is ordered by
-- joined_at; a freed place goes to the first in it.
CREATE TABLE session_signups (
    id BIGSERIAL PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES workshop_sessions (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    status TEXT NOT NULL,
    joined_at TIMESTAMP NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    attended BOOLEAN,
    attendance_by BIGINT REFERENCES people (id),
    attendance_at TIMESTAMP
);
CREATE UNIQUE INDEX session_signups_once ON session_signups (session_id, person_id);
