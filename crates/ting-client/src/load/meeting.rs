//! The meeting scenario: headless participants ([`crate::meeting::Participant`]) in one
//! meeting on an SFU on this machine — a Ting server, or str0m's example SFU as the reference
//! — publishing synthetic SFrame-encrypted audio and video frames at a fixed rate, one RTP
//! packet per frame. Receivers decrypt and verify every frame and measure its latency from the
//! send time carried inside the (encrypted, checksummed) frame; the SFU's CPU time comes from
//! `/proc/PID/stat` over the measurement window.
//!
//! Topologies: one sender to N receivers, or N participants all sending to each other.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use ting_e2ee::sframe::SframeCipherSuite;
use ting_e2ee::{MediaEpoch, MediaKeys, SframeConfig};
use tokio::time::Instant;

use crate::api::Api;
use crate::error::{Error, Result};
use crate::load::meeting_report::MeetingReport;
use crate::load::server::{ProcSample, ServerUnderTest, clock_ticks_per_sec};
use crate::load::setup::{self, LoadDevice, group_id};
use crate::load::stats::Latencies;
use crate::meeting::{MeetingOptions, MeetingStats, Participant, Recorder};

/// Password of every load user.
const PASSWORD: &str = "ting-load password, not a secret";
/// Joins in flight at once.
const JOIN_CONCURRENCY: usize = 4;

/// Who sends to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// One sender, N receivers (N + 1 participants).
    OneToN,
    /// N participants, each sending to the N − 1 others.
    NByN,
}

/// Which SFU is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// `ting serve`: signaling over the app WebSocket, MLS-derived SFrame keys.
    Ting,
    /// str0m's `chat` example: offer by HTTPS POST, renegotiation over a data channel.
    Str0mChat,
}

macro_rules! names {
    ($t:ty: $($v:ident = $s:literal),*) => {
        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($s => Ok(Self::$v),)*
                    other => Err(Error::Usage(format!(
                        "{other:?}: expected one of {}", [$($s),*].join(", ")))),
                }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$v => $s,)* })
            }
        }
    };
}
names!(Topology: OneToN = "one-to-n", NByN = "n-by-n");
names!(Target: Ting = "ting", Str0mChat = "str0m-chat");

/// Parameters of a meeting run.
#[derive(Clone, Debug)]
pub struct MeetingBenchOptions {
    /// Who sends to whom.
    pub topology: Topology,
    /// N: receivers (one-to-n) or participants (n-by-n).
    pub n: u32,
    /// Frames per second of each track (audio and video), per sender.
    pub fps: f64,
    /// Filler bytes in each video frame's plaintext.
    pub video_filler: usize,
    /// Time between "every receiver gets every stream" and the measurement window.
    pub warmup_secs: u64,
    /// Length of the measurement window.
    pub secs: u64,
    /// Time cap of users, room and joins until all streams flow.
    pub setup_timeout_secs: u64,
}

impl Default for MeetingBenchOptions {
    fn default() -> Self {
        Self {
            topology: Topology::OneToN,
            n: 10,
            fps: 10.0,
            video_filler: 600,
            warmup_secs: 3,
            secs: 20,
            setup_timeout_secs: 180,
        }
    }
}

impl MeetingBenchOptions {
    /// Refuses parameters that are unbounded or cannot form a meeting.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Usage(m.to_string()));
        if !(2..=200).contains(&self.n) {
            return bad("--n must be 2 to 200");
        }
        if !(self.fps.is_finite() && self.fps >= 0.5 && self.fps <= 200.0) {
            return bad("--fps must be 0.5 to 200");
        }
        if self.video_filler > crate::meeting::frame::MAX_FILLER {
            return bad("--video-filler must be at most 1100 bytes");
        }
        if !(1..=3600).contains(&self.secs) || self.warmup_secs > 600 {
            return bad("--secs must be 1 to 3600 and --warmup-secs at most 600");
        }
        if self.setup_timeout_secs == 0 {
            return bad("--setup-timeout-secs must be positive");
        }
        Ok(())
    }

    /// Participants in the meeting.
    pub fn participants(&self) -> u32 {
        match self.topology {
            Topology::OneToN => self.n + 1,
            Topology::NByN => self.n,
        }
    }

    /// Whether participant `i` sends.
    pub fn sends(&self, i: u32) -> bool {
        self.topology == Topology::NByN || i == 0
    }

    /// Receivers of each sender's streams.
    pub fn receivers_per_sender(&self) -> u32 {
        self.participants() - 1
    }

    /// Streams (sender, receiver, track) every receiver must get before measuring: 2 tracks
    /// from every other sender.
    pub fn streams_expected_by(&self, i: u32) -> usize {
        let senders = (0..self.participants())
            .filter(|&j| j != i && self.sends(j))
            .count();
        2 * senders
    }

    /// Packets per second the SFU should forward: senders × 2 tracks × fps × receivers.
    pub fn offered_pps(&self) -> f64 {
        let senders = (0..self.participants()).filter(|&j| self.sends(j)).count();
        senders as f64 * 2.0 * self.fps * f64::from(self.receivers_per_sender())
    }

    /// A sender publishes audio and video; a receiver (one-to-n) must offer something to join,
    /// so it offers one audio track on which it never sends.
    fn options(&self, i: u32, recorder: Recorder) -> MeetingOptions {
        MeetingOptions {
            frame_interval: Duration::from_secs_f64(1.0 / self.fps),
            send: self.sends(i),
            video: self.sends(i),
            video_filler: Some(self.video_filler),
            recorder: Some(recorder),
            ..MeetingOptions::default()
        }
    }
}

/// The SFU under test.
#[derive(Debug)]
pub enum Sfu<'a> {
    /// A Ting server (users are created with its admin CLI).
    Ting(&'a ServerUnderTest),
    /// str0m's example SFU at this URL, with this process id.
    Str0mChat {
        /// Where to POST offers.
        url: String,
        /// Its process id.
        pid: u32,
    },
}

impl Sfu<'_> {
    fn target(&self) -> Target {
        match self {
            Sfu::Ting(_) => Target::Ting,
            Sfu::Str0mChat { .. } => Target::Str0mChat,
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Sfu::Ting(s) => s.pid,
            Sfu::Str0mChat { pid, .. } => *pid,
        }
    }
}

async fn capped<T>(secs: u64, what: &str, f: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .map_err(|_| Error::Usage(format!("{what} did not finish within {secs} s")))?
}

/// Ting: users, one room with everyone as MLS members, then everyone joins the meeting with
/// the room's media keys.
async fn join_ting(
    opts: &MeetingBenchOptions,
    server: &ServerUnderTest,
    recorders: &[Recorder],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Participant>> {
    let p = opts.participants();
    let tag: u32 = rand::random::<u32>() % 1_000_000;
    let names: Vec<String> = (0..p).map(|i| format!("meet-{tag:06}-{i:03}")).collect();
    progress(&format!("creating {p} users, logging in, forming the room"));
    futures_util::stream::iter(names.iter())
        .map(|name| server.create_user(name, PASSWORD))
        .buffer_unordered(2)
        .try_collect::<Vec<()>>()
        .await?;
    let base = Api::new(&server.url, None)?;
    let mut devices: Vec<LoadDevice> = futures_util::stream::iter(names.iter().enumerate())
        .map(|(i, name)| setup::login(&base, i as u32, name.clone(), PASSWORD, 1))
        .buffer_unordered(8)
        .try_collect()
        .await?;
    devices.sort_by_key(|d| d.index);
    for d in devices.iter_mut() {
        setup::connect(d).await?;
    }
    let mut devices = setup::form_room(devices).await?;
    progress(&format!("{p} participants joining the meeting"));
    let mut joins = Vec::new();
    for d in devices.iter_mut() {
        if let Some(mut ws) = d.ws.take() {
            let _ = ws.close(None).await;
        }
        let room = d
            .room
            .ok_or_else(|| Error::Usage("a device without its room".into()))?;
        let mut keys = MediaKeys::new(SframeConfig::default(), rand::random())?;
        keys.set_epoch(0, d.e2ee.media_epoch(&group_id(room)?)?)?;
        let token = d
            .api
            .token()
            .ok_or_else(|| Error::Usage("not logged in".into()))?
            .to_string();
        let options = opts.options(d.index, recorders[d.index as usize].clone());
        joins.push((d.api.base().to_string(), token, room, keys, options));
    }
    futures_util::stream::iter(joins)
        .map(|(base, token, room, keys, options)| async move {
            Participant::join(&base, &token, room, keys, options).await
        })
        .buffered(JOIN_CONCURRENCY)
        .try_collect()
        .await
}

/// str0m's example: no accounts; SFrame keys from one random base key, leaf = index.
async fn join_chat(
    opts: &MeetingBenchOptions,
    url: &str,
    recorders: &[Recorder],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Participant>> {
    let p = opts.participants();
    progress(&format!("{p} participants joining str0m's example SFU"));
    let base_key: [u8; 16] = rand::random();
    let members: Vec<u32> = (0..p).collect();
    let mut joins = Vec::new();
    for i in 0..p {
        let epoch = MediaEpoch::new(
            0,
            SframeCipherSuite::AesGcm128Sha256,
            base_key.to_vec(),
            Some(i),
            members.clone(),
        )?;
        let mut keys = MediaKeys::new(SframeConfig::default(), rand::random())?;
        keys.set_epoch(0, epoch)?;
        joins.push((keys, opts.options(i, recorders[i as usize].clone())));
    }
    futures_util::stream::iter(joins)
        .map(|(keys, options)| Participant::join_str0m_chat(url, keys, options))
        .buffered(JOIN_CONCURRENCY)
        .try_collect()
        .await
}

/// Runs one meeting measurement against `sfu`.
pub async fn run_meeting(
    opts: &MeetingBenchOptions,
    sfu: &Sfu<'_>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<MeetingReport> {
    opts.validate()?;
    let started = Instant::now();
    let p = opts.participants();
    let recorders: Vec<Recorder> = (0..p).map(|_| Recorder::default()).collect();
    let setup = async {
        match sfu {
            Sfu::Ting(server) => join_ting(opts, server, &recorders, progress).await,
            Sfu::Str0mChat { url, .. } => join_chat(opts, url, &recorders, progress).await,
        }
    };
    let mut parts = capped(opts.setup_timeout_secs, "joining", setup).await?;

    progress("waiting until every receiver gets every stream");
    let ready = |i: usize, s: &MeetingStats| s.verified.len() >= opts.streams_expected_by(i as u32);
    let deadline = started + Duration::from_secs(opts.setup_timeout_secs);
    let mut incomplete = p as usize;
    while Instant::now() < deadline {
        incomplete = parts
            .iter()
            .enumerate()
            .filter(|(i, x)| !ready(*i, &x.stats()))
            .count();
        if incomplete == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let setup_secs = started.elapsed().as_secs_f64();
    if incomplete > 0 {
        let stats: Vec<MeetingStats> = parts.iter().map(Participant::stats).collect();
        let connected = stats.iter().filter(|s| s.connected).count();
        let sending = stats.iter().filter(|s| s.sent > 0).count();
        let fewest = stats.iter().map(|s| s.verified.len()).min().unwrap_or(0);
        progress(&format!(
            "{incomplete} participants do not get every stream ({connected} of {p} connected, \
             {sending} sending, fewest streams received {fewest}); measuring anyway"
        ));
    }
    tokio::time::sleep(Duration::from_secs(opts.warmup_secs)).await;

    progress(&format!("measuring for {} s", opts.secs));
    let sent_before: u64 = parts.iter().map(|x| x.stats().sent).sum();
    let server_before = ProcSample::of(sfu.pid());
    let own_before = ProcSample::this_process();
    let t0 = Instant::now();
    recorders.iter().for_each(|r| r.set_on(true));
    tokio::time::sleep(Duration::from_secs(opts.secs)).await;
    recorders.iter().for_each(|r| r.set_on(false));
    let window = t0.elapsed().as_secs_f64();
    let server_after = ProcSample::of(sfu.pid());
    let own_after = ProcSample::this_process();
    let sent_after: u64 = parts.iter().map(|x| x.stats().sent).sum();

    let mut latencies = Latencies::default();
    let (mut frames, mut bytes, mut gaps) = (0u64, 0u64, 0u64);
    for r in &recorders {
        let rec = r.take();
        frames += rec.frames;
        bytes += rec.payload_bytes;
        gaps += rec.gaps();
        rec.latencies_us
            .into_iter()
            .for_each(|l| latencies.record(l));
    }
    let (mut corrupt, mut undecryptable, mut errors) = (0u64, 0u64, 0u64);
    for x in &mut parts {
        let s = x.stats();
        corrupt += s.corrupt;
        undecryptable += s.undecryptable;
        errors += s.errors.len() as u64;
    }
    progress("leaving");
    let leaving = futures_util::future::join_all(parts.into_iter().map(Participant::leave));
    let _ = tokio::time::timeout(Duration::from_secs(10), leaving).await;

    let ticks = clock_ticks_per_sec() as f64;
    Ok(MeetingReport {
        target: sfu.target(),
        topology: opts.topology,
        n: opts.n,
        participants: p,
        fps: opts.fps,
        video_filler: opts.video_filler,
        setup_secs,
        incomplete_at_start: incomplete as u32,
        window_secs: window,
        sent_frames: sent_after.saturating_sub(sent_before),
        expected_deliveries: sent_after.saturating_sub(sent_before)
            * u64::from(opts.receivers_per_sender()),
        offered_pps: opts.offered_pps(),
        delivered: frames,
        payload_bytes: bytes,
        gaps,
        corrupt,
        undecryptable,
        errors,
        latency: latencies.summary(),
        server_cpu_secs: server_after
            .cpu_ticks
            .saturating_sub(server_before.cpu_ticks) as f64
            / ticks,
        load_cpu_secs: own_after.cpu_ticks.saturating_sub(own_before.cpu_ticks) as f64 / ticks,
        load_cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in [Topology::OneToN, Topology::NByN] {
            assert_eq!(t.to_string().parse::<Topology>().unwrap(), t);
        }
        for t in [Target::Ting, Target::Str0mChat] {
            assert_eq!(t.to_string().parse::<Target>().unwrap(), t);
        }
        assert!("one-to-many".parse::<Topology>().is_err());
        assert_eq!(
            serde_json::to_string(&Target::Str0mChat).unwrap(),
            "\"str0m-chat\""
        );
    }

    #[test]
    fn topology_arithmetic() {
        let one = MeetingBenchOptions {
            n: 10,
            fps: 10.0,
            ..MeetingBenchOptions::default()
        };
        assert_eq!(one.participants(), 11);
        assert_eq!(one.receivers_per_sender(), 10);
        assert_eq!(one.streams_expected_by(0), 0);
        assert_eq!(one.streams_expected_by(3), 2);
        assert_eq!(one.offered_pps(), 200.0);
        let all = MeetingBenchOptions {
            topology: Topology::NByN,
            ..one
        };
        assert_eq!(all.participants(), 10);
        assert_eq!(all.streams_expected_by(3), 18);
        assert_eq!(all.offered_pps(), 10.0 * 2.0 * 10.0 * 9.0);
        assert!(all.options(4, Recorder::default()).send);
        assert!(!one.options(4, Recorder::default()).send);
    }

    #[test]
    fn validation() {
        let ok = MeetingBenchOptions::default();
        assert!(ok.validate().is_ok());
        for bad in [
            MeetingBenchOptions { n: 1, ..ok.clone() },
            MeetingBenchOptions {
                n: 201,
                ..ok.clone()
            },
            MeetingBenchOptions {
                fps: 0.0,
                ..ok.clone()
            },
            MeetingBenchOptions {
                fps: f64::NAN,
                ..ok.clone()
            },
            MeetingBenchOptions {
                video_filler: 5000,
                ..ok.clone()
            },
            MeetingBenchOptions {
                secs: 0,
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
