-- 线上申请 (P1): what an applicant typed online that the case's intake does not hold — the
-- applicant's ID number (so a second application of the same person while the first runs is
-- answered with the first one's tracking number), the mobile phone and the household size.
CREATE TABLE online_applications (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id),
    id_number TEXT NOT NULL,
    phone TEXT NOT NULL,
    household_size BIGINT NOT NULL,
    submitted_at TEXT NOT NULL
);
CREATE INDEX online_applications_id_number ON online_applications (id_number);
