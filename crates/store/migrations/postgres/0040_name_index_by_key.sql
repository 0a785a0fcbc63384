-- 姓名索引 at district size (issue 12): the name index is read and kept by its key only.
-- A household's rows are deleted by their key (`name_index::reindex` knows the parts the
-- household held before its write), so the index by household goes: 8.6 M entries fewer to
-- write for 2 M persons. Its text is compared bytewise (COLLATE "C": the parts and the area
-- codes are looked up by equality and by code range, for which bytewise order is the same),
-- so that sorting it — a district import builds its key — takes abbreviated keys and memcmp
-- instead of the locale's comparison.
DROP INDEX person_name_grams_household;
ALTER TABLE person_name_grams
    ALTER COLUMN gram TYPE TEXT COLLATE "C",
    ALTER COLUMN area_code TYPE TEXT COLLATE "C";
