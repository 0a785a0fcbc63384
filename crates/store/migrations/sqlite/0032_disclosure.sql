-- 公开 (disclosure, issue 14 item 1, P8): each confirmed household's lines on its village's and
-- town's public list, dated — a line is in force from `in_force_from` up to (not including)
-- `in_force_to`, so the list as in force on any day is one indexed read; lines are ended,
-- never rewritten. No ID number, health, disability or bank data has a column here.
CREATE TABLE disclosure_entries (
    id INTEGER PRIMARY KEY,
    -- The household's area code (a village, or a grid of it): villages and towns read by prefix.
    area_code TEXT NOT NULL,
    household_id BIGINT NOT NULL REFERENCES households (id),
    disclosed_name TEXT NOT NULL,
    category TEXT NOT NULL,
    household_size BIGINT NOT NULL,
    monthly_fen BIGINT,
    start_date TEXT NOT NULL,
    in_force_from TEXT NOT NULL,
    in_force_to TEXT,
    -- The case (tracking number) or the backfill that opened and that ended the line.
    opened_by TEXT NOT NULL,
    ended_by TEXT,
    written_at TEXT NOT NULL
);
CREATE INDEX disclosure_entries_area ON disclosure_entries (area_code, id);
CREATE INDEX disclosure_entries_open ON disclosure_entries (household_id) WHERE in_force_to IS NULL;

-- Every publication of a village's list: the day it changed, by whom, how many lines were in
-- force then, and the day it was posted on the village board (公开栏).
CREATE TABLE disclosure_publications (
    id INTEGER PRIMARY KEY,
    village_code TEXT NOT NULL,
    published_on TEXT NOT NULL,
    published_by TEXT NOT NULL,
    cause TEXT NOT NULL,
    entries_count BIGINT NOT NULL,
    posted_on TEXT,
    posted_by TEXT,
    written_at TEXT NOT NULL
);
CREATE INDEX disclosure_publications_village ON disclosure_publications (village_code, id);
CREATE INDEX disclosure_publications_unposted ON disclosure_publications (village_code, published_on) WHERE posted_on IS NULL;
