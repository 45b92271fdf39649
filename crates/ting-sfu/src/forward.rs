//! Per-subscriber forwarding state: which layer a subscriber gets, and the sequence-number and
//! timestamp rewriting that keeps its outgoing stream continuous across layer switches.
//!
//! Nothing here reads the media payload except [`starts_keyframe`], which looks at the codec's
//! payload descriptor and the few clear header bytes the SFrame packetization leaves readable.

use std::time::Instant;

use str0m::format::Codec;
use str0m::rtp::{Vp8Descriptor, Vp8Patch};

use crate::ids::Layer;

/// Rewrites one incoming stream (one layer at a time) onto one outgoing stream.
#[derive(Debug, Default)]
pub(crate) struct Rewriter {
    /// Layer currently forwarded (`None` until the first packet, or for non-simulcast tracks
    /// the single stream is tracked as `Some(Layer::High)` by the caller).
    current: Option<Layer>,
    /// Added to the incoming extended sequence number.
    seq_offset: i64,
    /// Added (wrapping) to the incoming RTP timestamp.
    ts_offset: u32,
    /// Incoming extended sequence number where the current layer started; older packets of
    /// the layer (late retransmissions from before the switch) are dropped.
    switch_seq: u64,
    last_out_seq: Option<u64>,
    last_out_ts: u32,
    last_out_at: Option<Instant>,
}

/// What to do with one incoming packet for one subscriber.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Forward with this outgoing sequence number and timestamp.
    Forward { seq: u64, ts: u32 },
    /// Not the layer this subscriber gets (or a stale packet): drop.
    Drop,
}

impl Rewriter {
    /// The layer currently forwarded.
    pub(crate) fn current(&self) -> Option<Layer> {
        self.current
    }

    /// Decides the fate of an incoming packet of `layer` when the subscriber wants `target`.
    /// Switches to `target` when the packet starts a keyframe (or when nothing was forwarded yet
    /// and the packet starts a keyframe; audio counts every packet as a "keyframe").
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle(
        &mut self,
        layer: Layer,
        target: Layer,
        seq: u64,
        ts: u32,
        clock_rate: u32,
        keyframe_start: bool,
        now: Instant,
    ) -> Verdict {
        if self.current != Some(layer) {
            if layer != target || !keyframe_start {
                return Verdict::Drop;
            }
            self.switch_to(layer, seq, ts, clock_rate, now);
        } else if seq < self.switch_seq {
            return Verdict::Drop;
        }
        let out = seq as i64 + self.seq_offset;
        if out < 0 {
            return Verdict::Drop;
        }
        let out = out as u64;
        let ts_out = ts.wrapping_add(self.ts_offset);
        if self.last_out_seq.is_none_or(|l| out > l) {
            self.last_out_seq = Some(out);
            self.last_out_ts = ts_out;
            self.last_out_at = Some(now);
        }
        Verdict::Forward {
            seq: out,
            ts: ts_out,
        }
    }

    fn switch_to(&mut self, layer: Layer, seq: u64, ts: u32, clock_rate: u32, now: Instant) {
        match (self.last_out_seq, self.last_out_at) {
            (Some(last_seq), Some(at)) => {
                self.seq_offset = last_seq as i64 + 1 - seq as i64;
                let elapsed = now.saturating_duration_since(at);
                let step = ((elapsed.as_micros() as u64 * u64::from(clock_rate)) / 1_000_000)
                    .clamp(1, u64::from(u32::MAX)) as u32;
                self.ts_offset = self.last_out_ts.wrapping_add(step).wrapping_sub(ts);
            }
            _ => {
                // First packet: keep the low 15 bits so the outgoing stream starts with a
                // rollover counter of 0 (str0m's receivers assume ROC 0 at start).
                let start = seq & 0x7fff;
                self.seq_offset = start as i64 - seq as i64;
                self.ts_offset = 0;
            }
        }
        self.switch_seq = seq;
        self.current = Some(layer);
    }
}

/// Keeps a VP8 subscriber's PictureID and TL0PICIDX continuous across simulcast layer switches
/// (each layer counts on its own; a receiver drops frames whose id goes backwards).
///
/// These fields live in the RTP payload descriptor, which the packetizer adds *after* SFrame
/// encryption: rewriting them never touches ciphertext or SFrame-authenticated bytes.
#[derive(Debug, Default)]
pub(crate) struct Vp8Munger {
    pic_offset: u16,
    tl0_offset: u8,
    last_pic: Option<u16>,
    last_tl0: Option<u8>,
}

impl Vp8Munger {
    /// The patch for one forwarded packet; `switched` is true on the first packet after a
    /// layer switch. `None` when nothing needs rewriting.
    pub(crate) fn handle(&mut self, d: &Vp8Descriptor, switched: bool) -> Option<Vp8Patch> {
        let (out_pic, out_tl0) = self.rewrite(d.picture_id(), d.tl0_pic_idx(), switched);
        if self.pic_offset == 0 && self.tl0_offset == 0 {
            return None;
        }
        let mut b = d.patch();
        if let Some(p) = out_pic {
            b = b.picture_id(p);
        }
        if let Some(t) = out_tl0 {
            b = b.tl0_pic_idx(t);
        }
        // A 7-bit PictureID that no longer fits is sent unpatched rather than dropped.
        b.build().ok()
    }

    /// The outgoing PictureID and TL0PICIDX for incoming ones.
    fn rewrite(
        &mut self,
        pic: Option<u16>,
        tl0: Option<u8>,
        switched: bool,
    ) -> (Option<u16>, Option<u8>) {
        if switched {
            if let (Some(p), Some(last)) = (pic, self.last_pic) {
                self.pic_offset = last.wrapping_add(1).wrapping_sub(p) & 0x7fff;
            }
            if let (Some(t), Some(last)) = (tl0, self.last_tl0) {
                self.tl0_offset = last.wrapping_add(1).wrapping_sub(t);
            }
        }
        let out_pic = pic.map(|p| p.wrapping_add(self.pic_offset) & 0x7fff);
        let out_tl0 = tl0.map(|t| t.wrapping_add(self.tl0_offset));
        if out_pic.is_some() {
            self.last_pic = out_pic;
        }
        if out_tl0.is_some() {
            self.last_tl0 = out_tl0;
        }
        (out_pic, out_tl0)
    }
}

/// Chooses the layer for a subscriber: the largest layer not above `preferred` that the
/// publisher offers and whose nominal bitrate fits `budget_bps` (falls back to the smallest
/// offered layer).
pub(crate) fn choose_layer(
    offered: &[Layer],
    preferred: Layer,
    budget_bps: Option<u64>,
    layer_bps: &[u64; 3],
) -> Option<Layer> {
    let mut best = None;
    let mut smallest = None;
    for &l in offered {
        if smallest.is_none_or(|s| l < s) {
            smallest = Some(l);
        }
        let fits = budget_bps.is_none_or(|b| layer_bps[l.index()] <= b);
        if l <= preferred && fits && best.is_none_or(|b| l > b) {
            best = Some(l);
        }
    }
    best.or(smallest)
}

/// Whether an RTP payload begins a keyframe, from the codec's payload descriptor and the first
/// clear byte of the frame (the SFrame packetization keeps those bytes readable).
///
/// Unknown or malformed payloads are "not a keyframe"; audio always is (every packet decodes).
pub(crate) fn starts_keyframe(codec: Codec, payload: &[u8]) -> bool {
    match codec {
        Codec::Vp8 => Vp8Descriptor::parse(payload).is_ok_and(|d| d.starts_keyframe(payload)),
        Codec::Vp9 => vp9_keyframe(payload),
        Codec::Av1 => av1_keyframe(payload),
        Codec::H264 => h264_keyframe(payload),
        c if c.is_audio() => true,
        _ => false,
    }
}

/// VP9 payload descriptor (draft-ietf-payload-vp9): B (start of frame) set and P (inter) clear.
fn vp9_keyframe(p: &[u8]) -> bool {
    p.first().is_some_and(|b| b & 0x08 != 0 && b & 0x40 == 0)
}

/// AV1 aggregation header: N bit marks the first packet of a coded video sequence.
fn av1_keyframe(p: &[u8]) -> bool {
    p.first().is_some_and(|b| b & 0x08 != 0)
}

/// H.264 (RFC 6184): an IDR or SPS NAL unit, possibly inside STAP-A or at the start of FU-A.
fn h264_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else { return false };
    match b0 & 0x1f {
        5 | 7 => true,
        24 => p.get(3).is_some_and(|n| matches!(n & 0x1f, 5 | 7)),
        28 => p.get(1).is_some_and(|f| f & 0x80 != 0 && f & 0x1f == 5),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rewriter_is_continuous_across_switch() {
        let t0 = Instant::now();
        let mut r = Rewriter::default();
        // Nothing forwarded until a keyframe of the target layer.
        assert_eq!(
            r.handle(Layer::High, Layer::High, 70_000, 10, 90_000, false, t0),
            Verdict::Drop
        );
        let v = r.handle(Layer::High, Layer::High, 70_001, 10, 90_000, true, t0);
        assert_eq!(
            v,
            Verdict::Forward {
                seq: 70_001 & 0x7fff,
                ts: 10
            }
        );
        let v = r.handle(Layer::High, Layer::High, 70_002, 3010, 90_000, false, t0);
        assert_eq!(
            v,
            Verdict::Forward {
                seq: (70_001 & 0x7fff) + 1,
                ts: 3010
            }
        );
        // Low-layer delta frame: dropped; its keyframe switches, continuing the numbering.
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(
            r.handle(Layer::Low, Layer::Low, 5, 99, 90_000, false, t1),
            Verdict::Drop
        );
        let v = r.handle(Layer::Low, Layer::Low, 6, 99, 90_000, true, t1);
        assert_eq!(
            v,
            Verdict::Forward {
                seq: (70_001 & 0x7fff) + 2,
                ts: 3010 + 900
            }
        );
        assert_eq!(r.current(), Some(Layer::Low));
        // The old layer no longer passes.
        assert_eq!(
            r.handle(Layer::High, Layer::Low, 70_003, 6010, 90_000, false, t1),
            Verdict::Drop
        );
    }

    #[test]
    fn layer_choice_respects_preference_and_budget() {
        let bps = [150_000, 500_000, 1_500_000];
        let all = Layer::ALL;
        assert_eq!(
            choose_layer(&all, Layer::High, None, &bps),
            Some(Layer::High)
        );
        assert_eq!(
            choose_layer(&all, Layer::Medium, None, &bps),
            Some(Layer::Medium)
        );
        assert_eq!(
            choose_layer(&all, Layer::High, Some(600_000), &bps),
            Some(Layer::Medium)
        );
        assert_eq!(
            choose_layer(&all, Layer::High, Some(10_000), &bps),
            Some(Layer::Low)
        );
        assert_eq!(choose_layer(&[], Layer::High, None, &bps), None);
    }

    fn out(m: &mut Vp8Munger, pic: u16, tl0: u8, switched: bool) -> (u16, u8) {
        let (p, t) = m.rewrite(Some(pic), Some(tl0), switched);
        (p.expect("pic"), t.expect("tl0"))
    }

    #[test]
    fn vp8_picture_id_continues_across_switch() {
        let mut m = Vp8Munger::default();
        assert_eq!(out(&mut m, 100, 7, false), (100, 7));
        assert_eq!(out(&mut m, 101, 8, false), (101, 8));
        // The other layer counts from elsewhere (and wraps): continue at 102 / 9.
        assert_eq!(out(&mut m, 0x7ffe, 250, true), (102, 9));
        assert_eq!(out(&mut m, 0x7fff, 251, false), (103, 10));
        assert_eq!(out(&mut m, 0, 252, false), (104, 11));
        // A patch is built for a real descriptor (X, 15-bit I, L, T).
        let payload = [0x90, 0xe0, 0x80, 0x05, 0x09, 0x00, 0x00, 0xaa];
        let d = Vp8Descriptor::parse(&payload).expect("valid");
        assert!(m.handle(&d, false).is_some());
    }

    #[test]
    fn keyframe_detection_never_panics() {
        assert!(starts_keyframe(Codec::Vp8, &[0x10, 0x00]));
        assert!(!starts_keyframe(Codec::Vp8, &[0x10, 0x01]));
        assert!(!starts_keyframe(Codec::Vp8, &[0x00, 0x00]));
        assert!(starts_keyframe(Codec::Vp8, &[0x90, 0x80, 0x81, 0x02, 0x00]));
        for len in 0..6 {
            let p = vec![0xff; len];
            for c in [Codec::Vp8, Codec::Vp9, Codec::Av1, Codec::H264, Codec::Opus] {
                let _ = starts_keyframe(c, &p);
            }
        }
    }
}
