DROP TABLE question_reviews;
ALTER TABLE attempt_items DROP COLUMN excluded;
DROP TABLE marking_tasks;
ALTER TABLE attempt_items DROP COLUMN marked_at;
DROP INDEX attempts_code;
ALTER TABLE attempts DROP COLUMN code;
ALTER TABLE exams DROP COLUMN marking_days;
ALTER TABLE exams DROP COLUMN marking_tolerance;
