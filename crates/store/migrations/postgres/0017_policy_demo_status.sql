-- 演示数值 (issue 13): `serve --demo` enters values with status `demo` (演示, note
-- 演示数值，非正式政策) for the parameters the shipped catalogue leaves without a value.
ALTER TABLE policy_values DROP CONSTRAINT policy_values_status_check;
ALTER TABLE policy_values ADD CONSTRAINT policy_values_status_check
    CHECK (status IN ('confirmed', 'secondary', 'provisional', 'demo'));
