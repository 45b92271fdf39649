//! Meetings: the server's media plane.
//!
//! One UDP socket ([`crate::config::MediaConfig`]) serves every participant of every meeting.
//! A single task owns that socket and one [`ting_sfu::Sfu`] per meeting (see `task.rs` for why
//! one task rather than one per meeting); it is fed by its socket, its timers (the routers'
//! `Output::Timeout`) and a channel of [`Command`]s from signaling. Signaling runs over the
//! WebSocket: each connection holds a [`Connection`] that checks room membership, forwards
//! meeting messages to the task and receives the task's events for the client.
//!
//! Meeting state lives only in that task's memory: when the last participant leaves the
//! meeting's router is dropped with everything in it (R17). The server forwards SFrame
//! ciphertext and never holds a media key.

mod meeting;
mod sdp;
mod task;
mod tcp;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ting_proto::ws::{ClientMessage, ServerEvent, SimulcastLayer};
use ting_proto::{DeviceId, ErrorCode, RoomId};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::config::Config;
use crate::state::AppState;

/// Log filter directives that cap the media libraries (str0m and its ICE, DTLS and SCTP
/// crates) at `warn`, whatever the configured level: their debug logs carry participants' IP
/// addresses, which Ting's logs never contain.
pub const QUIET_LOG_TARGETS: &[&str] = &["str0m=warn", "is=warn", "dimpl=warn", "sctp_proto=warn"];

/// Identifies one signaling connection.
pub type ConnId = u64;

/// A signaling request about one room's meeting.
#[derive(Debug)]
pub(crate) enum Request {
    Join {
        sdp: String,
        rules: Rules,
    },
    Offer {
        sdp: String,
        rules: Rules,
    },
    Answer {
        offer_id: u64,
        sdp: String,
    },
    Mute {
        audio: bool,
        video: bool,
    },
    Hand {
        raised: bool,
    },
    Layer {
        publisher: u64,
        mid: String,
        layer: ting_sfu::Layer,
    },
    Leave,
}

/// What the organisation's policy allows this participant, checked when it joins or offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rules {
    /// May start a meeting nobody is in yet (`permissions.create_meetings`).
    pub(crate) may_start: bool,
    /// Most video tracks it may send at once: 1 (the camera) when `features.screen_share` is
    /// off, unlimited otherwise.
    pub(crate) max_video_sends: Option<usize>,
}

/// Input of the media task.
#[derive(Debug)]
pub(crate) enum Command {
    Request {
        room: RoomId,
        conn: ConnId,
        device: DeviceId,
        tx: UnboundedSender<ServerEvent>,
        request: Request,
    },
    RemoveDevices {
        room: RoomId,
        devices: Vec<DeviceId>,
    },
    Disconnected {
        conn: ConnId,
    },
    /// Meetings running and their participants.
    Stats {
        reply: tokio::sync::oneshot::Sender<(usize, usize)>,
    },
    /// Send `token` from the media socket to the advertised address; reply when it arrives.
    Probe {
        token: [u8; PROBE_LEN],
        reply: tokio::sync::oneshot::Sender<()>,
    },
}

/// Length of a reachability probe datagram (`ting-probe` and random bytes).
pub(crate) const PROBE_LEN: usize = 32;

/// How long a reachability probe waits.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Handle to the media task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Media {
    tx: Option<UnboundedSender<Command>>,
    next_conn: Arc<AtomicU64>,
    addr: Option<SocketAddr>,
    tcp_addr: Option<SocketAddr>,
}

impl Media {
    /// Binds the media socket and starts the task (needs a Tokio runtime). If the socket
    /// cannot be bound, meetings are unavailable (logged) but the server still runs.
    pub fn start(config: &Config) -> Self {
        let disabled = |e: String| {
            tracing::error!(error = %e, "media socket unavailable; meetings disabled");
            Media {
                tx: None,
                next_conn: Arc::new(AtomicU64::new(1)),
                addr: None,
                tcp_addr: None,
            }
        };
        let bind = match bind_address(config) {
            Ok(a) => a,
            Err(e) => return disabled(e),
        };
        let socket = match std::net::UdpSocket::bind(bind)
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .and_then(tokio::net::UdpSocket::from_std)
        {
            Ok(s) => s,
            Err(e) => return disabled(format!("bind {bind}: {e}")),
        };
        let local = match socket.local_addr() {
            Ok(a) => a,
            Err(e) => return disabled(e.to_string()),
        };
        let advertised = match advertised_address(config, local) {
            Ok(a) => a,
            Err(e) => return disabled(e),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let tcp = if config.media.tcp {
            match bind_tcp(local) {
                Ok(listener) => listener
                    .local_addr()
                    .ok()
                    .map(|a| (listener, SocketAddr::new(advertised.ip(), a.port()))),
                Err(e) => {
                    tracing::warn!(error = %e, "media TCP listener unavailable; UDP only");
                    None
                }
            }
        } else {
            None
        };
        let (tcp_addr, tcp_rx) = match tcp {
            Some((listener, addr)) => {
                let (tcp_tx, tcp_rx) = mpsc::unbounded_channel();
                tokio::spawn(tcp::accept_loop(listener, tcp_tx));
                (Some(addr), Some(tcp_rx))
            }
            None => (None, None),
        };
        let task = task::MediaTask::new(socket, advertised, tcp_addr, tcp_rx).run(rx);
        tokio::spawn(tracing::Instrument::instrument(
            task,
            tracing::info_span!("media"),
        ));
        tracing::info!(
            port = advertised.port(),
            tcp_port = tcp_addr.map(|a| a.port()),
            "media socket ready"
        );
        Media {
            tx: Some(tx),
            next_conn: Arc::new(AtomicU64::new(1)),
            addr: Some(advertised),
            tcp_addr,
        }
    }

    /// The advertised ICE-TCP address, when TCP is on.
    pub fn tcp_address(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    /// Meetings running now and their participants (`(0, 0)` when meetings are unavailable).
    pub async fn stats(&self) -> (usize, usize) {
        let Some(tx) = &self.tx else { return (0, 0) };
        let (reply, rx) = tokio::sync::oneshot::channel();
        let _ = tx.send(Command::Stats { reply });
        rx.await.unwrap_or((0, 0))
    }

    /// Whether a datagram sent from the media socket to the advertised address comes back to
    /// it: the address is this machine's and nothing on it blocks the port.
    pub async fn probe_udp(&self) -> Result<(), String> {
        let Some(tx) = &self.tx else {
            return Err("the media socket could not be bound (see the server log)".into());
        };
        let mut token = [0u8; PROBE_LEN];
        token[..10].copy_from_slice(b"ting-probe");
        let random: [u8; PROBE_LEN - 10] = rand::random();
        token[10..].copy_from_slice(&random);
        let (reply, rx) = tokio::sync::oneshot::channel();
        let _ = tx.send(Command::Probe { token, reply });
        match tokio::time::timeout(PROBE_TIMEOUT, rx).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(format!(
                "no answer within {} s at the advertised address",
                PROBE_TIMEOUT.as_secs()
            )),
        }
    }

    /// Whether the ICE-TCP port accepts a connection at the advertised address.
    pub async fn probe_tcp(&self) -> Result<(), String> {
        let Some(addr) = self.tcp_addr else {
            return Err("ICE-TCP is off".into());
        };
        match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("connecting failed: {e}")),
            Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
        }
    }

    /// The advertised media address (the ICE candidate), if meetings are available.
    pub fn address(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Ends the media sessions of `devices` in `room`: they were removed from its MLS group.
    pub fn remove_devices(&self, room: RoomId, devices: Vec<DeviceId>) {
        if devices.is_empty() {
            return;
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(Command::RemoveDevices { room, devices });
        }
    }
}

fn bind_address(config: &Config) -> Result<SocketAddr, String> {
    let raw = config.media.udp_listen.trim();
    if !raw.is_empty() {
        return raw
            .parse()
            .map_err(|e| format!("media.udp_listen {raw:?}: {e}"));
    }
    let ip = config
        .server
        .listen
        .parse::<SocketAddr>()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    Ok(SocketAddr::new(ip, 0))
}

/// The media TCP listener: the UDP socket's address (same port number) where free, else any
/// port on the same IP.
fn bind_tcp(udp: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let std = std::net::TcpListener::bind(udp)
        .or_else(|_| std::net::TcpListener::bind(SocketAddr::new(udp.ip(), 0)))?;
    std.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(std)
}

fn advertised_address(config: &Config, local: SocketAddr) -> Result<SocketAddr, String> {
    let raw = config.media.advertise.trim();
    if raw.is_empty() {
        if local.ip().is_unspecified() {
            return Err("media.advertise is required when media.udp_listen is a wildcard".into());
        }
        return Ok(local);
    }
    let ip: IpAddr = match raw.parse::<SocketAddr>() {
        Ok(a) => return Ok(a),
        Err(_) => raw
            .parse()
            .map_err(|e| format!("media.advertise {raw:?}: {e}"))?,
    };
    Ok(SocketAddr::new(ip, local.port()))
}

pub(crate) fn not_in_meeting() -> ServerEvent {
    ServerEvent::Error {
        code: ErrorCode::NotInMeeting,
        message: "this connection has not joined the room's meeting".into(),
    }
}

/// One WebSocket connection's view of the media plane: forwards its meeting messages (after a
/// membership check) and yields the events meant for it. Dropping it leaves its meetings.
#[derive(Debug)]
pub struct Connection {
    media: Media,
    conn: ConnId,
    device: DeviceId,
    is_admin: bool,
    tx: UnboundedSender<ServerEvent>,
    rx: UnboundedReceiver<ServerEvent>,
}

impl Connection {
    /// A connection of `device`, whose user is an administrator or not (for the policy's
    /// `create_meetings`).
    pub fn new(media: &Media, device: DeviceId, is_admin: bool) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Connection {
            conn: media.next_conn.fetch_add(1, Ordering::Relaxed),
            media: media.clone(),
            device,
            is_admin,
            tx,
            rx,
        }
    }

    /// The next event for the client.
    pub async fn recv(&mut self) -> Option<ServerEvent> {
        self.rx.recv().await
    }

    /// Handles a meeting message; returns an error event to send at once, if any. Messages
    /// that are not about meetings are ignored.
    pub async fn handle(&self, state: &AppState, msg: ClientMessage) -> Option<ServerEvent> {
        let (room, request) = match msg {
            ClientMessage::MeetingJoin { room_id, sdp } => {
                let rules = match self.rules(state).await {
                    Ok(r) => r,
                    Err(ev) => return Some(ev),
                };
                (room_id, Request::Join { sdp, rules })
            }
            ClientMessage::MeetingOffer { room_id, sdp } => {
                let rules = match self.rules(state).await {
                    Ok(r) => r,
                    Err(ev) => return Some(ev),
                };
                (room_id, Request::Offer { sdp, rules })
            }
            ClientMessage::MeetingAnswer {
                room_id,
                offer_id,
                sdp,
            } => (room_id, Request::Answer { offer_id, sdp }),
            ClientMessage::MeetingMute {
                room_id,
                audio,
                video,
            } => (room_id, Request::Mute { audio, video }),
            ClientMessage::MeetingHand { room_id, raised } => (room_id, Request::Hand { raised }),
            ClientMessage::MeetingLayer {
                room_id,
                participant_id,
                mid,
                layer,
            } => (
                room_id,
                Request::Layer {
                    publisher: participant_id,
                    mid,
                    layer: match layer {
                        SimulcastLayer::Low => ting_sfu::Layer::Low,
                        SimulcastLayer::Medium => ting_sfu::Layer::Medium,
                        SimulcastLayer::High => ting_sfu::Layer::High,
                    },
                },
            ),
            ClientMessage::MeetingLeave { room_id } => (room_id, Request::Leave),
            ClientMessage::Auth { .. } | ClientMessage::Ping | ClientMessage::Ack { .. } => {
                return None;
            }
        };
        if matches!(request, Request::Join { .. }) {
            match state.store.membership(room, self.device).await {
                Ok(Some(m)) if m.removed_seq.is_none() => {}
                Ok(_) => {
                    return Some(ServerEvent::Error {
                        code: ErrorCode::UnknownRoom,
                        message: "no such room, or you are not a member".into(),
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "membership check failed");
                    return Some(ServerEvent::Error {
                        code: ErrorCode::Unavailable,
                        message: "temporarily unavailable".into(),
                    });
                }
            }
        }
        let Some(tx) = &self.media.tx else {
            return Some(ServerEvent::Error {
                code: ErrorCode::Unavailable,
                message: "meetings are not available on this server".into(),
            });
        };
        let _ = tx.send(Command::Request {
            room,
            conn: self.conn,
            device: self.device,
            tx: self.tx.clone(),
            request,
        });
        None
    }
}

impl Connection {
    /// What the effective policy allows this connection's user in meetings.
    async fn rules(&self, state: &AppState) -> Result<Rules, ServerEvent> {
        let effective = crate::policy::effective(&state.config, state.store.as_ref())
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "reading the policy failed");
                ServerEvent::Error {
                    code: ErrorCode::Unavailable,
                    message: "temporarily unavailable".into(),
                }
            })?;
        let policy = &effective.policy;
        if !policy.features.meetings {
            return Err(ServerEvent::Error {
                code: ErrorCode::FeatureDisabled,
                message: "meetings are switched off by this organisation's policy".into(),
            });
        }
        Ok(Rules {
            may_start: policy.permissions.create_meetings.allows(self.is_admin),
            max_video_sends: (!policy.features.screen_share).then_some(1),
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(tx) = &self.media.tx {
            let _ = tx.send(Command::Disconnected { conn: self.conn });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(listen: &str, udp: &str, advertise: &str) -> Config {
        let mut c = Config::default();
        c.server.listen = listen.into();
        c.media.udp_listen = udp.into();
        c.media.advertise = advertise.into();
        c
    }

    #[test]
    fn media_socket_defaults_to_the_http_listener_ip() {
        let c = config("127.0.0.2:8080", "", "");
        assert_eq!(bind_address(&c).unwrap(), "127.0.0.2:0".parse().unwrap());
        let c = config("127.0.0.1:8080", "127.0.0.1:40000", "");
        assert_eq!(
            bind_address(&c).unwrap(),
            "127.0.0.1:40000".parse().unwrap()
        );
        assert!(bind_address(&config("127.0.0.1:1", "nonsense", "")).is_err());
    }

    #[test]
    fn advertised_address_fills_in_the_bound_port() {
        let local: SocketAddr = "0.0.0.0:5000".parse().unwrap();
        assert!(advertised_address(&config("", "", ""), local).is_err());
        assert_eq!(
            advertised_address(&config("", "", "192.0.2.7"), local).unwrap(),
            "192.0.2.7:5000".parse().unwrap()
        );
        assert_eq!(
            advertised_address(&config("", "", "192.0.2.7:6000"), local).unwrap(),
            "192.0.2.7:6000".parse().unwrap()
        );
        let bound: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            advertised_address(&config("", "", ""), bound).unwrap(),
            bound
        );
    }

    #[tokio::test]
    async fn media_starts_on_loopback() {
        let media = Media::start(&config("127.0.0.1:0", "", ""));
        let addr = media.address().unwrap();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
    }
}
