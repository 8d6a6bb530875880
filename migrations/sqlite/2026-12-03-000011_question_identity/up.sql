-- How a track's exams score choice questions with weighted options
-- (domain::scoring::ChoiceScoring); each exam keeps the rule it was
-- scheduled with. Existing tracks and exams stay all or nothing.
ALTER TABLE tracks ADD COLUMN choice_scoring TEXT NOT NULL DEFAULT 'all_or_nothing';
ALTER TABLE exams ADD COLUMN choice_scoring TEXT NOT NULL DEFAULT 'all_or_nothing';
-- A fingerprint of the bank file as last imported, so that a server start
-- skips files that have not changed.
ALTER TABLE question_banks ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
