//! The media task: owns the UDP socket and every meeting's router.
//!
//! One task for all meetings rather than one per meeting: there is one socket, and a datagram
//! has to be matched to its meeting before anyone can act on it (by source address, confirmed
//! by the meeting's router — STUN credentials or the DTLS/SRTP session), so one owner of the
//! socket and the routing table is needed anyway. Keeping the routers in the same task makes
//! each datagram one synchronous call, with no hop through a second channel per packet. A
//! meeting is still one value (`Meeting`) that is dropped whole when its last participant
//! leaves (R17). Sharding meetings over several such tasks (and sockets) is the way to use
//! more cores.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ting_proto::ws::MeetingEndReason;
use ting_proto::ws::ServerEvent;
use ting_proto::{ErrorCode, RoomId};
use ting_sfu::str0m::net::{Protocol, Transmit};
use ting_sfu::{ParticipantId, SfuConfig};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::{Sender, UnboundedReceiver};

use super::meeting::{Meeting, Peer};
use super::tcp::TcpEvent;
use super::{Command, PROBE_LEN, Request};

/// Largest datagram read.
const MAX_DATAGRAM: usize = 2000;

pub(crate) struct MediaTask {
    socket: UdpSocket,
    advertised: SocketAddr,
    /// The advertised ICE-TCP address, when TCP is on.
    tcp_addr: Option<SocketAddr>,
    tcp_rx: Option<UnboundedReceiver<TcpEvent>>,
    /// Writers of open ICE-TCP connections, by peer address.
    tcp_peers: HashMap<SocketAddr, Sender<Vec<u8>>>,
    meetings: HashMap<RoomId, Meeting>,
    routes: HashMap<(Protocol, SocketAddr), RoomId>,
    next_participant: u64,
    out: Vec<Transmit>,
    /// Reachability probes sent to the advertised address, awaiting their datagram.
    probes: Vec<([u8; PROBE_LEN], tokio::sync::oneshot::Sender<()>)>,
}

/// Most probes waiting at once (older ones are dropped: their callers time out).
const MAX_PROBES: usize = 8;

impl MediaTask {
    pub(crate) fn new(
        socket: UdpSocket,
        advertised: SocketAddr,
        tcp_addr: Option<SocketAddr>,
        tcp_rx: Option<UnboundedReceiver<TcpEvent>>,
    ) -> Self {
        MediaTask {
            socket,
            advertised,
            tcp_addr,
            tcp_rx,
            tcp_peers: HashMap::new(),
            meetings: HashMap::new(),
            routes: HashMap::new(),
            next_participant: 1,
            out: Vec::new(),
            probes: Vec::new(),
        }
    }

    pub(crate) async fn run(mut self, mut rx: UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let deadline = self
                .meetings
                .values()
                .map(|m| m.deadline)
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Command::Probe { token, reply }) => self.send_probe(token, reply).await,
                    Some(cmd) => self.on_command(cmd),
                    None => return,
                },
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, source)) => {
                        let bytes = &buf[..n.min(buf.len())];
                        if !self.on_probe(bytes) {
                            let dest = self.advertised;
                            self.on_packet(Protocol::Udp, source, dest, bytes);
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "media socket receive failed"),
                },
                Some(ev) = next_tcp(&mut self.tcp_rx) => self.on_tcp(ev),
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {
                    let now = Instant::now();
                    let due: Vec<RoomId> = self
                        .meetings
                        .iter()
                        .filter(|(_, m)| m.deadline <= now)
                        .map(|(r, _)| *r)
                        .collect();
                    for room in due {
                        if let Some(m) = self.meetings.get_mut(&room) {
                            m.handle_timeout(now);
                        }
                        self.settle(room);
                    }
                }
            }
            self.flush().await;
        }
    }

    /// A datagram that is a pending reachability probe answers it.
    fn on_probe(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() != PROBE_LEN || self.probes.is_empty() {
            return false;
        }
        match self.probes.iter().position(|(t, _)| t[..] == *bytes) {
            Some(i) => {
                let (_, reply) = self.probes.swap_remove(i);
                let _ = reply.send(());
                true
            }
            None => false,
        }
    }

    async fn send_probe(
        &mut self,
        token: [u8; PROBE_LEN],
        reply: tokio::sync::oneshot::Sender<()>,
    ) {
        if self.probes.len() >= MAX_PROBES {
            self.probes.remove(0);
        }
        match self.socket.send_to(&token, self.advertised).await {
            Ok(_) => self.probes.push((token, reply)),
            Err(e) => tracing::warn!(error = %e, "media reachability probe not sent"),
        }
    }

    fn on_tcp(&mut self, ev: TcpEvent) {
        match ev {
            TcpEvent::Opened { peer, writer } => {
                self.tcp_peers.insert(peer, writer);
            }
            TcpEvent::Frame { peer, bytes } => {
                let Some(dest) = self.tcp_addr else { return };
                if !self.on_packet(Protocol::Tcp, peer, dest, &bytes) {
                    // Nobody's: close it (the connection task ends when its writer goes).
                    self.tcp_peers.remove(&peer);
                }
            }
            TcpEvent::Closed { peer } => {
                self.tcp_peers.remove(&peer);
                self.routes.remove(&(Protocol::Tcp, peer));
            }
        }
    }

    /// Feeds one packet to the meeting it belongs to; `false` if none accepts it.
    fn on_packet(
        &mut self,
        proto: Protocol,
        source: SocketAddr,
        dest: SocketAddr,
        bytes: &[u8],
    ) -> bool {
        let now = Instant::now();
        let hinted = self.routes.get(&(proto, source)).copied();
        if let Some(room) = hinted
            && let Some(m) = self.meetings.get_mut(&room)
            && m.handle_receive(now, proto, source, dest, bytes)
        {
            self.settle(room);
            return true;
        }
        // A new address first shows up with an ICE connectivity check (STUN, first byte 0 or 1
        // per RFC 7983); anything else from an unknown address is dropped without asking every
        // router.
        if bytes.first().is_none_or(|b| *b >= 2) {
            return false;
        }
        let found = self.meetings.iter_mut().find_map(|(room, m)| {
            m.handle_receive(now, proto, source, dest, bytes)
                .then_some(*room)
        });
        match found {
            Some(room) => {
                self.routes.insert((proto, source), room);
                self.settle(room);
                true
            }
            None => false,
        }
    }

    fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        let (room, conn, tx, req) = match cmd {
            Command::Request {
                room,
                conn,
                device,
                tx,
                request,
            } => {
                if let Request::Join { sdp, rules } = request {
                    if !rules.may_start && !self.meetings.contains_key(&room) {
                        let _ = tx.send(ServerEvent::Error {
                            code: ErrorCode::PolicyForbids,
                            message: "this organisation's policy lets only administrators start a meeting; join once one is running".into(),
                        });
                        return;
                    }
                    let id = ParticipantId(self.next_participant);
                    self.next_participant += 1;
                    let mut config = SfuConfig::new(self.advertised);
                    config.tcp_addr = self.tcp_addr;
                    let m = self
                        .meetings
                        .entry(room)
                        .or_insert_with(|| Meeting::new(now, room, config));
                    let peer = Peer {
                        conn,
                        device,
                        tx,
                        muted: None,
                        hand: false,
                    };
                    m.join(now, id, peer, &sdp, rules);
                    self.settle(room);
                    return;
                }
                (room, conn, tx, request)
            }
            Command::RemoveDevices { room, devices } => {
                if let Some(m) = self.meetings.get_mut(&room) {
                    m.remove_devices(&devices);
                }
                self.settle(room);
                return;
            }
            Command::Stats { reply } => {
                let participants = self.meetings.values().map(Meeting::participants).sum();
                let _ = reply.send((self.meetings.len(), participants));
                return;
            }
            Command::Probe { .. } => return,
            Command::Disconnected { conn } => {
                let rooms: Vec<RoomId> = self.meetings.keys().copied().collect();
                for room in rooms {
                    if let Some(m) = self.meetings.get_mut(&room)
                        && let Some(id) = m.participant_of(conn)
                    {
                        m.end(id, MeetingEndReason::Left);
                    }
                    self.settle(room);
                }
                return;
            }
        };
        let Some(m) = self.meetings.get_mut(&room) else {
            let _ = tx.send(super::not_in_meeting());
            return;
        };
        match req {
            Request::Join { .. } => {}
            Request::Offer { sdp, rules } => m.offer(conn, &tx, &sdp, rules),
            Request::Answer { offer_id, sdp } => m.answer(conn, &tx, offer_id, &sdp),
            Request::Mute { audio, video } => m.mute(conn, &tx, audio, video),
            Request::Hand { raised } => m.hand(conn, &tx, raised),
            Request::Layer {
                publisher,
                mid,
                layer,
            } => m.prefer_layer(conn, &tx, publisher, &mid, layer),
            Request::Leave => match m.participant_of(conn) {
                Some(id) => m.end(id, MeetingEndReason::Left),
                None => {
                    let _ = tx.send(super::not_in_meeting());
                }
            },
        }
        self.settle(room);
    }

    /// Drains a meeting's router; drops the meeting when nobody is left.
    fn settle(&mut self, room: RoomId) {
        let Some(m) = self.meetings.get_mut(&room) else {
            return;
        };
        m.drain(&mut self.out);
        if m.is_empty() {
            self.meetings.remove(&room);
            self.routes.retain(|_, r| *r != room);
            tracing::info!(room = %room, "meeting ended");
        }
    }

    async fn flush(&mut self) {
        for t in self.out.drain(..) {
            match t.proto {
                Protocol::Udp => {
                    if let Err(e) = self.socket.send_to(&t.contents, t.destination).await {
                        tracing::debug!(error = %e, "media send failed");
                    }
                }
                _ => match self.tcp_peers.get(&t.destination) {
                    // A full queue drops the packet: media is loss-tolerant (NACK/RTX, PLI),
                    // and one slow TCP peer must not stall every meeting.
                    Some(w) => {
                        let _ = w.try_send(t.contents.to_vec());
                    }
                    None => tracing::debug!("media TCP peer gone"),
                },
            }
        }
    }
}

/// The next ICE-TCP event, or never when TCP is off.
async fn next_tcp(rx: &mut Option<UnboundedReceiver<TcpEvent>>) -> Option<TcpEvent> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
