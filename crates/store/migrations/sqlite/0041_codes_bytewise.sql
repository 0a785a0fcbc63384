-- Codes compared bytewise (issue 12): PostgreSQL's migration 0041 gives its code columns
-- COLLATE "C". SQLite compares text bytewise already (BINARY), so nothing changes here; the
-- two stores keep the same list of migrations.
SELECT 1;
