-- 审计日志 (issue 15 item 7): the auditor's page and export filter the chain by 操作人, record
-- (户编号, 办件号), 操作类型 and date, newest first and keyset-paged by seq. Each filter has an
-- index ending in seq, so that a filtered page is one index range read that stops at its LIMIT;
-- a date range is turned into a range of seq through audit_log_at (see store::audit::search).
-- audit_log_entity_seq replaces audit_log_entity (its columns, then seq).
CREATE INDEX audit_log_actor_seq ON audit_log (actor, seq);
CREATE INDEX audit_log_action_seq ON audit_log (action, seq);
CREATE INDEX audit_log_at_seq ON audit_log (at, seq);
CREATE INDEX audit_log_entity_seq ON audit_log (entity, entity_id, seq);
DROP INDEX audit_log_entity;

-- 链校验记录: each check of the whole chain an auditor started from the page, with its result:
-- outcome 'intact', 'broken' (at broken_seq), 'case_event_broken' (case broken_case, its event
-- broken_seq) or 'key_mismatch'; head_seq is the last row the check reached (or the head).
CREATE TABLE audit_verifications (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    outcome TEXT NOT NULL,
    head_seq BIGINT NOT NULL,
    broken_seq BIGINT,
    broken_case TEXT,
    reason TEXT
);
