//! What a participant publishes ([`MeetingOptions`]) and observes ([`MeetingStats`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use ting_proto::ErrorCode;
use ting_proto::ws::MeetingEndReason;

use super::frame::Kind;

/// What to publish.
#[derive(Debug, Clone)]
pub struct MeetingOptions {
    /// Publish an audio track.
    pub audio: bool,
    /// Publish a video track.
    pub video: bool,
    /// Time between two frames of each track.
    pub frame_interval: Duration,
    /// Local IP to bind the media socket to.
    pub bind_ip: IpAddr,
}

impl Default for MeetingOptions {
    fn default() -> Self {
        MeetingOptions {
            audio: true,
            video: true,
            frame_interval: Duration::from_millis(20),
            bind_ip: IpAddr::from([127, 0, 0, 1]),
        }
    }
}

/// What a participant observed so far.
#[derive(Debug, Clone, Default)]
pub struct MeetingStats {
    /// Its participant id.
    pub participant_id: u64,
    /// ICE and DTLS are up.
    pub connected: bool,
    /// Frames sent (all tracks).
    pub sent: u64,
    /// Frames decrypted and verified, per sender leaf and kind.
    pub verified: BTreeMap<(u32, Kind), u64>,
    /// Frames whose keys were not (or no longer) known: unknown epoch or sender.
    pub undecryptable: u64,
    /// Duplicates (retransmissions) refused by the SFrame replay window.
    pub replayed: u64,
    /// Frames that decrypted wrongly, failed authentication or were malformed.
    pub corrupt: u64,
    /// Other participants currently in the meeting.
    pub peers: BTreeSet<u64>,
    /// Tracks published by others, as announced.
    pub tracks_announced: u64,
    /// Mute state others announced: participant id → (audio muted, video off).
    pub muted: BTreeMap<u64, (bool, bool)>,
    /// The server ended this participant's session.
    pub ended: Option<MeetingEndReason>,
    /// Errors the server sent.
    pub errors: Vec<(ErrorCode, String)>,
}

impl MeetingStats {
    /// Verified frames from everyone.
    pub fn verified_total(&self) -> u64 {
        self.verified.values().sum()
    }
}
