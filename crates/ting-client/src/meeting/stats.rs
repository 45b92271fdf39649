//! What a participant publishes ([`MeetingOptions`]) and observes ([`MeetingStats`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Send frames on the published tracks (off: offer them, but stay silent).
    pub send: bool,
    /// Filler bytes of each video frame's plaintext (`None`: 40 to 99, varying).
    pub video_filler: Option<usize>,
    /// Where to record per-frame measurements (latency, sizes, sequence), if anywhere.
    pub recorder: Option<Recorder>,
}

impl Default for MeetingOptions {
    fn default() -> Self {
        MeetingOptions {
            audio: true,
            video: true,
            frame_interval: Duration::from_millis(20),
            bind_ip: IpAddr::from([127, 0, 0, 1]),
            send: true,
            video_filler: None,
            recorder: None,
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

/// Per-frame measurements of one receiving participant, taken only while switched on.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    on: Arc<AtomicBool>,
    data: Arc<Mutex<Recording>>,
}

/// What a [`Recorder`] collected.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Latency of each verified frame, send time (inside the frame) to verified, in µs.
    pub latencies_us: Vec<u64>,
    /// Verified frames.
    pub frames: u64,
    /// RTP payload bytes of the verified frames.
    pub payload_bytes: u64,
    /// Per (sender leaf, kind): first and last sequence number seen, and frames received.
    pub streams: HashMap<(u32, Kind), (u32, u32, u64)>,
}

impl Recording {
    /// Frames missing from the sequence ranges seen (gaps, not tail losses).
    pub fn gaps(&self) -> u64 {
        self.streams
            .values()
            .map(|&(first, last, n)| (u64::from(last.wrapping_sub(first)) + 1).saturating_sub(n))
            .sum()
    }
}

impl Recorder {
    /// Starts or stops recording.
    pub fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::SeqCst);
    }

    /// Records one verified frame (if on).
    pub fn record(&self, sender: u32, kind: Kind, seq: u32, latency_us: u64, bytes: usize) {
        if !self.on.load(Ordering::Relaxed) {
            return;
        }
        let mut d = self.data.lock().unwrap_or_else(|e| e.into_inner());
        d.latencies_us.push(latency_us);
        d.frames += 1;
        d.payload_bytes += bytes as u64;
        let e = d.streams.entry((sender, kind)).or_insert((seq, seq, 0));
        if seq.wrapping_sub(e.0) > u32::MAX / 2 {
            e.0 = seq;
        }
        if seq.wrapping_sub(e.1) < u32::MAX / 2 {
            e.1 = seq;
        }
        e.2 += 1;
    }

    /// Takes what was recorded so far.
    pub fn take(&self) -> Recording {
        std::mem::take(&mut *self.data.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_counts_gaps_only_while_on() {
        let r = Recorder::default();
        r.record(1, Kind::Audio, 1, 10, 100);
        r.set_on(true);
        for seq in [5, 6, 8, 9, 7] {
            r.record(1, Kind::Audio, seq, 10, 100);
        }
        r.record(2, Kind::Video, 3, 20, 1000);
        r.record(2, Kind::Video, 6, 20, 1000);
        r.set_on(false);
        r.record(2, Kind::Video, 7, 20, 1000);
        let rec = r.take();
        assert_eq!(rec.frames, 7);
        assert_eq!(rec.payload_bytes, 2500);
        assert_eq!(rec.streams[&(1, Kind::Audio)], (5, 9, 5));
        assert_eq!(rec.gaps(), 2);
        assert_eq!(r.take().frames, 0);
    }
}
