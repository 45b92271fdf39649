//! Joining a meeting: the Ting server (SDP over the app WebSocket) or, for comparison
//! benchmarks, str0m's example SFU (`chat`: offer by HTTP POST, renegotiation over a data
//! channel).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind};
use str0m::{Candidate, Rtc};
use ting_e2ee::MediaKeys;
use ting_proto::ws::{ClientMessage, ServerEvent};
use ting_proto::{ErrorCode, RoomId};
use tokio::net::UdpSocket;

use super::participant::{Driver, Participant, Session};
use super::signaling::Signaling;
use super::stats::{MeetingOptions, MeetingStats};
use crate::error::{Error, Result};

/// How long str0m's example SFU may take to answer the offer.
const POST_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn sdp_error(e: impl std::fmt::Display) -> Error {
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

fn accept_answer(rtc: &mut Rtc, pending: SdpPendingOffer, answer: SdpAnswer) -> Result<()> {
    rtc.sdp_api()
        .accept_answer(pending, answer)
        .map_err(sdp_error)
}

/// A bound socket and an `Rtc` with the first offer made.
async fn prepare(
    options: &MeetingOptions,
    data_channel: bool,
) -> Result<(Session, SdpOffer, SdpPendingOffer)> {
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
    if data_channel {
        api.add_channel("sdp".into());
    }
    let (offer, pending) = api
        .apply()
        .ok_or_else(|| Error::Usage("nothing to publish".into()))?;
    let session = Session {
        rtc,
        socket,
        local,
        start: now,
        audio,
        video,
    };
    Ok((session, offer, pending))
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
        let (mut session, offer, pending) = prepare(&options, false).await?;
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
                    let answer = SdpAnswer::from_sdp_string(&sdp).map_err(sdp_error)?;
                    accept_answer(&mut session.rtc, pending, answer)?;
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
        let driver = Driver::new(session, Some(sig), room, keys, options, stats);
        Ok(Participant::spawn(driver, early))
    }

    /// Joins str0m's example SFU (its `chat` example) at `url` on this machine, e.g.
    /// `https://127.0.0.1:3000/`: the offer (with a data channel) goes by HTTP POST as JSON,
    /// the SFU's later offers arrive on the data channel and are answered there. Its
    /// certificate is self-signed, so it is not verified — which is why only loopback URLs
    /// are accepted.
    pub async fn join_str0m_chat(
        url: &str,
        keys: MediaKeys,
        options: MeetingOptions,
    ) -> Result<Participant> {
        crate::load::server::check_loopback(url)?;
        let (mut session, offer, pending) = prepare(&options, true).await?;
        let http = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .timeout(POST_TIMEOUT)
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let resp = http
            .post(url)
            .json(&offer)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| Error::Transport(format!("posting the offer: {e}")))?;
        let answer: SdpAnswer = resp
            .json()
            .await
            .map_err(|e| Error::Protocol(format!("the answer: {e}")))?;
        accept_answer(&mut session.rtc, pending, answer)?;
        let driver = Driver::new(
            session,
            None,
            RoomId::random(),
            keys,
            options,
            MeetingStats::default(),
        );
        Ok(Participant::spawn(driver, Vec::new()))
    }
}
