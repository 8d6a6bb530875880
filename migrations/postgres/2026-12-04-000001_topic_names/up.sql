-- The names of a bank's topics in each language its file gives them
-- (domain::banks::TopicNames). Questions keep the topic as a key; pages
-- show the name. Replaced whole each time the bank is imported.
CREATE TABLE topic_names (
    bank_id BIGINT NOT NULL REFERENCES question_banks(id),
    topic TEXT NOT NULL,
    locale TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (bank_id, topic, locale)
);
CREATE INDEX topic_names_topic ON topic_names(topic);
