//! Meetings through the router on a virtual clock: str0m clients ↔ in-memory UDP ↔ `Sfu`.

mod common;

use std::time::Duration;

use common::{Net, distinct};
use ting_sfu::str0m::format::Codec;
use ting_sfu::str0m::media::{Direction, KeyframeRequestKind, MediaKind};
use ting_sfu::{DisconnectReason, Error, Event, Layer, ParticipantId, TrackId};

fn send_frames(net: &mut Net, frames: u32, keyframe_every: u32) {
    for f in 0..frames {
        net.send_frame(f, f % keyframe_every == 0);
        net.run_for(Duration::from_millis(20));
    }
    net.run_for(Duration::from_millis(500));
}

/// Every subscriber got every frame of every other publisher, byte for byte, without audio level.
fn assert_complete(net: &Net, frames: u32, kinds: &[u8]) {
    let n = net.clients.len();
    for c in &net.clients {
        assert_eq!(c.corrupt, 0, "{}: payload bytes changed in transit", c.id);
        assert!(
            c.received.iter().all(|g| g.audio_level.is_none()),
            "audio level leaked"
        );
        let me = c.id.0 as u8;
        assert!(
            c.received.iter().all(|g| g.publisher != me),
            "own media echoed"
        );
        let got = distinct(c);
        for other in (1..=n as u8).filter(|o| *o != me) {
            for kind in kinds {
                let frames_got = got.get(&(other, *kind)).map_or(0, |s| s.len());
                assert_eq!(
                    frames_got, frames as usize,
                    "{} from p{other} kind {kind}",
                    c.id
                );
            }
        }
    }
}

#[test]
fn two_participants_exchange_media_unchanged() {
    let mut net = Net::new(|c| c);
    net.join(true, true, false);
    net.join(true, true, false);
    net.settle();
    send_frames(&mut net, 50, 25);
    assert_complete(&net, 50, &[0, 1]);
    let published = net
        .events
        .iter()
        .filter(|e| matches!(e, Event::TrackPublished { .. }))
        .count();
    assert_eq!(published, 4);
    assert!(
        net.events
            .iter()
            .any(|e| matches!(e, Event::Connected(ParticipantId(2))))
    );
}

#[test]
fn participants_without_udp_connect_over_ice_tcp() {
    // The router announces a passive TCP candidate next to its UDP one; clients that can only
    // open TCP connections (active candidates) connect, and media flows both ways over TCP.
    let mut net = Net::new(|mut c| {
        c.tcp_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 3479)));
        c
    });
    net.tcp = true;
    net.join(true, true, false);
    net.join(true, true, false);
    net.settle();
    send_frames(&mut net, 30, 10);
    assert_complete(&net, 30, &[0, 1]);
    assert_eq!(
        net.wrong_proto, 0,
        "router replied over UDP to a TCP client"
    );
}

#[test]
fn ten_participants_full_mesh_through_router() {
    let mut net = Net::new(|c| c);
    for _ in 0..10 {
        net.join(true, true, false);
    }
    net.settle();
    send_frames(&mut net, 15, 15);
    assert_complete(&net, 15, &[0, 1]);
}

#[test]
fn packet_loss_is_repaired_by_nack_and_rtx() {
    let mut net = Net::new(|c| c);
    net.join(false, true, false);
    net.join(false, true, false);
    net.settle();
    // 5 % loss on both hops, seeded: the router NACKs the publisher, the subscriber NACKs the
    // router, and str0m's RTX caches repair both.
    net.loss_up = 0.05;
    net.loss_down = 0.05;
    send_frames(&mut net, 200, 50);
    net.loss_up = 0.0;
    net.loss_down = 0.0;
    net.run_for(Duration::from_secs(1));
    assert!(
        net.dropped > 10,
        "loss was injected ({} dropped)",
        net.dropped
    );
    assert_complete(&net, 200, &[1]);
}

#[test]
fn silent_participant_times_out_and_is_cleaned_up() {
    let mut net = Net::new(|c| c);
    net.join(true, true, false);
    net.join(true, true, false);
    net.join(true, true, false);
    net.settle();
    send_frames(&mut net, 5, 5);
    net.clients[2].alive = false; // crashes: no goodbye, no more packets
    net.run_for(Duration::from_secs(20));
    let gone = ParticipantId(3);
    assert!(
        net.events.contains(&Event::Disconnected {
            participant: gone,
            reason: DisconnectReason::Timeout
        }),
        "timeout detected: {:?}",
        net.events
            .iter()
            .filter(|e| matches!(e, Event::Disconnected { .. }))
            .collect::<Vec<_>>()
    );
    let unpublished = net
        .events
        .iter()
        .filter(|e| matches!(e, Event::TrackUnpublished(t) if t.publisher == gone))
        .count();
    assert_eq!(unpublished, 2);
    assert!(!net.sfu.participants().any(|p| p == gone));
    assert!(net.sfu.tracks().all(|t| t.publisher != gone));
    // The others stay connected and keep exchanging media.
    let before: Vec<usize> = net.clients.iter().map(|c| c.received.len()).collect();
    for f in 100..105 {
        net.send_frame(f, true);
        net.run_for(Duration::from_millis(20));
    }
    net.run_for(Duration::from_millis(200));
    for (c, n) in net.clients.iter().zip(before) {
        if c.alive {
            assert_eq!(c.received.len(), n + 10, "{} keeps receiving", c.id);
        }
    }
}

#[test]
fn removed_participant_session_ends() {
    let mut net = Net::new(|c| c);
    net.join(true, false, false);
    net.join(true, false, false);
    net.settle();
    net.sfu.remove_participant(ParticipantId(2)).expect("known");
    net.run_for(Duration::from_millis(100));
    assert!(net.events.contains(&Event::Disconnected {
        participant: ParticipantId(2),
        reason: DisconnectReason::Removed
    }));
    assert_eq!(
        net.sfu.participants().collect::<Vec<_>>(),
        vec![ParticipantId(1)]
    );
    assert!(matches!(
        net.sfu.remove_participant(ParticipantId(2)),
        Err(Error::UnknownParticipant(ParticipantId(2)))
    ));
}

#[test]
fn simulcast_layer_switch_requests_keyframe() {
    let mut net = Net::new(|c| {
        let mut c = c;
        c.layer_bitrates = [10_000, 20_000, 30_000]; // the estimate never limits here
        c
    });
    net.join(false, true, true);
    net.join(false, true, false);
    net.settle();
    send_frames(&mut net, 10, 1000); // one keyframe, at frame 0
    let layers = |net: &Net| {
        net.clients[1]
            .received
            .iter()
            .map(|g| g.layer)
            .collect::<Vec<_>>()
    };
    assert_eq!(layers(&net), vec![2; 10], "full layer by default");

    let track = net
        .sfu
        .tracks()
        .find(|t| t.publisher == ParticipantId(1))
        .expect("published");
    let kf_before = net.clients[0].keyframe_requests;
    net.sfu
        .set_preferred_layer(ParticipantId(2), track, Layer::Low)
        .expect("known");
    for f in 10..15 {
        net.send_frame(f, false);
        net.run_for(Duration::from_millis(20));
    }
    assert!(net.events.contains(&Event::KeyframeRequested {
        track,
        layer: Layer::Low
    }));
    assert!(
        net.clients[0].keyframe_requests > kf_before,
        "PLI reached the publisher"
    );
    // Until the low layer's keyframe arrives the subscriber stays on the full layer.
    assert!(layers(&net).iter().all(|l| *l == 2));
    send_frames_from(&mut net, 15, 20, 15);
    assert!(net.events.contains(&Event::LayerSwitched {
        subscriber: ParticipantId(2),
        track,
        layer: Layer::Low
    }));
    let l = layers(&net);
    assert_eq!(&l[l.len() - 5..], &[0; 5], "low layer after the keyframe");
    // No frame lost across the switch. (The switching frame itself may arrive twice, once per
    // layer, when the old layer's packet of that frame was already forwarded.)
    let frames: std::collections::BTreeSet<u32> =
        net.clients[1].received.iter().map(|g| g.frame).collect();
    assert_eq!(frames, (0..20).collect());
    assert_eq!(net.clients[1].corrupt, 0);
}

fn send_frames_from(net: &mut Net, from: u32, to: u32, keyframe_at: u32) {
    for f in from..to {
        net.send_frame(f, f == keyframe_at);
        net.run_for(Duration::from_millis(20));
    }
    net.run_for(Duration::from_millis(200));
}

#[test]
fn audio_level_is_forwarded_only_in_unencrypted_meetings() {
    // Positive control for the test below: the harness does see the extension when allowed.
    let mut net = Net::new(|mut c| {
        c.encrypted = false;
        c
    });
    net.join(true, false, false);
    net.join(true, false, false);
    net.settle();
    send_frames(&mut net, 5, 5);
    let got = &net.clients[1].received;
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|g| g.audio_level == Some(-30)));
}

#[test]
fn audio_level_extension_is_never_negotiated_nor_forwarded() {
    let mut net = Net::new(|c| c);
    net.join(true, false, false);
    net.join(true, false, false);
    net.settle();
    send_frames(&mut net, 10, 10);
    assert_complete(&net, 10, &[0]);
    for e in &net.events {
        if let Event::Offer { sdp, .. } = e {
            assert!(
                !sdp.contains("ssrc-audio-level"),
                "router offers audio level"
            );
        }
    }
}

#[test]
fn bad_input_gives_typed_errors() {
    let mut net = Net::new(|c| c);
    net.join(true, false, false);
    let now = net.now;
    let sfu = &mut net.sfu;
    assert!(matches!(
        sfu.add_participant(now, ParticipantId(9), "garbage"),
        Err(Error::InvalidSdp(_))
    ));
    assert!(matches!(
        sfu.add_participant(now, ParticipantId(9), ""),
        Err(Error::InvalidSdp(_))
    ));
    let truncated =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    assert!(
        sfu.add_participant(now, ParticipantId(9), truncated)
            .is_err()
    );
    assert!(
        !sfu.participants().any(|p| p == ParticipantId(9)),
        "failed join leaves nothing"
    );
    let unknown = ParticipantId(42);
    assert!(matches!(
        sfu.remove_participant(unknown),
        Err(Error::UnknownParticipant(_))
    ));
    assert!(matches!(
        sfu.handle_answer(unknown, 1, "garbage"),
        Err(Error::InvalidSdp(_))
    ));
    assert!(matches!(
        sfu.handle_offer(unknown, "v=0"),
        Err(Error::InvalidSdp(_) | Error::UnknownParticipant(_))
    ));
    let track = TrackId {
        publisher: unknown,
        mid: "0".into(),
    };
    assert!(matches!(
        sfu.set_preferred_layer(ParticipantId(1), track, Layer::Low),
        Err(Error::UnknownTrack(_))
    ));
    assert!(!sfu.handle_receive(
        now,
        "127.9.9.9:1".parse().unwrap(),
        "127.0.0.1:3478".parse().unwrap(),
        &[0xde, 0xad]
    ));
    assert!(!sfu.handle_receive(
        now,
        "127.9.9.9:1".parse().unwrap(),
        "127.0.0.1:3478".parse().unwrap(),
        &[]
    ));
    let p1 = ParticipantId(1);
    let dup = sfu.add_participant(now, p1, "v=0");
    assert!(matches!(dup, Err(Error::DuplicateParticipant(_))));
    // An answer with no offer outstanding (once the first offer round is done).
    net.settle();
    let answer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
    let r = net.sfu.handle_answer(p1, 1, answer);
    assert!(
        matches!(r, Err(Error::NoPendingOffer(_)) | Err(Error::InvalidSdp(_))),
        "{r:?}"
    );
}

#[test]
fn bandwidth_estimate_limits_the_layer() {
    // 200 kbit/s fits the low layer (150 kbit/s) only.
    let mut net = Net::new(|mut c| {
        c.initial_bitrate = 200_000;
        c
    });
    net.join(false, true, true);
    net.join(false, true, false);
    net.settle();
    send_frames(&mut net, 10, 1000);
    let layers: Vec<u8> = net.clients[1].received.iter().map(|g| g.layer).collect();
    assert_eq!(layers, vec![0; 10]);
}

#[test]
fn subscriber_keyframe_request_reaches_publisher() {
    let mut net = Net::new(|c| c);
    net.join(false, true, false);
    net.join(false, true, false);
    net.settle();
    send_frames(&mut net, 3, 1000);
    let before = net.clients[0].keyframe_requests;
    let mid = net.clients[1].received[0].mid;
    let mut api = net.clients[1].rtc.direct_api();
    api.stream_rx_by_mid(mid, None)
        .expect("receiving p1's video")
        .request_keyframe(KeyframeRequestKind::Pli);
    net.run_for(Duration::from_millis(100));
    assert!(net.clients[0].keyframe_requests > before);
    let track = TrackId {
        publisher: ParticipantId(1),
        mid: net.clients[0].video.expect("video"),
    };
    assert!(net.events.contains(&Event::KeyframeRequested {
        track,
        layer: Layer::High
    }));
}

#[test]
fn screen_share_is_published_and_unpublished_by_renegotiation() {
    let mut net = Net::new(|c| c);
    net.join(true, false, false);
    net.join(true, false, false);
    net.settle();
    let mid = net.renegotiate(0, |api| {
        api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None)
    });
    net.clients[0].screen = Some(mid);
    net.run_for(Duration::from_millis(200));
    let track = TrackId {
        publisher: ParticipantId(1),
        mid,
    };
    assert!(
        net.events
            .iter()
            .any(|e| matches!(e, Event::TrackPublished { track: t, .. } if *t == track))
    );
    send_frames(&mut net, 10, 5);
    let screen: usize = net.clients[1]
        .received
        .iter()
        .filter(|g| g.kind == 2)
        .count();
    assert_eq!(screen, 10);

    net.renegotiate(0, |api| api.stop_media(mid));
    net.clients[0].screen = None;
    net.run_for(Duration::from_millis(200));
    assert!(net.events.contains(&Event::TrackUnpublished(track)));
    assert!(net.sfu.tracks().all(|t| t != track));
    // The subscriber was offered the m-line's removal and keeps receiving audio.
    let offers_to_p2 = net
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Offer {
                    participant: ParticipantId(2),
                    ..
                }
            )
        })
        .count();
    assert!(
        offers_to_p2 >= 3,
        "initial, add screen, stop screen: {offers_to_p2}"
    );
    let before = net.clients[1].received.len();
    send_frames_from(&mut net, 10, 13, 10); // frame numbers (and RTP sequence) continue
    assert_eq!(net.clients[1].received.len(), before + 3);
}

#[test]
fn glare_router_yields_to_participant_offer() {
    let mut net = Net::new(|c| c);
    net.join(true, false, false);
    net.settle();
    net.hold_offers = true;
    net.join(true, false, false);
    net.run_for(Duration::from_millis(300));
    assert!(!net.held.is_empty(), "router offered p1's audio to p2");
    // p2 adds a screen share while the router's offer is unanswered.
    net.hold_offers = false;
    let mid = net.renegotiate(1, |api| {
        api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None)
    });
    net.clients[1].screen = Some(mid);
    // The abandoned offer cannot be answered any more: the answer is refused as stale and
    // changes nothing...
    let (p, stale_id, stale) = net.held[0].clone();
    assert_eq!(p, ParticipantId(2));
    let stale = ting_sfu::str0m::change::SdpOffer::from_sdp_string(&stale).expect("parses");
    let mut other = ting_sfu::str0m::Rtc::new(net.now);
    let answer = other
        .sdp_api()
        .accept_offer(stale)
        .expect("a peer can answer it");
    let r = net.sfu.handle_answer(p, stale_id, &answer.to_sdp_string());
    assert!(matches!(r, Err(Error::StaleAnswer(_))), "{r:?}");
    // p1's own held offer (p2's audio) is still answered normally.
    for (who, id, sdp) in std::mem::take(&mut net.held) {
        if who == ParticipantId(1) {
            net.answer(0, id, &sdp);
        }
    }
    // ...and the fresh one flows through the normal path.
    net.settle();
    send_frames(&mut net, 5, 5);
    assert_eq!(
        distinct(&net.clients[1]).get(&(1, 0)).map(|s| s.len()),
        Some(5)
    );
    assert_eq!(
        distinct(&net.clients[0]).get(&(2, 2)).map(|s| s.len()),
        Some(5)
    );
}

#[test]
fn participant_that_never_connects_is_dropped() {
    let mut net = Net::new(|mut c| {
        c.connect_timeout = Duration::from_secs(5);
        c
    });
    net.join(true, false, false);
    net.clients[0].alive = false; // answer delivered, but no ICE ever arrives
    net.run_for(Duration::from_secs(6));
    assert!(net.events.contains(&Event::Disconnected {
        participant: ParticipantId(1),
        reason: DisconnectReason::ConnectTimeout
    }));
    assert_eq!(net.sfu.participants().count(), 0);
}

#[test]
fn vp9_and_av1_are_forwarded_untouched() {
    let mut net = Net::new(|c| c);
    net.join(false, true, false);
    net.join(false, true, false);
    net.clients[0].video_codec = Codec::Vp9;
    net.clients[1].video_codec = Codec::Av1;
    net.settle();
    send_frames(&mut net, 10, 5);
    assert_complete(&net, 10, &[]);
    assert_eq!(
        distinct(&net.clients[1]).get(&(1, 3)).map(|s| s.len()),
        Some(10)
    );
    assert_eq!(
        distinct(&net.clients[0]).get(&(2, 4)).map(|s| s.len()),
        Some(10)
    );
}

/// VP8 packet with a full payload descriptor (15-bit PictureID, TL0PICIDX, TID) followed by the
/// clear VP8 header byte and "ciphertext" naming its layer and frame.
fn vp8_with_picture_id(layer: u8, frame: u8, keyframe: bool) -> Vec<u8> {
    let pic = (u16::from(layer) * 9000 + 32_000 + u16::from(frame)) & 0x7fff;
    let tl0 = layer.wrapping_mul(100).wrapping_add(frame);
    vec![
        0x90,
        0xe0,
        0x80 | (pic >> 8) as u8,
        pic as u8,
        tl0,
        0x20,
        u8::from(!keyframe),
        layer,
        frame,
        0xc1,
        0xc2,
        0xc3,
    ]
}

#[test]
fn vp8_picture_ids_stay_continuous_across_layer_switch() {
    let mut net = Net::new(|mut c| {
        c.layer_bitrates = [10_000, 20_000, 30_000];
        c
    });
    net.join(false, true, true);
    net.join(false, true, false);
    net.settle();
    let send = |net: &mut Net, frame: u8, keyframe: bool| {
        for (li, rid) in common::RIDS.iter().enumerate() {
            let payload = vp8_with_picture_id(li as u8, frame, keyframe);
            net.send_raw(0, Some(rid), u64::from(frame) + 1, payload);
        }
        net.run_for(Duration::from_millis(20));
    };
    for f in 0..10 {
        send(&mut net, f, f == 0);
    }
    let track = net.sfu.tracks().next().expect("track");
    net.sfu
        .set_preferred_layer(ParticipantId(2), track, Layer::Low)
        .expect("known");
    for f in 10..20 {
        send(&mut net, f, f == 15);
    }
    net.run_for(Duration::from_millis(300));
    let raw = &net.clients[1].raw;
    assert!(raw.len() >= 20, "{}", raw.len());
    let pics: Vec<u16> = raw
        .iter()
        .map(|p| (u16::from(p[2] & 0x7f) << 8) | u16::from(p[3]))
        .collect();
    let tl0s: Vec<u8> = raw.iter().map(|p| p[4]).collect();
    for w in pics.windows(2) {
        assert_eq!(w[1], (w[0] + 1) & 0x7fff, "PictureID continuous: {pics:?}");
    }
    for w in tl0s.windows(2) {
        assert_eq!(w[1], w[0].wrapping_add(1), "TL0PICIDX continuous: {tl0s:?}");
    }
    // Everything after the descriptor (clear VP8 header byte and ciphertext) is untouched.
    for p in raw {
        let (layer, frame) = (p[7], p[8]);
        assert_eq!(p[6..], vp8_with_picture_id(layer, frame, p[6] == 0)[6..]);
    }
    let last = raw.last().expect("packets");
    assert_eq!((last[7], last[8]), (0, 19), "ends on the low layer");
}
