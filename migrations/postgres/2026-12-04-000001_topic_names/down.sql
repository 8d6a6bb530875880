DROP TABLE topic_names;
