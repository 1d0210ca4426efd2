-- Office staff, their sessions and one-time links, and the audit trail.
-- Times that are compared (expiry, lock-out windows) are unix milliseconds,
-- so that SQLite compares numbers, not strings of varying length.

-- A person who works at the office. email is stored lower-cased and is the
-- login name. password_hash is bcrypt, NULL until the person has used their
-- one-time link. locked_until > now refuses every login attempt.
CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    password_hash BLOB,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One-time links to set a password: only the SHA-256 of the token is kept.
CREATE TABLE staff_links (
    token_hash BLOB PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_links_staff ON staff_links (staff_id);

-- Logged-in sessions. The cookie holds the token; the office keeps its
-- SHA-256. form_token is the session's CSRF token. seen_at moves with use
-- (idle expiry), created_at never (absolute expiry).
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    form_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_staff ON sessions (staff_id);

-- Wrong passwords per account, for the lock-out window.
CREATE TABLE login_failures (
    staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_staff ON login_failures (staff_id, at);

-- Who did what to whom: append-only, the triggers refuse changes.
-- actor is a staff email, "cli" for the command line, or "" when nobody
-- is known (a failed login names the email tried as subject).
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
