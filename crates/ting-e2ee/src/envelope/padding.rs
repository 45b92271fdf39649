//! Size-bucket padding of envelopes (ISO/IEC 7816-4 style).
//!
//! `padded = encoded || 0x80 || 0x00 * k`, where the total length is the smallest bucket that
//! fits `encoded.len() + 1`. Buckets are the powers of two from [`MIN_BUCKET`] (256 B) to
//! [`MAX_BUCKET`] (256 KiB); a larger envelope is refused. Unpadding checks that the length is a
//! bucket, strips the zeros and requires the `0x80` marker, so every padded message has exactly
//! one valid reading.

use crate::error::{Error, Result};

/// Smallest bucket, in bytes.
pub const MIN_BUCKET: usize = 256;
/// Largest bucket, in bytes; the largest encoded envelope is one byte less.
pub const MAX_BUCKET: usize = 256 * 1024;

const MARKER: u8 = 0x80;

/// The bucket an encoded envelope of `len` bytes is padded to, or `None` if it is too large.
pub fn bucket_for(len: usize) -> Option<usize> {
    let needed = len.checked_add(1)?;
    if needed > MAX_BUCKET {
        return None;
    }
    Some(needed.next_power_of_two().max(MIN_BUCKET))
}

/// Whether `len` is one of the bucket sizes.
pub fn is_bucket(len: usize) -> bool {
    (MIN_BUCKET..=MAX_BUCKET).contains(&len) && len.is_power_of_two()
}

/// Pads `encoded` to its bucket.
pub fn pad(encoded: &[u8]) -> Result<Vec<u8>> {
    let bucket = bucket_for(encoded.len()).ok_or(Error::InvalidArgument(
        "envelope larger than the largest padding bucket (256 KiB)",
    ))?;
    let mut out = Vec::with_capacity(bucket);
    out.extend_from_slice(encoded);
    out.push(MARKER);
    out.resize(bucket, 0);
    Ok(out)
}

/// Removes the padding; refuses non-bucket lengths and a missing marker.
pub fn unpad(padded: &[u8]) -> Result<&[u8]> {
    const WHAT: &str = "envelope padding";
    if !is_bucket(padded.len()) {
        return Err(Error::Malformed { what: WHAT });
    }
    let end = padded
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(Error::Malformed { what: WHAT })?;
    if padded[end] != MARKER {
        return Err(Error::Malformed { what: WHAT });
    }
    Ok(&padded[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets() {
        assert_eq!(bucket_for(0), Some(256));
        assert_eq!(bucket_for(255), Some(256));
        assert_eq!(bucket_for(256), Some(512));
        assert_eq!(bucket_for(MAX_BUCKET - 1), Some(MAX_BUCKET));
        assert_eq!(bucket_for(MAX_BUCKET), None);
    }

    #[test]
    fn unpad_refuses_bad_input() {
        assert!(unpad(&[0u8; 256]).is_err());
        assert!(unpad(&[0x80u8; 255]).is_err());
        let mut p = pad(b"hi").unwrap();
        p[2] = 0x81;
        assert!(unpad(&p).is_err());
        assert!(pad(&vec![0u8; MAX_BUCKET]).is_err());
    }

    proptest! {
        #[test]
        fn pad_round_trips(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let padded = pad(&data).unwrap();
            prop_assert!(is_bucket(padded.len()));
            prop_assert_eq!(unpad(&padded).unwrap(), &data[..]);
        }

        #[test]
        fn unpad_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = unpad(&data);
        }
    }
}
