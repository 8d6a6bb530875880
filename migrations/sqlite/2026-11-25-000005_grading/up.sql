-- Blind double marking of open answers (case analyses): each answer gets a
-- first and a second marking task, and a third when their totals disagree
-- beyond the exam's tolerance (domain::grading). Examiners see an attempt's
-- code, never the candidate.

ALTER TABLE exams ADD COLUMN marking_tolerance INTEGER NOT NULL DEFAULT 20;
ALTER TABLE exams ADD COLUMN marking_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE attempts ADD COLUMN code TEXT;
CREATE UNIQUE INDEX attempts_code ON attempts (code);
-- When an open answer's final mark was set.
ALTER TABLE attempt_items ADD COLUMN marked_at TIMESTAMP;

CREATE TABLE marking_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exam_id INTEGER NOT NULL REFERENCES exams (id),
    attempt_item_id INTEGER NOT NULL REFERENCES attempt_items (id),
    examiner_id INTEGER NOT NULL REFERENCES people (id),
    -- 1 first, 2 second, 3 third marker.
    role INTEGER NOT NULL,
    assigned_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    total DOUBLE PRECISION,
    -- JSON: one {points, comment} per rubric criterion, in rubric order.
    marks TEXT,
    reminded_at TIMESTAMP
);
-- One task per marking of an answer, and never the same examiner twice.
CREATE UNIQUE INDEX marking_tasks_role ON marking_tasks (attempt_item_id, role);
CREATE UNIQUE INDEX marking_tasks_examiner_once ON marking_tasks (attempt_item_id, examiner_id);
CREATE INDEX marking_tasks_queue ON marking_tasks (examiner_id, submitted_at);

-- Item analysis: a question flagged by the statistics waits for the
-- committee, who keep it or remove it (with a reason). A removed question
-- no longer counts in any result of the exam.
ALTER TABLE attempt_items ADD COLUMN excluded BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE question_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exam_id INTEGER NOT NULL REFERENCES exams (id),
    question_id INTEGER NOT NULL REFERENCES questions (id),
    flags TEXT NOT NULL,
    -- open | kept | removed
    status TEXT NOT NULL,
    reason TEXT,
    decided_by INTEGER REFERENCES people (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX question_reviews_once ON question_reviews (exam_id, question_id);

-- Appeals: a candidate may appeal the mark of an open answer within the
-- exam's appeal period after results are released. An examiner who has not
-- marked that answer re-marks it (a marking task of role 4); the re-mark
-- becomes the final mark and the outcome is recorded and shown.
ALTER TABLE exams ADD COLUMN appeal_days INTEGER NOT NULL DEFAULT 14;

CREATE TABLE appeals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    attempt_item_id INTEGER NOT NULL REFERENCES attempt_items (id),
    reason TEXT NOT NULL,
    -- open | decided
    status TEXT NOT NULL,
    mark_before DOUBLE PRECISION NOT NULL,
    mark_after DOUBLE PRECISION,
    outcome TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE UNIQUE INDEX appeals_once ON appeals (attempt_item_id);

-- Standard setting (modified Angoff): rounds of committee ratings per exam,
-- numbered; an approved round sets the exam's pass mark.
CREATE TABLE standard_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exam_id INTEGER NOT NULL REFERENCES exams (id),
    version INTEGER NOT NULL,
    -- rating | approved
    status TEXT NOT NULL,
    cut_score DOUBLE PRECISION,
    approved_by INTEGER REFERENCES people (id),
    approved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX standard_settings_version ON standard_settings (exam_id, version);

CREATE TABLE angoff_ratings (
    setting_id INTEGER NOT NULL REFERENCES standard_settings (id),
    rater_id INTEGER NOT NULL REFERENCES people (id),
    question_id INTEGER NOT NULL REFERENCES questions (id),
    probability DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (setting_id, rater_id, question_id)
);

-- Practical assessments: a skills station observed in person, marked with
-- the same rubric marking as case answers (the rubric is a case question of
-- the track's exam banks), entered by the examiner who observed it.
CREATE TABLE practical_stations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    track TEXT NOT NULL,
    title TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES question_versions (id),
    pass_percent INTEGER NOT NULL,
    created_by INTEGER REFERENCES people (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE practical_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id INTEGER NOT NULL REFERENCES practical_stations (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    examiner_id INTEGER NOT NULL REFERENCES people (id),
    marks TEXT NOT NULL,
    total DOUBLE PRECISION NOT NULL,
    points INTEGER NOT NULL,
    passed BOOLEAN NOT NULL,
    observed_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX practical_results_once ON practical_results (station_id, person_id);
