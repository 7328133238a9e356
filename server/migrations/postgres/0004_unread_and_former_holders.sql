-- Lots server schema, version 4, for PostgreSQL: refused messages that could not be kept,
-- and the former holders of reassigned households. The same tables and meaning as
-- migrations/sqlite/0004_unread_and_former_holders.sql.

-- A message over the sync message limit is never read (that is the point of the limit), so
-- its row in the quarantine holds no change: no hash, no bytes, its document only if known,
-- and message_bytes, its size as the sender announced it. Such a row can only be rejected.
ALTER TABLE quarantine
    ALTER COLUMN document_id DROP NOT NULL,
    ALTER COLUMN change_hash DROP NOT NULL,
    ALTER COLUMN bytes DROP NOT NULL,
    ADD COLUMN message_bytes BIGINT,
    -- A change is kept with its document and whole, or not at all; a row without one was
    -- never accepted.
    ADD CHECK ((change_hash IS NULL) = (bytes IS NULL)),
    ADD CHECK (change_hash IS NULL OR document_id IS NOT NULL),
    ADD CHECK (change_hash IS NOT NULL OR status <> 'accepted');

-- Who held a household before it was reassigned, and when it moved away from them (ms,
-- the server's clock). A former holder may still send the changes they made before their
-- phone heard of it, for a while (core's FORMER_HOLDER_DAYS); they read nothing of it.
CREATE TABLE former_holders (
    document_id   TEXT NOT NULL,
    staff_id      TEXT NOT NULL,
    reassigned_at BIGINT NOT NULL,
    PRIMARY KEY (document_id, staff_id)
);
