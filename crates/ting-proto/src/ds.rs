//! Delivery Service bodies: rooms, the ordered message log, Welcomes and encrypted blobs.
//!
//! Every payload here is MLS ciphertext (or an encrypted file chunk) that the server cannot read:
//! room names, topics, message text, file names and keys all travel inside MLS application
//! messages.

use serde::{Deserialize, Serialize};

use crate::{Base64, BlobId, DeviceId, MessageId, RoomId, UserId};

/// Largest accepted MLS message payload in bytes (default; the server may configure less).
pub const MAX_MESSAGE_PAYLOAD: usize = 256 * 1024;
/// Most messages one history page returns.
pub const MAX_PAGE: u32 = 500;

/// Room or direct conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A room with any number of members.
    Room,
    /// A direct conversation.
    Direct,
}

/// `POST /api/v1/rooms`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// Kind of room.
    pub kind: RoomKind,
    /// Seconds to keep messages and files; absent = the server's default.
    #[serde(default)]
    pub retention_secs: Option<i64>,
}

/// A room as its members see it (no name: names are encrypted in the MLS group).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomInfo {
    /// Id; also the MLS group id.
    pub id: RoomId,
    /// Kind.
    pub kind: RoomKind,
    /// The MLS epoch the Delivery Service has ordered up to.
    pub epoch: u64,
    /// Highest sequence number in the room.
    pub last_seq: u64,
    /// This device's acknowledged position.
    pub cursor: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Retention in seconds, if limited.
    pub retention_secs: Option<i64>,
}

/// `GET /api/v1/rooms`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomList {
    /// Rooms this device is a member of.
    pub rooms: Vec<RoomInfo>,
}

/// `PATCH /api/v1/rooms/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateRoom {
    /// New retention in seconds; null = keep forever.
    pub retention_secs: Option<i64>,
}

/// One member device of a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomMember {
    /// Owner.
    pub user_id: UserId,
    /// Owner's username.
    pub username: String,
    /// Device.
    pub device_id: DeviceId,
    /// Its Ed25519 signature key (clients check it against the MLS leaf).
    pub signature_key: Base64,
    /// Sequence number of the commit that added it.
    pub added_seq: u64,
}

/// `GET /api/v1/rooms/{id}/members`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomMembers {
    /// Active member devices.
    pub members: Vec<RoomMember>,
}

/// Kind of a log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// MLS application message.
    Application,
    /// MLS commit.
    Commit,
}

/// `POST /api/v1/rooms/{id}/messages`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Client-chosen id; resending the same id is recognised as a duplicate.
    pub id: MessageId,
    /// Application message or commit.
    pub kind: MessageKind,
    /// The epoch the message was built in; must be the room's current epoch.
    pub epoch: u64,
    /// MLS message bytes (MLSMessage).
    pub payload: Base64,
    /// For commits that add devices: the MLS Welcome, delivered only to `added_devices`.
    #[serde(default)]
    pub welcome: Option<Base64>,
    /// For commits: devices the commit adds (routing data; clients verify against the commit).
    #[serde(default)]
    pub added_devices: Vec<DeviceId>,
    /// For commits: devices the commit removes.
    #[serde(default)]
    pub removed_devices: Vec<DeviceId>,
}

/// Response to an accepted message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageAccepted {
    /// Assigned sequence number.
    pub seq: u64,
    /// The room's epoch after it.
    pub epoch: u64,
}

/// A message as delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// Room.
    pub room_id: RoomId,
    /// Position in the room, gap-free from 1.
    pub seq: u64,
    /// Client-chosen id.
    pub id: MessageId,
    /// Sending device, as authenticated by the server. Clients check that the MLS sender's
    /// signature key is this device's.
    pub sender_device: DeviceId,
    /// Its owner.
    pub sender_user: UserId,
    /// Kind.
    pub kind: MessageKind,
    /// Epoch it was sent in.
    pub epoch: u64,
    /// MLS bytes.
    pub payload: Base64,
    /// Unix seconds.
    pub created_at: i64,
}

/// `GET /api/v1/rooms/{id}/messages`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    /// Messages in ascending `seq` order.
    pub messages: Vec<Message>,
    /// True if more exist in the requested direction.
    pub more: bool,
}

/// `POST /api/v1/rooms/{id}/ack`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// Everything up to and including this seq was processed.
    pub seq: u64,
}

/// A Welcome waiting for this device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Welcome {
    /// The room it admits the device to.
    pub room_id: RoomId,
    /// Sequence number of the commit that added the device; messages after it follow.
    pub commit_seq: u64,
    /// MLS Welcome bytes.
    pub payload: Base64,
}

/// `GET /api/v1/welcomes`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WelcomeList {
    /// Pending Welcomes, oldest first.
    pub welcomes: Vec<Welcome>,
}

/// `POST /api/v1/rooms/{id}/blobs`: announce an encrypted upload.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBlob {
    /// Exact size of the encrypted blob in bytes.
    pub size: u64,
}

/// Upload state of a blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlobInfo {
    /// Id.
    pub id: BlobId,
    /// Room it belongs to.
    pub room_id: RoomId,
    /// Declared size.
    pub size: u64,
    /// Bytes stored so far; an interrupted upload resumes here.
    pub received: u64,
    /// Whether the upload is complete (only then can it be downloaded).
    pub complete: bool,
}
