//! State behind identities the server cannot forge: the append-only key log
//! ([`KeyLogStore`]), witness cosignatures of its checkpoints, device-link rendezvous
//! ([`LinkStore`]) and the server's own secrets ([`SecretStore`]).
//!
//! The store keeps key log records as opaque bytes (the server parses and checks them before
//! appending); what it guarantees is the order: indexes start at 0 and are dense, concurrent
//! appends never collide or leave a gap, and nothing is ever changed or removed (the schema's
//! triggers refuse it). The Merkle tree over the records is rebuilt from them by the caller.

use async_trait::async_trait;
use ting_proto::{DeviceId, UserId};

use crate::rows::{device_id, unsigned, user_id};
use crate::{Error, Result};

/// What a key log record declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyLogKind {
    /// A master key (genesis or reset).
    Identity,
    /// A device certificate.
    Device,
    /// A device revocation.
    Revocation,
}

impl KeyLogKind {
    /// `identity`, `device` or `revocation`, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Device => "device",
            Self::Revocation => "revocation",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "identity" => Ok(Self::Identity),
            "device" => Ok(Self::Device),
            "revocation" => Ok(Self::Revocation),
            other => Err(Error::Corrupt(format!("key log kind {other:?}"))),
        }
    }
}

/// One record of the key log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLogRecord {
    /// Position, from 0, dense.
    pub index: u64,
    /// The account it is about.
    pub user_id: UserId,
    /// What it declares.
    pub kind: KeyLogKind,
    /// The device of a certificate or revocation.
    pub device_id: Option<DeviceId>,
    /// The signed record.
    pub record: Vec<u8>,
    /// When it was appended (Unix seconds).
    pub created_at: i64,
}

/// The append-only key log and its witnesses' cosignatures. There is no way to change or
/// remove a record.
#[async_trait]
pub trait KeyLogStore: Send + Sync {
    /// Appends a record at the next index and returns that index. Concurrent appends (from any
    /// node) get distinct, dense indexes. [`Error::NotFound`]`("user")` if the account or the
    /// device does not exist.
    async fn append_key_log(
        &self,
        user: UserId,
        kind: KeyLogKind,
        device: Option<DeviceId>,
        record: &[u8],
        now: i64,
    ) -> Result<u64>;
    /// The records with `start <= index < end`, in index order.
    async fn key_log_range(&self, start: u64, end: u64) -> Result<Vec<KeyLogRecord>>;
    /// Every record about `user`, in index order.
    async fn key_log_for_user(&self, user: UserId) -> Result<Vec<KeyLogRecord>>;
    /// Number of records (the next index).
    async fn key_log_size(&self) -> Result<u64>;
    /// Keeps `note` as `witness`'s cosignature of the checkpoint at `size`, replacing the
    /// witness's previous one unless that one is for a larger size. Returns whether it was
    /// stored.
    async fn put_key_log_cosignature(
        &self,
        witness: &str,
        size: u64,
        note: &str,
        now: i64,
    ) -> Result<bool>;
    /// The stored cosigned notes for the checkpoint at `size`, ordered by witness.
    async fn key_log_cosignatures(&self, size: u64) -> Result<Vec<String>>;
}

/// A device-link rendezvous to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLink {
    /// Random id.
    pub id: String,
    /// The account of both devices.
    pub user_id: UserId,
    /// The new device, which created it.
    pub device_id: DeviceId,
    /// The new device's request.
    pub request: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A stored rendezvous (without its response, which only [`LinkStore::take_link_response`]
/// hands out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Id.
    pub id: String,
    /// The account of both devices.
    pub user_id: UserId,
    /// The new device.
    pub device_id: DeviceId,
    /// The new device's request.
    pub request: Vec<u8>,
    /// Whether an existing device has answered.
    pub responded: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Device-link rendezvous: a request, at most one response, taken once.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// Stores a new rendezvous. [`Error::Conflict`]`("link_id")` if the id exists,
    /// [`Error::NotFound`]`("device")` if the account or the device does not.
    async fn create_link(&self, link: NewLink) -> Result<()>;
    /// The rendezvous with this id, expired ones too (the caller checks).
    async fn link(&self, id: &str) -> Result<Option<Link>>;
    /// Stores the response if the rendezvous exists, has none yet and has not expired at
    /// `now`; atomically, so of two concurrent responses exactly one is stored. Returns whether
    /// it was stored.
    async fn set_link_response(&self, id: &str, response: &[u8], now: i64) -> Result<bool>;
    /// Returns the response and deletes the rendezvous, if it has a response and has not
    /// expired at `now`; a response is handed out once.
    async fn take_link_response(&self, id: &str, now: i64) -> Result<Option<Vec<u8>>>;
    /// Deletes rendezvous that expired at or before `now`; returns how many.
    async fn purge_expired_links(&self, now: i64) -> Result<u64>;
}

/// Recovery backups: a user's master identity key encrypted under a recovery key only the
/// user has. One per user; a new one replaces the old.
#[async_trait]
pub trait RecoveryStore: Send + Sync {
    /// Stores (or replaces) `user`'s backup. [`Error::NotFound`]`("user")` if there is no such
    /// account.
    async fn put_recovery_backup(&self, user: UserId, data: &[u8], now: i64) -> Result<()>;
    /// `user`'s backup, if any.
    async fn recovery_backup(&self, user: UserId) -> Result<Option<Vec<u8>>>;
}

/// Secrets of the server itself (not of users), shared by every node.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The secret called `name`; if there is none yet, stores `candidate` first. Every caller
    /// (on any node) gets the same value, whichever candidate won.
    async fn server_secret(&self, name: &str, candidate: &[u8], now: i64) -> Result<Vec<u8>>;
}

/// `idx, user_id, kind, device_id, record, created_at`.
pub(crate) type KeyLogRow = (i64, String, String, Option<String>, Vec<u8>, i64);

pub(crate) fn key_log_record(row: KeyLogRow) -> Result<KeyLogRecord> {
    let (idx, user, kind, device, record, created_at) = row;
    Ok(KeyLogRecord {
        index: unsigned(idx, "key log index")?,
        user_id: user_id(&user)?,
        kind: KeyLogKind::parse(&kind)?,
        device_id: device.as_deref().map(device_id).transpose()?,
        record,
        created_at,
    })
}

/// `id, user_id, device_id, request, responded, created_at, expires_at`.
pub(crate) type LinkRow = (String, String, String, Vec<u8>, bool, i64, i64);

pub(crate) fn link(row: LinkRow) -> Result<Link> {
    let (id, user, device, request, responded, created_at, expires_at) = row;
    Ok(Link {
        id,
        user_id: user_id(&user)?,
        device_id: device_id(&device)?,
        request,
        responded,
        created_at,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::KeyLogKind;

    #[test]
    fn kinds_round_trip() {
        for kind in [
            KeyLogKind::Identity,
            KeyLogKind::Device,
            KeyLogKind::Revocation,
        ] {
            assert_eq!(KeyLogKind::parse(kind.as_str()).unwrap(), kind);
        }
        assert!(KeyLogKind::parse("other").is_err());
    }
}
