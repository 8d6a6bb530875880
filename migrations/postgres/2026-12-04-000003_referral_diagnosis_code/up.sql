-- The ICD-10 code of a referral's diagnosis, when the referring doctor gives
-- one (domain::referral::icd10_code checks its form, e.g. J18.9); the FHIR
-- export codes the diagnosis with it.
ALTER TABLE referrals ADD COLUMN diagnosis_code TEXT;
