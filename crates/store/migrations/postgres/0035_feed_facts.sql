-- 信息比对 at intake (issue 14 item 3, P3): every stored feed's readable rows, one per person and
-- fact, found by ID number, so that a case's members are compared with all stored feeds at once
-- (an index lookup per member, not a pass over the feeds). `feeds.facts_stored` = 1 once a feed's
-- rows are here; feeds stored before this migration are filled in at start-up.
CREATE TABLE feed_facts (
    feed_id BIGINT NOT NULL REFERENCES feeds (id),
    line BIGINT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    value BIGINT,
    on_date TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX feed_facts_person ON feed_facts (id_number, feed_id);
ALTER TABLE feeds ADD COLUMN facts_stored BIGINT NOT NULL DEFAULT 0;
-- The open warnings of one person (a case's members at 信息比对).
CREATE INDEX warnings_person_open ON warnings (id_number) WHERE closed_on IS NULL;
