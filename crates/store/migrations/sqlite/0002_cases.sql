-- 案件 (issue 4): a summary row per case for work lists, and the case's append-only history.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    household_external_id TEXT NOT NULL,
    -- NULL while an application's household is not yet in the registry.
    household_id BIGINT REFERENCES households (id),
    area_code TEXT NOT NULL,
    step TEXT NOT NULL,
    received_on TEXT NOT NULL,
    step_since TEXT NOT NULL,
    closed_on TEXT,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX cases_area_step ON cases (area_code, step);
CREATE INDEX cases_household ON cases (household_external_id);

-- Append-only: rows are never updated or deleted.
CREATE TABLE case_events (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    seq BIGINT NOT NULL,
    on_date TEXT NOT NULL,
    actor_user_id BIGINT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_area TEXT NOT NULL,
    fact TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
