-- Ting store schema, version 2: the Delivery Service (PostgreSQL).
--
-- Kept in step with migrations/sqlite/0002_delivery.sql: same tables, columns, constraints and
-- comments; only the types differ. Never edit a migration once released; add a new file.
--
-- Every column is preceded by one comment line "<purpose>. Retention: <how long>.". The server
-- orders and routes MLS messages but cannot read them: every payload below is MLS ciphertext
-- (or a Welcome encrypted to the joining device), opaque to the server. What it does see is
-- routing metadata: who is in which room, who sent when, sizes.

-- A room (MLS group): routing metadata only; its name and content are encrypted.
CREATE TABLE rooms (
    -- Random room id (UUID v4), also the MLS group id. Retention: until the room is deleted.
    id TEXT PRIMARY KEY,
    -- 'room' (any number of members) or 'direct' (two users). Retention: as the row.
    kind TEXT NOT NULL CHECK (kind IN ('room', 'direct')),
    -- Account that created the room. Retention: as the row.
    created_by TEXT NOT NULL REFERENCES users (id),
    -- When the room was created. Retention: as the row.
    created_at BIGINT NOT NULL,
    -- Current MLS epoch as ordered by the server (number of accepted commits). Retention: as the row.
    epoch BIGINT NOT NULL CHECK (epoch >= 0),
    -- Highest sequence number assigned in the room's log (0 = none; never reused, even after expiry). Retention: as the row.
    last_seq BIGINT NOT NULL CHECK (last_seq >= 0),
    -- Seconds messages and blobs are kept, NULL = forever; set by the room's members. Retention: as the row.
    retention_secs BIGINT CHECK (retention_secs >= 0)
);

-- Which devices are (or were) members of which room: the routing table.
CREATE TABLE room_devices (
    -- Room. Retention: as the row (deleted with the room).
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- Member device. Retention: as the row.
    device_id TEXT NOT NULL REFERENCES devices (id),
    -- Owner of the device. Retention: as the row.
    user_id TEXT NOT NULL REFERENCES users (id),
    -- Sequence number of the commit that added the device (0 for the creator); it reads only later messages. Retention: as the row (replaced when re-added).
    added_seq BIGINT NOT NULL CHECK (added_seq >= 0),
    -- Sequence number of the commit that removed it, NULL while a member; it reads up to this one. Retention: as the row (kept so the removal is delivered; cleared when re-added).
    removed_seq BIGINT CHECK (removed_seq >= added_seq),
    CONSTRAINT room_devices_pkey PRIMARY KEY (room_id, device_id)
);

CREATE INDEX room_devices_by_device ON room_devices (device_id);

-- The per-room ordered log of MLS messages.
CREATE TABLE messages (
    -- Room the message was sent to. Retention: as the row.
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- Position in the room's log, from 1, gap-free when assigned. Retention: as the row.
    seq BIGINT NOT NULL CHECK (seq >= 1),
    -- Client-chosen message id (UUID), to recognise resends. Retention: as the row.
    id TEXT NOT NULL,
    -- Sending device, from the authenticated session. Retention: as the row.
    sender_device TEXT NOT NULL REFERENCES devices (id),
    -- Owner of the sending device. Retention: as the row.
    sender_user TEXT NOT NULL REFERENCES users (id),
    -- 'application' (chat content) or 'commit' (membership or key change). Retention: as the row.
    kind TEXT NOT NULL CHECK (kind IN ('application', 'commit')),
    -- MLS epoch the message was sent in. Retention: as the row.
    epoch BIGINT NOT NULL CHECK (epoch >= 0),
    -- The MLS message: ciphertext the server cannot read. Retention: until expires_at (room retention), or forever without one.
    payload BYTEA NOT NULL,
    -- When the server accepted the message. Retention: as the row.
    created_at BIGINT NOT NULL,
    -- When the message is deleted (created_at + room retention at the time), NULL = never. Retention: as the row.
    expires_at BIGINT,
    CONSTRAINT messages_pkey PRIMARY KEY (room_id, seq),
    CONSTRAINT messages_room_id_id_key UNIQUE (room_id, id)
);

CREATE INDEX messages_by_expiry ON messages (expires_at)
    WHERE expires_at IS NOT NULL;

-- How far each device has acknowledged each room's log.
CREATE TABLE cursors (
    -- Device. Retention: as the row.
    device_id TEXT NOT NULL REFERENCES devices (id),
    -- Room. Retention: as the row (deleted with the room).
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- Highest sequence number the device acknowledged; only moves forward. Retention: overwritten on each acknowledgement; as the row.
    seq BIGINT NOT NULL CHECK (seq >= 0),
    CONSTRAINT cursors_pkey PRIMARY KEY (device_id, room_id)
);

CREATE INDEX cursors_by_room ON cursors (room_id);

-- MLS Welcomes waiting for the devices a commit added.
CREATE TABLE welcomes (
    -- Room the Welcome lets the device join. Retention: as the row.
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- Device it is addressed to. Retention: as the row.
    device_id TEXT NOT NULL REFERENCES devices (id),
    -- Sequence number of the commit that added the device. Retention: as the row.
    commit_seq BIGINT NOT NULL CHECK (commit_seq >= 1),
    -- The MLS Welcome, encrypted to the device's KeyPackage: unreadable to the server. Retention: until the device deletes it, a newer Welcome for the same room replaces it, or the room is deleted.
    payload BYTEA NOT NULL,
    -- When the adding commit was accepted. Retention: as the row.
    created_at BIGINT NOT NULL,
    CONSTRAINT welcomes_pkey PRIMARY KEY (device_id, room_id)
);

CREATE INDEX welcomes_by_room ON welcomes (room_id);

-- Metadata of encrypted file blobs; the bytes are files managed by the server. A room's
-- blobs (and their files) must be deleted before the room, so no file is orphaned.
CREATE TABLE blobs (
    -- Random blob id (UUID v4), also the file's name. Retention: until expires_at, or until swept while incomplete.
    id TEXT PRIMARY KEY,
    -- Room it was shared in (only its members may read it). Retention: as the row.
    room_id TEXT NOT NULL REFERENCES rooms (id),
    -- Uploading device. Retention: as the row.
    uploader_device TEXT NOT NULL REFERENCES devices (id),
    -- Declared total size of the encrypted file in bytes. Retention: as the row.
    size BIGINT NOT NULL CHECK (size >= 0),
    -- Bytes received so far; only grows (resumable uploads continue here). Retention: as the row.
    received BIGINT NOT NULL CHECK (received >= 0 AND received <= size),
    -- Whether all size bytes arrived. Retention: as the row.
    complete BOOLEAN NOT NULL,
    -- When the upload started. Retention: as the row.
    created_at BIGINT NOT NULL,
    -- When the blob is deleted (created_at + room retention), NULL = never. Retention: as the row.
    expires_at BIGINT
);

CREATE INDEX blobs_by_room ON blobs (room_id);
CREATE INDEX blobs_by_expiry ON blobs (expires_at)
    WHERE expires_at IS NOT NULL;
CREATE INDEX blobs_incomplete ON blobs (created_at)
    WHERE NOT complete;
