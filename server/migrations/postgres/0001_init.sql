-- Lots server schema, version 1, for PostgreSQL (larger installations, several server
-- processes). The same tables and meaning as migrations/sqlite/0001_init.sql.

CREATE TABLE districts (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE user_districts (
    user_id     TEXT NOT NULL REFERENCES users (id),
    district_id TEXT NOT NULL REFERENCES districts (id),
    PRIMARY KEY (user_id, district_id)
);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at   BIGINT
);

-- Only a hash of each session token is stored: a copy of the database opens no session.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL REFERENCES devices (id),
    kind       TEXT NOT NULL CHECK (kind IN ('session', 'sync')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Which household a document is, for access decisions: kept in step with each document's
-- profile by the server whenever the document changes.
CREATE TABLE households (
    document_id    TEXT PRIMARY KEY,
    district_id    TEXT,
    assigned_staff TEXT,
    updated_at     BIGINT NOT NULL
);

-- Each document is the concatenation of its chunks in seq order. Writers of one document
-- hold a transaction-scoped advisory lock on it, so compaction never drops a chunk that
-- another server process is committing.
CREATE TABLE document_chunks (
    seq         BIGSERIAL PRIMARY KEY,
    document_id TEXT NOT NULL,
    bytes       BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX document_chunks_by_document ON document_chunks (document_id, seq);

-- Append-only, hash-chained: hash = sha256(prev_hash | the row's fields). Appends take an
-- advisory lock, so two server processes never chain to the same row.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    user_id     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    document_id TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
