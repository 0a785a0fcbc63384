-- 报表 (R1) at district scale: memberships and category periods carry their household's place
-- (`area_code`, always equal to `households.area_code`: set on insert, moved with the household
-- by `households::update`), so the report counts by village without reading household rows
-- (wide: they hold the survey record).
ALTER TABLE memberships ADD COLUMN area_code TEXT NOT NULL DEFAULT '';
UPDATE memberships SET area_code = (SELECT h.area_code FROM households h WHERE h.id = memberships.household_id);
ALTER TABLE category_periods ADD COLUMN area_code TEXT NOT NULL DEFAULT '';
UPDATE category_periods SET area_code = (SELECT h.area_code FROM households h WHERE h.id = category_periods.household_id);
-- Who was in a household on a day, read from the index alone (the report's per-household counts).
DROP INDEX memberships_household;
CREATE INDEX memberships_household ON memberships (household_id, start_date, end_date);
-- Households and persons by village on a day, read from the index alone.
CREATE INDEX memberships_area ON memberships (area_code, household_id, start_date, end_date);
CREATE INDEX category_periods_area ON category_periods (area_code);
