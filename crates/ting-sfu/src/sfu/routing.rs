//! Forwarding: one incoming RTP packet to every subscriber of its track, and keyframe requests
//! toward publishers.

use str0m::format::Codec;
use str0m::media::{KeyframeRequestKind, MediaKind};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Vp8Descriptor};

use super::Sfu;
use crate::event::{Event, Output};
use crate::forward::{Verdict, choose_layer, starts_keyframe};
use crate::ids::{Layer, ParticipantId, TrackId};

impl Sfu {
    /// Asks the publisher of `track` for a keyframe on `layer`, at most once per
    /// [`SfuConfig::keyframe_interval`] (subscribers' own PLIs included, so that one subscriber
    /// cannot make a publisher send keyframes back to back).
    pub(super) fn request_keyframe(&mut self, track: TrackId, layer: Layer) {
        let now = self.now;
        let interval = self.config.keyframe_interval;
        let Some(p) = self.participants.get_mut(&track.publisher) else {
            return;
        };
        let Some(published) = p.published.get_mut(&track.mid) else {
            return;
        };
        let last = &mut published.last_keyframe_request[layer.index()];
        if last.is_some_and(|t| now.saturating_duration_since(t) < interval) {
            return;
        }
        *last = Some(now);
        let rid = published.rid_of(layer);
        let mut api = p.rtc.direct_api();
        if let Some(rx) = api.stream_rx_by_mid(track.mid, rid) {
            rx.request_keyframe(KeyframeRequestKind::Pli);
            self.out
                .push_back(Output::Event(Event::KeyframeRequested { track, layer }));
        }
    }

    /// Forwards one incoming RTP packet of `publisher` to every subscriber of its track.
    pub(super) fn forward(&mut self, publisher: ParticipantId, packet: Box<RtpPacket>) {
        let Some(p) = self.participants.get_mut(&publisher) else {
            return;
        };
        let Some(rx) = p
            .rtc
            .direct_api()
            .stream_rx(&packet.header.ssrc)
            .map(|s| (s.mid(), s.rid()))
        else {
            return;
        };
        let (mid, rid) = rx;
        let Some(published) = p.published.get_mut(&mid) else {
            return;
        };
        let Some(layer) = published.layer_of(rid) else {
            return;
        };
        published.seen(layer, packet.timestamp);
        let offered = published.active_layers(packet.timestamp);
        let Some(params) = p
            .rtc
            .codec_config()
            .find(|c| c.pt() == packet.header.payload_type)
            .cloned()
        else {
            return;
        };
        let track = TrackId { publisher, mid };
        let codec = params.spec().codec;
        let clock_rate = params.spec().clock_rate.get();
        let keyframe = starts_keyframe(codec, &packet.payload);
        let vp8 = (codec == Codec::Vp8)
            .then(|| Vp8Descriptor::parse(&packet.payload).ok())
            .flatten();
        let ext = forwardable_extensions(&packet.header.ext_vals, self.config.encrypted);
        let mut wanted = Vec::new();
        for (sid, s) in self
            .participants
            .iter_mut()
            .filter(|(sid, _)| **sid != publisher)
        {
            let budget = s.bwe_bps.map(|b| b / s.open_video_count().max(1));
            let Some(sub) = s.subscriptions.iter_mut().find(|x| x.source == track) else {
                continue;
            };
            let Some(out_mid) = sub.open_mid() else {
                continue;
            };
            let target = if sub.kind == MediaKind::Video {
                choose_layer(&offered, sub.preferred, budget, &self.config.layer_bitrates)
                    .unwrap_or(layer)
            } else {
                layer
            };
            let before = sub.rewriter.current();
            let verdict = sub.rewriter.handle(
                layer,
                target,
                *packet.seq_no,
                packet.header.timestamp,
                clock_rate,
                keyframe,
                packet.timestamp,
            );
            if sub.rewriter.current() != Some(target) && !wanted.contains(&target) {
                wanted.push(target);
            }
            let Verdict::Forward { seq, ts } = verdict else {
                continue;
            };
            let switched = before != sub.rewriter.current();
            let patch = vp8.and_then(|d| sub.vp8.handle(&d, switched));
            if switched && before.is_some() {
                self.out.push_back(Output::Event(Event::LayerSwitched {
                    subscriber: *sid,
                    track,
                    layer,
                }));
            }
            let out_pt = s
                .rtc
                .codec_config()
                .find(|c| c.spec() == params.spec())
                .or_else(|| s.rtc.codec_config().find(|c| c.spec().codec == codec))
                .map(|c| c.pt());
            let Some(out_pt) = out_pt else {
                continue;
            };
            let mut api = s.rtc.direct_api();
            let Some(tx) = api.stream_tx_by_mid(out_mid, None) else {
                continue;
            };
            let mut write = RtpWrite::new(
                out_pt,
                seq.into(),
                ts,
                packet.timestamp,
                packet.payload.clone(),
            )
            .marker(packet.header.marker)
            .nackable(sub.kind == MediaKind::Video)
            .ext_vals(ext.clone());
            if let Some(patch) = patch {
                write = write.vp8_patch(patch);
            }
            tx.write_rtp(write);
        }
        for layer in wanted {
            self.request_keyframe(track, layer);
        }
    }
}

/// Header extension values copied to subscribers: orientation and content type, plus audio
/// level and voice activity only in a meeting that is not end-to-end encrypted. Everything
/// else (mid/rid and transport-wide sequence numbers, which str0m sets per hop) is left out.
fn forwardable_extensions(ext: &ExtensionValues, encrypted: bool) -> ExtensionValues {
    let mut out = ExtensionValues {
        video_orientation: ext.video_orientation,
        video_content_type: ext.video_content_type,
        ..Default::default()
    };
    if !encrypted {
        out.audio_level = ext.audio_level;
        out.voice_activity = ext.voice_activity;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_level_is_stripped_in_encrypted_meetings() {
        let ext = ExtensionValues {
            audio_level: Some(-20),
            voice_activity: Some(true),
            video_orientation: None,
            ..Default::default()
        };
        let out = forwardable_extensions(&ext, true);
        assert_eq!((out.audio_level, out.voice_activity), (None, None));
        let out = forwardable_extensions(&ext, false);
        assert_eq!(
            (out.audio_level, out.voice_activity),
            (Some(-20), Some(true))
        );
    }
}
