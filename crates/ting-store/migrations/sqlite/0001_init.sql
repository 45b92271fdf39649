-- Ting store schema, version 1 (SQLite).
--
-- Kept in step with migrations/postgres/0001_init.sql: same tables, columns, constraints and
-- comments; only the types differ. Never edit a migration once released (sqlx records its
-- checksum); add a new numbered file instead.
--
-- Every column is preceded by one comment line "<purpose>. Retention: <how long>." that the data
-- inventory (docs) is built from. Times are Unix seconds. Ids are UUID v4 strings.

CREATE TABLE users (
    -- Random account id (UUID v4); reveals no count or order. Retention: until the account is deleted.
    id TEXT PRIMARY KEY NOT NULL,
    -- Login name, normalised by the server, visible to other users. Retention: until the account is deleted.
    username TEXT NOT NULL UNIQUE,
    -- Argon2id PHC hash of the password (never the password). Retention: until replaced or the account is deleted.
    password_hash TEXT NOT NULL,
    -- Administrator flag (0/1). Retention: until the account is deleted.
    is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
    -- When the account was created. Retention: until the account is deleted.
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
    -- Random device id (UUID v4). Retention: until the owning account is deleted (revoked devices are kept).
    id TEXT PRIMARY KEY NOT NULL,
    -- Owning account. Retention: as the row.
    user_id TEXT NOT NULL REFERENCES users (id),
    -- Human-readable device name chosen by the user. Retention: as the row.
    name TEXT NOT NULL,
    -- Ed25519 public signature key of the device's MLS credential. Retention: as the row (kept after revocation to recognise the key).
    signature_key BLOB NOT NULL,
    -- When the device was registered. Retention: as the row.
    created_at INTEGER NOT NULL,
    -- Last authenticated request (coarse activity metadata), NULL if never. Retention: overwritten on each request; as the row.
    last_seen_at INTEGER,
    -- When the device was revoked, NULL while active. Retention: as the row.
    revoked_at INTEGER
) STRICT;

-- At most one active (non-revoked) device per (user, signature key).
CREATE UNIQUE INDEX devices_active_signature_key ON devices (user_id, signature_key)
    WHERE revoked_at IS NULL;
CREATE INDEX devices_by_user ON devices (user_id, created_at);

CREATE TABLE sessions (
    -- SHA-256 of the bearer token (the token itself is never stored). Retention: until logout, expiry sweep or device revocation.
    token_hash BLOB PRIMARY KEY NOT NULL,
    -- Account logged in. Retention: as the row.
    user_id TEXT NOT NULL REFERENCES users (id),
    -- Device logged in. Retention: as the row.
    device_id TEXT NOT NULL REFERENCES devices (id),
    -- When the session was created (login time). Retention: as the row.
    created_at INTEGER NOT NULL,
    -- When the session stops being valid; expired rows are swept. Retention: as the row.
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_device ON sessions (device_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE key_packages (
    -- Insertion sequence number; claims take the lowest (oldest) first. Retention: as the row.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Device the KeyPackage belongs to. Retention: as the row.
    device_id TEXT NOT NULL REFERENCES devices (id),
    -- Opaque MLS KeyPackage (public keys only; unreadable content to the server). Retention: one-time until claimed, last-resort until replaced; all deleted on device revocation.
    data BLOB NOT NULL,
    -- 1 for the device's reusable last-resort package, 0 for one-time packages. Retention: as the row.
    last_resort INTEGER NOT NULL CHECK (last_resort IN (0, 1)),
    -- When the package was uploaded. Retention: as the row.
    created_at INTEGER NOT NULL
) STRICT;

-- At most one last-resort package per device.
CREATE UNIQUE INDEX key_packages_one_last_resort ON key_packages (device_id)
    WHERE last_resort = 1;
CREATE INDEX key_packages_by_device ON key_packages (device_id, last_resort, id);
