-- Fair decisions (issue 14).
-- What an appeal's re-mark does to the mark, per track (committee policy):
-- 'remark_stands' (the re-mark replaces the mark) or 'no_detriment' (it
-- counts only when higher).
ALTER TABLE tracks ADD COLUMN appeal_rule TEXT NOT NULL DEFAULT 'remark_stands';
-- The rule an appeal was decided under, and the mark that counts after it
-- (the re-mark itself stays in mark_after).
ALTER TABLE appeals ADD COLUMN rule TEXT;
ALTER TABLE appeals ADD COLUMN mark_final DOUBLE PRECISION;
