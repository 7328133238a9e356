-- Lots server schema, version 2, for PostgreSQL: actor bindings. The same table and meaning
-- as migrations/sqlite/0002_actors.sql.

-- Which device each Automerge actor id (hex) belongs to: the one that first used it. The
-- first binding stays; a commit that would bind the actor to another device fails whole.
CREATE TABLE actors (
    actor_id   TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    first_seen BIGINT NOT NULL
);
