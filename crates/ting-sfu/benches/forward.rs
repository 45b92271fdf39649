//! Forwarded packets per second through the router for a 1→N fan-out, on a virtual clock, beside
//! a baseline measured in the same run.
//!
//! One publisher sends VP8-shaped packets; N subscribers receive them over an in-memory network
//! through either one `Sfu` ("ting") or the smallest forwarder str0m allows ("bare_str0m"): one
//! ICE-lite RTP-mode `Rtc` per peer, negotiated once up front, every incoming packet written
//! unchanged to each subscriber's stream — no BWE, no layer selection, no renegotiation, no
//! bookkeeping. The clock is virtual (pacing and timers advance instantly), so the figure is
//! CPU cost: SRTP decrypt once, encrypt N times, plus whatever the router adds; the N simulated
//! client connections decrypting in the same process are included in both.

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ting_sfu::str0m::change::{SdpAnswer, SdpOffer};
use ting_sfu::str0m::format::Codec;
use ting_sfu::str0m::media::{Direction, MediaKind, Mid};
use ting_sfu::str0m::net::{Protocol, Receive};
use ting_sfu::str0m::rtp::RtpWrite;
use ting_sfu::str0m::{Candidate, Event as RtcEvent, Input, Output as RtcOutput, Rtc};
use ting_sfu::{Event, Output, ParticipantId, Sfu, SfuConfig};

const BATCH: u64 = 50;

struct Peer {
    rtc: Rtc,
    addr: SocketAddr,
    received: u64,
    connected: bool,
}

/// The forwarder under test.
enum Router {
    Ting(Box<Sfu>),
    Bare(Bare),
}

/// The baseline: one `Rtc` per peer; packets from peer 0 go to every other peer's `out` mid.
struct Bare {
    rtcs: Vec<Rtc>,
    peers: Vec<SocketAddr>,
    out: Vec<Option<Mid>>,
}

struct Fanout {
    router: Router,
    peers: Vec<Peer>,
    video: Mid,
    now: Instant,
    seq: u64,
    inflight: Vec<(bool, SocketAddr, SocketAddr, Vec<u8>)>,
}

impl Fanout {
    fn new(subscribers: usize, bare: bool) -> Fanout {
        let now = Instant::now();
        let sfu_addr = SocketAddr::from((Ipv4Addr::new(127, 0, 0, 1), 3478));
        let router = if bare {
            Router::Bare(Bare {
                rtcs: Vec::new(),
                peers: Vec::new(),
                out: Vec::new(),
            })
        } else {
            Router::Ting(Box::new(Sfu::new(now, SfuConfig::new(sfu_addr))))
        };
        let mut f = Fanout {
            router,
            peers: Vec::new(),
            video: Mid::from("v"),
            now,
            seq: 0,
            inflight: Vec::new(),
        };
        for i in 0..=subscribers {
            // Everyone offers one m-line; only peer 0 (the publisher) sends on it.
            let kind = if i == 0 {
                MediaKind::Video
            } else {
                MediaKind::Audio
            };
            let addr = SocketAddr::from((
                Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250) as u8 + 1),
                5000,
            ));
            let mut rtc = Rtc::builder().set_rtp_mode(true).build(now);
            rtc.add_local_candidate(Candidate::host(addr, "udp").expect("candidate"));
            let mut api = rtc.sdp_api();
            let mid = api.add_media(kind, Direction::SendOnly, None, None, None);
            let (offer, pending) = api.apply().expect("offer");
            let answer = match &mut f.router {
                Router::Ting(sfu) => sfu
                    .add_participant(now, ParticipantId(i as u64), &offer.to_sdp_string())
                    .expect("join"),
                Router::Bare(b) => b.add(now, sfu_addr, addr, &offer),
            };
            let answer = SdpAnswer::from_sdp_string(&answer).expect("answer");
            rtc.sdp_api()
                .accept_answer(pending, answer)
                .expect("accept");
            if let Router::Bare(b) = &mut f.router {
                b.subscribe(i, &mut rtc);
            }
            if i == 0 {
                f.video = mid;
            }
            f.peers.push(Peer {
                rtc,
                addr,
                received: 0,
                connected: false,
            });
        }
        while !f.peers.iter().all(|p| p.connected) {
            f.step();
        }
        for _ in 0..50 {
            f.step();
        }
        f
    }

    fn poll(&mut self) {
        loop {
            let mut busy = false;
            let sfu = match &mut self.router {
                Router::Ting(sfu) => sfu,
                Router::Bare(b) => {
                    busy |= b.poll(&mut self.inflight);
                    for i in 0..self.peers.len() {
                        busy |= self.poll_peer(i);
                    }
                    if !busy {
                        break;
                    }
                    continue;
                }
            };
            loop {
                match sfu.poll_output() {
                    Output::Timeout(_) => break,
                    Output::Transmit { transmit, .. } => {
                        busy = true;
                        let bytes = transmit.contents.to_vec();
                        self.inflight
                            .push((false, transmit.source, transmit.destination, bytes));
                    }
                    Output::Event(Event::Offer {
                        participant,
                        offer_id,
                        sdp,
                    }) => {
                        busy = true;
                        let peer = &mut self.peers[participant.0 as usize];
                        let offer = SdpOffer::from_sdp_string(&sdp).expect("offer");
                        let answer = peer.rtc.sdp_api().accept_offer(offer).expect("accept");
                        sfu.handle_answer(participant, offer_id, &answer.to_sdp_string())
                            .expect("answer");
                    }
                    Output::Event(_) => busy = true,
                }
            }
            for i in 0..self.peers.len() {
                busy |= self.poll_peer(i);
            }
            if !busy {
                break;
            }
        }
    }

    fn poll_peer(&mut self, i: usize) -> bool {
        let mut busy = false;
        let p = &mut self.peers[i];
        loop {
            match p.rtc.poll_output().expect("peer poll") {
                RtcOutput::Timeout(_) => return busy,
                RtcOutput::Transmit(t) => {
                    busy = true;
                    self.inflight
                        .push((true, t.source, t.destination, t.contents.to_vec()));
                }
                RtcOutput::Event(RtcEvent::Connected) => p.connected = true,
                RtcOutput::Event(RtcEvent::RtpPacket(pkt)) => {
                    black_box(&pkt.payload);
                    p.received += 1;
                }
                RtcOutput::Event(_) => {}
            }
        }
    }

    /// Delivers everything in flight, then advances the virtual clock by 5 ms.
    fn step(&mut self) {
        self.poll();
        self.now += Duration::from_millis(5);
        let now = self.now;
        for (to_sfu, source, destination, bytes) in std::mem::take(&mut self.inflight) {
            if to_sfu {
                match &mut self.router {
                    Router::Ting(sfu) => {
                        sfu.handle_receive(now, source, destination, &bytes);
                    }
                    Router::Bare(b) => b.receive(now, source, destination, &bytes),
                }
            } else if let Some(i) = self.peers.iter().position(|p| p.addr == destination) {
                let contents = bytes.as_slice().try_into().expect("datagram");
                let input = Input::Receive(
                    now,
                    Receive {
                        proto: Protocol::Udp,
                        source,
                        destination,
                        contents,
                    },
                );
                self.peers[i].rtc.handle_input(input).expect("peer input");
                self.poll_peer(i);
            }
        }
        match &mut self.router {
            Router::Ting(sfu) => sfu.handle_timeout(now),
            Router::Bare(b) => b.rtcs.iter_mut().for_each(|r| {
                r.handle_input(Input::Timeout(now)).expect("relay timeout");
            }),
        }
        for p in &mut self.peers {
            p.rtc
                .handle_input(Input::Timeout(now))
                .expect("peer timeout");
        }
        self.poll();
    }

    /// Publishes `BATCH` packets and runs until every subscriber got them.
    fn batch(&mut self) {
        let pt = self.peers[0]
            .rtc
            .codec_config()
            .find(|p| p.spec().codec == Codec::Vp8)
            .expect("vp8")
            .pt();
        let target: u64 = self.peers[1..].iter().map(|p| p.received).sum::<u64>()
            + BATCH * (self.peers.len() as u64 - 1);
        for _ in 0..BATCH {
            self.seq += 1;
            let mut payload = vec![0u8; 1000];
            payload[0] = 0x10; // VP8 descriptor: start of partition 0
            payload[1] = u8::from(self.seq % 100 != 1); // keyframe every 100 packets
            let now = self.now;
            let video = self.video;
            let mut api = self.peers[0].rtc.direct_api();
            let tx = api.stream_tx_by_mid(video, None).expect("publisher stream");
            tx.write_rtp(
                RtpWrite::new(pt, self.seq.into(), (self.seq * 3000) as u32, now, payload)
                    .marker(true)
                    .nackable(true),
            );
            self.step();
        }
        let mut guard = 0;
        while self.peers[1..].iter().map(|p| p.received).sum::<u64>() < target && guard < 2000 {
            self.step();
            guard += 1;
        }
        let got: u64 = self.peers[1..].iter().map(|p| p.received).sum();
        assert_eq!(got, target, "every subscriber receives every packet");
    }
}

impl Bare {
    /// Answers peer `addr`'s offer with a new ICE-lite RTP-mode `Rtc`.
    fn add(
        &mut self,
        now: Instant,
        local: SocketAddr,
        addr: SocketAddr,
        offer: &SdpOffer,
    ) -> String {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").expect("candidate"));
        let offer = SdpOffer::from_sdp_string(&offer.to_sdp_string()).expect("offer");
        let answer = rtc.sdp_api().accept_offer(offer).expect("answer");
        self.rtcs.push(rtc);
        self.peers.push(addr);
        self.out.push(None);
        answer.to_sdp_string()
    }

    /// Subscribers (every peer but 0) get one sendonly video line, negotiated directly.
    fn subscribe(&mut self, i: usize, peer: &mut Rtc) {
        if i == 0 {
            return;
        }
        let mut api = self.rtcs[i].sdp_api();
        let mid = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().expect("relay offer");
        let answer = peer.sdp_api().accept_offer(offer).expect("peer answer");
        self.rtcs[i]
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("relay accept");
        self.out[i] = Some(mid);
    }

    fn receive(&mut self, now: Instant, source: SocketAddr, destination: SocketAddr, b: &[u8]) {
        let Some(i) = self.peers.iter().position(|p| *p == source) else {
            return;
        };
        let contents = b.try_into().expect("datagram");
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination,
                contents,
            },
        );
        self.rtcs[i].handle_input(input).expect("relay input");
    }

    /// Polls every `Rtc`: datagrams go in flight, packets from peer 0 to every subscriber.
    fn poll(&mut self, inflight: &mut Vec<(bool, SocketAddr, SocketAddr, Vec<u8>)>) -> bool {
        let mut busy = false;
        for i in 0..self.rtcs.len() {
            loop {
                match self.rtcs[i].poll_output().expect("relay poll") {
                    RtcOutput::Timeout(_) => break,
                    RtcOutput::Transmit(t) => {
                        busy = true;
                        inflight.push((false, t.source, t.destination, t.contents.to_vec()));
                    }
                    RtcOutput::Event(RtcEvent::RtpPacket(pkt)) if i == 0 => {
                        busy = true;
                        for j in 1..self.rtcs.len() {
                            let Some(mid) = self.out[j] else { continue };
                            let rtc = &mut self.rtcs[j];
                            let Some(pt) = rtc
                                .codec_config()
                                .find(|p| p.spec().codec == Codec::Vp8)
                                .map(|p| p.pt())
                            else {
                                continue;
                            };
                            let mut api = rtc.direct_api();
                            let Some(tx) = api.stream_tx_by_mid(mid, None) else {
                                continue;
                            };
                            let write = RtpWrite::new(
                                pt,
                                pkt.seq_no,
                                pkt.header.timestamp,
                                pkt.timestamp,
                                pkt.payload.clone(),
                            )
                            .marker(pkt.header.marker)
                            .nackable(true);
                            tx.write_rtp(write);
                        }
                    }
                    RtcOutput::Event(_) => {}
                }
            }
        }
        busy
    }
}

fn forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward_1_to_n");
    group.sample_size(10);
    for n in [2usize, 5, 10, 25, 50] {
        group.throughput(Throughput::Elements(BATCH * n as u64));
        for (name, bare) in [("ting", false), ("bare_str0m", true)] {
            let mut fanout = Fanout::new(n, bare);
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| fanout.batch())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
