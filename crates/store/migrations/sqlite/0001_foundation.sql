-- Foundation: places, households with dated composition and categories, users, sessions, audit.
-- Dates are TEXT 'YYYY-MM-DD', instants TEXT RFC 3339 UTC, money BIGINT fen, flags BIGINT 0/1.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE places (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent TEXT REFERENCES places (code)
);

CREATE TABLE households (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    area_code TEXT NOT NULL REFERENCES places (code),
    hukou TEXT NOT NULL,
    head_name TEXT NOT NULL,
    head_id_number TEXT NOT NULL,
    n_members BIGINT NOT NULL,
    record TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX households_area ON households (area_code);

CREATE TABLE persons (
    id_number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL
);
CREATE INDEX persons_name ON persons (name);

CREATE TABLE memberships (
    id INTEGER PRIMARY KEY,
    household_id BIGINT NOT NULL REFERENCES households (id),
    id_number TEXT NOT NULL REFERENCES persons (id_number),
    relation TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT
);
CREATE INDEX memberships_household ON memberships (household_id);
CREATE INDEX memberships_person ON memberships (id_number);

CREATE TABLE category_periods (
    id INTEGER PRIMARY KEY,
    household_id BIGINT NOT NULL REFERENCES households (id),
    id_number TEXT REFERENCES persons (id_number),
    category TEXT NOT NULL,
    monitoring_kind TEXT,
    start_date TEXT NOT NULL,
    end_date TEXT,
    monthly_fen BIGINT,
    reason TEXT NOT NULL
);
CREATE INDEX category_periods_household ON category_periods (household_id);
CREATE INDEX category_periods_category ON category_periods (category, start_date);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    area_code TEXT NOT NULL REFERENCES places (code),
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    username TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);

CREATE TABLE imports (
    content_hash TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    n_households BIGINT NOT NULL,
    imported_at TEXT NOT NULL,
    actor TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    area_code TEXT,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
