-- 入户调查草稿 (issue 15 item 2): the survey form of a case as typed, saved part-way by the survey
-- team and completed over several visits. One draft per case, replaced on each save; it is
-- deleted when the survey is recorded (the "submitted" moment: only then does it enter the
-- case's history). `fields` is the form's fields as JSON text: [["name", "value"], ...].
CREATE TABLE survey_drafts (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id),
    fields TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
