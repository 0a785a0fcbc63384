-- 姓名索引 at district size (issue 12): the name index is read and kept by its key only.
-- A household's rows are deleted by their key (`name_index::reindex` knows the parts the
-- household held before its write), so the index by household goes: 8.6 M entries fewer to
-- write for 2 M persons.
DROP INDEX person_name_grams_household;
