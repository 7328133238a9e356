-- Lots server schema, version 3, for SQLite: the quarantine of refused changes.

-- Changes the server refused to merge, kept whole (the raw Automerge change) until a person
-- accepts or rejects them. Times are ms; signed_at is the signer's own claim, received_at
-- the server's clock. A change is kept once per document: sent again, it adds nothing.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL,
    change_hash TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    user_id     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    signed_at   BIGINT,
    received_at BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    decided_by  TEXT,
    decided_at  BIGINT,
    UNIQUE (document_id, change_hash)
);
-- For counting a device's pending changes.
CREATE INDEX quarantine_by_device ON quarantine (device_id, status);
