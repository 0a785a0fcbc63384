-- 不予认定告知书 (issue 4): the day the written refusal notice reached the applicant. A refused
-- case stays in the town's work queue until then.
ALTER TABLE cases ADD COLUMN refusal_notice_on TEXT;
CREATE INDEX cases_area_closed ON cases (area_code, closed_on);
