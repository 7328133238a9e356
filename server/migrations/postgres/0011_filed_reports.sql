-- Lots server schema, version 11, for PostgreSQL: tertial reports as they were filed.
--
-- A supervisor files a tertial report for a district (or every district) once the tertial is
-- over; the server computes it from the households as they stood at the tertial's end and
-- keeps it here as it was filed, so that removing households later (gallring, a decision)
-- does not change what was reported. Aggregates only: counts split by gender and age band,
-- language codes, topic and goal-area codes. No person, no household id.
CREATE TABLE filed_reports (
    id          BIGSERIAL PRIMARY KEY,
    -- The tertial, as "2026 T1".
    tertial     TEXT NOT NULL,
    -- The district reported on; NULL for every district.
    district_id TEXT,
    filed_by    TEXT NOT NULL,
    filed_at    BIGINT NOT NULL,
    -- How many households of its scope (as at the tertial's end) it was computed over.
    households  BIGINT NOT NULL,
    -- The report as JSON (core's TertialReport).
    report      TEXT NOT NULL
);
CREATE INDEX filed_reports_by_tertial ON filed_reports (tertial, district_id);
