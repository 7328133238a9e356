-- Lots server schema, version 2, for SQLite: actor bindings.

-- Which device each Automerge actor id (hex) belongs to: the one that first used it. The
-- first binding stays; a commit that would bind the actor to another device fails whole.
CREATE TABLE actors (
    actor_id   TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    first_seen BIGINT NOT NULL
);
