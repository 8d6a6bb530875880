ALTER TABLE question_banks DROP COLUMN content_hash;
ALTER TABLE exams DROP COLUMN choice_scoring;
ALTER TABLE tracks DROP COLUMN choice_scoring;
