//! SDP offer/answer with each participant: its own offers (publishing, unpublishing) and the
//! router's offers (subscriptions to others' tracks).

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::Direction;

use super::Sfu;
use crate::error::Error;
use crate::event::{Event, Output};
use crate::ids::ParticipantId;
use crate::participant::SubState;

impl Sfu {
    /// Applies a participant's renegotiation offer (it added or removed a track, e.g. a screen
    /// share) and returns the answer.
    ///
    /// On glare (the router's own [`Event::Offer`] is still unanswered) the router is the
    /// polite peer: it abandons its offer, answers this one, and sends a fresh offer with its
    /// changes right after. An answer to the abandoned offer is then refused.
    pub fn handle_offer(&mut self, id: ParticipantId, offer: &str) -> Result<String, Error> {
        let offer =
            SdpOffer::from_sdp_string(offer).map_err(|e| Error::InvalidSdp(e.to_string()))?;
        let p = self.participant_mut(id)?;
        if p.pending.take().is_some() {
            p.roll_back_offer();
        }
        let answer = p
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| Error::OfferRejected(e.to_string()))?;
        self.negotiate(id);
        Ok(answer.to_sdp_string())
    }

    /// Applies a participant's answer to the router's outstanding [`Event::Offer`] number
    /// `offer_id`. An answer to an older (abandoned) offer is refused with
    /// [`Error::StaleAnswer`] and changes nothing. An answer str0m rejects ends that offer: the
    /// router re-offers its changes in a new [`Event::Offer`].
    pub fn handle_answer(
        &mut self,
        id: ParticipantId,
        offer_id: u64,
        answer: &str,
    ) -> Result<(), Error> {
        let answer =
            SdpAnswer::from_sdp_string(answer).map_err(|e| Error::InvalidSdp(e.to_string()))?;
        let p = self.participant_mut(id)?;
        if p.pending.is_none() {
            return Err(Error::NoPendingOffer(id));
        }
        if offer_id != p.offer_id {
            return Err(Error::StaleAnswer(id));
        }
        let pending = p.pending.take().ok_or(Error::NoPendingOffer(id))?;
        if let Err(e) = p.rtc.sdp_api().accept_answer(pending, answer) {
            p.roll_back_offer();
            self.negotiate(id);
            return Err(Error::OfferRejected(e.to_string()));
        }
        for s in &mut p.subscriptions {
            if let SubState::Negotiating(m) = s.state {
                s.state = if s.source_gone {
                    SubState::ToStop(m)
                } else {
                    SubState::Open(m)
                };
            }
        }
        p.subscriptions
            .retain(|s| !matches!(s.state, SubState::NegotiatingStop(_)));
        self.negotiate(id);
        Ok(())
    }

    /// Sends `id` an offer with pending subscription changes, unless one is outstanding.
    pub(super) fn negotiate(&mut self, id: ParticipantId) {
        let Some(p) = self.participants.get_mut(&id) else {
            return;
        };
        if p.pending.is_some() {
            return;
        }
        let mut api = p.rtc.sdp_api();
        for s in &mut p.subscriptions {
            match s.state {
                SubState::ToOpen => {
                    let stream = s.source.publisher.to_string();
                    let track = s.source.to_string();
                    let mid =
                        api.add_media(s.kind, Direction::SendOnly, Some(stream), Some(track), None);
                    s.state = SubState::Negotiating(mid);
                }
                SubState::ToStop(m) => {
                    api.stop_media(m);
                    s.state = SubState::NegotiatingStop(m);
                }
                _ => {}
            }
        }
        if !api.has_changes() {
            return;
        }
        let Some((offer, pending)) = api.apply() else {
            return;
        };
        p.pending = Some(pending);
        p.offer_id += 1;
        self.out.push_back(Output::Event(Event::Offer {
            participant: id,
            offer_id: p.offer_id,
            sdp: offer.to_sdp_string(),
        }));
    }
}
