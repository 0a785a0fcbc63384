-- 政策参数 added in the product: dated values taken on top of the built-in catalogue
-- (policy/catalogue.toml) so that a new year's value needs no release. Append-only: a value
-- at the same `since` as an earlier one is a correction, and the row with the highest `id`
-- wins; the earlier rows stay as history. `value` is the text as entered, checked against
-- the parameter's unit before it is written; `created_by` is the user who added it.
CREATE TABLE policy_values (
    id INTEGER PRIMARY KEY,
    param TEXT NOT NULL,
    since TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'secondary', 'provisional')),
    note TEXT,
    created_at TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id)
);
CREATE INDEX policy_values_param ON policy_values (param, since);
