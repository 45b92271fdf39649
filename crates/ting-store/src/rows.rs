//! What both backends share: decoding rows (as tuples, in the column order of the `SELECT`s)
//! into the model types, and mapping database errors onto [`Error`].

use ting_proto::{DeviceId, UserId};

use crate::{Device, Error, Result, Session, User};

/// `id, username, password_hash, is_admin, created_at`.
pub(crate) type UserRow = (String, String, String, bool, i64);

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

pub(crate) fn user_id(text: &str) -> Result<UserId> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("user id: {e}")))
}

pub(crate) fn device_id(text: &str) -> Result<DeviceId> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("device id: {e}")))
}

pub(crate) fn user(row: UserRow) -> Result<User> {
    let (id, username, password_hash, is_admin, created_at) = row;
    Ok(User {
        id: user_id(&id)?,
        username,
        password_hash,
        is_admin,
        created_at,
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
        // SQLite column lists (see migrations/sqlite).
        ("users.username", "username"),
        ("users.id", "user_id"),
        ("devices.user_id, devices.signature_key", "signature_key"),
        ("devices.id", "device_id"),
        ("sessions.token_hash", "session"),
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
        assert_eq!(conflict_label("something_else"), None);
    }
}
