-- 查询码 (issue 15): every online application gets a random receipt, the only number the
-- applicant follows it by on /track (with the phone or the ID number's last digits). An
-- application for a household or person with a case already running is kept here as a
-- duplicate of that case (duplicate = 1): the town sees it on the case page, the applicant
-- gets the same answer as anyone else, and no case or tracking number is revealed.
CREATE TABLE online_receipts (
    receipt TEXT PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    duplicate BIGINT NOT NULL,
    applicant TEXT NOT NULL,
    id_number TEXT NOT NULL,
    phone TEXT NOT NULL,
    household_size BIGINT NOT NULL,
    hardship TEXT NOT NULL,
    submitted_at TEXT NOT NULL
);
CREATE INDEX online_receipts_case ON online_receipts (case_id, duplicate);
