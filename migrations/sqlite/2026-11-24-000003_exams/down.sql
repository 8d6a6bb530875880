DROP TABLE attempt_events;
DROP TABLE answers;
DROP TABLE attempt_items;
DROP TABLE attempts;
DROP TABLE registrations;
DROP TABLE exams;
