-- 工作日历 added in the product (issue 14 item 5): one year's holiday arrangement (国务院办公厅
-- 部分节假日安排的通知) entered by district civil affairs, taken on top of the shipped
-- policy/calendar.toml. Append-only: a row for a year already entered (in the file or here) is
-- a correction, and the row with the highest `id` wins; earlier rows stay as history.
-- `holidays` is the year's holidays as JSON text, checked by the core before it is written:
-- [{"name": "春节", "from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "adjusted_working_days": [...]}].
CREATE TABLE calendar_years (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL,
    holidays TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'secondary', 'provisional')),
    note TEXT,
    created_at TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id)
);
CREATE INDEX calendar_years_year ON calendar_years (year);
