//! What both backends share: decoding rows (as tuples, in the column order of the `SELECT`s)
//! into the model types, and mapping database errors onto [`Error`].

use ting_proto::{BlobId, DeviceId, MessageId, RoomId, UserId};

use crate::{
    Blob, Device, Error, MessageKind, PendingWelcome, Result, Room, RoomDevice, RoomKind, Session,
    StoredMessage, User,
};

/// `id, username, password_hash, is_admin, created_at, deactivated_at`.
pub(crate) type UserRow = (String, String, String, bool, i64, Option<i64>);

/// `id, user_id, name, signature_key, created_at, last_seen_at, revoked_at`.
pub(crate) type DeviceRow = (
    String,
    String,
    String,
    Vec<u8>,
    i64,
    Option<i64>,
    Option<i64>,
);

/// `token_hash, user_id, device_id, created_at, expires_at`.
pub(crate) type SessionRow = (Vec<u8>, String, String, i64, i64);

/// `id, kind, created_by, created_at, epoch, last_seq, retention_secs`.
pub(crate) type RoomRow = (String, String, String, i64, i64, i64, Option<i64>);

/// `room_id, device_id, user_id, added_seq, removed_seq`.
pub(crate) type RoomDeviceRow = (String, String, String, i64, Option<i64>);

/// A [`RoomRow`] followed by the membership's `device_id, user_id, added_seq, removed_seq`.
pub(crate) type MembershipRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    String,
    i64,
    Option<i64>,
);

/// `room_id, seq, id, sender_device, sender_user, kind, epoch, payload, created_at`.
pub(crate) type MessageRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Vec<u8>,
    i64,
);

/// `room_id, device_id, commit_seq, payload, created_at`.
pub(crate) type WelcomeRow = (String, String, i64, Vec<u8>, i64);

/// `id, room_id, uploader_device, size, received, complete, created_at, expires_at`.
pub(crate) type BlobRow = (String, String, String, i64, i64, bool, i64, Option<i64>);

pub(crate) fn user_id(text: &str) -> Result<UserId> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("user id: {e}")))
}

pub(crate) fn device_id(text: &str) -> Result<DeviceId> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("device id: {e}")))
}

pub(crate) fn room_id(text: &str) -> Result<RoomId> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("room id: {e}")))
}

pub(crate) fn message_id(text: &str) -> Result<MessageId> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("message id: {e}")))
}

pub(crate) fn blob_id(text: &str) -> Result<BlobId> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("blob id: {e}")))
}

/// A stored sequence number, epoch or size (never negative) as `u64`.
pub(crate) fn unsigned(n: i64, what: &str) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::Corrupt(format!("negative {what} {n}")))
}

/// A caller's `u64` for a query, saturating at `i64::MAX` (beyond any stored value).
pub(crate) fn saturating(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `created_at + retention`, saturating: far-future, never an overflow error.
pub(crate) fn expiry(created_at: i64, retention_secs: Option<i64>) -> Option<i64> {
    retention_secs.map(|secs| created_at.saturating_add(secs))
}

fn room_kind(text: &str) -> Result<RoomKind> {
    match text {
        "room" => Ok(RoomKind::Room),
        "direct" => Ok(RoomKind::Direct),
        other => Err(Error::Corrupt(format!("room kind {other:?}"))),
    }
}

fn message_kind(text: &str) -> Result<MessageKind> {
    match text {
        "application" => Ok(MessageKind::Application),
        "commit" => Ok(MessageKind::Commit),
        other => Err(Error::Corrupt(format!("message kind {other:?}"))),
    }
}

pub(crate) fn room(row: RoomRow) -> Result<Room> {
    let (id, kind, created_by, created_at, epoch, last_seq, retention_secs) = row;
    Ok(Room {
        id: room_id(&id)?,
        kind: room_kind(&kind)?,
        created_by: user_id(&created_by)?,
        created_at,
        epoch: unsigned(epoch, "epoch")?,
        last_seq: unsigned(last_seq, "seq")?,
        retention_secs,
    })
}

pub(crate) fn room_device(row: RoomDeviceRow) -> Result<RoomDevice> {
    let (room, device, user, added_seq, removed_seq) = row;
    Ok(RoomDevice {
        room_id: room_id(&room)?,
        device_id: device_id(&device)?,
        user_id: user_id(&user)?,
        added_seq: unsigned(added_seq, "seq")?,
        removed_seq: removed_seq.map(|seq| unsigned(seq, "seq")).transpose()?,
    })
}

pub(crate) fn membership(row: MembershipRow) -> Result<(Room, RoomDevice)> {
    let (id, kind, by, at, epoch, last_seq, retention, device, user, added, removed) = row;
    let member = room_device((id.clone(), device, user, added, removed))?;
    Ok((
        room((id, kind, by, at, epoch, last_seq, retention))?,
        member,
    ))
}

pub(crate) fn message(row: MessageRow) -> Result<StoredMessage> {
    let (room, seq, id, sender_device, sender_user, kind, epoch, payload, created_at) = row;
    Ok(StoredMessage {
        room_id: room_id(&room)?,
        seq: unsigned(seq, "seq")?,
        id: message_id(&id)?,
        sender_device: device_id(&sender_device)?,
        sender_user: user_id(&sender_user)?,
        kind: message_kind(&kind)?,
        epoch: unsigned(epoch, "epoch")?,
        payload,
        created_at,
    })
}

pub(crate) fn welcome(row: WelcomeRow) -> Result<PendingWelcome> {
    let (room, device, commit_seq, payload, created_at) = row;
    Ok(PendingWelcome {
        room_id: room_id(&room)?,
        device_id: device_id(&device)?,
        commit_seq: unsigned(commit_seq, "seq")?,
        payload,
        created_at,
    })
}

pub(crate) fn blob(row: BlobRow) -> Result<Blob> {
    let (id, room, uploader, size, received, complete, created_at, expires_at) = row;
    Ok(Blob {
        id: blob_id(&id)?,
        room_id: room_id(&room)?,
        uploader_device: device_id(&uploader)?,
        size: unsigned(size, "size")?,
        received: unsigned(received, "size")?,
        complete,
        created_at,
        expires_at,
    })
}

pub(crate) fn user(row: UserRow) -> Result<User> {
    let (id, username, password_hash, is_admin, created_at, deactivated_at) = row;
    Ok(User {
        id: user_id(&id)?,
        username,
        password_hash,
        is_admin,
        created_at,
        deactivated_at,
    })
}

pub(crate) fn device(row: DeviceRow) -> Result<Device> {
    let (id, user, name, signature_key, created_at, last_seen_at, revoked_at) = row;
    Ok(Device {
        id: device_id(&id)?,
        user_id: user_id(&user)?,
        name,
        signature_key,
        created_at,
        last_seen_at,
        revoked_at,
    })
}

pub(crate) fn session(row: SessionRow) -> Result<Session> {
    let (token_hash, user, device, created_at, expires_at) = row;
    Ok(Session {
        token_hash,
        user_id: user_id(&user)?,
        device_id: device_id(&device)?,
        created_at,
        expires_at,
    })
}

/// A `COUNT(*)` (never negative) as `u64`.
pub(crate) fn count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::Corrupt(format!("negative count {n}")))
}

/// Any database failure, as an internal error. Constraint violations that reach this point
/// were not expected by the caller, so they are internal errors too.
pub(crate) fn db(error: sqlx::Error) -> Error {
    Error::Database(error.to_string())
}

/// A failed write: unique violations become [`Error::Conflict`] naming the constraint (from a
/// fixed list, never the raw message), foreign-key violations [`Error::NotFound`] of `missing`,
/// everything else [`Error::Database`].
pub(crate) fn write(error: sqlx::Error, missing: &'static str) -> Error {
    if let sqlx::Error::Database(e) = &error {
        if e.is_unique_violation() {
            // PostgreSQL names the constraint; SQLite names the columns in the message
            // ("UNIQUE constraint failed: users.username").
            let what = e.constraint().unwrap_or_else(|| e.message());
            if let Some(label) = conflict_label(what) {
                return Error::Conflict(label);
            }
        } else if e.is_foreign_key_violation() {
            return Error::NotFound(missing);
        }
    }
    db(error)
}

/// The [`Error::Conflict`] label of a unique constraint, from its PostgreSQL name or the
/// column list SQLite reports.
fn conflict_label(constraint: &str) -> Option<&'static str> {
    const LABELS: &[(&str, &str)] = &[
        // PostgreSQL constraint and index names (see migrations/postgres).
        ("users_username_key", "username"),
        ("users_pkey", "user_id"),
        ("devices_active_signature_key", "signature_key"),
        ("devices_pkey", "device_id"),
        ("sessions_pkey", "session"),
        ("rooms_pkey", "room_id"),
        ("messages_room_id_id_key", "message_id"),
        ("blobs_pkey", "blob_id"),
        ("policies_pkey", "policy"),
        ("audit_log_pkey", "audit"),
        ("link_rendezvous_pkey", "link_id"),
        ("invitations_pkey", "invitation"),
        ("invitations_token_hash_key", "invitation"),
        // SQLite column lists (see migrations/sqlite).
        ("users.username", "username"),
        ("users.id", "user_id"),
        ("devices.user_id, devices.signature_key", "signature_key"),
        ("devices.id", "device_id"),
        ("sessions.token_hash", "session"),
        ("rooms.id", "room_id"),
        ("messages.room_id, messages.id", "message_id"),
        ("blobs.id", "blob_id"),
        ("policies.revision", "policy"),
        ("audit_log.seq", "audit"),
        ("link_rendezvous.id", "link_id"),
        ("invitations.id", "invitation"),
        ("invitations.token_hash", "invitation"),
    ];
    LABELS
        .iter()
        .find(|(needle, _)| constraint.contains(needle))
        .map(|&(_, label)| label)
}

#[cfg(test)]
mod tests {
    use super::conflict_label;

    #[test]
    fn conflict_labels() {
        assert_eq!(conflict_label("users_username_key"), Some("username"));
        assert_eq!(
            conflict_label("UNIQUE constraint failed: users.username"),
            Some("username")
        );
        assert_eq!(
            conflict_label("UNIQUE constraint failed: devices.user_id, devices.signature_key"),
            Some("signature_key")
        );
        assert_eq!(
            conflict_label("UNIQUE constraint failed: rooms.id"),
            Some("room_id")
        );
        assert_eq!(conflict_label("blobs_pkey"), Some("blob_id"));
        assert_eq!(conflict_label("something_else"), None);
    }
}
