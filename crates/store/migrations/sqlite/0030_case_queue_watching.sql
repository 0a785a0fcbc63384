-- 跟踪 (issue 14, P2): both district departments follow a case from intake. A queue line
-- with `watching` = 1 is read-only: the department does not act next on those days and is shown
-- the case's step and nearest due date. Existing lines are all of roles that act next, hence
-- the default; `App::sync_case_queue` adds the 跟踪 lines of existing cases at start-up.
ALTER TABLE case_queue ADD COLUMN watching BIGINT NOT NULL DEFAULT 0;
