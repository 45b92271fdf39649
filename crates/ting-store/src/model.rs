//! Rows as the store hands them out.

use ting_proto::{DeviceId, UserId};

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Fresh id.
    pub id: UserId,
    /// Normalised username (unique).
    pub username: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Administrator flag.
    pub is_admin: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// A stored user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Administrator flag.
    pub is_admin: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of deactivation by an administrator; `None` while active.
    pub deactivated_at: Option<i64>,
}

/// A device to register.
#[derive(Clone, Debug)]
pub struct NewDevice {
    /// Fresh id.
    pub id: DeviceId,
    /// Owner.
    pub user_id: UserId,
    /// Human-readable name.
    pub name: String,
    /// Ed25519 public key (32 bytes).
    pub signature_key: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A stored device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Id.
    pub id: DeviceId,
    /// Owner.
    pub user_id: UserId,
    /// Human-readable name.
    pub name: String,
    /// Ed25519 public key.
    pub signature_key: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last authenticated request, if any.
    pub last_seen_at: Option<i64>,
    /// Unix seconds of revocation, if revoked.
    pub revoked_at: Option<i64>,
}

/// A login session; the token itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the bearer token.
    pub token_hash: Vec<u8>,
    /// Owner.
    pub user_id: UserId,
    /// The device logged in.
    pub device_id: DeviceId,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// One device's result of a KeyPackage claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPackageClaim {
    /// The device.
    pub device_id: DeviceId,
    /// The claimed package, if the device had one.
    pub key_package: Option<Vec<u8>>,
    /// Whether it is the (reusable) last-resort package.
    pub last_resort: bool,
}
