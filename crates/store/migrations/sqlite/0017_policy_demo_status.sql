-- 演示数值 (issue 13): `serve --demo` enters values with status `demo` (演示, note
-- 演示数值，非正式政策) for the parameters the shipped catalogue leaves without a value.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with its rows and ids.
CREATE TABLE policy_values_new (
    id INTEGER PRIMARY KEY,
    param TEXT NOT NULL,
    since TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'secondary', 'provisional', 'demo')),
    note TEXT,
    created_at TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id)
);
INSERT INTO policy_values_new (id, param, since, value, source, status, note, created_at, created_by)
    SELECT id, param, since, value, source, status, note, created_at, created_by FROM policy_values;
DROP TABLE policy_values;
ALTER TABLE policy_values_new RENAME TO policy_values;
CREATE INDEX policy_values_param ON policy_values (param, since);
