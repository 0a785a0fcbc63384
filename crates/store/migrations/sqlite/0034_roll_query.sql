-- 名册查询 (issue 13 item 5, D2): a 特困 period holds its 供养方式 (`dispersed` 分散供养 /
-- `centralised` 集中供养) and its 照料护理等级 (`full` 全护理 / `partial` 半护理 / `self` 自理, the
-- care needs whose standards the catalogue's `tekun.care.*` carry); both null for every other
-- category and where the source did not say.
ALTER TABLE category_periods ADD COLUMN support_mode TEXT;
ALTER TABLE category_periods ADD COLUMN care_level TEXT;
-- Rolls imported before this migration named the 供养方式 at the end of their reason.
UPDATE category_periods SET support_mode = 'dispersed'
    WHERE category = 'tekun' AND reason LIKE '名册导入%，分散供养';
UPDATE category_periods SET support_mode = 'centralised'
    WHERE category = 'tekun' AND reason LIKE '名册导入%，集中供养';
-- "Who was in category C on date D within an area": the periods of C under an area prefix
-- (a range of codes) in (area, id) order for keyset pages; the dates ride in the index so
-- that the overlap test and the count read no table row.
CREATE INDEX category_periods_roster ON category_periods (category, area_code, id, start_date, end_date);
