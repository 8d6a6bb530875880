DROP TABLE community_visits;
DROP TABLE referral_events;
DROP TABLE referrals;
DROP TABLE departments;
ALTER TABLE tracks DROP COLUMN flag_min_rated;
ALTER TABLE tracks DROP COLUMN inappropriate_threshold;
