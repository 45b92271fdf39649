//! The store conformance suite: every backend must pass every [`Case`].
//!
//! Each case takes a fresh, empty store and panics (like a test assertion) when the store
//! misbehaves; store errors that a case does not expect are returned. The concurrency cases
//! spawn tasks, so run them on a multi-threaded Tokio runtime to get real parallelism.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ting_store::Error> {
//! use ting_store::conformance;
//! conformance::run_all(|| ting_store::open("sqlite::memory:")).await?;
//! # Ok(()) }
//! ```

mod accounts;
mod blobs;
mod commits;
mod devices;
mod governance;
mod key_packages;
mod messages;
mod rooms;
mod sessions;
mod trust;
mod users;

use std::future::Future;
use std::sync::Arc;

use ting_proto::{DeviceId, MessageId, RoomId, UserId};

use crate::{
    AppendOutcome, CommitEffects, MessageKind, NewDevice, NewMessage, NewRoom, NewUser, Result,
    RoomKind, Session, Store,
};

/// One conformance test case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Case {
    /// Users are stored and found by id and username, listed in byte order, counted.
    UsersRoundTrip,
    /// A taken username is `Conflict("username")` and stores nothing.
    UsernameConflict,
    /// Password hashes are replaced; unknown users are `NotFound`.
    SetPasswordHash,
    /// `create_first_user` creates only into an empty table.
    FirstUser,
    /// Concurrent `create_first_user` calls: exactly one wins.
    FirstUserConcurrent,
    /// Devices are stored, found, listed oldest first and touched; unknown users are `NotFound`.
    DevicesRoundTrip,
    /// At most one active device per (user, signature key); revoked keys can be re-registered.
    ActiveKeyUnique,
    /// Revocation deletes the device's sessions and KeyPackages, once.
    RevokeDevice,
    /// Concurrent revocations: exactly one returns true.
    RevokeConcurrent,
    /// Uploads and logins racing a revocation leave nothing behind.
    RevokeRacesWrites,
    /// Sessions are stored, found and deleted; they need an active device of their user.
    Sessions,
    /// Expired and per-user session deletion return counts.
    SessionDeletionCounts,
    /// KeyPackages are added and counted.
    KeyPackagesAddAndCount,
    /// Uploads for unknown or revoked devices are `NotFound` and store nothing.
    KeyPackagesNeedActiveDevice,
    /// A new last-resort package replaces the old one.
    LastResortReplaced,
    /// Claims take the oldest one-time package, then the last-resort one, per active device.
    ClaimOrder,
    /// Concurrent claims never return a one-time package twice.
    ClaimConcurrent,
    /// Rooms are created with their creator as only member, found and given a retention; bad
    /// creators are `NotFound`.
    RoomsRoundTrip,
    /// Removed memberships leave `rooms_for_device`; a re-added device is active again and sees
    /// only later messages.
    RoomMembershipChanges,
    /// Appends get seqs 1, 2, 3…; reads page forward and backward within the reader's window.
    AppendGapFree,
    /// Stale epochs, duplicates (answered with the original seq) and non-members store nothing.
    AppendRejections,
    /// Commits advance the epoch, add and remove devices (with visibility windows) and store
    /// Welcomes.
    CommitEffects,
    /// Commits with invalid effects are `InvalidEffects` and store nothing.
    InvalidEffects,
    /// Concurrent commits for one epoch: exactly one is appended, the others are stale.
    CommitConcurrent,
    /// Concurrent appends get distinct, gap-free seqs.
    AppendConcurrent,
    /// Cursors only move forward and are capped at the room's last seq.
    Cursors,
    /// Expired messages are deleted, others kept; seqs are never reused.
    MessageRetention,
    /// Blobs are created, found and completed; `received` only grows.
    BlobsRoundTrip,
    /// Expired blobs and stale incomplete uploads are deleted and their ids returned.
    BlobExpiry,
    /// Policy revisions are numbered from 1, the newest is current, history is kept.
    Policies,
    /// Audit records chain from the genesis, page in order and verify.
    AuditChain,
    /// Pruning deletes a prefix and leaves an anchor the rest verifies from.
    AuditPrune,
    /// Concurrent audit appends form one linear chain.
    AuditConcurrent,
    /// Sessions, memberships, sent messages and blobs of one user are found.
    SubjectExport,
    /// Key log records get indexes 0, 1, 2…, are read by range and by user; refused appends
    /// leave no gap.
    KeyLogRoundTrip,
    /// Concurrent key log appends get distinct, dense indexes.
    KeyLogConcurrent,
    /// A witness's newest cosignature replaces its older ones, never the reverse.
    KeyLogCosignatures,
    /// Link rendezvous: created once, answered once, the answer taken once.
    LinkRoundTrip,
    /// Expired rendezvous take no response, hand none out and are purged.
    LinkExpiry,
    /// Concurrent responses to one rendezvous: exactly one is stored.
    LinkResponseConcurrent,
    /// A server secret is stored once; every caller gets the same value.
    ServerSecret,
    /// A recovery backup is stored per user, replaced by the next, refused for no account.
    RecoveryBackup,
    /// Accounts are paged by login name and searched literally, with device counts and last
    /// seen.
    UserPages,
    /// Deactivation and the administrator flag never leave the server without an active
    /// administrator; unknown users are `NotFound`.
    DeactivationAndAdmins,
    /// Invitation links are stored by token hash, listed while pending, used once, withdrawn
    /// and purged after expiry.
    Invitations,
    /// The audit log is searched by event, actor and time, newest first, and paged backwards.
    AuditSearch,
    /// Every column of the migrated schema is in the data inventory, and vice versa (R15).
    InventoryMatchesSchema,
    /// `ping` works and `backend` answers.
    Ping,
}

impl Case {
    /// Every case, in a stable order.
    pub const ALL: &'static [Case] = &[
        Case::UsersRoundTrip,
        Case::UsernameConflict,
        Case::SetPasswordHash,
        Case::FirstUser,
        Case::FirstUserConcurrent,
        Case::DevicesRoundTrip,
        Case::ActiveKeyUnique,
        Case::RevokeDevice,
        Case::RevokeConcurrent,
        Case::RevokeRacesWrites,
        Case::Sessions,
        Case::SessionDeletionCounts,
        Case::KeyPackagesAddAndCount,
        Case::KeyPackagesNeedActiveDevice,
        Case::LastResortReplaced,
        Case::ClaimOrder,
        Case::ClaimConcurrent,
        Case::RoomsRoundTrip,
        Case::RoomMembershipChanges,
        Case::AppendGapFree,
        Case::AppendRejections,
        Case::CommitEffects,
        Case::InvalidEffects,
        Case::CommitConcurrent,
        Case::AppendConcurrent,
        Case::Cursors,
        Case::MessageRetention,
        Case::BlobsRoundTrip,
        Case::BlobExpiry,
        Case::Policies,
        Case::AuditChain,
        Case::AuditPrune,
        Case::AuditConcurrent,
        Case::SubjectExport,
        Case::KeyLogRoundTrip,
        Case::KeyLogConcurrent,
        Case::KeyLogCosignatures,
        Case::LinkRoundTrip,
        Case::LinkExpiry,
        Case::LinkResponseConcurrent,
        Case::ServerSecret,
        Case::RecoveryBackup,
        Case::UserPages,
        Case::DeactivationAndAdmins,
        Case::Invitations,
        Case::AuditSearch,
        Case::InventoryMatchesSchema,
        Case::Ping,
    ];

    /// The case's snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Case::UsersRoundTrip => "users_round_trip",
            Case::UsernameConflict => "username_conflict",
            Case::SetPasswordHash => "set_password_hash",
            Case::FirstUser => "first_user",
            Case::FirstUserConcurrent => "first_user_concurrent",
            Case::DevicesRoundTrip => "devices_round_trip",
            Case::ActiveKeyUnique => "active_key_unique",
            Case::RevokeDevice => "revoke_device",
            Case::RevokeConcurrent => "revoke_concurrent",
            Case::RevokeRacesWrites => "revoke_races_writes",
            Case::Sessions => "sessions",
            Case::SessionDeletionCounts => "session_deletion_counts",
            Case::KeyPackagesAddAndCount => "key_packages_add_and_count",
            Case::KeyPackagesNeedActiveDevice => "key_packages_need_active_device",
            Case::LastResortReplaced => "last_resort_replaced",
            Case::ClaimOrder => "claim_order",
            Case::ClaimConcurrent => "claim_concurrent",
            Case::RoomsRoundTrip => "rooms_round_trip",
            Case::RoomMembershipChanges => "room_membership_changes",
            Case::AppendGapFree => "append_gap_free",
            Case::AppendRejections => "append_rejections",
            Case::CommitEffects => "commit_effects",
            Case::InvalidEffects => "invalid_effects",
            Case::CommitConcurrent => "commit_concurrent",
            Case::AppendConcurrent => "append_concurrent",
            Case::Cursors => "cursors",
            Case::MessageRetention => "message_retention",
            Case::BlobsRoundTrip => "blobs_round_trip",
            Case::BlobExpiry => "blob_expiry",
            Case::Policies => "policies",
            Case::AuditChain => "audit_chain",
            Case::AuditPrune => "audit_prune",
            Case::AuditConcurrent => "audit_concurrent",
            Case::SubjectExport => "subject_export",
            Case::KeyLogRoundTrip => "key_log_round_trip",
            Case::KeyLogConcurrent => "key_log_concurrent",
            Case::KeyLogCosignatures => "key_log_cosignatures",
            Case::LinkRoundTrip => "link_round_trip",
            Case::LinkExpiry => "link_expiry",
            Case::LinkResponseConcurrent => "link_response_concurrent",
            Case::ServerSecret => "server_secret",
            Case::RecoveryBackup => "recovery_backup",
            Case::UserPages => "user_pages",
            Case::DeactivationAndAdmins => "deactivation_and_admins",
            Case::Invitations => "invitations",
            Case::AuditSearch => "audit_search",
            Case::InventoryMatchesSchema => "inventory_matches_schema",
            Case::Ping => "ping",
        }
    }

    /// Runs the case against `store`, which must be fresh (empty).
    pub async fn run(self, store: Arc<dyn Store>) -> Result<()> {
        match self {
            Case::UsersRoundTrip => users::round_trip(&*store).await,
            Case::UsernameConflict => users::username_conflict(&*store).await,
            Case::SetPasswordHash => users::set_password_hash(&*store).await,
            Case::FirstUser => users::first_user(&*store).await,
            Case::FirstUserConcurrent => users::first_user_concurrent(store).await,
            Case::DevicesRoundTrip => devices::round_trip(&*store).await,
            Case::ActiveKeyUnique => devices::active_key_unique(&*store).await,
            Case::RevokeDevice => devices::revoke(&*store).await,
            Case::RevokeConcurrent => devices::revoke_concurrent(store).await,
            Case::RevokeRacesWrites => devices::revoke_races_writes(store).await,
            Case::Sessions => sessions::round_trip(&*store).await,
            Case::SessionDeletionCounts => sessions::deletion_counts(&*store).await,
            Case::KeyPackagesAddAndCount => key_packages::add_and_count(&*store).await,
            Case::KeyPackagesNeedActiveDevice => key_packages::need_active_device(&*store).await,
            Case::LastResortReplaced => key_packages::last_resort_replaced(&*store).await,
            Case::ClaimOrder => key_packages::claim_order(&*store).await,
            Case::ClaimConcurrent => key_packages::claim_concurrent(store).await,
            Case::RoomsRoundTrip => rooms::round_trip(&*store).await,
            Case::RoomMembershipChanges => rooms::membership_changes(&*store).await,
            Case::AppendGapFree => messages::gap_free(&*store).await,
            Case::AppendRejections => messages::rejections(&*store).await,
            Case::CommitEffects => commits::effects_applied(&*store).await,
            Case::InvalidEffects => commits::invalid(&*store).await,
            Case::CommitConcurrent => commits::concurrent(store).await,
            Case::AppendConcurrent => messages::concurrent(store).await,
            Case::Cursors => messages::cursors(&*store).await,
            Case::MessageRetention => messages::retention(&*store).await,
            Case::BlobsRoundTrip => blobs::round_trip(&*store).await,
            Case::BlobExpiry => blobs::expiry(&*store).await,
            Case::Policies => governance::policies(&*store).await,
            Case::AuditChain => governance::audit_chain(&*store).await,
            Case::AuditPrune => governance::audit_prune(&*store).await,
            Case::AuditConcurrent => governance::audit_concurrent(store).await,
            Case::SubjectExport => governance::subject_export(&*store).await,
            Case::KeyLogRoundTrip => trust::key_log_round_trip(&*store).await,
            Case::KeyLogConcurrent => trust::key_log_concurrent(store).await,
            Case::KeyLogCosignatures => trust::cosignatures(&*store).await,
            Case::LinkRoundTrip => trust::link_round_trip(&*store).await,
            Case::LinkExpiry => trust::link_expiry(&*store).await,
            Case::LinkResponseConcurrent => trust::link_response_concurrent(store).await,
            Case::ServerSecret => trust::server_secret(store).await,
            Case::RecoveryBackup => trust::recovery_backup(&*store).await,
            Case::UserPages => accounts::user_pages(&*store).await,
            Case::DeactivationAndAdmins => accounts::deactivation_and_admins(&*store).await,
            Case::Invitations => accounts::invitations(&*store).await,
            Case::AuditSearch => accounts::audit_search(&*store).await,
            Case::InventoryMatchesSchema => governance::inventory_matches_schema(&*store).await,
            Case::Ping => ping(&*store).await,
        }
    }
}

/// Runs every [`Case`], each on a fresh store from `fresh`, closing it afterwards.
pub async fn run_all<F, Fut>(mut fresh: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Arc<dyn Store>>>,
{
    for case in Case::ALL {
        let store = fresh().await?;
        case.run(Arc::clone(&store)).await?;
        store.close().await;
    }
    Ok(())
}

async fn ping(store: &dyn Store) -> Result<()> {
    store.ping().await?;
    assert!(matches!(store.backend().as_str(), "sqlite" | "postgres"));
    Ok(())
}

/// A base time for the cases (Unix seconds).
const T0: i64 = 1_700_000_000;

fn new_user(username: &str) -> NewUser {
    NewUser {
        id: UserId::random(),
        username: username.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${username}"),
        is_admin: false,
        created_at: T0,
    }
}

fn new_device(user: UserId, key: u8, created_at: i64) -> NewDevice {
    NewDevice {
        id: DeviceId::random(),
        user_id: user,
        name: format!("device {key}"),
        signature_key: vec![key; 32],
        created_at,
    }
}

fn session(user: UserId, device: DeviceId, token: u8, expires_at: i64) -> Session {
    Session {
        token_hash: vec![token; 32],
        user_id: user,
        device_id: device,
        created_at: T0,
        expires_at,
    }
}

/// A user with one active device.
async fn user_with_device(store: &dyn Store, username: &str) -> Result<(UserId, DeviceId)> {
    let user = store.create_user(new_user(username)).await?;
    let device = store.create_device(new_device(user.id, 1, T0)).await?;
    Ok((user.id, device.id))
}

/// A room created at `T0` by the member's device.
async fn new_room(
    store: &dyn Store,
    (user, device): (UserId, DeviceId),
    retention_secs: Option<i64>,
) -> Result<RoomId> {
    let room = store
        .create_room(NewRoom {
            id: RoomId::random(),
            kind: RoomKind::Room,
            created_by: user,
            creator_device: device,
            created_at: T0,
            retention_secs,
        })
        .await?;
    Ok(room.id)
}

/// An application message from the member's device, sent at `T0`, with payload `[tag]`.
fn app(room: RoomId, (user, device): (UserId, DeviceId), epoch: u64, tag: u8) -> NewMessage {
    NewMessage {
        room_id: room,
        id: MessageId::random(),
        sender_device: device,
        sender_user: user,
        kind: MessageKind::Application,
        epoch,
        payload: vec![tag],
        created_at: T0,
    }
}

/// A commit from the member's device, sent at `T0`, with payload `[tag]`.
fn commit(room: RoomId, sender: (UserId, DeviceId), epoch: u64, tag: u8) -> NewMessage {
    NewMessage {
        kind: MessageKind::Commit,
        ..app(room, sender, epoch, tag)
    }
}

/// Effects adding `added` (with a Welcome `[tag]`) and removing `removed`.
fn effects(added: &[(UserId, DeviceId)], removed: &[DeviceId], tag: u8) -> CommitEffects {
    CommitEffects {
        added: added.iter().map(|&(user, device)| (device, user)).collect(),
        removed: removed.to_vec(),
        welcome: (!added.is_empty()).then(|| vec![tag]),
    }
}

/// The seq of an `Appended` outcome; panics (a failed assertion) otherwise.
fn appended(outcome: AppendOutcome) -> u64 {
    match outcome {
        AppendOutcome::Appended { seq, .. } => seq,
        other => panic!("expected Appended, got {other:?}"),
    }
}
