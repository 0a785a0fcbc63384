-- Issue 12: the contact list (走访/来电) is paged newest first by (on_date, id); a district-wide
-- page walks contacts_date and stops at its LIMIT instead of sorting every contact. A village's
-- referrals are paged newest first from referrals_area_id.
CREATE INDEX contacts_date ON contacts (on_date, id, area_code);
CREATE INDEX referrals_area_id ON referrals (area_code, id);
