-- 检索 at district size (issue 12): every registry search is served by a B-tree.
-- 姓名索引: every 1-, 2- and 3-character part (gram) of each current member's name, once per
-- household. A name part of one to three characters is one equality lookup; a longer one looks
-- up its first three characters and checks the names. Derived from memberships and persons:
-- `store::households` rebuilds a household's rows in the transaction that writes it.
CREATE TABLE person_name_grams (
    gram TEXT NOT NULL,
    area_code TEXT NOT NULL,
    household_id INTEGER NOT NULL,
    PRIMARY KEY (gram, area_code, household_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO person_name_grams (gram, area_code, household_id)
WITH RECURSIVE position (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM position WHERE i < 64),
     width (k) AS (VALUES (1), (2), (3))
SELECT substr(p.name, position.i, width.k), m.area_code, m.household_id
FROM memberships m
JOIN persons p ON p.id_number = m.id_number
JOIN width
JOIN position ON position.i <= length(p.name) - width.k + 1
WHERE m.end_date IS NULL;
CREATE INDEX person_name_grams_household ON person_name_grams (household_id);
-- ID number prefixes: current members by ID number, with what the list needs, from the index alone.
CREATE INDEX memberships_open_person ON memberships (id_number, area_code, household_id) WHERE end_date IS NULL;
-- Town and village names (a small table; the index keeps the lookup from depending on its size).
CREATE INDEX places_name ON places (name);
-- 预警列表 (issue 12): open warnings first, each part by due date, read in order (keyset pages).
CREATE INDEX warnings_open_due ON warnings (due_on, id) WHERE closed_on IS NULL;
CREATE INDEX warnings_closed_due ON warnings (due_on, id) WHERE closed_on IS NOT NULL;
-- 用户列表 (issue 12): by area then user name, read in order (keyset pages).
CREATE INDEX users_area_username ON users (area_code, username, id);
