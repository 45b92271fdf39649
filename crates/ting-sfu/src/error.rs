//! The crate's one error type.

use crate::ids::{ParticipantId, TrackId};

/// Errors returned by [`Sfu`](crate::Sfu).
///
/// Variants say whose fault it is: the remote peer's (`InvalidSdp`, `OfferRejected`), the caller's
/// (`UnknownParticipant`, `DuplicateParticipant`, `UnknownTrack`, `NoPendingOffer`,
/// `StaleAnswer`, `InvalidCandidate`). Failures inside a participant's session
/// after it joined are not errors of the call that noticed them: the session ends and
/// [`Event::Disconnected`](crate::Event::Disconnected) reports it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SDP text could not be parsed (peer's fault).
    #[error("invalid SDP: {0}")]
    InvalidSdp(String),
    /// str0m refused the offer or answer (peer's fault: unsupported or inconsistent session).
    #[error("SDP negotiation failed: {0}")]
    OfferRejected(String),
    /// No participant with this id is in the room (caller's fault).
    #[error("unknown participant {0}")]
    UnknownParticipant(ParticipantId),
    /// A participant with this id is already in the room (caller's fault).
    #[error("participant {0} already exists")]
    DuplicateParticipant(ParticipantId),
    /// No published track with this id (caller's fault).
    #[error("unknown track {0}")]
    UnknownTrack(TrackId),
    /// An answer arrived while the router had no offer outstanding (caller's fault).
    #[error("no offer pending for participant {0}")]
    NoPendingOffer(ParticipantId),
    /// The answer is for an offer the router has since abandoned (glare); nothing changed.
    #[error("answer from participant {0} is for an abandoned offer")]
    StaleAnswer(ParticipantId),
    /// The local candidate address given in the config is unusable (caller's fault).
    #[error("invalid local candidate: {0}")]
    InvalidCandidate(String),
}
