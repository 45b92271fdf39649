//! Identifiers the router uses for participants, tracks and simulcast layers.

use std::fmt;

use str0m::media::{Mid, Rid};

/// A participant's id, chosen by the signaling layer (for instance its device's session number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(pub u64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

/// A published track: the publishing participant and the media line (`mid`) it sends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackId {
    /// Who publishes the track.
    pub publisher: ParticipantId,
    /// The publisher's media id for it.
    pub mid: Mid,
}

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.publisher, self.mid)
    }
}

/// A simulcast layer, ordered from the smallest to the largest encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Lowest resolution (rid `q` or `l`).
    Low,
    /// Middle resolution (rid `h` or `m`).
    Medium,
    /// Full resolution (rid `f`).
    High,
}

impl Layer {
    /// All layers, smallest first.
    pub const ALL: [Layer; 3] = [Layer::Low, Layer::Medium, Layer::High];

    /// Maps a RID to a layer. Browsers use `q`/`h`/`f` (quarter, half, full); `l`/`m` are also
    /// accepted. Unknown RIDs map to `None`.
    pub fn from_rid(rid: Rid) -> Option<Layer> {
        match &*rid {
            "q" | "l" | "0" => Some(Layer::Low),
            "h" | "m" | "1" => Some(Layer::Medium),
            "f" | "2" => Some(Layer::High),
            _ => None,
        }
    }

    /// Index 0..3, smallest first.
    pub fn index(self) -> usize {
        match self {
            Layer::Low => 0,
            Layer::Medium => 1,
            Layer::High => 2,
        }
    }
}
