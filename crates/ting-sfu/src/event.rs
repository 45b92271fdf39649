//! What the router tells its driver: [`Output`], [`Event`] and the [`SfuConfig`] it is built from.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::media::MediaKind;
use str0m::net::Transmit;

use crate::ids::{Layer, ParticipantId, TrackId};

/// Configuration of one [`Sfu`](crate::Sfu) (one meeting).
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The address of the one UDP socket that serves every participant; announced as the only
    /// (host) ICE candidate in every answer.
    pub local_addr: SocketAddr,
    /// Where the server also accepts ICE-TCP (RFC 6544) connections, announced as a second,
    /// passive TCP host candidate for participants whose network blocks UDP. `None`: UDP only.
    pub tcp_addr: Option<SocketAddr>,
    /// End-to-end encrypted meeting: the audio-level header extension is neither negotiated nor
    /// forwarded, so the server cannot tell who speaks. Default `true`.
    pub encrypted: bool,
    /// Nominal bitrate of the low, medium and high simulcast layer, used to fit layers into a
    /// subscriber's bandwidth estimate.
    pub layer_bitrates: [u64; 3],
    /// Starting bandwidth estimate for every subscriber (bits per second).
    pub initial_bitrate: u64,
    /// Minimum interval between two keyframe requests to the same publisher layer.
    pub keyframe_interval: Duration,
    /// A participant whose ICE and DTLS are not up this long after joining is dropped.
    pub connect_timeout: Duration,
}

impl SfuConfig {
    /// Defaults for a meeting served on `local_addr`.
    pub fn new(local_addr: SocketAddr) -> Self {
        SfuConfig {
            local_addr,
            tcp_addr: None,
            encrypted: true,
            layer_bitrates: [150_000, 500_000, 1_500_000],
            initial_bitrate: 1_000_000,
            keyframe_interval: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a participant's media session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// ICE consent expired: the peer stopped answering (crashed, lost network, left silently).
    Timeout,
    /// ICE and DTLS never came up within [`SfuConfig::connect_timeout`].
    ConnectTimeout,
    /// The peer closed DTLS (a clean goodbye).
    Closed,
    /// The peer sent something str0m could not handle; the session was ended.
    Failed,
    /// [`Sfu::remove_participant`](crate::Sfu::remove_participant) was called.
    Removed,
}

/// Something the signaling layer should know or act upon.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// ICE and DTLS are up: media can flow.
    Connected(ParticipantId),
    /// The participant's media session is gone and all its state dropped.
    Disconnected {
        /// Who.
        participant: ParticipantId,
        /// Why.
        reason: DisconnectReason,
    },
    /// A participant started publishing a track; every other participant is being subscribed.
    TrackPublished {
        /// The track.
        track: TrackId,
        /// Audio or video (screen share is video).
        kind: MediaKind,
        /// Simulcast layers offered (one entry, `High`, without simulcast).
        layers: Vec<Layer>,
    },
    /// A track stopped (unpublished, or its publisher left).
    TrackUnpublished(TrackId),
    /// The router renegotiates with `participant`: send it this SDP offer and hand its answer,
    /// with `offer_id`, to [`Sfu::handle_answer`](crate::Sfu::handle_answer). At most one offer
    /// per participant is outstanding; a newer one supersedes an abandoned one (glare).
    Offer {
        /// To whom.
        participant: ParticipantId,
        /// Number of this offer, to match the answer.
        offer_id: u64,
        /// SDP offer text.
        sdp: String,
    },
    /// The router asked a publisher for a keyframe (PLI) — on a layer switch or when a
    /// subscriber asked for one.
    KeyframeRequested {
        /// The track.
        track: TrackId,
        /// The layer (`High` for a single-encoding track).
        layer: Layer,
    },
    /// A subscriber now receives another layer of a track (switched on a keyframe).
    LayerSwitched {
        /// The subscriber.
        subscriber: ParticipantId,
        /// The track.
        track: TrackId,
        /// The layer now forwarded.
        layer: Layer,
    },
    /// A new bandwidth estimate (TWCC) toward a subscriber.
    BandwidthEstimate {
        /// The subscriber.
        participant: ParticipantId,
        /// Bits per second.
        bps: u64,
    },
}

/// Output of [`Sfu::poll_output`](crate::Sfu::poll_output).
#[derive(Debug)]
pub enum Output {
    /// Send this datagram (from [`SfuConfig::local_addr`]) to `transmit.destination`.
    Transmit {
        /// The participant it belongs to (for logs and metrics).
        participant: ParticipantId,
        /// The datagram.
        transmit: Transmit,
    },
    /// Something happened; see [`Event`].
    Event(Event),
    /// Nothing more to do until this instant (or until the next input).
    Timeout(Instant),
}
