-- 用户管理 (U2): administrators edit users in the product. `version` guards their edits
-- (optimistic concurrency, like households); `last_login_at` is the instant of the last
-- successful sign-in (RFC 3339 UTC text, NULL for a user who never signed in).
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN last_login_at TEXT;
CREATE INDEX users_area ON users (area_code);
