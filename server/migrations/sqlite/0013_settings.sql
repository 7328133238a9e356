-- Lots server schema, version 13, for SQLite: the installation's settings an administrator
-- changes in the console (how devices lock), one JSON value per name.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
