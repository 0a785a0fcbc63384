-- 待办队列 (issue 12): the work queue's lines, kept beside each case so that a queue is one
-- indexed, keyset-paged read instead of a replay of every open case. One line per role that
-- acts next on the case, for the days it does (`shown_from`..=`shown_until`, inclusive,
-- '0000-01-01'/'9999-12-31' when unbounded: a case at 公示 hands over from the town to the
-- departments the day after the notice ends), under the running limit due first
-- (`workflow::queue_lines`). Rewritten in the transaction of every case event; filled for
-- cases written before this migration, and rebuilt when the time-limit parameters change, by
-- `App::sync_case_queue` at start-up.
CREATE TABLE case_queue (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    role TEXT NOT NULL,
    shown_from TEXT NOT NULL,
    shown_until TEXT NOT NULL,
    area_code TEXT NOT NULL,
    due_on TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    household_external_id TEXT NOT NULL,
    step TEXT NOT NULL,
    limit_code TEXT NOT NULL,
    started_on TEXT NOT NULL,
    -- The case's other running limits by due date: `limit,started_on,due_on` joined by ';'.
    others TEXT NOT NULL,
    PRIMARY KEY (case_id, role, shown_from)
);
-- A wide area (a district, a town) reads its lines in due order; a village reads its few.
CREATE INDEX case_queue_role_due ON case_queue (role, due_on, tracking_number);
CREATE INDEX case_queue_role_area ON case_queue (role, area_code, due_on, tracking_number);
