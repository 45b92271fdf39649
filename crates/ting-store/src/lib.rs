//! Ting's durable state.
//!
//! [`Store`] is the one interface the server uses; it is split into small traits by concern
//! ([`UserStore`], [`DeviceStore`], [`SessionStore`], [`KeyPackageStore`], and for the Delivery
//! Service [`RoomStore`], [`MessageStore`], [`BlobStore`]; for governance [`PolicyStore`],
//! [`AuditStore`] and [`SubjectStore`], see [`governance`]; for identities the server cannot
//! forge [`KeyLogStore`], [`LinkStore`] and [`SecretStore`], see [`trust`]). Every stored
//! column is declared in
//! [`inventory`], with purpose, retention and whether the host can read it. Two implementations
//! exist: embedded SQLite (the single-machine default) and PostgreSQL (for several nodes). Both
//! run the same migrations' schema and pass the same conformance suite ([`conformance`]).
//!
//! Every stored value is either routing metadata or an opaque blob the server cannot read; see
//! `docs/security.md`. Times are Unix seconds, passed in by the caller so tests control the
//! clock.
//!
//! [`open`] picks the backend from the URL (`sqlite://path`, `sqlite::memory:`,
//! `postgres://…`) and applies the embedded migrations (`migrations/<backend>/NNNN_*.sql`, one
//! comment per column stating its purpose and retention). Both backends use plain SQL through
//! sqlx (no compile-time checked queries) and keep their atomicity guarantees with the
//! database's own locks, documented per backend: SQLite serialises writers with
//! `BEGIN IMMEDIATE`, PostgreSQL locks rows (`FOR KEY SHARE`, `FOR UPDATE SKIP LOCKED`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ting_store::Error> {
//! let store = ting_store::open("sqlite://ting-data/ting.db").await?;
//! assert_eq!(store.count_users().await?, 0);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod accounts;
pub mod conformance;
mod delivery;
mod ds;
pub mod governance;
pub mod inventory;
mod migrations;
mod model;
mod open;
mod postgres;
mod rows;
pub mod snapshot;
mod sqlite;
pub mod trust;

pub use crate::accounts::{
    AccountStore, AuditQuery, Invitation, InvitationKind, UserQuery, UserSummary,
};
pub use crate::ds::{
    AppendOutcome, Blob, BlobStore, CommitEffects, MessageKind, MessageStore, NewMessage, NewRoom,
    PendingWelcome, Room, RoomDevice, RoomKind, RoomStore, StoredMessage,
};
pub use crate::governance::{
    AuditAnchor, AuditRecord, AuditStore, ChainBreak, ChainReport, ChainVerifier, NewAuditRecord,
    PolicyStore, SentMessage, StoredPolicy, SubjectStore, verify_audit,
};
pub use crate::model::{Device, KeyPackageClaim, NewDevice, NewUser, Session, User};
pub use crate::open::{Backend, open, postgres_is_empty};
pub use crate::trust::{
    KeyLogKind, KeyLogRecord, KeyLogStore, Link, LinkStore, NewLink, RecoveryStore, SecretStore,
};

use async_trait::async_trait;
use ting_proto::{DeviceId, UserId};

/// A store error. Callers map [`Error::Conflict`] and [`Error::NotFound`] to client errors;
/// everything else is an internal failure whose detail is logged, never sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A uniqueness constraint was violated (e.g. the username exists).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The referenced row does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The database URL is not one this build understands.
    #[error("unsupported database url: {0}")]
    UnsupportedUrl(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value could not be decoded (corruption or a bug).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// User accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user. [`Error::Conflict`] if the username is taken.
    async fn create_user(&self, user: NewUser) -> Result<User>;
    /// Creates `user` only if no user exists yet, atomically; `None` if one already does.
    async fn create_first_user(&self, user: NewUser) -> Result<Option<User>>;
    /// Looks a user up by id.
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;
    /// Looks a user up by username (exact, already normalised by the caller).
    async fn user_by_username(&self, username: &str) -> Result<Option<User>>;
    /// All users, ordered by username.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Number of users.
    async fn count_users(&self) -> Result<u64>;
    /// Replaces a user's password hash. [`Error::NotFound`] if the user does not exist.
    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<()>;
}

/// Devices and their signature keys.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Registers a device. [`Error::NotFound`] if the user does not exist.
    async fn create_device(&self, device: NewDevice) -> Result<Device>;
    /// Looks a device up by id (revoked ones too).
    async fn device_by_id(&self, id: DeviceId) -> Result<Option<Device>>;
    /// The user's non-revoked device with this signature key, if any.
    async fn active_device_by_key(
        &self,
        user: UserId,
        signature_key: &[u8],
    ) -> Result<Option<Device>>;
    /// The user's devices, oldest first; revoked ones only if `include_revoked`.
    async fn devices_for_user(&self, user: UserId, include_revoked: bool) -> Result<Vec<Device>>;
    /// Revokes a device at `now`, atomically deleting its sessions and its unclaimed
    /// KeyPackages. Returns false if it was already revoked; [`Error::NotFound`] if unknown.
    async fn revoke_device(&self, id: DeviceId, now: i64) -> Result<bool>;
    /// Records that the device was seen at `now`.
    async fn touch_device(&self, id: DeviceId, now: i64) -> Result<()>;
}

/// Login sessions. Tokens are stored only as hashes.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    async fn create_session(&self, session: Session) -> Result<()>;
    /// The session with this token hash, if it exists (expired ones too: the caller checks).
    async fn session_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Session>>;
    /// Deletes one session; false if it did not exist.
    async fn delete_session(&self, token_hash: &[u8]) -> Result<bool>;
    /// Deletes all sessions of a user; returns how many.
    async fn delete_sessions_for_user(&self, user: UserId) -> Result<u64>;
    /// Deletes sessions that expired at or before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64>;
}

/// MLS KeyPackages, opaque to the store.
#[async_trait]
pub trait KeyPackageStore: Send + Sync {
    /// Stores one-time packages and, if given, replaces the device's last-resort package, in
    /// one transaction. Returns the number of one-time packages now available.
    /// [`Error::NotFound`] if the device is unknown or revoked.
    async fn add_key_packages(
        &self,
        device: DeviceId,
        one_time: Vec<Vec<u8>>,
        last_resort: Option<Vec<u8>>,
        now: i64,
    ) -> Result<u64>;
    /// (one-time packages available, has a last-resort package) for a device.
    async fn count_key_packages(&self, device: DeviceId) -> Result<(u64, bool)>;
    /// For every non-revoked device of `user`, atomically takes (deletes) its oldest one-time
    /// package, or — when none is left — returns its last-resort package without deleting it.
    /// A one-time package is never returned twice, even under concurrent claims. Devices with
    /// neither get `key_package: None`. With `only`, just that device of the user is claimed
    /// (adding one new device to a group should not use up the others' packages).
    async fn claim_key_packages(
        &self,
        user: UserId,
        only: Option<DeviceId>,
    ) -> Result<Vec<KeyPackageClaim>>;
}

/// The whole store the server uses.
#[async_trait]
pub trait Store:
    UserStore
    + DeviceStore
    + SessionStore
    + KeyPackageStore
    + RoomStore
    + MessageStore
    + BlobStore
    + PolicyStore
    + AuditStore
    + SubjectStore
    + KeyLogStore
    + LinkStore
    + RecoveryStore
    + SecretStore
    + AccountStore
{
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Every `(table, column)` of the live schema, sorted (for the data inventory check).
    async fn schema_columns(&self) -> Result<Vec<(String, String)>>;
    /// Cheap liveness check (e.g. `SELECT 1`).
    async fn ping(&self) -> Result<()>;
    /// Writes a transaction-consistent copy of the database into the directory `dir` while
    /// the store stays in use (see [`snapshot`]).
    async fn snapshot(&self, dir: &std::path::Path) -> Result<snapshot::Snapshot>;
    /// Waits for in-flight writes and closes the connections.
    async fn close(&self);
}
