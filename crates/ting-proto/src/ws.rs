//! Messages on the WebSocket event stream at `/api/v1/ws`.
//!
//! The client authenticates with `Authorization: Bearer …` on the upgrade request, or — where it
//! cannot set headers (browsers) — by sending [`ClientMessage::Auth`] as its first text frame
//! within [`AUTH_TIMEOUT_SECS`]. The server then sends [`ServerEvent::Hello`]. Both sides keep
//! the connection alive with WebSocket pings; a peer silent for longer than
//! [`IDLE_TIMEOUT_SECS`] is disconnected. Close codes are in [`close_code`].

use serde::{Deserialize, Serialize};

use crate::api::DeviceInfo;
use crate::ds::{Message, Welcome};
use crate::{DeviceId, ErrorCode, RoomId};

/// Seconds a client has to authenticate after the upgrade.
pub const AUTH_TIMEOUT_SECS: u64 = 10;
/// Seconds between server pings.
pub const HEARTBEAT_INTERVAL_SECS: u64 = 20;
/// Seconds of silence after which the server closes the connection.
pub const IDLE_TIMEOUT_SECS: u64 = 60;

/// WebSocket close codes the server uses (4000–4999 are application codes).
pub mod close_code {
    /// Normal closure, e.g. after logout.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down; reconnect later.
    pub const GOING_AWAY: u16 = 1001;
    /// The client sent something that is not a valid [`super::ClientMessage`].
    pub const PROTOCOL_ERROR: u16 = 4000;
    /// No or invalid credentials.
    pub const UNAUTHENTICATED: u16 = 4001;
    /// The session was revoked or expired while connected.
    pub const SESSION_ENDED: u16 = 4003;
    /// The peer stopped answering heartbeats.
    pub const IDLE: u16 = 4008;
}

/// A frame sent by the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Authenticate with a session token (first frame only).
    Auth {
        /// The bearer token from login.
        token: String,
    },
    /// Application-level ping for clients that cannot send WebSocket pings; answered by `pong`.
    Ping,
    /// Everything in the room up to and including `seq` was processed; it will not be
    /// delivered again after a reconnect.
    Ack {
        /// Room.
        room_id: RoomId,
        /// Last processed sequence number.
        seq: u64,
    },
}

/// A frame sent by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerEvent {
    /// Sent once after successful authentication.
    Hello {
        /// The authenticated device.
        device_id: DeviceId,
        /// Seconds between server pings.
        heartbeat_interval_secs: u64,
    },
    /// Answer to [`ClientMessage::Ping`].
    Pong,
    /// Another device of this user published its first KeyPackages, so it can now be added to
    /// groups: clients add it to their rooms, show it and re-check safety numbers.
    DeviceAdded {
        /// The new device.
        device: DeviceInfo,
    },
    /// A device of this user was revoked.
    DeviceRevoked {
        /// The revoked device.
        device_id: DeviceId,
    },
    /// This device's stock of one-time KeyPackages is low; upload more.
    KeyPackagesLow {
        /// How many are left.
        available: u64,
    },
    /// A message in one of this device's rooms. Per room, messages arrive in `seq` order, at
    /// least once: after a reconnect everything after the last acknowledged `seq` is sent again,
    /// so clients deduplicate by `seq` (or message id).
    Message {
        /// The message.
        message: Message,
    },
    /// A Welcome admitting this device to a room.
    Welcome {
        /// The Welcome.
        welcome: Welcome,
    },
    /// An error about the last client frame; the connection stays open unless a close follows.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
}
