DROP TABLE audit_events;
DROP TABLE outbox;
DROP TABLE api_tokens;
DROP TABLE password_tokens;
DROP TABLE sessions;
DROP TABLE person_roles;
DROP TABLE people;
DROP TABLE institutions;
