//! Messages on the WebSocket event stream at `/api/v1/ws`.
//!
//! The client authenticates with `Authorization: Bearer …` on the upgrade request, or — where it
//! cannot set headers (browsers) — by sending [`ClientMessage::Auth`] as its first text frame
//! within [`AUTH_TIMEOUT_SECS`]. The server then sends [`ServerEvent::Hello`]. Both sides keep
//! the connection alive with WebSocket pings; a peer silent for longer than
//! [`IDLE_TIMEOUT_SECS`] is disconnected. Close codes are in [`close_code`].

use serde::{Deserialize, Serialize};

use crate::api::{DeviceInfo, KeyLogKind};
use crate::ds::{Message, Welcome};
use crate::{DeviceId, ErrorCode, RoomId};

/// Seconds a client has to authenticate after the upgrade.
pub const AUTH_TIMEOUT_SECS: u64 = 10;
/// Seconds between server pings.
pub const HEARTBEAT_INTERVAL_SECS: u64 = 20;
/// Seconds of silence after which the server closes the connection.
pub const IDLE_TIMEOUT_SECS: u64 = 60;
/// Largest frame a client may send. Meeting SDP grows with the number of participants (two or
/// more media sections each, ~1–3 KiB per section), so a 50-person meeting needs a few hundred
/// KiB; a larger frame closes the connection with [`close_code::MESSAGE_TOO_BIG`].
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 1 << 20;

/// WebSocket close codes the server uses (4000–4999 are application codes).
pub mod close_code {
    /// Normal closure, e.g. after logout.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down; reconnect later.
    pub const GOING_AWAY: u16 = 1001;
    /// The client sent a frame larger than [`super::MAX_CLIENT_MESSAGE_BYTES`].
    pub const MESSAGE_TOO_BIG: u16 = 1009;
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
    /// Join the room's meeting (starting it if nobody is in it) with an SDP offer; answered by
    /// [`ServerEvent::MeetingJoined`] or an `error` (`unknown_room` for non-members,
    /// `invalid_sdp`). One media session per connection and room.
    MeetingJoin {
        /// The room whose MLS group keys the meeting.
        room_id: RoomId,
        /// SDP offer (ICE-lite on the server; one host candidate comes back in the answer).
        sdp: String,
    },
    /// Renegotiate (e.g. start or stop a screen share); answered by [`ServerEvent::MeetingAnswer`].
    MeetingOffer {
        /// Room.
        room_id: RoomId,
        /// SDP offer.
        sdp: String,
    },
    /// The answer to a [`ServerEvent::MeetingOffer`].
    MeetingAnswer {
        /// Room.
        room_id: RoomId,
        /// The `offer_id` of the offer answered.
        offer_id: u64,
        /// SDP answer.
        sdp: String,
    },
    /// Announce this participant's mute state to the others (the server cannot see it).
    MeetingMute {
        /// Room.
        room_id: RoomId,
        /// Microphone muted.
        audio: bool,
        /// Camera off.
        video: bool,
    },
    /// Raise or lower this participant's hand (shown to everyone, including later joiners).
    MeetingHand {
        /// Room.
        room_id: RoomId,
        /// Hand raised.
        raised: bool,
    },
    /// The largest simulcast layer this participant wants of another's video track (e.g. from
    /// the size it renders it at); the server's bandwidth estimate may still pick a smaller one.
    MeetingLayer {
        /// Room.
        room_id: RoomId,
        /// The publisher.
        participant_id: u64,
        /// The publisher's media id (from `meeting_track_published`).
        mid: String,
        /// Largest wanted layer.
        layer: SimulcastLayer,
    },
    /// Leave the meeting; also implied when the WebSocket closes.
    MeetingLeave {
        /// Room.
        room_id: RoomId,
    },
}

/// A simulcast layer, smallest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SimulcastLayer {
    /// Lowest resolution (rid `q`).
    Low,
    /// Middle resolution (rid `h`).
    Medium,
    /// Full resolution (rid `f`).
    High,
}

/// A participant of a meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeetingPeer {
    /// Participant id in the meeting.
    pub participant_id: u64,
    /// Its device (whose MLS leaf keys its media).
    pub device_id: DeviceId,
}

/// Why a participant's media session ended, in [`ServerEvent::MeetingEnded`] and
/// [`ServerEvent::MeetingParticipantLeft`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MeetingEndReason {
    /// The participant left (or its WebSocket closed).
    Left,
    /// The device was removed from the room's MLS group.
    Removed,
    /// The media path went silent (ICE consent expired) or never came up.
    Timeout,
    /// The media session failed or was closed by the peer.
    Closed,
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
    /// A record about a user was appended to the key log. Sent to that user's devices and to
    /// the devices of everyone who shares a room with them, so contacts learn of new devices,
    /// revocations and identity resets (fetch `GET /api/v1/keylog/users/{username}` and verify).
    KeyLogAppended {
        /// The user the record is about.
        username: String,
        /// The record's index in the log.
        index: u64,
        /// What it declares.
        kind: KeyLogKind,
    },
    /// An existing device answered this device's link rendezvous: fetch the answer with
    /// `GET /api/v1/link/{rendezvous_id}/response`.
    LinkResponded {
        /// The rendezvous.
        rendezvous_id: String,
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
    /// The meeting admitted this connection: the SDP answer to [`ClientMessage::MeetingJoin`],
    /// and who is already there.
    MeetingJoined {
        /// Room.
        room_id: RoomId,
        /// This participant's id in the meeting.
        participant_id: u64,
        /// SDP answer.
        sdp: String,
        /// Participants already in the meeting.
        participants: Vec<MeetingPeer>,
    },
    /// The server renegotiates (new tracks to receive): reply with [`ClientMessage::MeetingAnswer`].
    MeetingOffer {
        /// Room.
        room_id: RoomId,
        /// Echo this in the answer.
        offer_id: u64,
        /// SDP offer.
        sdp: String,
    },
    /// The answer to a [`ClientMessage::MeetingOffer`].
    MeetingAnswer {
        /// Room.
        room_id: RoomId,
        /// SDP answer.
        sdp: String,
    },
    /// Someone joined the meeting.
    MeetingParticipantJoined {
        /// Room.
        room_id: RoomId,
        /// Their participant id.
        participant_id: u64,
        /// Their device (its MLS leaf keys their media).
        device_id: DeviceId,
    },
    /// Someone's media session ended.
    MeetingParticipantLeft {
        /// Room.
        room_id: RoomId,
        /// Their participant id.
        participant_id: u64,
        /// Why.
        reason: MeetingEndReason,
    },
    /// A participant published a track (`mid` names it in the SDP sent to each subscriber).
    MeetingTrackPublished {
        /// Room.
        room_id: RoomId,
        /// The publisher.
        participant_id: u64,
        /// The publisher's media id.
        mid: String,
        /// `audio` or `video`.
        kind: String,
    },
    /// A track stopped.
    MeetingTrackUnpublished {
        /// Room.
        room_id: RoomId,
        /// The publisher.
        participant_id: u64,
        /// The publisher's media id.
        mid: String,
    },
    /// A participant's announced mute state; a participant that joins gets one for everyone
    /// who announced theirs.
    MeetingMuted {
        /// Room.
        room_id: RoomId,
        /// Who.
        participant_id: u64,
        /// Microphone muted.
        audio: bool,
        /// Camera off.
        video: bool,
    },
    /// A participant raised or lowered its hand. Sent to everyone in the meeting, and to a
    /// participant that joins for every raised hand.
    MeetingHand {
        /// Room.
        room_id: RoomId,
        /// Who.
        participant_id: u64,
        /// Hand raised.
        raised: bool,
    },
    /// This connection's own media session in the room ended.
    MeetingEnded {
        /// Room.
        room_id: RoomId,
        /// Why.
        reason: MeetingEndReason,
    },
    /// An error about the last client frame; the connection stays open unless a close follows.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
}
