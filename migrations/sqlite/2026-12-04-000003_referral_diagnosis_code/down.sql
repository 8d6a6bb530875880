ALTER TABLE referrals DROP COLUMN diagnosis_code;
