-- 补充帮扶 (issue 6, A2–A3): a referral sent on top of the item that answers a need keeps the
-- written reason (补充理由) the town or district gave; NULL for an ordinary referral.
ALTER TABLE referrals ADD COLUMN supplementary_reason TEXT;
