//! The router: one [`Sfu`] per meeting, owning one str0m `Rtc` per participant.

mod negotiation;
mod routing;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::SdpOffer;
use str0m::media::{Direction, Mid};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::rtp::{Extension, ExtensionMap, RtpPacket};
use str0m::{Candidate, Event as RtcEvent, IceConnectionState, Input, Output as RtcOutput, Rtc};

use crate::error::Error;
use crate::event::{DisconnectReason, Event, Output, SfuConfig};
use crate::ids::{Layer, ParticipantId, TrackId};
use crate::participant::{Participant, Published};

/// Upper bound on outputs drained from a closing participant's `Rtc`.
const CLOSE_DRAIN_LIMIT: usize = 64;

/// Work found while polling one participant that touches others.
enum Job {
    Publish(Mid, Published),
    Unpublish(Mid),
    Forward(Box<RtpPacket>),
    KeyframeFor(Mid),
    Gone(DisconnectReason),
}

/// A sans-IO selective forwarding unit for one meeting.
///
/// Drive it like a str0m `Rtc`: feed [`handle_receive`](Sfu::handle_receive) and
/// [`handle_timeout`](Sfu::handle_timeout), then call [`poll_output`](Sfu::poll_output) until it
/// returns [`Output::Timeout`].
#[derive(Debug)]
pub struct Sfu {
    config: SfuConfig,
    participants: BTreeMap<ParticipantId, Participant>,
    /// Which participant a remote address last belonged to: a hint that saves asking every
    /// `Rtc` whether it accepts a datagram (still confirmed with `accepts`).
    routes: HashMap<SocketAddr, ParticipantId>,
    out: VecDeque<Output>,
    now: Instant,
}

impl Sfu {
    /// An empty meeting.
    pub fn new(now: Instant, config: SfuConfig) -> Self {
        Sfu {
            config,
            participants: BTreeMap::new(),
            routes: HashMap::new(),
            out: VecDeque::new(),
            now,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SfuConfig {
        &self.config
    }

    /// Ids of the participants currently in the meeting.
    pub fn participants(&self) -> impl Iterator<Item = ParticipantId> + '_ {
        self.participants.keys().copied()
    }

    /// Tracks currently published in the meeting.
    pub fn tracks(&self) -> impl Iterator<Item = TrackId> + '_ {
        self.participants.iter().flat_map(|(id, p)| {
            p.published.keys().map(|mid| TrackId {
                publisher: *id,
                mid: *mid,
            })
        })
    }

    /// Admits a participant with its SDP offer and returns the SDP answer (ICE-lite, one host
    /// candidate: [`SfuConfig::local_addr`]). Tracks already published by others are offered to
    /// it right after, through an [`Event::Offer`].
    pub fn add_participant(
        &mut self,
        now: Instant,
        id: ParticipantId,
        offer: &str,
    ) -> Result<String, Error> {
        if self.participants.contains_key(&id) {
            return Err(Error::DuplicateParticipant(id));
        }
        let offer =
            SdpOffer::from_sdp_string(offer).map_err(|e| Error::InvalidSdp(e.to_string()))?;
        let mut rtc = self.build_rtc(now);
        let candidate = Candidate::host(self.config.local_addr, "udp")
            .map_err(|e| Error::InvalidCandidate(e.to_string()))?;
        rtc.add_local_candidate(candidate)
            .ok_or_else(|| Error::InvalidCandidate(self.config.local_addr.to_string()))?;
        if let Some(tcp) = self.config.tcp_addr {
            let candidate = Candidate::builder()
                .tcp()
                .host(tcp)
                .tcptype(TcpType::Passive)
                .build()
                .map_err(|e| Error::InvalidCandidate(e.to_string()))?;
            rtc.add_local_candidate(candidate)
                .ok_or_else(|| Error::InvalidCandidate(tcp.to_string()))?;
        }
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| Error::OfferRejected(e.to_string()))?;
        let mut p = Participant::new(rtc, now, self.config.initial_bitrate);
        for (pid, other) in &self.participants {
            for (mid, track) in &other.published {
                let source = TrackId {
                    publisher: *pid,
                    mid: *mid,
                };
                p.subscribe(source, track.kind);
            }
        }
        self.participants.insert(id, p);
        self.negotiate(id);
        tracing::debug!(participant = %id, "participant added");
        Ok(answer.to_sdp_string())
    }

    fn build_rtc(&self, now: Instant) -> Rtc {
        let mut exts = ExtensionMap::empty();
        for (id, ext) in ExtensionMap::standard().iter() {
            if self.config.encrypted && *ext == Extension::AudioLevel {
                continue;
            }
            exts.set(id, ext.clone());
        }
        Rtc::builder()
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .set_extension_map(exts)
            .enable_bwe(Some(Bitrate::bps(self.config.initial_bitrate)))
            .build(now)
    }

    /// Chooses the largest simulcast layer `subscriber` wants of `track` (e.g. from the size it
    /// renders the video at). The bandwidth estimate may still pick a smaller one.
    pub fn set_preferred_layer(
        &mut self,
        subscriber: ParticipantId,
        track: TrackId,
        layer: Layer,
    ) -> Result<(), Error> {
        let known = self
            .participants
            .get(&track.publisher)
            .is_some_and(|p| p.published.contains_key(&track.mid));
        if !known {
            return Err(Error::UnknownTrack(track));
        }
        let p = self.participant_mut(subscriber)?;
        let s = p
            .subscriptions
            .iter_mut()
            .find(|s| s.source == track)
            .ok_or(Error::UnknownTrack(track))?;
        s.preferred = layer;
        Ok(())
    }

    /// Ends a participant's media session (e.g. it was removed from the MLS group) and drops
    /// all its state. Emits [`Event::TrackUnpublished`] and [`Event::Disconnected`].
    pub fn remove_participant(&mut self, id: ParticipantId) -> Result<(), Error> {
        if !self.participants.contains_key(&id) {
            return Err(Error::UnknownParticipant(id));
        }
        self.drop_participant(id, DisconnectReason::Removed);
        Ok(())
    }

    /// Feeds one received UDP datagram. Returns `false` if no participant accepts it (unknown
    /// sender or garbage): the caller just drops it.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        contents: &[u8],
    ) -> bool {
        self.handle_receive_on(now, Protocol::Udp, source, destination, contents)
    }

    /// Like [`Sfu::handle_receive`] for a packet that arrived over `proto`: `Protocol::Tcp`
    /// for one RFC 4571 frame of an ICE-TCP connection (see [`SfuConfig::tcp_addr`]). Replies
    /// to it come out as transmits with the same protocol and the peer's address as destination.
    pub fn handle_receive_on(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        contents: &[u8],
    ) -> bool {
        self.now = self.now.max(now);
        let Ok(contents) = contents.try_into() else {
            return false;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto,
                source,
                destination,
                contents,
            },
        );
        let accepts = |p: &Participant| p.rtc.is_alive() && p.rtc.accepts(&input);
        let hinted = self
            .routes
            .get(&source)
            .copied()
            .filter(|id| self.participants.get(id).is_some_and(accepts));
        let Some(id) = hinted.or_else(|| {
            self.participants
                .iter()
                .find(|(_, p)| accepts(p))
                .map(|(id, _)| *id)
        }) else {
            return false;
        };
        if hinted.is_none() {
            self.routes.insert(source, id);
        }
        let Some(p) = self.participants.get_mut(&id) else {
            return false;
        };
        if let Err(e) = p.rtc.handle_input(input) {
            tracing::debug!(participant = %id, error = %e, "input failed; disconnecting");
            p.rtc.disconnect();
        }
        self.drain(id);
        true
    }

    /// Advances time for every participant.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let ids: Vec<ParticipantId> = self.participants.keys().copied().collect();
        for id in ids {
            let Some(p) = self.participants.get_mut(&id) else {
                continue;
            };
            if p.rtc.is_alive()
                && let Err(e) = p.rtc.handle_input(Input::Timeout(now))
            {
                tracing::debug!(participant = %id, error = %e, "timeout failed; disconnecting");
                p.rtc.disconnect();
            }
            if !p.connected
                && now.saturating_duration_since(p.joined_at) >= self.config.connect_timeout
            {
                self.drop_participant(id, DisconnectReason::ConnectTimeout);
                continue;
            }
            self.drain(id);
        }
    }

    /// Next output. Call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        loop {
            if let Some(o) = self.out.pop_front() {
                return o;
            }
            if let Some(t) = self.pump() {
                return Output::Timeout(t);
            }
        }
    }

    /// Polls every participant once. Returns the earliest timeout if nothing happened.
    fn pump(&mut self) -> Option<Instant> {
        let mut next = self.now + Duration::from_secs(1);
        let mut progressed = false;
        let ids: Vec<ParticipantId> = self.participants.keys().copied().collect();
        for id in ids {
            let (busy, timeout) = self.drain(id);
            progressed |= busy;
            if let Some(t) = timeout {
                next = next.min(t);
            }
        }
        (!progressed).then_some(next)
    }

    /// Polls one participant's `Rtc` until its timeout, queueing transmits and events and
    /// running the work they cause on other participants. str0m holds only one received RTP
    /// packet at a time, so this runs after every input.
    fn drain(&mut self, id: ParticipantId) -> (bool, Option<Instant>) {
        let mut jobs = Vec::new();
        let mut progressed = false;
        let mut timeout = None;
        let Some(p) = self.participants.get_mut(&id) else {
            return (false, None);
        };
        loop {
            if !p.rtc.is_alive() {
                let reason = if p.connected {
                    DisconnectReason::Timeout
                } else {
                    DisconnectReason::Failed
                };
                jobs.push(Job::Gone(reason));
                break;
            }
            match p.rtc.poll_output() {
                Ok(RtcOutput::Timeout(t)) => {
                    timeout = Some(t);
                    break;
                }
                Ok(RtcOutput::Transmit(transmit)) => {
                    progressed = true;
                    self.out.push_back(Output::Transmit {
                        participant: id,
                        transmit,
                    });
                }
                Ok(RtcOutput::Event(e)) => {
                    progressed = true;
                    handle_rtc_event(id, p, e, &mut jobs, &mut self.out);
                }
                Err(e) => {
                    tracing::debug!(participant = %id, error = %e, "poll failed");
                    jobs.push(Job::Gone(DisconnectReason::Failed));
                    break;
                }
            }
        }
        progressed |= !jobs.is_empty();
        for job in jobs {
            self.run_job(id, job);
        }
        (progressed, timeout)
    }

    fn run_job(&mut self, id: ParticipantId, job: Job) {
        match job {
            Job::Publish(mid, published) => {
                let track = TrackId { publisher: id, mid };
                let kind = published.kind;
                let layers = published.layers();
                let Some(p) = self.participants.get_mut(&id) else {
                    return;
                };
                p.published.insert(mid, published);
                self.out.push_back(Output::Event(Event::TrackPublished {
                    track,
                    kind,
                    layers,
                }));
                let others: Vec<ParticipantId> = self
                    .participants
                    .keys()
                    .copied()
                    .filter(|o| *o != id)
                    .collect();
                for o in others {
                    if let Some(sub) = self.participants.get_mut(&o) {
                        sub.subscribe(track, kind);
                    }
                    self.negotiate(o);
                }
            }
            Job::Unpublish(mid) => self.unpublish(TrackId { publisher: id, mid }),
            Job::Forward(packet) => self.forward(id, packet),
            Job::KeyframeFor(mid) => {
                let Some(p) = self.participants.get(&id) else {
                    return;
                };
                let Some(s) = p.subscriptions.iter().find(|s| s.open_mid() == Some(mid)) else {
                    return;
                };
                let track = s.source;
                let layer = s.rewriter.current().unwrap_or(Layer::High);
                self.request_keyframe(track, layer);
            }
            Job::Gone(reason) => self.drop_participant(id, reason),
        }
    }

    fn unpublish(&mut self, track: TrackId) {
        let Some(p) = self.participants.get_mut(&track.publisher) else {
            return;
        };
        if p.published.remove(&track.mid).is_none() {
            return;
        }
        self.out
            .push_back(Output::Event(Event::TrackUnpublished(track)));
        let others: Vec<ParticipantId> = self.participants.keys().copied().collect();
        for o in others {
            if let Some(sub) = self.participants.get_mut(&o) {
                sub.unsubscribe(track.publisher, Some(track.mid));
            }
            self.negotiate(o);
        }
    }

    fn drop_participant(&mut self, id: ParticipantId, reason: DisconnectReason) {
        let Some(mut p) = self.participants.remove(&id) else {
            return;
        };
        // Say goodbye (RTCP BYE, DTLS close_notify) where the session is still up; a peer
        // that timed out simply never reads it.
        if p.rtc.is_alive() && p.rtc.close().is_ok() {
            for _ in 0..CLOSE_DRAIN_LIMIT {
                match p.rtc.poll_output() {
                    Ok(RtcOutput::Transmit(transmit)) => self.out.push_back(Output::Transmit {
                        participant: id,
                        transmit,
                    }),
                    Ok(RtcOutput::Event(_)) => {}
                    Ok(RtcOutput::Timeout(_)) | Err(_) => break,
                }
                if !p.rtc.is_alive() {
                    break;
                }
            }
        }
        p.rtc.disconnect();
        self.routes.retain(|_, owner| *owner != id);
        for mid in p.published.keys() {
            let track = TrackId {
                publisher: id,
                mid: *mid,
            };
            self.out
                .push_back(Output::Event(Event::TrackUnpublished(track)));
        }
        let others: Vec<ParticipantId> = self.participants.keys().copied().collect();
        for o in others {
            if let Some(sub) = self.participants.get_mut(&o) {
                sub.unsubscribe(id, None);
            }
            self.negotiate(o);
        }
        tracing::debug!(participant = %id, ?reason, "participant gone");
        self.out.push_back(Output::Event(Event::Disconnected {
            participant: id,
            reason,
        }));
    }

    fn participant_mut(&mut self, id: ParticipantId) -> Result<&mut Participant, Error> {
        self.participants
            .get_mut(&id)
            .ok_or(Error::UnknownParticipant(id))
    }
}

/// Handles one str0m event of participant `id`; work on other participants becomes a [`Job`].
fn handle_rtc_event(
    id: ParticipantId,
    p: &mut Participant,
    event: RtcEvent,
    jobs: &mut Vec<Job>,
    out: &mut VecDeque<Output>,
) {
    match event {
        RtcEvent::Connected => {
            p.connected = true;
            out.push_back(Output::Event(Event::Connected(id)));
        }
        RtcEvent::IceConnectionStateChange(IceConnectionState::Disconnected) => {
            jobs.push(Job::Gone(DisconnectReason::Timeout));
        }
        RtcEvent::Closed => jobs.push(Job::Gone(DisconnectReason::Closed)),
        RtcEvent::MediaAdded(m) => {
            if matches!(m.direction, Direction::RecvOnly | Direction::SendRecv) {
                let mut rids = Vec::new();
                for l in m.simulcast.iter().flat_map(|s| s.recv.iter()) {
                    if let Some(layer) = Layer::from_rid(l.rid) {
                        rids.push((layer, l.rid));
                    }
                }
                let published = Published {
                    kind: m.kind,
                    rids,
                    last_keyframe_request: [None; 3],
                    last_seen: [None; 3],
                    first_seen: None,
                };
                jobs.push(Job::Publish(m.mid, published));
            }
        }
        RtcEvent::MediaChanged(m) => {
            let receiving = matches!(m.direction, Direction::RecvOnly | Direction::SendRecv);
            if !receiving && p.published.contains_key(&m.mid) {
                jobs.push(Job::Unpublish(m.mid));
            }
        }
        RtcEvent::RtpPacket(packet) => jobs.push(Job::Forward(Box::new(packet))),
        RtcEvent::KeyframeRequest(req) => jobs.push(Job::KeyframeFor(req.mid)),
        RtcEvent::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
            let bps = estimate.as_u64();
            p.bwe_bps = Some(bps);
            out.push_back(Output::Event(Event::BandwidthEstimate {
                participant: id,
                bps,
            }));
        }
        _ => {}
    }
}
