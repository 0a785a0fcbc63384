-- Codes compared bytewise (issue 12): area and place codes, ID numbers, 户编号, tracking
-- numbers and the audit log's words are looked up by equality and by code range, and sorted
-- only to page. Under the database's locale (C.UTF-8 here) each comparison went through the
-- C library and sorting took no abbreviated keys; with COLLATE "C" it is memcmp, in the same
-- order for UTF-8 text. A district import builds their indexes (20 s of its 95 s on 2 cores)
-- and every write keeps them. Migration 0040 did the same for the name index. Comparing one of
-- these columns with a column of the default collation takes "C" (PostgreSQL's rules for
-- combining a default and a non-default collation), so no query changes. Names stay under the
-- locale.

ALTER TABLE assistance_items
    ALTER COLUMN code TYPE TEXT COLLATE "C";
ALTER TABLE audit_log
    ALTER COLUMN action TYPE TEXT COLLATE "C",
    ALTER COLUMN actor TYPE TEXT COLLATE "C",
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN at TYPE TEXT COLLATE "C",
    ALTER COLUMN entity TYPE TEXT COLLATE "C",
    ALTER COLUMN entity_id TYPE TEXT COLLATE "C";
ALTER TABLE case_events
    ALTER COLUMN actor_area TYPE TEXT COLLATE "C";
ALTER TABLE case_queue
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN household_external_id TYPE TEXT COLLATE "C",
    ALTER COLUMN limit_code TYPE TEXT COLLATE "C",
    ALTER COLUMN tracking_number TYPE TEXT COLLATE "C";
ALTER TABLE cases
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN household_external_id TYPE TEXT COLLATE "C",
    ALTER COLUMN tracking_number TYPE TEXT COLLATE "C";
ALTER TABLE category_periods
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
ALTER TABLE contacts
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN household_external_id TYPE TEXT COLLATE "C",
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
ALTER TABLE disclosure_entries
    ALTER COLUMN area_code TYPE TEXT COLLATE "C";
ALTER TABLE disclosure_publications
    ALTER COLUMN village_code TYPE TEXT COLLATE "C";
ALTER TABLE documents
    ALTER COLUMN area_code TYPE TEXT COLLATE "C";
ALTER TABLE feed_facts
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
ALTER TABLE households
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN external_id TYPE TEXT COLLATE "C",
    ALTER COLUMN head_id_number TYPE TEXT COLLATE "C";
ALTER TABLE income_records
    ALTER COLUMN household_external_id TYPE TEXT COLLATE "C";
ALTER TABLE memberships
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
ALTER TABLE online_applications
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
ALTER TABLE online_receipts
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
ALTER TABLE persons
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
ALTER TABLE places
    ALTER COLUMN code TYPE TEXT COLLATE "C",
    ALTER COLUMN parent TYPE TEXT COLLATE "C";
ALTER TABLE recheck_schedule
    ALTER COLUMN area_code TYPE TEXT COLLATE "C";
ALTER TABLE referrals
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN item_code TYPE TEXT COLLATE "C";
ALTER TABLE users
    ALTER COLUMN area_code TYPE TEXT COLLATE "C";
ALTER TABLE warnings
    ALTER COLUMN area_code TYPE TEXT COLLATE "C",
    ALTER COLUMN household_external_id TYPE TEXT COLLATE "C",
    ALTER COLUMN id_number TYPE TEXT COLLATE "C";
