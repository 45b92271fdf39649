//! Synthetic media frames and their SFrame packetization.
//!
//! Each frame fits one RTP packet. Plaintext: sequence number (u32), kind (0 audio, 1 video),
//! the sender's send time ([`clock_us`], u64), filler, then an FNV-1a checksum of everything
//! before it, so a receiver can verify every byte it decrypted and measure the latency. On the wire the RTP payload is laid out as a browser with the Jitsi/LiveKit
//! SFrame packetization would send it:
//!
//! * audio (Opus): the TOC byte in the clear, then SFrame ciphertext;
//! * video (VP8): a one-byte VP8 payload descriptor (start of partition 0), then the clear VP8
//!   header bytes (10 on keyframes, 3 on delta frames; bit 0 of the first is 0 on keyframes),
//!   then SFrame ciphertext.
//!
//! The clear bytes are SFrame metadata: authenticated, not encrypted.

use std::sync::OnceLock;
use std::time::Instant;

use ting_e2ee::MediaKeys;

/// Microseconds since the first call in this process (a monotonic clock shared by every
/// participant of the process, for send timestamps inside frames).
pub fn clock_us() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Opus audio.
    Audio,
    /// VP8 video.
    Video,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Audio => 0,
            Kind::Video => 1,
        }
    }

    /// SFrame stream number (one per track).
    fn stream(self) -> u8 {
        self.byte()
    }
}

/// Why a received payload did not verify.
#[derive(Debug)]
pub enum FrameError {
    /// Too short or not in the expected layout.
    Malformed,
    /// SFrame decryption failed (unknown epoch or sender, replay, tampering).
    Decrypt(ting_e2ee::Error),
    /// Decrypted, but the checksum or contents are wrong.
    Corrupt,
}

/// A verified frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Sender's MLS leaf index in the frame's epoch.
    pub sender_leaf: u32,
    /// MLS epoch of the keys.
    pub epoch: u64,
    /// Audio or video.
    pub kind: Kind,
    /// The sender's sequence number.
    pub seq: u32,
    /// The sender's [`clock_us`] when it encrypted the frame.
    pub sent_us: u64,
}

/// Bytes of the plaintext around the filler: seq, kind, send time, checksum.
const FIXED: usize = 4 + 1 + 8 + 4;
/// Most filler bytes a frame may carry (it must fit one RTP packet).
pub const MAX_FILLER: usize = 1100;

const OPUS_TOC: u8 = 0x78;
const VP8_DESCRIPTOR: u8 = 0x10;

/// FNV-1a, 32 bit.
fn fnv(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for x in b {
        h ^= u32::from(*x);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Default filler length of frame `seq`: 40 to 99 bytes.
pub fn default_filler(seq: u32) -> usize {
    40 + (seq % 60) as usize
}

/// The plaintext of frame `seq` sent at `sent_us` with `filler` filler bytes.
pub fn plaintext(kind: Kind, seq: u32, sent_us: u64, filler: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(FIXED + filler);
    p.extend_from_slice(&seq.to_be_bytes());
    p.push(kind.byte());
    p.extend_from_slice(&sent_us.to_be_bytes());
    for i in 0..filler {
        p.push((i as u8).wrapping_mul(31) ^ (seq as u8));
    }
    let sum = fnv(&p);
    p.extend_from_slice(&sum.to_be_bytes());
    p
}

/// Encrypts frame `seq` (stamped with the current [`clock_us`], `filler` filler bytes, at most
/// [`MAX_FILLER`]) and lays it out as an RTP payload.
pub fn encode(
    keys: &mut MediaKeys,
    kind: Kind,
    seq: u32,
    keyframe: bool,
    filler: usize,
) -> Result<Vec<u8>, ting_e2ee::Error> {
    let clear: Vec<u8> = match kind {
        Kind::Audio => vec![OPUS_TOC],
        Kind::Video if keyframe => vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00],
        Kind::Video => vec![0x31, 0x02, 0x00],
    };
    let plain = plaintext(kind, seq, clock_us(), filler.min(MAX_FILLER));
    let ciphertext = keys.encrypt_frame(kind.stream(), &clear, &plain)?;
    let mut out = Vec::with_capacity(clear.len() + ciphertext.len() + 1);
    if kind == Kind::Video {
        out.push(VP8_DESCRIPTOR);
    }
    out.extend_from_slice(&clear);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Length of the VP8 payload descriptor at the start of `payload` (RFC 7741 §4.2): one byte,
/// or more with the extension bits (picture id, TL0PICIDX, TID/KEYIDX), which a router that
/// repacketizes frames may add.
fn vp8_descriptor_len(payload: &[u8]) -> Result<usize, FrameError> {
    let first = *payload.first().ok_or(FrameError::Malformed)?;
    if first & 0x80 == 0 {
        return Ok(1);
    }
    let ext = *payload.get(1).ok_or(FrameError::Malformed)?;
    let mut n = 2;
    if ext & 0x80 != 0 {
        let pid = *payload.get(n).ok_or(FrameError::Malformed)?;
        n += if pid & 0x80 != 0 { 2 } else { 1 };
    }
    if ext & 0x40 != 0 {
        n += 1;
    }
    if ext & 0x30 != 0 {
        n += 1;
    }
    Ok(n)
}

/// Splits, decrypts and verifies a received RTP payload of `kind`.
pub fn decode(
    keys: &mut MediaKeys,
    now_ms: u64,
    kind: Kind,
    payload: &[u8],
) -> Result<Verified, FrameError> {
    let (clear, frame) = match kind {
        Kind::Audio => {
            if payload.len() < 2 {
                return Err(FrameError::Malformed);
            }
            payload.split_at(1)
        }
        Kind::Video => {
            let body = payload
                .get(vp8_descriptor_len(payload)?..)
                .ok_or(FrameError::Malformed)?;
            let first = *body.first().ok_or(FrameError::Malformed)?;
            let n = if first & 1 == 0 { 10 } else { 3 };
            if body.len() <= n {
                return Err(FrameError::Malformed);
            }
            body.split_at(n)
        }
    };
    let d = keys
        .decrypt_frame(now_ms, clear, frame)
        .map_err(FrameError::Decrypt)?;
    let p = &d.payload;
    if p.len() < FIXED {
        return Err(FrameError::Corrupt);
    }
    let seq = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    let mut sent = [0u8; 8];
    sent.copy_from_slice(&p[5..13]);
    let sent_us = u64::from_be_bytes(sent);
    if p[4] != kind.byte() || *p != plaintext(kind, seq, sent_us, p.len() - FIXED) {
        return Err(FrameError::Corrupt);
    }
    Ok(Verified {
        sender_leaf: d.sender_leaf,
        epoch: d.epoch,
        kind,
        seq,
        sent_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_descriptors() {
        assert_eq!(vp8_descriptor_len(&[0x10, 0x31]).unwrap(), 1);
        // X, I with a 15-bit picture id.
        assert_eq!(
            vp8_descriptor_len(&[0x90, 0x80, 0x81, 0x02, 0x31]).unwrap(),
            4
        );
        // X, I (7-bit), L, T.
        assert_eq!(
            vp8_descriptor_len(&[0x90, 0xe0, 0x05, 0x01, 0x20]).unwrap(),
            5
        );
        assert!(vp8_descriptor_len(&[]).is_err());
        assert!(vp8_descriptor_len(&[0x90]).is_err());
    }

    #[test]
    fn plaintext_carries_time_and_checks_every_byte() {
        let p = plaintext(Kind::Video, 7, 123_456, 50);
        assert_eq!(p.len(), FIXED + 50);
        assert_eq!(&p[5..13], &123_456u64.to_be_bytes());
        assert_ne!(p, plaintext(Kind::Video, 7, 123_457, 50));
        assert!(clock_us() <= clock_us());
    }
}
