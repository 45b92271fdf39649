-- Ting store schema, version 4: the key transparency log, device-link rendezvous and the
-- server's own secrets (PostgreSQL).
--
-- Kept in step with migrations/sqlite/0004_key_transparency.sql: same tables, columns,
-- constraints and comments; only the types differ. Never edit a migration once released; add a
-- new file.
--
-- Every column is preceded by one comment line "<purpose>. Retention: <how long>.".

-- The append-only key log: users' identity statements, device certificates and revocations,
-- each signed by the user's master key (the server cannot forge them). Leaf `idx` of a Merkle
-- tree whose signed checkpoints witnesses and clients check, so no record is ever changed or
-- removed (triggers below refuse it).
CREATE TABLE key_log (
    -- Position in the log, from 0, gap-free (the Merkle tree's leaf index). Retention: forever (removing a record would break every later proof).
    idx BIGINT PRIMARY KEY CHECK (idx >= 0),
    -- Account the record is about. Retention: forever (append-only log).
    user_id TEXT NOT NULL REFERENCES users (id),
    -- Record kind: 'identity', 'device' or 'revocation'. Retention: forever (append-only log).
    kind TEXT NOT NULL CHECK (kind IN ('identity', 'device', 'revocation')),
    -- Device a certificate or revocation is about, NULL for identity statements. Retention: forever (append-only log).
    device_id TEXT REFERENCES devices (id),
    -- The signed record (public keys, user name, device id and signatures; no secret). Retention: forever (append-only log).
    record BYTEA NOT NULL,
    -- When the server appended it. Retention: forever (append-only log).
    created_at BIGINT NOT NULL
);

CREATE INDEX key_log_by_user ON key_log (user_id, idx);
CREATE FUNCTION key_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'key_log is append-only'; END $$;
CREATE TRIGGER key_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON key_log FOR EACH STATEMENT EXECUTE FUNCTION key_log_append_only();

-- Witness cosignatures of key log checkpoints: the newest one of each configured witness.
CREATE TABLE key_log_cosignatures (
    -- The witness's verifier key name (from keylog.witnesses). Retention: replaced by the witness's next cosignature.
    witness TEXT PRIMARY KEY,
    -- Log size of the cosigned checkpoint. Retention: replaced by the witness's next cosignature.
    size BIGINT NOT NULL CHECK (size >= 0),
    -- The cosigned checkpoint note (public signatures only). Retention: replaced by the witness's next cosignature.
    note TEXT NOT NULL,
    -- When the server received it. Retention: replaced by the witness's next cosignature.
    received_at BIGINT NOT NULL
);

-- Linking a new device: the new device leaves a request, an existing device of the same user
-- answers with the (end-to-end encrypted) response, which the new device takes once.
CREATE TABLE link_rendezvous (
    -- Random rendezvous id (16 bytes, hex), shown to the user. Retention: until taken or expired (minutes).
    id TEXT PRIMARY KEY,
    -- Account of both devices. Retention: as the row.
    user_id TEXT NOT NULL REFERENCES users (id),
    -- The new device that created the rendezvous. Retention: as the row.
    device_id TEXT NOT NULL REFERENCES devices (id),
    -- The new device's request (its public keys; no secret). Retention: as the row.
    request BYTEA NOT NULL,
    -- The existing device's answer, encrypted to the new device; NULL until answered. Retention: as the row.
    response BYTEA,
    -- When it was created. Retention: as the row.
    created_at BIGINT NOT NULL,
    -- When it stops being usable; expired rows are swept. Retention: as the row.
    expires_at BIGINT NOT NULL
);

CREATE INDEX link_rendezvous_by_expiry ON link_rendezvous (expires_at);

-- The server's own secrets, shared by every node of a cluster (e.g. the key log's signing key).
CREATE TABLE server_secrets (
    -- Which secret, e.g. 'keylog_signing_key'. Retention: forever.
    name TEXT PRIMARY KEY,
    -- The secret bytes (the server's own key; no user data). Retention: forever.
    value BYTEA NOT NULL,
    -- When it was generated. Retention: forever.
    created_at BIGINT NOT NULL
);
