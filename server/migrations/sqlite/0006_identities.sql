-- Lots server schema, version 6, for SQLite: who a person is at the organisation's identity
-- provider (OpenID Connect). A user signs in with the provider only once an administrator has
-- linked them to the provider's issuer and subject; nothing the provider says (an e-mail
-- address, a name) ever links anyone by itself. One identity per user; an identity names at
-- most one user.
CREATE TABLE identities (
    user_id   TEXT PRIMARY KEY REFERENCES users (id),
    issuer    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    -- When (ms, the server's clock) and by whom ('setup' for the set-up command).
    linked_at BIGINT NOT NULL,
    linked_by TEXT NOT NULL,
    UNIQUE (issuer, subject)
);
