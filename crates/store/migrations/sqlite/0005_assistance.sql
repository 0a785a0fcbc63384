-- 救助帮扶 (issue 6, A1–A3): the assistance catalogue with every version of each item, the
-- referrals (转介) sent to departments with their append-only history, and the department
-- (提供部门) of department users.

ALTER TABLE users ADD COLUMN department TEXT;

-- One row per version of an item; the newest version is in force. Never updated or deleted,
-- so a referral's (item_code, item_version) keeps the meaning it was sent with.
CREATE TABLE assistance_items (
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (code, version)
);

-- Plain columns for reports: item, place, household, state, dates, amount in fen.
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    household_id BIGINT NOT NULL REFERENCES households (id),
    area_code TEXT NOT NULL,
    item_code TEXT NOT NULL,
    item_version BIGINT NOT NULL,
    department TEXT NOT NULL,
    needs TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The period the item is given for: '2026-11' (monthly), '2026' (yearly) or 'once'.
    period TEXT NOT NULL,
    state TEXT NOT NULL,
    created_on TEXT NOT NULL,
    created_by TEXT NOT NULL,
    accepted_on TEXT,
    delivered_on TEXT,
    amount_fen BIGINT,
    note TEXT,
    declined_on TEXT,
    decline_reason TEXT,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX referrals_area_state ON referrals (area_code, state);
CREATE INDEX referrals_household ON referrals (household_id);
CREATE INDEX referrals_department ON referrals (department, state);
-- 不重: one delivery of an item to a household per period.
CREATE UNIQUE INDEX referrals_one_delivery ON referrals (household_id, item_code, period) WHERE state = 'delivered';

-- Append-only: rows are never updated or deleted.
CREATE TABLE referral_events (
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    seq BIGINT NOT NULL,
    on_date TEXT NOT NULL,
    state TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (referral_id, seq)
);
