-- Lots server schema, version 10, for PostgreSQL: gallring and removal on a decision.

-- When a household's last entry was made, by the server's clock when it received the change
-- (never a device's): gallring counts from it. The rows already kept take their last change
-- on the access log, or else when their index entry was last written.
ALTER TABLE households ADD COLUMN last_entry_at BIGINT;
UPDATE households SET last_entry_at = COALESCE(
    (SELECT MAX(at) FROM audit_log
     WHERE audit_log.document_id = households.document_id AND audit_log.action = 'change'),
    updated_at);

-- A removed household's tombstone: its document is gone (every chunk, its index entry, its
-- quarantined changes), and this row stays, so that no device ever brings it back and every
-- device that holds a copy deletes it. No household content: ids, dates and the decision.
CREATE TABLE removed_households (
    seq            BIGSERIAL PRIMARY KEY,
    document_id    TEXT NOT NULL UNIQUE,
    district_id    TEXT,
    assigned_staff TEXT,
    last_entry_at  BIGINT NOT NULL,
    removed_at     BIGINT NOT NULL,
    removed_by     TEXT NOT NULL,
    -- 'retention' (gallring) or 'decision' (removed on a decision, such as recorded in error).
    kind           TEXT NOT NULL CHECK (kind IN ('retention', 'decision')),
    -- The decision's reference (a diary number, say).
    decision       TEXT NOT NULL,
    -- Why, for a removal on a decision; empty for gallring.
    reason         TEXT NOT NULL
);
