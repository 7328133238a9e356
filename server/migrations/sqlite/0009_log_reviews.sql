-- Lots server schema, version 9, for SQLite: a supervisor's record that a period of the
-- access log was reviewed, with their comment. The comment is free text, so it is kept here
-- and not in the log, which holds ids only; the log has a row naming the review.
CREATE TABLE log_reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer    TEXT NOT NULL,
    -- The district reviewed; NULL for all of the reviewer's districts.
    district_id TEXT,
    period_from BIGINT NOT NULL,
    period_to   BIGINT NOT NULL,
    comment     TEXT NOT NULL,
    reviewed_at BIGINT NOT NULL
);
