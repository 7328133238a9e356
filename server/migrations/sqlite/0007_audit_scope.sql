-- Lots server schema, version 7, for SQLite: which districts each audit row concerns, so a
-- supervisor reads only their districts' rows. Written with the row, in the same transaction:
-- a household's row belongs to the district the household was in then; any other row to the
-- acting user's districts then, and a change of a user's role or districts also to every
-- district the user left or joined. Append-only, as the log is.
CREATE TABLE audit_districts (
    seq         BIGINT NOT NULL,
    district_id TEXT NOT NULL,
    PRIMARY KEY (district_id, seq)
);

CREATE TRIGGER audit_districts_no_update BEFORE UPDATE ON audit_districts
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_districts_no_delete BEFORE DELETE ON audit_districts
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The rows already kept: households by their district now, everything else by the acting
-- user's districts now.
INSERT INTO audit_districts (seq, district_id)
SELECT audit_log.seq, households.district_id
FROM audit_log JOIN households ON households.document_id = audit_log.document_id
WHERE households.district_id IS NOT NULL;
INSERT INTO audit_districts (seq, district_id)
SELECT audit_log.seq, user_districts.district_id
FROM audit_log JOIN user_districts ON user_districts.user_id = audit_log.user_id
WHERE audit_log.document_id = '';
