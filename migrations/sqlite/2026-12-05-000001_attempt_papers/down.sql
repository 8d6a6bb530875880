DROP TABLE attempt_papers;
