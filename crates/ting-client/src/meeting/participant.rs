//! The headless participant: one task owning a str0m `Rtc`, its UDP socket, the signaling
//! WebSocket and the SFrame keys. The [`Participant`] handle talks to it through a channel and
//! reads its [`MeetingStats`] from a watch channel.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::channel::{ChannelData, ChannelId};
use str0m::format::Codec;
use str0m::media::{MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Event as RtcEvent, Input, Output as RtcOutput, Rtc};
use ting_e2ee::{MediaEpoch, MediaKeys};
use ting_proto::RoomId;
use ting_proto::ws::{ClientMessage, ServerEvent};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::frame::{self, FrameError, Kind};
use super::join::sdp_error;
use super::signaling::Signaling;
use super::stats::{MeetingOptions, MeetingStats};
use crate::error::Result;

enum Command {
    SetEpoch(MediaEpoch),
    Mute(bool, bool),
    Leave,
}

/// Handle to a running participant.
#[derive(Debug)]
pub struct Participant {
    tx: mpsc::UnboundedSender<Command>,
    stats: watch::Receiver<MeetingStats>,
    task: JoinHandle<()>,
}

pub(super) struct Driver {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    /// The server's WebSocket; `None` when SDP goes over a data channel instead.
    sig: Option<Signaling>,
    /// The data channel that carries SDP (str0m's example SFU renegotiates over it).
    channel: Option<ChannelId>,
    room: RoomId,
    keys: MediaKeys,
    start: Instant,
    options: MeetingOptions,
    audio: Option<Mid>,
    video: Option<Mid>,
    /// Kind of each received media line.
    kinds: HashMap<Mid, Kind>,
    seq: u32,
    keyframe_due: bool,
    next_frame: Instant,
    stats: MeetingStats,
    watch: Option<watch::Sender<MeetingStats>>,
}

impl Participant {
    /// Starts the participant's task, first handling signaling events that arrived early.
    pub(super) fn spawn(mut driver: Driver, early: Vec<ServerEvent>) -> Participant {
        let (watch, stats_rx) = watch::channel(driver.stats.clone());
        driver.watch = Some(watch);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            for ev in early {
                if driver.on_signal(ev).await.is_err() {
                    return;
                }
            }
            driver.run(rx).await;
        });
        Participant {
            tx,
            stats: stats_rx,
            task,
        }
    }

    /// A snapshot of what it observed.
    pub fn stats(&self) -> MeetingStats {
        self.stats.borrow().clone()
    }

    /// Switches to a new media epoch of the room's group (after a commit).
    pub fn set_epoch(&self, epoch: MediaEpoch) {
        let _ = self.tx.send(Command::SetEpoch(epoch));
    }

    /// Announces this participant's mute state (audio muted, video off) to the others.
    pub fn mute(&self, audio: bool, video: bool) {
        let _ = self.tx.send(Command::Mute(audio, video));
    }

    /// Waits (up to `limit`) until `pred` holds for the stats; returns the last stats.
    pub async fn wait_for(
        &mut self,
        limit: Duration,
        pred: impl Fn(&MeetingStats) -> bool,
    ) -> MeetingStats {
        let _ = tokio::time::timeout(limit, self.stats.wait_for(|s| pred(s))).await;
        self.stats()
    }

    /// Leaves the meeting with a goodbye and waits for the task to end.
    pub async fn leave(self) {
        let _ = self.tx.send(Command::Leave);
        let _ = self.task.await;
    }

    /// Disappears without a goodbye: the media and signaling connections are just dropped.
    pub fn vanish(self) {
        self.task.abort();
    }
}

fn pt_of(rtc: &Rtc, codec: Codec) -> Option<Pt> {
    rtc.codec_config()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
}

/// A session's media state, as [`Driver::new`] takes it.
pub(super) struct Session {
    pub(super) rtc: Rtc,
    pub(super) socket: UdpSocket,
    pub(super) local: SocketAddr,
    pub(super) start: Instant,
    pub(super) audio: Option<Mid>,
    pub(super) video: Option<Mid>,
}

impl Driver {
    pub(super) fn new(
        session: Session,
        sig: Option<Signaling>,
        room: RoomId,
        keys: MediaKeys,
        options: MeetingOptions,
        stats: MeetingStats,
    ) -> Driver {
        Driver {
            rtc: session.rtc,
            socket: session.socket,
            local: session.local,
            sig,
            channel: None,
            room,
            keys,
            start: session.start,
            options,
            audio: session.audio,
            video: session.video,
            kinds: HashMap::new(),
            seq: 0,
            keyframe_due: true,
            next_frame: session.start,
            stats,
            watch: None,
        }
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn publish_stats(&self) {
        if let Some(w) = &self.watch {
            w.send_replace(self.stats.clone());
        }
    }

    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; 2000];
        loop {
            let Some(deadline) = self.drain().await else {
                self.linger().await;
                break;
            };
            self.publish_stats();
            let wake = if self.stats.connected && self.options.send {
                deadline.min(self.next_frame)
            } else {
                deadline
            };
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Command::SetEpoch(epoch)) => {
                        let now_ms = self.now_ms();
                        if self.keys.set_epoch(now_ms, epoch).is_ok() {
                            self.keyframe_due = true;
                        }
                    }
                    Some(Command::Mute(audio, video)) => {
                        let msg = ClientMessage::MeetingMute { room_id: self.room, audio, video };
                        if let Some(sig) = &mut self.sig && sig.send(&msg).await.is_err() {
                            break;
                        }
                    }
                    Some(Command::Leave) | None => {
                        if let Some(sig) = &mut self.sig {
                            let _ = sig.send(&ClientMessage::MeetingLeave { room_id: self.room }).await;
                        }
                        self.rtc.disconnect();
                        let _ = self.drain().await;
                        break;
                    }
                },
                r = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = r {
                        self.receive(source, &buf[..n.min(buf.len())]);
                    }
                }
                ev = next_signal(&mut self.sig) => match ev {
                    Ok(Some(ev)) => if self.on_signal(ev).await.is_err() { break },
                    _ => break,
                },
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                    let now = Instant::now();
                    if self.rtc.handle_input(Input::Timeout(now)).is_err() {
                        break;
                    }
                    if self.stats.connected && self.options.send && now >= self.next_frame {
                        self.send_frames(now);
                    }
                }
            }
            if self.stats.ended.is_some() {
                break;
            }
        }
        self.publish_stats();
    }

    /// The media session closed (the server may have ended it): wait briefly for the
    /// signaling message that says why.
    async fn linger(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while self.stats.ended.is_none() && self.sig.is_some() {
            match tokio::time::timeout_at(deadline, next_signal(&mut self.sig)).await {
                Ok(Ok(Some(ev))) => {
                    if self.on_signal(ev).await.is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// Polls the `Rtc` until its timeout, sending datagrams; `None` once it is dead.
    async fn drain(&mut self) -> Option<Instant> {
        loop {
            if !self.rtc.is_alive() {
                return None;
            }
            match self.rtc.poll_output() {
                Ok(RtcOutput::Timeout(t)) => return Some(t),
                Ok(RtcOutput::Transmit(t)) => {
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Ok(RtcOutput::Event(ev)) => self.on_rtc_event(ev),
                Err(e) => {
                    tracing::debug!(error = %e, "rtc failed");
                    return None;
                }
            }
        }
    }

    fn receive(&mut self, source: SocketAddr, bytes: &[u8]) {
        let Ok(contents) = bytes.try_into() else {
            return;
        };
        let input = Input::Receive(
            Instant::now(),
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        if self.rtc.accepts(&input)
            && let Err(e) = self.rtc.handle_input(input)
        {
            tracing::debug!(error = %e, "rtc input failed");
        }
    }

    fn on_rtc_event(&mut self, ev: RtcEvent) {
        match ev {
            RtcEvent::Connected => self.stats.connected = true,
            RtcEvent::ChannelOpen(cid, _) => self.channel = Some(cid),
            RtcEvent::ChannelData(d) => self.on_channel_data(d),
            RtcEvent::KeyframeRequest(_) => self.keyframe_due = true,
            RtcEvent::MediaAdded(m) => {
                let kind = match m.kind {
                    MediaKind::Audio => Kind::Audio,
                    MediaKind::Video => Kind::Video,
                };
                self.kinds.insert(m.mid, kind);
            }
            RtcEvent::RtpPacket(p) => {
                let pt = Some(p.header.payload_type);
                let kind = if pt == pt_of(&self.rtc, Codec::Opus) {
                    Some(Kind::Audio)
                } else if pt == pt_of(&self.rtc, Codec::Vp8) {
                    Some(Kind::Video)
                } else {
                    let mid = p.header.ext_vals.mid;
                    mid.and_then(|m| self.kinds.get(&m).copied())
                };
                let Some(kind) = kind else {
                    self.stats.corrupt += 1;
                    return;
                };
                let now_ms = self.now_ms();
                match frame::decode(&mut self.keys, now_ms, kind, &p.payload) {
                    Ok(v) => {
                        if let Some(r) = &self.options.recorder {
                            let latency = frame::clock_us().saturating_sub(v.sent_us);
                            r.record(v.sender_leaf, kind, v.seq, latency, p.payload.len());
                        }
                        *self
                            .stats
                            .verified
                            .entry((v.sender_leaf, v.kind))
                            .or_default() += 1
                    }
                    Err(FrameError::Decrypt(
                        ting_e2ee::Error::UnknownEpoch | ting_e2ee::Error::UnknownSender,
                    )) => self.stats.undecryptable += 1,
                    Err(FrameError::Decrypt(ting_e2ee::Error::Replayed { .. })) => {
                        self.stats.replayed += 1;
                    }
                    Err(_) => self.stats.corrupt += 1,
                }
            }
            _ => {}
        }
    }

    /// An SDP offer as JSON on the data channel (str0m's example SFU): answer on the channel.
    fn on_channel_data(&mut self, d: ChannelData) {
        let Ok(offer) = serde_json::from_slice::<SdpOffer>(&d.data) else {
            return;
        };
        let answer = match self.rtc.sdp_api().accept_offer(offer) {
            Ok(a) => a,
            Err(e) => {
                self.stats.errors.push((
                    ting_proto::ErrorCode::InvalidInput,
                    format!("renegotiation offer: {e}"),
                ));
                return;
            }
        };
        let json = serde_json::to_string(&answer).unwrap_or_default();
        if let Some(mut ch) = self.channel.and_then(|id| self.rtc.channel(id)) {
            let _ = ch.write(false, json.as_bytes());
        }
    }

    fn send_frames(&mut self, now: Instant) {
        self.next_frame = now + self.options.frame_interval;
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let keyframe = std::mem::take(&mut self.keyframe_due) || seq.is_multiple_of(50);
        let tracks = [
            (self.audio, Kind::Audio, Codec::Opus, 960u32),
            (self.video, Kind::Video, Codec::Vp8, 3000u32),
        ];
        for (mid, kind, codec, step) in tracks {
            let (Some(mid), Some(pt)) = (mid, pt_of(&self.rtc, codec)) else {
                continue;
            };
            let filler = match kind {
                Kind::Video => self.options.video_filler,
                Kind::Audio => None,
            }
            .unwrap_or_else(|| frame::default_filler(seq));
            let Ok(payload) = frame::encode(&mut self.keys, kind, seq, keyframe, filler) else {
                continue;
            };
            let mut api = self.rtc.direct_api();
            if let Some(tx) = api.stream_tx_by_mid(mid, None) {
                let write = RtpWrite::new(
                    pt,
                    (u64::from(seq) + 1).into(),
                    seq.wrapping_mul(step),
                    now,
                    payload,
                )
                .marker(true)
                .nackable(kind == Kind::Video);
                tx.write_rtp(write);
                self.stats.sent += 1;
            }
        }
    }

    async fn on_signal(&mut self, ev: ServerEvent) -> Result<()> {
        match ev {
            ServerEvent::MeetingOffer {
                room_id,
                offer_id,
                sdp,
            } if room_id == self.room => {
                let offer = SdpOffer::from_sdp_string(&sdp).map_err(sdp_error)?;
                let answer = self.rtc.sdp_api().accept_offer(offer).map_err(sdp_error)?;
                if let Some(sig) = &mut self.sig {
                    sig.send(&ClientMessage::MeetingAnswer {
                        room_id,
                        offer_id,
                        sdp: answer.to_sdp_string(),
                    })
                    .await?;
                }
            }
            ServerEvent::MeetingParticipantJoined {
                room_id,
                participant_id,
                ..
            } if room_id == self.room && participant_id != self.stats.participant_id => {
                self.stats.peers.insert(participant_id);
            }
            ServerEvent::MeetingParticipantLeft {
                room_id,
                participant_id,
                ..
            } if room_id == self.room => {
                self.stats.peers.remove(&participant_id);
            }
            ServerEvent::MeetingTrackPublished { room_id, .. } if room_id == self.room => {
                self.stats.tracks_announced += 1;
            }
            ServerEvent::MeetingMuted {
                room_id,
                participant_id,
                audio,
                video,
            } if room_id == self.room => {
                self.stats.muted.insert(participant_id, (audio, video));
            }
            ServerEvent::MeetingEnded { room_id, reason } if room_id == self.room => {
                self.stats.ended = Some(reason);
            }
            ServerEvent::Error { code, message } => self.stats.errors.push((code, message)),
            _ => {}
        }
        Ok(())
    }
}

/// The next signaling event; never resolves without a WebSocket.
async fn next_signal(sig: &mut Option<Signaling>) -> Result<Option<ServerEvent>> {
    match sig {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}
