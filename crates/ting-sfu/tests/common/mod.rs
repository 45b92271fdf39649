//! In-memory network of str0m client `Rtc`s around one `Sfu`, on a virtual clock.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ting_sfu::str0m::change::{SdpAnswer, SdpApi, SdpOffer, SdpPendingOffer};
use ting_sfu::str0m::format::Codec;
use ting_sfu::str0m::media::{Direction, MediaKind, Mid, Rid, Simulcast, SimulcastLayer};
use ting_sfu::str0m::net::{Protocol, Receive, TcpType};
use ting_sfu::str0m::rtp::{ExtensionValues, RtpWrite};
use ting_sfu::str0m::{Candidate, Event as RtcEvent, Input, Output as RtcOutput, Rtc};
use ting_sfu::{Event, Output, ParticipantId, Sfu, SfuConfig};

pub(crate) const SFU_ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 3478);

/// Deterministic xorshift PRNG for packet loss.
pub(crate) struct Rng(u64);
impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub(crate) fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A received media payload, decoded from the synthetic format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Got {
    pub(crate) publisher: u8,
    pub(crate) kind: u8,
    pub(crate) layer: u8,
    pub(crate) frame: u32,
    pub(crate) audio_level: Option<i8>,
    pub(crate) mid: Mid,
}

pub(crate) struct Client {
    pub(crate) id: ParticipantId,
    pub(crate) rtc: Rtc,
    pub(crate) addr: SocketAddr,
    pub(crate) audio: Option<Mid>,
    pub(crate) video: Option<Mid>,
    pub(crate) screen: Option<Mid>,
    pub(crate) video_codec: Codec,
    pub(crate) simulcast: bool,
    pub(crate) received: Vec<Got>,
    pub(crate) corrupt: usize,
    /// Every received payload, as received.
    pub(crate) raw: Vec<Vec<u8>>,
    pub(crate) keyframe_requests: usize,
    /// The router closed the session (DTLS close_notify received).
    pub(crate) closed: bool,
    pub(crate) connected: bool,
    pub(crate) next: Instant,
    pub(crate) alive: bool,
}

struct Packet {
    at: Instant,
    proto: Protocol,
    to_sfu: bool,
    source: SocketAddr,
    destination: SocketAddr,
    bytes: Vec<u8>,
}

pub(crate) struct Net {
    pub(crate) sfu: Sfu,
    pub(crate) clients: Vec<Client>,
    pub(crate) now: Instant,
    pub(crate) start: Instant,
    queue: Vec<Packet>,
    pub(crate) latency: Duration,
    /// Loss applied to packets from the SFU to clients.
    pub(crate) loss_down: f64,
    /// Loss applied to packets from clients to the SFU.
    pub(crate) loss_up: f64,
    pub(crate) rng: Rng,
    pub(crate) events: Vec<Event>,
    pub(crate) delivered: usize,
    pub(crate) dropped: usize,
    /// Keep the router's offers in `held` instead of answering them at once.
    pub(crate) hold_offers: bool,
    pub(crate) held: Vec<(ParticipantId, u64, String)>,
    /// Clients offer only an active ICE-TCP candidate (RFC 6544) and the router's packets to
    /// them must come out as TCP.
    pub(crate) tcp: bool,
    /// Packets the router sent with a protocol other than the client's.
    pub(crate) wrong_proto: usize,
}

/// Synthetic payload: codec prefix, then publisher, kind, layer, frame, filler, FNV-1a checksum.
/// VP8: descriptor byte 0x10 (start of partition 0) and a clear header byte whose bit 0 is 0 on
/// keyframes — as the SFrame packetization leaves them; the rest stands for ciphertext.
pub(crate) fn payload(publisher: u8, kind: u8, layer: u8, frame: u32, keyframe: bool) -> Vec<u8> {
    let mut p = Vec::with_capacity(64);
    match kind {
        // Opus: TOC byte (kept clear by the SFrame packetization).
        0 => p.extend_from_slice(&[0x78, 0x00]),
        // VP9 descriptor: B|E, plus P on inter frames.
        3 => p.extend_from_slice(&[if keyframe { 0x0c } else { 0x4c }, 0x00]),
        // AV1 aggregation header: N on the first packet of a coded video sequence.
        4 => p.extend_from_slice(&[if keyframe { 0x18 } else { 0x10 }, 0x00]),
        // VP8 descriptor (start of partition 0) and a clear header byte, P bit 0 on keyframes.
        _ => p.extend_from_slice(&[0x10, if keyframe { 0x00 } else { 0x01 }]),
    }
    p.push(publisher);
    p.push(kind);
    p.push(layer);
    p.extend_from_slice(&frame.to_be_bytes());
    for i in 0..(40 + (frame % 50)) {
        p.push((i as u8).wrapping_mul(31) ^ publisher ^ (frame as u8));
    }
    let sum = fnv(&p);
    p.extend_from_slice(&sum.to_be_bytes());
    p
}

fn fnv(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for x in b {
        h ^= u32::from(*x);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn parse(p: &[u8]) -> Option<(u8, u8, u8, u32)> {
    if p.len() < 13 {
        return None;
    }
    let (body, sum) = p.split_at(p.len() - 4);
    if fnv(body).to_be_bytes() != sum {
        return None;
    }
    let frame = u32::from_be_bytes([body[5], body[6], body[7], body[8]]);
    let keyframe = match body[3] {
        3 => body[0] & 0x40 == 0,
        4 => body[0] & 0x08 != 0,
        _ => body[1] == 0,
    };
    let expect = payload(body[2], body[3], body[4], frame, keyframe);
    (expect == p).then_some((body[2], body[3], body[4], frame))
}

pub(crate) const RIDS: [&str; 3] = ["q", "h", "f"];

impl Net {
    pub(crate) fn new(config: impl FnOnce(SfuConfig) -> SfuConfig) -> Net {
        let now = Instant::now();
        let cfg = config(SfuConfig::new(SocketAddr::from(SFU_ADDR)));
        Net {
            sfu: Sfu::new(now, cfg),
            clients: Vec::new(),
            now,
            start: now,
            queue: Vec::new(),
            latency: Duration::from_millis(5),
            loss_down: 0.0,
            loss_up: 0.0,
            rng: Rng::new(0x5eed),
            events: Vec::new(),
            delivered: 0,
            dropped: 0,
            hold_offers: false,
            held: Vec::new(),
            tcp: false,
            wrong_proto: 0,
        }
    }

    /// Joins a client publishing audio and (optionally simulcast) video.
    pub(crate) fn join(&mut self, audio: bool, video: bool, simulcast: bool) -> usize {
        let idx = self.clients.len();
        let id = ParticipantId(idx as u64 + 1);
        let addr = SocketAddr::from((Ipv4Addr::new(127, 1, 0, idx as u8 + 1), 5000));
        let mut rtc = Rtc::builder().set_rtp_mode(true).build(self.now);
        let candidate = if self.tcp {
            Candidate::builder()
                .tcp()
                .host(addr)
                .tcptype(TcpType::Active)
                .build()
                .expect("candidate")
        } else {
            Candidate::host(addr, "udp").expect("candidate")
        };
        rtc.add_local_candidate(candidate);
        let mut api = rtc.sdp_api();
        let a =
            audio.then(|| api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
        let v = video.then(|| {
            let sim = simulcast.then(|| {
                let mut s = Simulcast::new();
                for r in RIDS {
                    s.add_send_layer(SimulcastLayer::new(r));
                }
                s
            });
            api.add_media(MediaKind::Video, Direction::SendOnly, None, None, sim)
        });
        let (offer, pending) = api.apply().expect("offer");
        let answer = self
            .sfu
            .add_participant(self.now, id, &offer.to_sdp_string())
            .expect("join");
        accept_answer(&mut rtc, pending, &answer);
        self.clients.push(Client {
            id,
            rtc,
            addr,
            audio: a,
            video: v,
            screen: None,
            video_codec: Codec::Vp8,
            simulcast,
            received: Vec::new(),
            corrupt: 0,
            raw: Vec::new(),
            keyframe_requests: 0,
            closed: false,
            connected: false,
            next: self.now,
            alive: true,
        });
        idx
    }

    /// Client `i` renegotiates: `change` edits its session, the router answers.
    pub(crate) fn renegotiate<R>(
        &mut self,
        i: usize,
        change: impl FnOnce(&mut SdpApi<'_>) -> R,
    ) -> R {
        let c = &mut self.clients[i];
        let mut api = c.rtc.sdp_api();
        let r = change(&mut api);
        let (offer, pending) = api.apply().expect("changes");
        let answer = self
            .sfu
            .handle_offer(c.id, &offer.to_sdp_string())
            .expect("router answers");
        accept_answer(&mut c.rtc, pending, &answer);
        r
    }

    /// Client `i` sends one raw VP8 packet on its video track (layer `rid`).
    pub(crate) fn send_raw(&mut self, i: usize, rid: Option<&str>, seq: u64, payload: Vec<u8>) {
        let now = self.now;
        let c = &mut self.clients[i];
        let pt = pt_of(&c.rtc, Codec::Vp8);
        let mid = c.video.expect("video track");
        let mut api = c.rtc.direct_api();
        let tx = api
            .stream_tx_by_mid(mid, rid.map(Rid::from))
            .expect("stream");
        tx.write_rtp(
            RtpWrite::new(pt, seq.into(), (seq * 3000) as u32, now, payload)
                .marker(true)
                .nackable(true),
        );
    }

    /// Client `i` answers a router offer.
    pub(crate) fn answer(&mut self, i: usize, offer_id: u64, sdp: &str) {
        let c = &mut self.clients[i];
        let offer = SdpOffer::from_sdp_string(sdp).expect("sfu offer parses");
        let answer = c.rtc.sdp_api().accept_offer(offer).expect("accept offer");
        self.sfu
            .handle_answer(c.id, offer_id, &answer.to_sdp_string())
            .expect("answer accepted");
    }

    fn client_by_addr(&self, addr: SocketAddr) -> Option<usize> {
        self.clients.iter().position(|c| c.addr == addr)
    }

    /// Polls everything until quiet, then advances the clock to the next deadline.
    pub(crate) fn step(&mut self) {
        self.poll_all();
        let mut next = self.now + Duration::from_millis(20);
        if let Some(p) = self.queue.iter().map(|p| p.at).min() {
            next = next.min(p);
        }
        for c in self.clients.iter().filter(|c| c.alive) {
            next = next.min(c.next);
        }
        if let Output::Timeout(t) = self.sfu.poll_output() {
            next = next.min(t);
        }
        self.now = next.max(self.now + Duration::from_micros(100));
        self.deliver();
        self.sfu.handle_timeout(self.now);
        for c in self.clients.iter_mut().filter(|c| c.alive) {
            c.rtc
                .handle_input(Input::Timeout(self.now))
                .expect("client timeout");
        }
        self.poll_all();
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.step();
        }
    }

    fn deliver(&mut self) {
        let now = self.now;
        let (due, rest): (Vec<_>, Vec<_>) = self.queue.drain(..).partition(|p| p.at <= now);
        self.queue = rest;
        for p in due {
            if p.to_sfu {
                self.sfu
                    .handle_receive_on(now, p.proto, p.source, p.destination, &p.bytes);
            } else if let Some(i) = self.client_by_addr(p.destination) {
                let c = &mut self.clients[i];
                if !c.alive {
                    continue;
                }
                let input = Input::Receive(
                    now,
                    Receive {
                        proto: p.proto,
                        source: p.source,
                        destination: p.destination,
                        contents: p.bytes.as_slice().try_into().expect("datagram"),
                    },
                );
                c.rtc.handle_input(input).expect("client input");
                self.poll_client(i);
            }
        }
    }

    /// Polls client `i` until its timeout. Returns whether anything happened.
    fn poll_client(&mut self, i: usize) -> bool {
        let mut busy = false;
        let c = &mut self.clients[i];
        if !c.alive {
            return false;
        }
        loop {
            match c.rtc.poll_output().expect("client poll") {
                RtcOutput::Timeout(t) => {
                    c.next = t;
                    break;
                }
                RtcOutput::Transmit(t) => {
                    busy = true;
                    if self.rng.unit() < self.loss_up {
                        self.dropped += 1;
                        continue;
                    }
                    self.queue.push(Packet {
                        at: self.now + self.latency,
                        proto: t.proto,
                        to_sfu: true,
                        source: t.source,
                        destination: t.destination,
                        bytes: t.contents.to_vec(),
                    });
                }
                RtcOutput::Event(e) => {
                    busy = true;
                    match e {
                        RtcEvent::Connected => c.connected = true,
                        RtcEvent::KeyframeRequest(_) => c.keyframe_requests += 1,
                        RtcEvent::Closed => c.closed = true,
                        RtcEvent::RtpPacket(p) => {
                            c.raw.push(p.payload.to_vec());
                            match parse(&p.payload) {
                                Some((publisher, kind, layer, frame)) => c.received.push(Got {
                                    publisher,
                                    kind,
                                    layer,
                                    frame,
                                    audio_level: p.header.ext_vals.audio_level,
                                    mid: p.header.ext_vals.mid.unwrap_or_default(),
                                }),
                                None => c.corrupt += 1,
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        busy
    }

    fn poll_all(&mut self) {
        loop {
            let mut busy = false;
            loop {
                match self.sfu.poll_output() {
                    Output::Timeout(_) => break,
                    Output::Transmit { transmit, .. } => {
                        busy = true;
                        if self.rng.unit() < self.loss_down {
                            self.dropped += 1;
                            continue;
                        }
                        self.delivered += 1;
                        let client_proto = if self.tcp {
                            Protocol::Tcp
                        } else {
                            Protocol::Udp
                        };
                        if transmit.proto != client_proto {
                            self.wrong_proto += 1;
                        }
                        self.queue.push(Packet {
                            at: self.now + self.latency,
                            proto: transmit.proto,
                            to_sfu: false,
                            source: transmit.source,
                            destination: transmit.destination,
                            bytes: transmit.contents.to_vec(),
                        });
                    }
                    Output::Event(Event::Offer {
                        participant,
                        offer_id,
                        sdp,
                    }) => {
                        busy = true;
                        let i = participant.0 as usize - 1;
                        let c = &mut self.clients[i];
                        if self.hold_offers {
                            self.held.push((participant, offer_id, sdp.clone()));
                        } else if c.alive {
                            let offer = SdpOffer::from_sdp_string(&sdp).expect("sfu offer parses");
                            let answer = c.rtc.sdp_api().accept_offer(offer).expect("accept offer");
                            self.sfu
                                .handle_answer(participant, offer_id, &answer.to_sdp_string())
                                .expect("answer accepted");
                        }
                        self.events.push(Event::Offer {
                            participant,
                            offer_id,
                            sdp,
                        });
                    }
                    Output::Event(e) => {
                        busy = true;
                        self.events.push(e);
                    }
                }
            }
            for i in 0..self.clients.len() {
                busy |= self.poll_client(i);
            }
            if !busy {
                break;
            }
        }
    }

    /// Runs until every client is connected and every subscription negotiated.
    pub(crate) fn settle(&mut self) {
        let deadline = self.now + Duration::from_secs(5);
        while self.now < deadline {
            self.step();
            if self.clients.iter().all(|c| c.connected) {
                break;
            }
        }
        assert!(
            self.clients.iter().all(|c| c.connected),
            "all clients connect"
        );
        self.run_for(Duration::from_millis(100));
    }

    /// Each client sends one audio frame and one video frame (all layers if simulcast).
    pub(crate) fn send_frame(&mut self, frame: u32, keyframe: bool) {
        let now = self.now;
        for c in self.clients.iter_mut().filter(|c| c.alive) {
            let publisher = c.id.0 as u8;
            if let Some(mid) = c.audio {
                let pt = pt_of(&c.rtc, Codec::Opus);
                let ext = ExtensionValues {
                    audio_level: Some(-30),
                    voice_activity: Some(true),
                    ..Default::default()
                };
                let mut api = c.rtc.direct_api();
                if let Some(tx) = api.stream_tx_by_mid(mid, None) {
                    tx.write_rtp(
                        RtpWrite::new(
                            pt,
                            u64::from(frame + 1).into(),
                            frame * 960,
                            now,
                            payload(publisher, 0, 0, frame, true),
                        )
                        .marker(true)
                        .ext_vals(ext),
                    );
                }
            }
            if let Some(mid) = c.screen {
                let pt = pt_of(&c.rtc, Codec::Vp8);
                let mut api = c.rtc.direct_api();
                if let Some(tx) = api.stream_tx_by_mid(mid, None) {
                    tx.write_rtp(
                        RtpWrite::new(
                            pt,
                            u64::from(frame + 1).into(),
                            frame * 3000,
                            now,
                            payload(publisher, 2, 0, frame, keyframe),
                        )
                        .marker(true)
                        .nackable(true),
                    );
                }
            }
            if let Some(mid) = c.video {
                let pt = pt_of(&c.rtc, c.video_codec);
                let kind = match c.video_codec {
                    Codec::Vp9 => 3,
                    Codec::Av1 => 4,
                    _ => 1,
                };
                let layers: Vec<Option<Rid>> = if c.simulcast {
                    RIDS.iter().map(|r| Some(Rid::from(*r))).collect()
                } else {
                    vec![None]
                };
                for (li, rid) in layers.into_iter().enumerate() {
                    let mut api = c.rtc.direct_api();
                    if let Some(tx) = api.stream_tx_by_mid(mid, rid) {
                        tx.write_rtp(
                            RtpWrite::new(
                                pt,
                                u64::from(frame + 1).into(),
                                frame * 3000,
                                now,
                                payload(publisher, kind, li as u8, frame, keyframe),
                            )
                            .marker(true)
                            .nackable(true),
                        );
                    }
                }
            }
        }
    }
}

pub(crate) fn pt_of(rtc: &Rtc, codec: Codec) -> ting_sfu::str0m::media::Pt {
    rtc.codec_config()
        .find(|p| p.spec().codec == codec)
        .expect("codec configured")
        .pt()
}

fn accept_answer(rtc: &mut Rtc, pending: SdpPendingOffer, answer: &str) {
    let answer = SdpAnswer::from_sdp_string(answer).expect("answer parses");
    rtc.sdp_api()
        .accept_answer(pending, answer)
        .expect("answer accepted");
}

/// Distinct (publisher, kind, frame) a client received.
pub(crate) fn distinct(c: &Client) -> BTreeMap<(u8, u8), std::collections::BTreeSet<u32>> {
    let mut m: BTreeMap<(u8, u8), std::collections::BTreeSet<u32>> = BTreeMap::new();
    for g in &c.received {
        m.entry((g.publisher, g.kind)).or_default().insert(g.frame);
    }
    m
}
