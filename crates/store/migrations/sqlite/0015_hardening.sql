-- 审计链加密钥 (issue 16): rows from `keyed_from` on are hashed with HMAC-SHA256 under a key
-- kept outside the database; rows before it (written before the switch-over) keep their plain
-- SHA-256 links. NULL while the chain has no keyed row. The row at `keyed_from` is the
-- `audit.keyed` event naming the key's fingerprint.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;
ALTER TABLE audit_head ADD COLUMN key_fingerprint TEXT;

-- 登录限流 (issue 16): failures are counted per client address and account pair and per
-- client address, so that an attacker's failures do not stop the real user signing in from
-- elsewhere. Rows written before this migration have no address ('').
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_client ON login_failures (client, at);
