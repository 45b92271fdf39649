//! Delivery Service state: rooms (MLS groups) with their member devices as routing data, the
//! per-room ordered log of MLS messages, per-device cursors, Welcomes addressed to devices, and
//! metadata of encrypted file blobs. Everything here is ciphertext or routing metadata.

use async_trait::async_trait;
use ting_proto::{BlobId, DeviceId, MessageId, RoomId, UserId};

use crate::Result;

/// Room or direct conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomKind {
    /// A named (the name is encrypted) room with any number of members.
    Room,
    /// A direct conversation between two users.
    Direct,
}

impl RoomKind {
    /// `"room"` / `"direct"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Room => "room",
            RoomKind::Direct => "direct",
        }
    }
}

/// A room to create. The creating device becomes its first member at epoch 0.
#[derive(Clone, Debug)]
pub struct NewRoom {
    /// Fresh id (also the MLS group id).
    pub id: RoomId,
    /// Kind.
    pub kind: RoomKind,
    /// Creating user.
    pub created_by: UserId,
    /// Creating device (first member).
    pub creator_device: DeviceId,
    /// Unix seconds.
    pub created_at: i64,
    /// Seconds messages and blobs are kept; `None` = forever.
    pub retention_secs: Option<i64>,
}

/// A stored room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// Id.
    pub id: RoomId,
    /// Kind.
    pub kind: RoomKind,
    /// Creating user.
    pub created_by: UserId,
    /// Unix seconds.
    pub created_at: i64,
    /// Current MLS epoch as ordered by the DS (number of accepted commits).
    pub epoch: u64,
    /// Highest sequence number in the room's log (0 = empty).
    pub last_seq: u64,
    /// Retention in seconds; `None` = forever.
    pub retention_secs: Option<i64>,
}

/// A device's membership of a room. The device may read messages with
/// `added_seq < seq <= removed_seq.unwrap_or(∞)`: nothing from before it was added, and up to and
/// including the commit that removed it (so it learns of its removal), nothing after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomDevice {
    /// Room.
    pub room_id: RoomId,
    /// Device.
    pub device_id: DeviceId,
    /// Owner of the device.
    pub user_id: UserId,
    /// Sequence number of the commit that added it (0 for the creator).
    pub added_seq: u64,
    /// Sequence number of the commit that removed it, if removed.
    pub removed_seq: Option<u64>,
}

impl RoomDevice {
    /// Whether the device may read the message at `seq` (the window above; the SQL of
    /// `messages_after`/`messages_before` applies the same rule).
    pub fn can_read(&self, seq: u64) -> bool {
        self.added_seq < seq && self.removed_seq.is_none_or(|r| seq <= r)
    }
}

/// What a log entry carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// An MLS application message (chat content, encrypted).
    Application,
    /// An MLS commit (membership or key change), ordered by epoch.
    Commit,
}

impl MessageKind {
    /// `"application"` / `"commit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Application => "application",
            MessageKind::Commit => "commit",
        }
    }
}

/// A message to append.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Room.
    pub room_id: RoomId,
    /// Client-chosen id; unique per room (a resend is a duplicate).
    pub id: MessageId,
    /// Sending device (from the authenticated session, never from the client's word).
    pub sender_device: DeviceId,
    /// Its owner.
    pub sender_user: UserId,
    /// Kind.
    pub kind: MessageKind,
    /// The epoch the sender built it in: must equal the room's current epoch.
    pub epoch: u64,
    /// Opaque MLS bytes.
    pub payload: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Membership effects a commit declares, applied atomically with its acceptance.
#[derive(Clone, Debug, Default)]
pub struct CommitEffects {
    /// Devices added, with their owners (must be active devices of those users).
    pub added: Vec<(DeviceId, UserId)>,
    /// Devices removed.
    pub removed: Vec<DeviceId>,
    /// The Welcome for the added devices (stored once per added device).
    pub welcome: Option<Vec<u8>>,
}

/// A stored log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// Room.
    pub room_id: RoomId,
    /// Position in the room's log, from 1, gap-free.
    pub seq: u64,
    /// Client-chosen id.
    pub id: MessageId,
    /// Sending device.
    pub sender_device: DeviceId,
    /// Its owner.
    pub sender_user: UserId,
    /// Kind.
    pub kind: MessageKind,
    /// Epoch it was sent in.
    pub epoch: u64,
    /// Opaque MLS bytes.
    pub payload: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Result of [`MessageStore::append_message`]. Only `Appended` stored anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Stored at `seq`; for a commit the room is now at `epoch`.
    Appended {
        /// Assigned sequence number.
        seq: u64,
        /// The room's epoch after this message.
        epoch: u64,
    },
    /// The message's epoch is not the room's current one (another commit won).
    StaleEpoch {
        /// The room's current epoch.
        current_epoch: u64,
    },
    /// A message with this id already exists in the room (a resend or a replay).
    Duplicate {
        /// Where the original is.
        seq: u64,
    },
    /// The sender is not an active member of the room (or the room does not exist).
    NotMember,
    /// A commit names a device to add that is not an active device of the named user, or a
    /// device to remove that is not an active member.
    InvalidEffects,
}

/// A Welcome waiting for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWelcome {
    /// Room the Welcome is for.
    pub room_id: RoomId,
    /// The device it is addressed to.
    pub device_id: DeviceId,
    /// Sequence number of the commit that added the device.
    pub commit_seq: u64,
    /// Opaque MLS Welcome bytes.
    pub payload: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Metadata of an encrypted blob; the bytes live on disk, managed by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// Id.
    pub id: BlobId,
    /// The room it was shared in (only its members may read it).
    pub room_id: RoomId,
    /// Uploading device.
    pub uploader_device: DeviceId,
    /// Declared total size in bytes.
    pub size: u64,
    /// Bytes received so far (resumable uploads continue here).
    pub received: u64,
    /// Whether all `size` bytes arrived.
    pub complete: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it is deleted, from the room's retention.
    pub expires_at: Option<i64>,
}

/// Rooms and their member devices.
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Creates a room with the creator device as its only member (added_seq 0, epoch 0).
    /// [`crate::Error::NotFound`] if the device is unknown or revoked.
    async fn create_room(&self, room: NewRoom) -> Result<Room>;
    /// Looks a room up.
    async fn room(&self, id: RoomId) -> Result<Option<Room>>;
    /// The device's membership of the room (removed ones too), if any.
    async fn membership(&self, room: RoomId, device: DeviceId) -> Result<Option<RoomDevice>>;
    /// The room's member devices; removed ones only if `include_removed`.
    async fn room_devices(&self, room: RoomId, include_removed: bool) -> Result<Vec<RoomDevice>>;
    /// Rooms in which the device is an active member, with its membership.
    async fn rooms_for_device(&self, device: DeviceId) -> Result<Vec<(Room, RoomDevice)>>;
    /// Sets a room's retention (applies to messages and blobs stored from now on).
    async fn set_retention(&self, room: RoomId, retention_secs: Option<i64>) -> Result<()>;
}

/// The ordered per-room log, cursors and Welcomes.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// In one transaction, serialised per room: checks that the sender is an active member,
    /// that the id is new in the room, and that `epoch` is the room's current epoch; assigns
    /// the next `seq`; for a commit, advances the epoch, applies `effects` (added devices get
    /// `added_seq = seq`, re-adding a removed device reactivates it; removed devices get
    /// `removed_seq = seq`) and stores the Welcome for each added device. Messages get
    /// `expires_at = created_at + retention` from the room. `effects` must be `None` for
    /// application messages.
    async fn append_message(
        &self,
        msg: NewMessage,
        effects: Option<CommitEffects>,
    ) -> Result<AppendOutcome>;
    /// Up to `limit` messages of the room with `seq > after`, ascending, restricted to what the
    /// device may read (see [`RoomDevice`]). Empty if it is not (and never was) a member.
    async fn messages_after(
        &self,
        room: RoomId,
        device: DeviceId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>>;
    /// Up to `limit` messages with `seq < before`, descending (history paging), restricted the
    /// same way.
    async fn messages_before(
        &self,
        room: RoomId,
        device: DeviceId,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>>;
    /// The device's acknowledged position in the room (0 if none).
    async fn cursor(&self, device: DeviceId, room: RoomId) -> Result<u64>;
    /// Moves the cursor forward to `seq` (never backward; capped at the room's last seq).
    async fn advance_cursor(&self, device: DeviceId, room: RoomId, seq: u64) -> Result<()>;
    /// Welcomes waiting for the device, oldest first.
    async fn pending_welcomes(&self, device: DeviceId) -> Result<Vec<PendingWelcome>>;
    /// Deletes the device's Welcome for the room; false if there was none.
    async fn delete_welcome(&self, device: DeviceId, room: RoomId) -> Result<bool>;
    /// Deletes messages whose `expires_at <= now`; returns how many.
    async fn delete_expired_messages(&self, now: i64) -> Result<u64>;
}

/// Blob metadata.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Records a new, empty blob. `expires_at` is derived from the room's retention.
    /// [`crate::Error::NotFound`] if the room does not exist.
    async fn create_blob(
        &self,
        id: BlobId,
        room: RoomId,
        uploader: DeviceId,
        size: u64,
        now: i64,
    ) -> Result<Blob>;
    /// Looks a blob up.
    async fn blob(&self, id: BlobId) -> Result<Option<Blob>>;
    /// Records upload progress (`received` only grows; `complete` when it reaches `size`).
    async fn set_blob_received(&self, id: BlobId, received: u64) -> Result<()>;
    /// Deletes blobs whose `expires_at <= now`, and incomplete ones created before
    /// `stale_before`; returns their ids so the caller deletes the files.
    async fn delete_expired_blobs(&self, now: i64, stale_before: i64) -> Result<Vec<BlobId>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_window() {
        let m = RoomDevice {
            room_id: RoomId::random(),
            device_id: DeviceId::random(),
            user_id: UserId::random(),
            added_seq: 2,
            removed_seq: Some(5),
        };
        assert!(!m.can_read(2), "nothing from before it was added");
        assert!(
            m.can_read(3) && m.can_read(5),
            "up to and including its removal"
        );
        assert!(!m.can_read(6));
        assert!(
            RoomDevice {
                removed_seq: None,
                ..m
            }
            .can_read(1000)
        );
    }
}
