-- 收入记录 (issue 13 item 4, X2 rule 9): every income the system records for a household, dated,
-- so that 风险消除 reads the months above the monitoring line from the recorded history and not
-- from a number typed in. One row per observation: the household's countable income over the
-- 12 months before `on_date` and the members it is shared by; `source` is `survey` (a case's
-- 入户调查, `reference` its tracking number) or `household` (a registry create or edit,
-- `reference` empty). Append-only.
CREATE TABLE income_records (
    id INTEGER PRIMARY KEY,
    household_external_id TEXT NOT NULL,
    on_date TEXT NOT NULL,
    income_12m_fen BIGINT NOT NULL,
    n_members BIGINT NOT NULL,
    source TEXT NOT NULL,
    reference TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX income_records_household ON income_records (household_external_id, on_date);
