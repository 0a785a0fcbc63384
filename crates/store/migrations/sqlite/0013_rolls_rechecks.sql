-- 一门入库 (issue 12 item 4): a roll uploaded on the page waits here for its dry-run report to
-- be accepted (a plan token is the file's hash); `accepted_at` is set by the import that
-- wrote it. The command line reads the file again and keeps nothing here.
CREATE TABLE roll_uploads (
    id INTEGER PRIMARY KEY,
    category TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    accepted_at TEXT
);
CREATE INDEX roll_uploads_hash ON roll_uploads (content_hash, category);

-- 定期核查 (W1): each enrolled household's next re-check, written whenever its categories
-- change (case confirmation, re-check completion, exit, roll import) and recomputed by
-- `App::sync_recheck_schedule` when the catalogue's re-check cycles change. `last_check_kind`
-- is entry, roll or recheck: an emergency is due at once after an entry or a roll, and a
-- completed re-check has seen it (so it falls due once, not forever).
CREATE TABLE recheck_schedule (
    household_id BIGINT PRIMARY KEY REFERENCES households (id),
    area_code TEXT NOT NULL,
    last_check TEXT NOT NULL,
    last_check_kind TEXT NOT NULL,
    due_on TEXT NOT NULL
);
-- The due list in due order, keyset-paged; the area is read from the index.
CREATE INDEX recheck_schedule_due ON recheck_schedule (due_on, household_id, area_code);
CREATE INDEX recheck_schedule_area ON recheck_schedule (area_code, due_on, household_id);
