//! The headless participant: one task owning a str0m `Rtc`, its UDP socket, the signaling
//! WebSocket and the SFrame keys. The [`Participant`] handle talks to it through a channel and
//! reads its [`MeetingStats`] from a watch channel.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event as RtcEvent, Input, Output as RtcOutput, Rtc};
use ting_e2ee::{MediaEpoch, MediaKeys};
use ting_proto::ws::{ClientMessage, ServerEvent};
use ting_proto::{ErrorCode, RoomId};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::frame::{self, FrameError, Kind};
use super::signaling::Signaling;
use super::stats::{MeetingOptions, MeetingStats};
use crate::error::{Error, Result};

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

struct Driver {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    sig: Signaling,
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
    watch: watch::Sender<MeetingStats>,
}

fn sdp_error(e: impl std::fmt::Display) -> Error {
    Error::Protocol(format!("SDP: {e}"))
}

fn api_error(code: ErrorCode, message: String) -> Error {
    Error::Api {
        status: code.http_status(),
        code,
        message,
        current_epoch: None,
        position: None,
    }
}

impl Participant {
    /// Joins the meeting of `room` on the server at `base` with session `token`, publishing
    /// frames encrypted with `keys` (set to the room group's current media epoch).
    pub async fn join(
        base: &str,
        token: &str,
        room: RoomId,
        keys: MediaKeys,
        options: MeetingOptions,
    ) -> Result<Participant> {
        let mut sig = Signaling::connect(base, token).await?;
        let socket = UdpSocket::bind(SocketAddr::new(options.bind_ip, 0))
            .await
            .map_err(|e| Error::Transport(e.to_string()))?;
        let local = socket
            .local_addr()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let now = Instant::now();
        let mut rtc = Rtc::builder().set_rtp_mode(true).build(now);
        let candidate = Candidate::host(local, "udp").map_err(sdp_error)?;
        rtc.add_local_candidate(candidate);
        let mut api = rtc.sdp_api();
        let audio = options
            .audio
            .then(|| api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
        let video = options
            .video
            .then(|| api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None));
        let (offer, pending) = api
            .apply()
            .ok_or_else(|| Error::Usage("nothing to publish".into()))?;
        sig.send(&ClientMessage::MeetingJoin {
            room_id: room,
            sdp: offer.to_sdp_string(),
        })
        .await?;
        let mut stats = MeetingStats::default();
        let mut early = Vec::new();
        loop {
            match sig.next().await? {
                Some(ServerEvent::MeetingJoined {
                    room_id,
                    participant_id,
                    sdp,
                    participants,
                }) if room_id == room => {
                    accept_answer(&mut rtc, pending, &sdp)?;
                    stats.participant_id = participant_id;
                    stats.peers = participants.iter().map(|p| p.participant_id).collect();
                    break;
                }
                Some(ServerEvent::Error { code, message }) => {
                    return Err(api_error(code, message));
                }
                Some(ev) => early.push(ev),
                None => return Err(Error::Transport("signaling closed".into())),
            }
        }
        let (watch, stats_rx) = watch::channel(stats.clone());
        let (tx, rx) = mpsc::unbounded_channel();
        let mut driver = Driver {
            rtc,
            socket,
            local,
            sig,
            room,
            keys,
            start: now,
            options,
            audio,
            video,
            kinds: HashMap::new(),
            seq: 0,
            keyframe_due: true,
            next_frame: now,
            stats,
            watch,
        };
        let task = tokio::spawn(async move {
            for ev in early {
                if driver.on_signal(ev).await.is_err() {
                    return;
                }
            }
            driver.run(rx).await;
        });
        Ok(Participant {
            tx,
            stats: stats_rx,
            task,
        })
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

fn accept_answer(rtc: &mut Rtc, pending: SdpPendingOffer, sdp: &str) -> Result<()> {
    let answer = SdpAnswer::from_sdp_string(sdp).map_err(sdp_error)?;
    rtc.sdp_api()
        .accept_answer(pending, answer)
        .map_err(sdp_error)
}

fn pt_of(rtc: &Rtc, codec: Codec) -> Option<Pt> {
    rtc.codec_config()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
}

impl Driver {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn publish_stats(&self) {
        self.watch.send_replace(self.stats.clone());
    }

    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; 2000];
        loop {
            let Some(deadline) = self.drain().await else {
                self.linger().await;
                break;
            };
            self.publish_stats();
            let wake = if self.stats.connected {
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
                        if self.sig.send(&msg).await.is_err() {
                            break;
                        }
                    }
                    Some(Command::Leave) | None => {
                        let _ = self.sig.send(&ClientMessage::MeetingLeave { room_id: self.room }).await;
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
                ev = self.sig.next() => match ev {
                    Ok(Some(ev)) => if self.on_signal(ev).await.is_err() { break },
                    _ => break,
                },
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                    let now = Instant::now();
                    if self.rtc.handle_input(Input::Timeout(now)).is_err() {
                        break;
                    }
                    if self.stats.connected && now >= self.next_frame {
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
        while self.stats.ended.is_none() {
            match tokio::time::timeout_at(deadline, self.sig.next()).await {
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
            let Ok(payload) = frame::encode(&mut self.keys, kind, seq, keyframe) else {
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
                self.sig
                    .send(&ClientMessage::MeetingAnswer {
                        room_id,
                        offer_id,
                        sdp: answer.to_sdp_string(),
                    })
                    .await?;
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
