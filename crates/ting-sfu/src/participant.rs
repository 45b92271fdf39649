//! One participant's media session: its str0m `Rtc`, the tracks it publishes and the
//! subscriptions the router sends to it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use str0m::Rtc;
use str0m::change::SdpPendingOffer;
use str0m::media::{MediaKind, Mid, Rid};

use crate::forward::{Rewriter, Vp8Munger};
use crate::ids::{Layer, ParticipantId, TrackId};

/// A simulcast layer without packets for this long is considered switched off by its sender.
pub(crate) const LAYER_IDLE: Duration = Duration::from_secs(1);

/// A track this participant publishes (the router receives it).
#[derive(Debug)]
pub(crate) struct Published {
    pub(crate) kind: MediaKind,
    /// Simulcast layers by RID; empty for a single-encoding track.
    pub(crate) rids: Vec<(Layer, Rid)>,
    /// When the router last asked the publisher for a keyframe, per layer.
    pub(crate) last_keyframe_request: [Option<Instant>; 3],
    /// When a packet of each layer last arrived (a sender drops layers it cannot afford).
    pub(crate) last_seen: [Option<Instant>; 3],
    /// When the first packet of the track arrived.
    pub(crate) first_seen: Option<Instant>,
}

impl Published {
    /// The layers the publisher sends: its simulcast layers, or `High` for a single encoding.
    pub(crate) fn layers(&self) -> Vec<Layer> {
        if self.rids.is_empty() {
            vec![Layer::High]
        } else {
            self.rids.iter().map(|(l, _)| *l).collect()
        }
    }

    /// Records a packet of `layer`.
    pub(crate) fn seen(&mut self, layer: Layer, now: Instant) {
        self.first_seen.get_or_insert(now);
        self.last_seen[layer.index()] = Some(now);
    }

    /// The layers that delivered a packet within [`LAYER_IDLE`] of `now`. During the track's
    /// first [`LAYER_IDLE`] every offered layer counts as active (layers start one by one);
    /// if none is active, all are.
    pub(crate) fn active_layers(&self, now: Instant) -> Vec<Layer> {
        let all = self.layers();
        let young = self
            .first_seen
            .is_none_or(|t| now.saturating_duration_since(t) < LAYER_IDLE);
        if young {
            return all;
        }
        let active: Vec<Layer> = all
            .iter()
            .copied()
            .filter(|l| {
                self.last_seen[l.index()]
                    .is_some_and(|t| now.saturating_duration_since(t) < LAYER_IDLE)
            })
            .collect();
        if active.is_empty() { all } else { active }
    }

    /// The RID carrying `layer`, `None` for a single-encoding track.
    pub(crate) fn rid_of(&self, layer: Layer) -> Option<Rid> {
        self.rids.iter().find(|(l, _)| *l == layer).map(|(_, r)| *r)
    }

    /// The layer a packet with this RID belongs to.
    pub(crate) fn layer_of(&self, rid: Option<Rid>) -> Option<Layer> {
        match rid {
            None if self.rids.is_empty() => Some(Layer::High),
            None => None,
            Some(r) => self.rids.iter().find(|(_, x)| *x == r).map(|(l, _)| *l),
        }
    }
}

/// Where a subscription stands in the SDP negotiation with its subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubState {
    /// Wants an m-line in the next offer.
    ToOpen,
    /// Offered on `Mid`, waiting for the answer.
    Negotiating(Mid),
    /// Negotiated: packets flow on `Mid`.
    Open(Mid),
    /// The source went away; stop `Mid` in the next offer.
    ToStop(Mid),
    /// Stop offered, waiting for the answer.
    NegotiatingStop(Mid),
}

/// One published track sent to one subscriber.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub(crate) source: TrackId,
    pub(crate) kind: MediaKind,
    pub(crate) state: SubState,
    /// The source was unpublished while the offer adding it was outstanding.
    pub(crate) source_gone: bool,
    pub(crate) preferred: Layer,
    pub(crate) rewriter: Rewriter,
    pub(crate) vp8: Vp8Munger,
}

impl Subscription {
    pub(crate) fn new(source: TrackId, kind: MediaKind) -> Self {
        Subscription {
            source,
            kind,
            state: SubState::ToOpen,
            source_gone: false,
            preferred: Layer::High,
            rewriter: Rewriter::default(),
            vp8: Vp8Munger::default(),
        }
    }

    /// The outgoing mid once negotiated.
    pub(crate) fn open_mid(&self) -> Option<Mid> {
        match self.state {
            SubState::Open(m) => Some(m),
            _ => None,
        }
    }
}

/// A participant in the room.
#[derive(Debug)]
pub(crate) struct Participant {
    pub(crate) rtc: Rtc,
    pub(crate) published: BTreeMap<Mid, Published>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) pending: Option<SdpPendingOffer>,
    /// Number of the router's latest offer to this participant.
    pub(crate) offer_id: u64,
    pub(crate) bwe_bps: Option<u64>,
    pub(crate) connected: bool,
    pub(crate) joined_at: Instant,
}

impl Participant {
    pub(crate) fn new(rtc: Rtc, now: Instant, initial_bps: u64) -> Self {
        Participant {
            rtc,
            published: BTreeMap::new(),
            subscriptions: Vec::new(),
            pending: None,
            offer_id: 0,
            bwe_bps: Some(initial_bps),
            connected: false,
            joined_at: now,
        }
    }

    /// Starts sending `source` to this participant (negotiated on the next offer).
    pub(crate) fn subscribe(&mut self, source: TrackId, kind: MediaKind) {
        if !self.subscriptions.iter().any(|s| s.source == source) {
            self.subscriptions.push(Subscription::new(source, kind));
        }
    }

    /// Stops sending every track of `publisher` (or one track if `mid` is given).
    pub(crate) fn unsubscribe(&mut self, publisher: ParticipantId, mid: Option<Mid>) {
        let hit = |s: &Subscription| {
            s.source.publisher == publisher && mid.is_none_or(|m| s.source.mid == m)
        };
        self.subscriptions
            .retain(|s| !(hit(s) && s.state == SubState::ToOpen));
        for s in self.subscriptions.iter_mut().filter(|s| hit(s)) {
            match s.state {
                SubState::Open(m) => s.state = SubState::ToStop(m),
                SubState::Negotiating(_) => s.source_gone = true,
                _ => {}
            }
        }
    }

    /// Forgets the router's unanswered offer: its new m-lines are offered again later, its
    /// stops are retried.
    pub(crate) fn roll_back_offer(&mut self) {
        self.subscriptions
            .retain(|s| !(s.source_gone && matches!(s.state, SubState::Negotiating(_))));
        for s in &mut self.subscriptions {
            match s.state {
                SubState::Negotiating(_) => s.state = SubState::ToOpen,
                SubState::NegotiatingStop(m) => s.state = SubState::ToStop(m),
                _ => {}
            }
        }
    }

    /// Number of video subscriptions currently flowing (to split the bandwidth estimate).
    pub(crate) fn open_video_count(&self) -> u64 {
        self.subscriptions
            .iter()
            .filter(|s| s.kind == MediaKind::Video && s.open_mid().is_some())
            .count() as u64
    }
}
