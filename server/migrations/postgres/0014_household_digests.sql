-- Lots server schema, version 14, for PostgreSQL: each household's digest (what its line in a
-- caseload shows, as JSON), written in the same transaction as the document's chunks, so
-- that a caseload is read from this table and never from documents in memory. NULL until the
-- server first digests the household (rows from before this version). With it, the document's
-- heads as its chunks leave it (sorted hex, comma-separated), so that a device already holding
-- them is answered without the document being read; NULL whenever a chunk was written
-- without them.
ALTER TABLE households ADD COLUMN digest TEXT;
ALTER TABLE households ADD COLUMN heads TEXT;
CREATE INDEX households_by_staff ON households (assigned_staff);
CREATE INDEX households_by_district ON households (district_id);
