-- Lots server schema, version 12, for SQLite: sessions an administrator ended.
--
-- When a device is revoked or its user disabled, its sessions end at once; their token hashes
-- move here, until they would have run out. They open nothing: the device that presents one
-- is told why it was shut out, so that it deletes what it holds, and it may say it did.
CREATE TABLE ended_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    -- 'device-revoked' or 'user-disabled'.
    why        TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ended_sessions_by_device ON ended_sessions (device_id);
