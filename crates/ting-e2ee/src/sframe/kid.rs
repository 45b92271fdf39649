//! SFrame key ids for MLS-keyed media (RFC 9605 §5.2).
//!
//! ```text
//!  64-S-E bits     S bits         E bits
//! +-------------+--------------+-----------+
//! |   context   | sender index | epoch % 2^E |
//! +-------------+--------------+-----------+
//! KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
//! ```
//!
//! `E` ([`crate::SframeConfig::epoch_bits`]) is fixed for all of Ting. `S` is derived per epoch
//! from the group: the smallest value with `leaf_count < 2^S`, where `leaf_count` is one more
//! than the highest occupied leaf index, so every member of that epoch fits. Ting's context is
//! `session << 4 | stream`: a random per-process session (so a restarted client never reuses a
//! key and counter of its previous run within the same epoch) and the outbound stream
//! (audio, video, screen…) so streams of one device have distinct keys.

use crate::error::{Error, Result};

/// Bits of the context reserved for the stream number.
pub const STREAM_BITS: u8 = 4;

/// A decoded media key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaKeyId {
    /// The sender's context value (`session << 4 | stream` for Ting senders).
    pub context: u64,
    /// The sender's MLS leaf index.
    pub sender_index: u32,
    /// The low `E` bits of the MLS epoch.
    pub epoch_low: u64,
}

/// `S` for a group whose highest occupied leaf index is `max_leaf`: the smallest `S` with
/// `max_leaf + 1 < 2^S`.
pub fn index_bits_for(max_leaf: u32) -> u8 {
    let leaf_count = u64::from(max_leaf) + 1;
    (u64::BITS - leaf_count.leading_zeros()) as u8
}

fn mask(bits: u8) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

impl MediaKeyId {
    /// Builds a key id for `epoch` (its low `epoch_bits` are kept).
    pub fn new(context: u64, sender_index: u32, epoch: u64, epoch_bits: u8) -> Self {
        Self {
            context,
            sender_index,
            epoch_low: epoch & mask(epoch_bits),
        }
    }

    /// Encodes with `E = epoch_bits` and `S = index_bits`; fails if a field does not fit.
    pub fn encode(&self, epoch_bits: u8, index_bits: u8) -> Result<u64> {
        let low = u32::from(epoch_bits) + u32::from(index_bits);
        if low > 63 {
            return Err(Error::InvalidArgument("epoch and index bits exceed 63"));
        }
        if self.epoch_low > mask(epoch_bits) || u64::from(self.sender_index) > mask(index_bits) {
            return Err(Error::InvalidArgument("key id field out of range"));
        }
        let context_bits = 64 - low;
        if context_bits < 64 && self.context > mask(context_bits as u8) {
            return Err(Error::InvalidArgument("key id context out of range"));
        }
        Ok((self.context << low) | (u64::from(self.sender_index) << epoch_bits) | self.epoch_low)
    }

    /// The epoch bits of a raw key id (known before `S` is).
    pub fn epoch_low_of(kid: u64, epoch_bits: u8) -> u64 {
        kid & mask(epoch_bits)
    }

    /// Decodes a raw key id with `E = epoch_bits` and `S = index_bits`. Every `u64` decodes
    /// (the fields partition the bits); an index that does not fit `u32` is refused.
    pub fn decode(kid: u64, epoch_bits: u8, index_bits: u8) -> Result<Self> {
        let low = u32::from(epoch_bits) + u32::from(index_bits);
        if low > 63 {
            return Err(Error::InvalidArgument("epoch and index bits exceed 63"));
        }
        let sender_index = (kid >> epoch_bits) & mask(index_bits);
        Ok(Self {
            context: kid >> low,
            sender_index: u32::try_from(sender_index).map_err(|_| Error::Malformed {
                what: "SFrame key id",
            })?,
            epoch_low: kid & mask(epoch_bits),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc9605_section_5_2_kid_layout() {
        // The figure of RFC 9605 §5.2 (E = 4, S = 6, context 0): epoch 17, index 33 -> 0x211.
        let kid = MediaKeyId::new(0, 33, 17, 4).encode(4, 6).unwrap();
        assert_eq!(kid, 0x211);
        let kid = MediaKeyId::new(0, 51, 17, 4).encode(4, 6).unwrap();
        assert_eq!(kid, 0x331);
        let kid = MediaKeyId::new(0, 20, 14, 4).encode(4, 6).unwrap();
        assert_eq!(kid, 0x14e);
    }

    #[test]
    fn index_bits() {
        assert_eq!(index_bits_for(0), 1);
        assert_eq!(index_bits_for(1), 2);
        assert_eq!(index_bits_for(2), 2);
        assert_eq!(index_bits_for(3), 3);
        assert_eq!(index_bits_for(999), 10);
        assert_eq!(index_bits_for(u32::MAX), 33);
    }

    #[test]
    fn out_of_range_fields_are_refused() {
        assert!(MediaKeyId::new(0, 4, 0, 4).encode(4, 2).is_err());
        assert!(MediaKeyId::new(1 << 60, 0, 0, 4).encode(4, 2).is_err());
        assert!(MediaKeyId::decode(0, 40, 30).is_err());
    }

    proptest! {
        #[test]
        fn kid_round_trips(
            epoch_bits in 1u8..=16,
            index_bits in 1u8..=32,
            sender in any::<u32>(),
            epoch in any::<u64>(),
            context in any::<u64>(),
        ) {
            let sender = (u64::from(sender) & mask(index_bits)) as u32;
            let context_bits = 64 - epoch_bits - index_bits;
            let context = context & mask(context_bits);
            let id = MediaKeyId::new(context, sender, epoch, epoch_bits);
            let kid = id.encode(epoch_bits, index_bits).unwrap();
            prop_assert_eq!(MediaKeyId::decode(kid, epoch_bits, index_bits).unwrap(), id);
            prop_assert_eq!(MediaKeyId::epoch_low_of(kid, epoch_bits), epoch & mask(epoch_bits));
        }

        #[test]
        fn any_kid_decodes_and_reencodes(kid in any::<u64>(), epoch_bits in 1u8..=16, index_bits in 1u8..=32) {
            let id = MediaKeyId::decode(kid, epoch_bits, index_bits).unwrap();
            prop_assert_eq!(id.encode(epoch_bits, index_bits).unwrap(), kid);
        }
    }
}
