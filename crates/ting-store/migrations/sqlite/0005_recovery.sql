-- Recovery: each user's master identity key, encrypted on their device under a recovery key
-- only the user holds (written down). The server stores ciphertext it cannot open.
CREATE TABLE recovery_backups (
    -- The account. Retention: until the account is deleted.
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    -- The encrypted master identity key (AEAD under a key derived from the user's recovery key). Retention: replaced when the user makes a new recovery key.
    data BLOB NOT NULL,
    -- When it was stored. Retention: as the row.
    updated_at INTEGER NOT NULL
) STRICT;
