-- Lots server schema, version 5, for SQLite: sessions that end when idle and whose tokens
-- rotate, and temporary passwords that must be changed.

-- When the session was last used (ms, the server's clock; written at most once a minute).
-- Sessions open at the upgrade count as used now, so nobody is signed out by it.
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_used_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
-- Set when the token was rotated: the successor's token is derived from this token and the
-- salt, so that a client whose answer with the new token was lost gets the same one again.
ALTER TABLE sessions ADD COLUMN successor_salt TEXT;
-- On a successor not yet used: its predecessor's hash. Its first use ends the predecessor
-- after a grace period.
ALTER TABLE sessions ADD COLUMN predecessor_hash TEXT;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_device ON sessions (device_id);

-- Set by an administrator's password reset: the user may do nothing but choose a new one.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
