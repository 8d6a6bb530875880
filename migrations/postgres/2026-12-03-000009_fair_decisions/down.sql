ALTER TABLE appeals DROP COLUMN mark_final;
ALTER TABLE appeals DROP COLUMN rule;
ALTER TABLE tracks DROP COLUMN appeal_rule;
