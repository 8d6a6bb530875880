DROP TABLE cases_due;
