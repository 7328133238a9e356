-- Lots server schema, version 4, for SQLite: refused messages that could not be kept, and
-- the former holders of reassigned households.

-- A message over the sync message limit is never read (that is the point of the limit), so
-- its row in the quarantine holds no change: no hash, no bytes, its document only if known,
-- and message_bytes, its size as the sender announced it. Such a row can only be rejected.
-- SQLite cannot drop NOT NULL from a column, so the table is made again with every row.
CREATE TABLE quarantine_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id   TEXT,
    change_hash   TEXT,
    bytes         BLOB,
    user_id       TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    signed_at     BIGINT,
    received_at   BIGINT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    decided_by    TEXT,
    decided_at    BIGINT,
    message_bytes BIGINT,
    -- A change is kept with its document and whole, or not at all; a row without one was
    -- never accepted.
    CHECK ((change_hash IS NULL) = (bytes IS NULL)),
    CHECK (change_hash IS NULL OR document_id IS NOT NULL),
    CHECK (change_hash IS NOT NULL OR status <> 'accepted'),
    UNIQUE (document_id, change_hash)
);
INSERT INTO quarantine_new (id, document_id, change_hash, bytes, user_id, device_id, reason,
                            signed_at, received_at, status, decided_by, decided_at)
    SELECT id, document_id, change_hash, bytes, user_id, device_id, reason,
           signed_at, received_at, status, decided_by, decided_at
    FROM quarantine;
DROP TABLE quarantine;
ALTER TABLE quarantine_new RENAME TO quarantine;
-- For counting a device's pending changes.
CREATE INDEX quarantine_by_device ON quarantine (device_id, status);

-- Who held a household before it was reassigned, and when it moved away from them (ms,
-- the server's clock). A former holder may still send the changes they made before their
-- phone heard of it, for a while (core's FORMER_HOLDER_DAYS); they read nothing of it.
CREATE TABLE former_holders (
    document_id   TEXT NOT NULL,
    staff_id      TEXT NOT NULL,
    reassigned_at BIGINT NOT NULL,
    PRIMARY KEY (document_id, staff_id)
);
