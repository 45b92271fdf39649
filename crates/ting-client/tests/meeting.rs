//! End-to-end meetings through a real `ting serve` process: signaling over the WebSocket,
//! media over real UDP on 127.0.0.1, SFrame-encrypted with the room's MLS keys.

mod support;

use std::time::Duration;

use support::{Server, login};
use ting_client::meeting::{Kind, MeetingOptions, MeetingStats, Participant, Signaling};
use ting_proto::ErrorCode;
use ting_proto::ws::{ClientMessage, MeetingEndReason, ServerEvent};

const WAIT: Duration = Duration::from_secs(20);

fn options() -> MeetingOptions {
    MeetingOptions {
        frame_interval: Duration::from_millis(20),
        ..MeetingOptions::default()
    }
}

/// Verified frames of `kind` from senders other than `own_leaf`.
fn from_others(s: &MeetingStats, own_leaf: Option<u32>, kind: Kind) -> u64 {
    s.verified
        .iter()
        .filter(|((leaf, k), _)| *k == kind && Some(*leaf) != own_leaf)
        .map(|(_, n)| n)
        .sum()
}

fn assert_clean(who: &str, s: &MeetingStats) {
    assert_eq!(s.corrupt, 0, "{who}: corrupt frames: {s:?}");
    assert_eq!(s.undecryptable, 0, "{who}: undecryptable frames: {s:?}");
    assert!(s.errors.is_empty(), "{who}: errors: {s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_participants_exchange_verified_media() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();

    let mut pa = a.join_meeting(room, options()).await.unwrap();
    let mut pb = b.join_meeting(room, options()).await.unwrap();
    let enough = |s: &MeetingStats| {
        from_others(s, None, Kind::Audio) >= 50 && from_others(s, None, Kind::Video) >= 50
    };
    let sa = pa.wait_for(WAIT, enough).await;
    let sb = pb.wait_for(WAIT, enough).await;
    assert!(enough(&sa), "alice received too little: {sa:?}");
    assert!(enough(&sb), "bob received too little: {sb:?}");
    assert_clean("alice", &sa);
    assert_clean("bob", &sb);
    // Each heard exactly one sender (the other), never itself.
    assert_eq!(
        sa.verified
            .keys()
            .map(|(l, _)| l)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        1
    );
    assert_eq!(sa.peers.len(), 1);
    assert_eq!(sb.peers.len(), 1);
    assert!(sa.connected && sb.connected);

    // Mute state is broadcast (the server cannot tell who speaks on its own).
    pa.mute(true, false);
    let sb = pb.wait_for(WAIT, |s| !s.muted.is_empty()).await;
    assert_eq!(sb.muted.get(&sa.participant_id), Some(&(true, false)));

    pb.leave().await;
    let sa = pa.wait_for(WAIT, |s| s.peers.is_empty()).await;
    assert!(sa.peers.is_empty(), "alice still sees bob: {sa:?}");
    pa.leave().await;
    // The last one out ends the meeting: its router and all its state are dropped (R17).
    let log = server.log.clone();
    support::wait_until("meeting ended", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("meeting ended"))
    })
    .await;
    // The log names rooms, devices and participants, never a participant's address.
    let log = std::fs::read_to_string(&server.log).unwrap();
    let own = format!("127.0.0.1:{}", server.port);
    let leaks: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("127.0.0.1:") && !l.contains(&own))
        .collect();
    assert!(leaks.is_empty(), "addresses in the log: {leaks:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_device_loses_media_session_and_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let mut b2 = support::link(&server, tmp.path(), &mut b1, "old-phone").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b1.sync().await.unwrap();
    b2.sync().await.unwrap();

    let mut pa = a.join_meeting(room, options()).await.unwrap();
    let mut pb1 = b1.join_meeting(room, options()).await.unwrap();
    let mut pb2 = b2.join_meeting(room, options()).await.unwrap();
    let two_senders =
        |s: &MeetingStats| s.verified.len() >= 4 && s.verified.values().all(|n| *n >= 10);
    for p in [&mut pa, &mut pb1, &mut pb2] {
        let s = p.wait_for(WAIT, two_senders).await;
        assert!(two_senders(&s), "{s:?}");
        assert_clean("before removal", &s);
    }

    let old_epoch = b2.media_epoch(room).unwrap();
    let old_phone = b2.device_id().unwrap();
    a.remove_device(room, old_phone).await.unwrap();
    // The server ends the removed device's media session at once.
    let s2 = pb2.wait_for(WAIT, |s| s.ended.is_some()).await;
    assert_eq!(s2.ended, Some(MeetingEndReason::Removed), "{s2:?}");

    // The remaining members move to the new epoch's keys and media keeps flowing.
    b1.sync().await.unwrap();
    let epoch_a = a.media_epoch(room).unwrap();
    let epoch_b = b1.media_epoch(room).unwrap();
    pa.set_epoch(epoch_a);
    pb1.set_epoch(epoch_b);
    let before_a = pa.stats().verified_total();
    let before_b = pb1.stats().verified_total();
    let sa = pa
        .wait_for(WAIT, |s| {
            s.verified_total() >= before_a + 100 && s.peers.len() == 1
        })
        .await;
    let sb = pb1
        .wait_for(WAIT, |s| s.verified_total() >= before_b + 100)
        .await;
    assert!(sa.verified_total() >= before_a + 100, "{sa:?}");
    assert!(sb.verified_total() >= before_b + 100, "{sb:?}");
    assert_eq!(sa.peers.len(), 1, "only bob's laptop is left: {sa:?}");
    assert_eq!(sa.corrupt + sb.corrupt, 0);

    // A frame of the new epoch is opaque to the removed device, even handed the ciphertext.
    let gid = ting_e2ee::GroupId::new(room.as_bytes().to_vec()).unwrap();
    let frame = a
        .e2ee()
        .media_keys(&gid)
        .unwrap()
        .encrypt_frame(3, b"", b"after removal")
        .unwrap();
    let _ = b2.sync().await;
    let opened = b2
        .e2ee()
        .media_keys(&gid)
        .and_then(|k| k.decrypt_frame(0, b"", &frame));
    assert!(opened.is_err(), "removed device decrypted: {opened:?}");
    // Its old keys from before the removal do not open it either.
    let mut old = ting_e2ee::MediaKeys::new(Default::default(), 7).unwrap();
    old.set_epoch(0, old_epoch).unwrap();
    assert!(old.decrypt_frame(0, b"", &frame).is_err());

    // And it cannot come back into the meeting.
    let token = b2.api().token().unwrap().to_string();
    let keys = ting_e2ee::MediaKeys::new(Default::default(), 9).unwrap();
    match Participant::join(&server.url(), &token, room, keys, options()).await {
        Err(ting_client::Error::Api { code, .. }) => assert_eq!(code, ErrorCode::UnknownRoom),
        other => panic!("removed device rejoined: {other:?}"),
    }

    pa.leave().await;
    pb1.leave().await;
    pb2.leave().await;
}

async fn next_error(sig: &mut Signaling) -> (ErrorCode, String) {
    loop {
        match tokio::time::timeout(WAIT, sig.next()).await {
            Ok(Ok(Some(ServerEvent::Error { code, message }))) => return (code, message),
            Ok(Ok(Some(_))) => {}
            other => panic!("no error event: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_sdp_and_non_members_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "mallory"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut m = login(&server, tmp.path(), "mallory", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    let mallory_room = m.create_room(None).await.unwrap();

    // A non-member cannot join, through the SDK or by hand.
    let mut keys = ting_e2ee::MediaKeys::new(Default::default(), 1).unwrap();
    keys.set_epoch(0, m.media_epoch(mallory_room).unwrap())
        .unwrap();
    let token = m.api().token().unwrap().to_string();
    match Participant::join(&server.url(), &token, room, keys, options()).await {
        Err(ting_client::Error::Api { code, .. }) => assert_eq!(code, ErrorCode::UnknownRoom),
        other => panic!("non-member joined: {other:?}"),
    }
    let mut sig = Signaling::connect(&server.url(), &token).await.unwrap();
    sig.send(&ClientMessage::MeetingJoin {
        room_id: room,
        sdp: "v=0".into(),
    })
    .await
    .unwrap();
    assert_eq!(next_error(&mut sig).await.0, ErrorCode::UnknownRoom);
    // Signaling for a meeting it never joined is refused too.
    for msg in [
        ClientMessage::MeetingAnswer {
            room_id: room,
            offer_id: 1,
            sdp: "v=0".into(),
        },
        ClientMessage::MeetingLeave { room_id: room },
        ClientMessage::MeetingMute {
            room_id: room,
            audio: true,
            video: false,
        },
    ] {
        sig.send(&msg).await.unwrap();
        assert_eq!(next_error(&mut sig).await.0, ErrorCode::NotInMeeting);
    }

    // A member with a malformed offer gets `invalid_sdp`, and the meeting does not linger.
    let token = a.api().token().unwrap().to_string();
    let mut sig = Signaling::connect(&server.url(), &token).await.unwrap();
    for sdp in ["", "this is not SDP", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"] {
        sig.send(&ClientMessage::MeetingJoin {
            room_id: room,
            sdp: sdp.into(),
        })
        .await
        .unwrap();
        let (code, message) = next_error(&mut sig).await;
        assert_eq!(code, ErrorCode::InvalidSdp, "{message}");
        assert!(!message.is_empty());
    }
    sig.send(&ClientMessage::MeetingLeave { room_id: room })
        .await
        .unwrap();
    assert_eq!(next_error(&mut sig).await.0, ErrorCode::NotInMeeting);

    // Mallory's own meeting works, and is no way into alice's.
    let p = m.join_meeting(mallory_room, options()).await.unwrap();
    p.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participant_that_vanishes_is_cleaned_up() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();
    let mut pa = a.join_meeting(room, options()).await.unwrap();
    let mut pb = b.join_meeting(room, options()).await.unwrap();
    let flowing = |s: &MeetingStats| s.verified_total() >= 20;
    assert!(flowing(&pa.wait_for(WAIT, flowing).await));
    assert!(flowing(&pb.wait_for(WAIT, flowing).await));

    pb.vanish();
    let sa = pa.wait_for(WAIT, |s| s.peers.is_empty()).await;
    assert!(sa.peers.is_empty(), "bob was not cleaned up: {sa:?}");
    // Alice's session is unaffected; bob can come back.
    let mut pb = b.join_meeting(room, options()).await.unwrap();
    let sb = pb.wait_for(WAIT, flowing).await;
    assert!(flowing(&sb), "{sb:?}");
    assert_clean("bob again", &sb);
    pb.leave().await;
    pa.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_participants_all_hear_everyone() {
    const N: usize = 10;
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    let names: Vec<String> = (0..N).map(|i| format!("user{i}")).collect();
    for n in &names {
        server.create_user(n);
    }
    let mut devices = Vec::new();
    for n in &names {
        devices.push(login(&server, tmp.path(), n, "laptop").await);
    }
    let room = devices[0].create_room(None).await.unwrap();
    for n in &names[1..] {
        devices[0].invite(room, n).await.unwrap();
    }
    for d in &mut devices[1..] {
        d.sync().await.unwrap();
    }
    let opts = MeetingOptions {
        frame_interval: Duration::from_millis(100),
        ..MeetingOptions::default()
    };
    let mut parts = Vec::new();
    for d in &mut devices {
        // Everyone joins at the same epoch (the last invite's).
        parts.push(d.join_meeting(room, opts.clone()).await.unwrap());
    }
    let everyone =
        |s: &MeetingStats| s.verified.len() == 2 * (N - 1) && s.verified.values().all(|n| *n >= 3);
    for (i, p) in parts.iter_mut().enumerate() {
        let s = p.wait_for(Duration::from_secs(60), everyone).await;
        assert!(everyone(&s), "participant {i}: {s:?}");
        assert_clean(&format!("participant {i}"), &s);
        assert_eq!(s.peers.len(), N - 1);
        // Everyone learned of every other track, whether published before or after it joined.
        assert_eq!(
            s.tracks_announced,
            2 * (N as u64 - 1),
            "participant {i}: {s:?}"
        );
    }
    for p in parts {
        p.leave().await;
    }
}

/// An SDP offer from a str0m client sending audio and `videos` video tracks.
fn offer_with_videos(videos: usize) -> String {
    use str0m::media::{Direction, MediaKind};
    let mut rtc = str0m::Rtc::builder().build(std::time::Instant::now());
    let addr = "127.0.0.1:9".parse().unwrap();
    rtc.add_local_candidate(str0m::Candidate::host(addr, "udp").unwrap());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    for _ in 0..videos {
        api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
    }
    let (offer, _pending) = api.apply().unwrap();
    offer.to_sdp_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_decides_who_starts_meetings_and_whether_screens_are_shared() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    server.create_user("alice");
    server.create_admin("root");
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut r = login(&server, tmp.path(), "root", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "root").await.unwrap();
    r.sync().await.unwrap();
    let a_token = a.api().token().unwrap().to_string();
    let r_token = r.api().token().unwrap().to_string();
    let join = |sdp: String| ClientMessage::MeetingJoin { room_id: room, sdp };

    // Meetings switched off: nobody joins.
    server.set_policy("policy_version = 1\n[features]\nmeetings = false\nscreen_share = false\n");
    let mut sig = Signaling::connect(&server.url(), &a_token).await.unwrap();
    sig.send(&join(offer_with_videos(1))).await.unwrap();
    let (code, message) = next_error(&mut sig).await;
    assert_eq!(code, ErrorCode::FeatureDisabled, "{message}");
    assert!(message.contains("policy"), "{message}");

    // Only administrators start meetings, and screens are not shared.
    server.set_policy(
        "policy_version = 1\n[features]\nscreen_share = false\n[permissions]\ncreate_meetings = \"admins\"\n",
    );
    sig.send(&join(offer_with_videos(1))).await.unwrap();
    let (code, message) = next_error(&mut sig).await;
    assert_eq!(code, ErrorCode::PolicyForbids, "{message}");
    // The administrator starts it, but not with a second video track (a screen).
    let mut rsig = Signaling::connect(&server.url(), &r_token).await.unwrap();
    rsig.send(&join(offer_with_videos(2))).await.unwrap();
    let (code, message) = next_error(&mut rsig).await;
    assert_eq!(code, ErrorCode::FeatureDisabled, "{message}");
    assert!(message.contains("screen"), "{message}");
    let pr = r.join_meeting(room, options()).await.unwrap();
    // Once it runs, alice may join; a renegotiation that adds a screen is refused.
    sig.send(&join(offer_with_videos(1))).await.unwrap();
    loop {
        match tokio::time::timeout(WAIT, sig.next()).await {
            Ok(Ok(Some(ServerEvent::MeetingJoined { .. }))) => break,
            Ok(Ok(Some(ServerEvent::Error { code, message }))) => panic!("{code:?}: {message}"),
            Ok(Ok(Some(_))) => {}
            other => panic!("no answer: {other:?}"),
        }
    }
    sig.send(&ClientMessage::MeetingOffer {
        room_id: room,
        sdp: offer_with_videos(2),
    })
    .await
    .unwrap();
    let (code, message) = next_error(&mut sig).await;
    assert_eq!(code, ErrorCode::FeatureDisabled, "{message}");
    sig.close().await;
    pr.leave().await;
}

/// Sends a hand signal after the request under test and returns the events up to its echo:
/// the media task handles one connection's messages in order, so everything the request
/// caused comes before it.
async fn events_until_hand(
    sig: &mut Signaling,
    room: ting_proto::RoomId,
    raised: bool,
) -> Vec<ServerEvent> {
    sig.send(&ClientMessage::MeetingHand {
        room_id: room,
        raised,
    })
    .await
    .unwrap();
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, sig.next()).await {
            Ok(Ok(Some(ev @ ServerEvent::MeetingHand { .. }))) => {
                seen.push(ev);
                return seen;
            }
            Ok(Ok(Some(ev))) => seen.push(ev),
            other => panic!("no hand echo: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiners_learn_mute_and_hands_and_subscribers_choose_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();
    let pa = a.join_meeting(room, options()).await.unwrap();
    pa.mute(true, false);
    let alice = pa.stats().participant_id;

    let token = b.api().token().unwrap().to_string();
    let mut sig = Signaling::connect(&server.url(), &token).await.unwrap();
    sig.send(&ClientMessage::MeetingJoin {
        room_id: room,
        sdp: offer_with_videos(1),
    })
    .await
    .unwrap();
    let seen = events_until_hand(&mut sig, room, false).await;
    assert!(
        seen.iter()
            .any(|e| matches!(e, ServerEvent::MeetingJoined { .. })),
        "{seen:?}"
    );
    // Alice announced her mute state before bob came: he learns it on joining.
    assert!(
        seen.iter().any(|e| matches!(e,
            ServerEvent::MeetingMuted { participant_id, audio: true, video: false, .. }
                if *participant_id == alice)),
        "{seen:?}"
    );
    let video_mid = seen
        .iter()
        .find_map(|e| match e {
            ServerEvent::MeetingTrackPublished {
                participant_id,
                mid,
                kind,
                ..
            } if *participant_id == alice && kind == "video" => Some(mid.clone()),
            _ => None,
        })
        .expect("alice's video is announced");

    // A raised hand reaches everyone, the raiser included.
    let seen = events_until_hand(&mut sig, room, true).await;
    assert!(
        seen.iter()
            .any(|e| matches!(e, ServerEvent::MeetingHand { raised: true, .. })),
        "{seen:?}"
    );

    // Asking for a smaller layer of a real track is accepted; an unknown track is an error.
    let layer = |participant_id, mid: &str| ClientMessage::MeetingLayer {
        room_id: room,
        participant_id,
        mid: mid.into(),
        layer: ting_proto::ws::SimulcastLayer::Low,
    };
    sig.send(&layer(alice, &video_mid)).await.unwrap();
    let seen = events_until_hand(&mut sig, room, false).await;
    assert!(
        !seen.iter().any(|e| matches!(e, ServerEvent::Error { .. })),
        "{seen:?}"
    );
    sig.send(&layer(alice, "no-such-mid")).await.unwrap();
    assert_eq!(next_error(&mut sig).await.0, ErrorCode::UnknownTrack);
    sig.send(&layer(999, &video_mid)).await.unwrap();
    assert_eq!(next_error(&mut sig).await.0, ErrorCode::UnknownTrack);
    sig.close().await;
    pa.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_meetings_sdp_is_accepted_over_signaling() {
    // A big meeting's SDP (dozens of media sections) is far larger than a chat-sized frame.
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    server.create_user("alice");
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    let sdp = offer_with_videos(60);
    assert!(sdp.len() > 64 * 1024, "offer is only {} bytes", sdp.len());
    let token = a.api().token().unwrap().to_string();
    let mut sig = Signaling::connect(&server.url(), &token).await.unwrap();
    sig.send(&ClientMessage::MeetingJoin { room_id: room, sdp })
        .await
        .unwrap();
    loop {
        match tokio::time::timeout(WAIT, sig.next()).await {
            Ok(Ok(Some(ServerEvent::MeetingJoined { sdp, .. }))) => {
                assert!(sdp.matches("m=video").count() >= 60);
                break;
            }
            Ok(Ok(Some(ServerEvent::Error { code, message }))) => panic!("{code:?}: {message}"),
            Ok(Ok(Some(_))) => {}
            other => panic!("no answer to a large offer: {other:?}"),
        }
    }
    sig.close().await;
}
