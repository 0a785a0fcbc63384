-- 监测预警 (issue 5): department feeds, comparison jobs, warnings with their loop, visit logs
-- and hotline tickets. Dates are TEXT 'YYYY-MM-DD', instants TEXT RFC 3339 UTC.

-- 比对数据批次: one file or API batch; (source, period, content_hash) is its identity, so a
-- repeated feed is recognised and changes nothing.
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    period TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    content BLOB NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_by_user_id BIGINT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (source, period, content_hash)
);

-- 拒收行: a row of a feed that could not be read, with its line and the reason.
CREATE TABLE feed_rejections (
    feed_id BIGINT NOT NULL REFERENCES feeds (id),
    line BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (feed_id, line)
);

-- 比对任务: a comparison run as a job; several workers claim queued jobs one at a time.
CREATE TABLE comparison_jobs (
    id INTEGER PRIMARY KEY,
    feed_id BIGINT NOT NULL REFERENCES feeds (id),
    state TEXT NOT NULL,
    as_of TEXT NOT NULL,
    enqueued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    worker TEXT,
    households BIGINT,
    records BIGINT,
    findings BIGINT,
    new_warnings BIGINT,
    discrepancies BIGINT,
    error TEXT
);
CREATE INDEX comparison_jobs_state ON comparison_jobs (state, id);
CREATE INDEX comparison_jobs_feed ON comparison_jobs (feed_id);

-- 预警: one fact about one person (dedupe_key), on a household or on a person outside the net,
-- and where it stands in the loop. created_on / due_on / closed_on / state / area_code are
-- what reports count.
CREATE TABLE warnings (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    id_number TEXT,
    person_name TEXT NOT NULL,
    household_external_id TEXT,
    household_id BIGINT REFERENCES households (id),
    inside_net BIGINT NOT NULL,
    area_code TEXT NOT NULL,
    feed_id BIGINT REFERENCES feeds (id),
    job_id BIGINT REFERENCES comparison_jobs (id),
    line BIGINT,
    description TEXT NOT NULL,
    param_json TEXT,
    state TEXT NOT NULL,
    assignee_user_id BIGINT REFERENCES users (id),
    judgement TEXT,
    disposition TEXT,
    case_id BIGINT REFERENCES cases (id),
    created_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    closed_on TEXT,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX warnings_area_state ON warnings (area_code, state);
CREATE INDEX warnings_created ON warnings (created_on);
CREATE INDEX warnings_household ON warnings (household_external_id);

-- The loop's history of a warning, append-only: who did what when, with what they recorded.
CREATE TABLE warning_events (
    warning_id BIGINT NOT NULL REFERENCES warnings (id),
    seq BIGINT NOT NULL,
    on_date TEXT NOT NULL,
    actor_user_id BIGINT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (warning_id, seq)
);

-- 走访记录 (visit logs) and 热线工单 (hotline tickets), against a household or a new person.
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    on_date TEXT NOT NULL,
    household_external_id TEXT,
    household_id BIGINT REFERENCES households (id),
    person_name TEXT NOT NULL,
    id_number TEXT,
    phone TEXT NOT NULL,
    area_code TEXT NOT NULL,
    findings TEXT NOT NULL,
    outcome TEXT NOT NULL,
    warning_id BIGINT REFERENCES warnings (id),
    case_id BIGINT REFERENCES cases (id),
    recorded_by_user_id BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX contacts_area ON contacts (area_code, on_date);
