//! One meeting: a [`Sfu`] plus who its participants are on the signaling side. Owned by the
//! media task; translates router events into [`ServerEvent`]s for the participants'
//! connections. No I/O: transmits are handed back to the task.

use std::collections::BTreeMap;
use std::time::Instant;

use ting_proto::ws::{MeetingEndReason, MeetingPeer, ServerEvent};
use ting_proto::{DeviceId, ErrorCode, RoomId};
use ting_sfu::str0m::media::MediaKind;
use ting_sfu::str0m::net::{Protocol, Transmit};
use ting_sfu::{DisconnectReason, Event, Output, ParticipantId, Sfu, SfuConfig, TrackId};
use tokio::sync::mpsc::UnboundedSender;

use super::{ConnId, Rules};

/// A participant as the signaling side knows it.
#[derive(Debug)]
pub(crate) struct Peer {
    /// The WebSocket connection that joined.
    pub(crate) conn: ConnId,
    /// Its device.
    pub(crate) device: DeviceId,
    /// Events to that connection.
    pub(crate) tx: UnboundedSender<ServerEvent>,
    /// Announced microphone-muted and camera-off state, once announced.
    pub(crate) muted: Option<(bool, bool)>,
    /// Hand raised.
    pub(crate) hand: bool,
}

/// A meeting in progress.
#[derive(Debug)]
pub(crate) struct Meeting {
    room: RoomId,
    sfu: Sfu,
    peers: BTreeMap<ParticipantId, Peer>,
    /// Published tracks and their kind, announced to whoever joins later.
    tracks: BTreeMap<TrackId, &'static str>,
    /// The router's next deadline.
    pub(crate) deadline: Instant,
}

fn error(code: ErrorCode, message: impl Into<String>) -> ServerEvent {
    ServerEvent::Error {
        code,
        message: message.into(),
    }
}

impl Meeting {
    /// An empty meeting for `room`.
    pub(crate) fn new(now: Instant, room: RoomId, config: SfuConfig) -> Self {
        Meeting {
            room,
            sfu: Sfu::new(now, config),
            peers: BTreeMap::new(),
            tracks: BTreeMap::new(),
            deadline: now,
        }
    }

    /// How many take part.
    pub(crate) fn participants(&self) -> usize {
        self.peers.len()
    }

    /// Nobody is left: the meeting ends and is dropped.
    pub(crate) fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// The participant a connection has in this meeting.
    pub(crate) fn participant_of(&self, conn: ConnId) -> Option<ParticipantId> {
        self.peers
            .iter()
            .find(|(_, p)| p.conn == conn)
            .map(|(id, _)| *id)
    }

    fn broadcast(&self, except: Option<ParticipantId>, event: &ServerEvent) {
        for (id, p) in &self.peers {
            if Some(*id) != except {
                let _ = p.tx.send(event.clone());
            }
        }
    }

    /// Admits a participant; answers it (or sends it an error) and tells the others.
    pub(crate) fn join(
        &mut self,
        now: Instant,
        id: ParticipantId,
        peer: Peer,
        sdp: &str,
        rules: Rules,
    ) {
        if self.participant_of(peer.conn).is_some() {
            let _ = peer.tx.send(error(
                ErrorCode::InvalidInput,
                "this connection is already in the meeting",
            ));
            return;
        }
        if let Err(ev) = check_video_sends(sdp, rules) {
            let _ = peer.tx.send(ev);
            return;
        }
        let answer = match self.sfu.add_participant(now, id, sdp) {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(room = %self.room, error = %e, "join refused");
                let _ = peer.tx.send(error(ErrorCode::InvalidSdp, e.to_string()));
                return;
            }
        };
        let participants = self
            .peers
            .iter()
            .map(|(pid, p)| MeetingPeer {
                participant_id: pid.0,
                device_id: p.device,
            })
            .collect();
        let _ = peer.tx.send(ServerEvent::MeetingJoined {
            room_id: self.room,
            participant_id: id.0,
            sdp: answer,
            participants,
        });
        self.broadcast(
            None,
            &ServerEvent::MeetingParticipantJoined {
                room_id: self.room,
                participant_id: id.0,
                device_id: peer.device,
            },
        );
        for (track, kind) in &self.tracks {
            let _ = peer.tx.send(ServerEvent::MeetingTrackPublished {
                room_id: self.room,
                participant_id: track.publisher.0,
                mid: track.mid.to_string(),
                kind: (*kind).into(),
            });
        }
        // What the others announced before this participant came.
        for (other, p) in &self.peers {
            if let Some((audio, video)) = p.muted {
                let _ = peer.tx.send(ServerEvent::MeetingMuted {
                    room_id: self.room,
                    participant_id: other.0,
                    audio,
                    video,
                });
            }
            if p.hand {
                let _ = peer.tx.send(ServerEvent::MeetingHand {
                    room_id: self.room,
                    participant_id: other.0,
                    raised: true,
                });
            }
        }
        tracing::info!(room = %self.room, participant = %id, device = %peer.device, "joined meeting");
        self.peers.insert(id, peer);
    }

    /// Ends a participant's session: tells it (unless it left itself) and the others.
    pub(crate) fn end(&mut self, id: ParticipantId, reason: MeetingEndReason) {
        let Some(peer) = self.peers.remove(&id) else {
            return;
        };
        if reason != MeetingEndReason::Left {
            let _ = peer.tx.send(ServerEvent::MeetingEnded {
                room_id: self.room,
                reason,
            });
        }
        self.broadcast(
            None,
            &ServerEvent::MeetingParticipantLeft {
                room_id: self.room,
                participant_id: id.0,
                reason,
            },
        );
        let _ = self.sfu.remove_participant(id);
        tracing::info!(room = %self.room, participant = %id, ?reason, "left meeting");
    }

    /// Ends the sessions of every participant on `devices` (removed from the MLS group).
    pub(crate) fn remove_devices(&mut self, devices: &[DeviceId]) {
        let gone: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(_, p)| devices.contains(&p.device))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.end(id, MeetingEndReason::Removed);
        }
    }

    /// A participant's own renegotiation offer.
    pub(crate) fn offer(
        &mut self,
        conn: ConnId,
        tx: &UnboundedSender<ServerEvent>,
        sdp: &str,
        rules: Rules,
    ) {
        let Some(id) = self.participant_of(conn) else {
            let _ = tx.send(super::not_in_meeting());
            return;
        };
        if let Err(ev) = check_video_sends(sdp, rules) {
            let _ = tx.send(ev);
            return;
        }
        let ev = match self.sfu.handle_offer(id, sdp) {
            Ok(sdp) => ServerEvent::MeetingAnswer {
                room_id: self.room,
                sdp,
            },
            Err(e) => error(ErrorCode::InvalidSdp, e.to_string()),
        };
        let _ = tx.send(ev);
    }

    /// A participant's answer to a router offer.
    pub(crate) fn answer(
        &mut self,
        conn: ConnId,
        tx: &UnboundedSender<ServerEvent>,
        offer_id: u64,
        sdp: &str,
    ) {
        let Some(id) = self.participant_of(conn) else {
            let _ = tx.send(super::not_in_meeting());
            return;
        };
        match self.sfu.handle_answer(id, offer_id, sdp) {
            Ok(()) | Err(ting_sfu::Error::StaleAnswer(_)) => {}
            Err(e) => {
                let _ = tx.send(error(ErrorCode::InvalidSdp, e.to_string()));
            }
        }
    }

    /// Broadcasts a participant's mute state.
    pub(crate) fn mute(
        &mut self,
        conn: ConnId,
        tx: &UnboundedSender<ServerEvent>,
        audio: bool,
        video: bool,
    ) {
        let Some(id) = self.participant_of(conn) else {
            let _ = tx.send(super::not_in_meeting());
            return;
        };
        if let Some(p) = self.peers.get_mut(&id) {
            p.muted = Some((audio, video));
        }
        self.broadcast(
            Some(id),
            &ServerEvent::MeetingMuted {
                room_id: self.room,
                participant_id: id.0,
                audio,
                video,
            },
        );
    }

    /// Raises or lowers a participant's hand and tells everyone (itself included, so all
    /// views agree on the order of events).
    pub(crate) fn hand(&mut self, conn: ConnId, tx: &UnboundedSender<ServerEvent>, raised: bool) {
        let Some(id) = self.participant_of(conn) else {
            let _ = tx.send(super::not_in_meeting());
            return;
        };
        if let Some(p) = self.peers.get_mut(&id) {
            p.hand = raised;
        }
        self.broadcast(
            None,
            &ServerEvent::MeetingHand {
                room_id: self.room,
                participant_id: id.0,
                raised,
            },
        );
    }

    /// A subscriber's preferred (largest) simulcast layer of another participant's track.
    pub(crate) fn prefer_layer(
        &mut self,
        conn: ConnId,
        tx: &UnboundedSender<ServerEvent>,
        publisher: u64,
        mid: &str,
        layer: ting_sfu::Layer,
    ) {
        let Some(id) = self.participant_of(conn) else {
            let _ = tx.send(super::not_in_meeting());
            return;
        };
        let track = TrackId {
            publisher: ParticipantId(publisher),
            mid: mid.into(),
        };
        if let Err(e) = self.sfu.set_preferred_layer(id, track, layer) {
            let _ = tx.send(error(ErrorCode::UnknownTrack, e.to_string()));
        }
    }

    /// Feeds a datagram (or an ICE-TCP frame); `false` if no participant of this meeting
    /// accepts it.
    pub(crate) fn handle_receive(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: std::net::SocketAddr,
        destination: std::net::SocketAddr,
        bytes: &[u8],
    ) -> bool {
        self.sfu
            .handle_receive_on(now, proto, source, destination, bytes)
    }

    /// Advances the router's clock.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.sfu.handle_timeout(now);
    }

    /// Drains the router: transmits go to `out`, events to the participants.
    pub(crate) fn drain(&mut self, out: &mut Vec<Transmit>) {
        loop {
            match self.sfu.poll_output() {
                Output::Transmit { transmit, .. } => out.push(transmit),
                Output::Timeout(t) => {
                    self.deadline = t;
                    return;
                }
                Output::Event(ev) => self.on_event(ev),
            }
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Offer {
                participant,
                offer_id,
                sdp,
            } => {
                if let Some(p) = self.peers.get(&participant) {
                    let _ = p.tx.send(ServerEvent::MeetingOffer {
                        room_id: self.room,
                        offer_id,
                        sdp,
                    });
                }
            }
            Event::TrackPublished { track, kind, .. } => {
                let kind = match kind {
                    MediaKind::Audio => "audio",
                    MediaKind::Video => "video",
                };
                self.tracks.insert(track, kind);
                self.broadcast(
                    Some(track.publisher),
                    &ServerEvent::MeetingTrackPublished {
                        room_id: self.room,
                        participant_id: track.publisher.0,
                        mid: track.mid.to_string(),
                        kind: kind.into(),
                    },
                );
            }
            Event::TrackUnpublished(track) => {
                self.tracks.remove(&track);
                self.broadcast(
                    Some(track.publisher),
                    &ServerEvent::MeetingTrackUnpublished {
                        room_id: self.room,
                        participant_id: track.publisher.0,
                        mid: track.mid.to_string(),
                    },
                );
            }
            Event::Disconnected {
                participant,
                reason,
            } => {
                let reason = match reason {
                    DisconnectReason::Timeout | DisconnectReason::ConnectTimeout => {
                        MeetingEndReason::Timeout
                    }
                    DisconnectReason::Removed => MeetingEndReason::Removed,
                    _ => MeetingEndReason::Closed,
                };
                self.end(participant, reason);
            }
            Event::Connected(id) => {
                tracing::debug!(room = %self.room, participant = %id, "media connected");
            }
            _ => {}
        }
    }
}

/// Refuses an offer that sends more video than the policy allows (a screen share while
/// `features.screen_share` is off); the offer is not applied.
fn check_video_sends(sdp: &str, rules: Rules) -> Result<(), ServerEvent> {
    match rules.max_video_sends {
        Some(max) if super::sdp::sending_video_sections(sdp) > max => Err(error(
            ErrorCode::FeatureDisabled,
            "screen sharing is switched off by this organisation's policy",
        )),
        _ => Ok(()),
    }
}
