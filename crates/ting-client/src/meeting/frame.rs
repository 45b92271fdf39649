//! Synthetic media frames and their SFrame packetization.
//!
//! Each frame fits one RTP packet. Plaintext: sequence number (u32), kind (0 audio, 1 video),
//! filler, then an FNV-1a checksum of everything before it, so a receiver can verify every byte
//! it decrypted. On the wire the RTP payload is laid out as a browser with the Jitsi/LiveKit
//! SFrame packetization would send it:
//!
//! * audio (Opus): the TOC byte in the clear, then SFrame ciphertext;
//! * video (VP8): a one-byte VP8 payload descriptor (start of partition 0), then the clear VP8
//!   header bytes (10 on keyframes, 3 on delta frames; bit 0 of the first is 0 on keyframes),
//!   then SFrame ciphertext.
//!
//! The clear bytes are SFrame metadata: authenticated, not encrypted.

use ting_e2ee::MediaKeys;

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
}

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

/// The plaintext of frame `seq`.
pub fn plaintext(kind: Kind, seq: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(128);
    p.extend_from_slice(&seq.to_be_bytes());
    p.push(kind.byte());
    for i in 0..(40 + seq % 60) {
        p.push((i as u8).wrapping_mul(31) ^ (seq as u8));
    }
    let sum = fnv(&p);
    p.extend_from_slice(&sum.to_be_bytes());
    p
}

/// Encrypts frame `seq` and lays it out as an RTP payload.
pub fn encode(
    keys: &mut MediaKeys,
    kind: Kind,
    seq: u32,
    keyframe: bool,
) -> Result<Vec<u8>, ting_e2ee::Error> {
    let clear: Vec<u8> = match kind {
        Kind::Audio => vec![OPUS_TOC],
        Kind::Video if keyframe => vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00],
        Kind::Video => vec![0x31, 0x02, 0x00],
    };
    let ciphertext = keys.encrypt_frame(kind.stream(), &clear, &plaintext(kind, seq))?;
    let mut out = Vec::with_capacity(clear.len() + ciphertext.len() + 1);
    if kind == Kind::Video {
        out.push(VP8_DESCRIPTOR);
    }
    out.extend_from_slice(&clear);
    out.extend_from_slice(&ciphertext);
    Ok(out)
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
            let body = payload.get(1..).ok_or(FrameError::Malformed)?;
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
    if p.len() < 9 {
        return Err(FrameError::Corrupt);
    }
    let seq = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    if p[4] != kind.byte() || *p != plaintext(kind, seq) {
        return Err(FrameError::Corrupt);
    }
    Ok(Verified {
        sender_leaf: d.sender_leaf,
        epoch: d.epoch,
        kind,
        seq,
    })
}
