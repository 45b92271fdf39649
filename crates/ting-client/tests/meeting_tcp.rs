//! Meeting media over ICE-TCP (RFC 6544) through a real `ting serve`: a participant whose
//! network offers no UDP connects to the server's passive TCP candidate, frames packets per
//! RFC 4571 on one TCP connection, and receives another participant's SFrame-encrypted media.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::{Candidate, Event as RtcEvent, Input, Output, Rtc};
use support::{Server, login};
use ting_client::meeting::{MeetingOptions, Signaling};
use ting_proto::ws::{ClientMessage, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's passive TCP candidate in an SDP answer.
fn tcp_candidate(sdp: &str) -> Option<SocketAddr> {
    sdp.lines().find_map(|l| {
        let c = Candidate::from_sdp_string(l.trim().strip_prefix("a=")?).ok()?;
        (c.proto() == Protocol::Tcp && c.tcptype() == Some(TcpType::Passive)).then(|| c.addr())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_without_udp_gets_media_over_ice_tcp() {
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
    // Bob publishes audio and video over UDP as usual.
    let options = MeetingOptions {
        frame_interval: Duration::from_millis(20),
        ..MeetingOptions::default()
    };
    let pb = b.join_meeting(room, options).await.unwrap();

    // Alice has only TCP: an active candidate, no UDP socket at all.
    let token = a.api().token().unwrap().to_string();
    let mut sig = Signaling::connect(&server.url(), &token).await.unwrap();
    let mut rtc = Rtc::builder().set_rtp_mode(true).build(Instant::now());
    let placeholder: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
    let (offer, pending) = api.apply().unwrap();
    sig.send(&ClientMessage::MeetingJoin {
        room_id: room,
        sdp: offer.to_sdp_string(),
    })
    .await
    .unwrap();
    let answer = loop {
        match tokio::time::timeout(Duration::from_secs(20), sig.next()).await {
            Ok(Ok(Some(ServerEvent::MeetingJoined { sdp, .. }))) => break sdp,
            Ok(Ok(Some(ServerEvent::Error { code, message }))) => panic!("{code:?}: {message}"),
            Ok(Ok(Some(_))) => {}
            other => panic!("no answer: {other:?}"),
        }
    };
    let server_tcp = tcp_candidate(&answer).expect("the answer offers an ICE-TCP candidate");
    let mut stream = TcpStream::connect(server_tcp).await.unwrap();
    let local = stream.local_addr().unwrap();
    assert_ne!(local, placeholder);
    let candidate = Candidate::builder()
        .tcp()
        .host(local)
        .tcptype(TcpType::Active)
        .build()
        .unwrap();
    rtc.add_local_candidate(candidate);
    rtc.sdp_api()
        .accept_answer(
            pending,
            str0m::change::SdpAnswer::from_sdp_string(&answer).unwrap(),
        )
        .unwrap();

    let mut connected = false;
    let mut media_packets = 0u64;
    let mut inbuf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !(connected && media_packets >= 50) {
        // Drain str0m: frames out on the TCP stream, events counted.
        let wake = loop {
            match rtc.poll_output().unwrap() {
                Output::Timeout(t) => break t,
                Output::Transmit(t) => {
                    assert_eq!(t.proto, Protocol::Tcp, "nothing may go out over UDP");
                    let len = u16::try_from(t.contents.len()).unwrap().to_be_bytes();
                    stream.write_all(&len).await.unwrap();
                    stream.write_all(&t.contents).await.unwrap();
                }
                Output::Event(RtcEvent::Connected) => connected = true,
                Output::Event(RtcEvent::RtpPacket(_)) => media_packets += 1,
                Output::Event(_) => {}
            }
        };
        let sleep = wake.saturating_duration_since(Instant::now());
        tokio::select! {
            r = stream.read(&mut chunk) => {
                let n = r.unwrap();
                assert!(n > 0, "the server closed the media connection");
                inbuf.extend_from_slice(&chunk[..n]);
                while inbuf.len() >= 2 {
                    let len = usize::from(u16::from_be_bytes([inbuf[0], inbuf[1]]));
                    if inbuf.len() < 2 + len {
                        break;
                    }
                    let packet: Vec<u8> = inbuf.drain(..2 + len).skip(2).collect();
                    rtc.handle_input(Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Tcp,
                            source: server_tcp,
                            destination: local,
                            contents: packet.as_slice().try_into().unwrap(),
                        },
                    ))
                    .unwrap();
                }
            }
            ev = sig.next() => {
                if let Ok(Some(ServerEvent::MeetingOffer { offer_id, sdp, .. })) = ev {
                    let offer = SdpOffer::from_sdp_string(&sdp).unwrap();
                    let answer = rtc.sdp_api().accept_offer(offer).unwrap();
                    sig.send(&ClientMessage::MeetingAnswer {
                        room_id: room,
                        offer_id,
                        sdp: answer.to_sdp_string(),
                    })
                    .await
                    .unwrap();
                }
            }
            () = tokio::time::sleep(sleep) => {
                rtc.handle_input(Input::Timeout(Instant::now())).unwrap();
            }
        }
    }
    assert!(connected, "ICE and DTLS over TCP did not come up");
    assert!(
        media_packets >= 50,
        "only {media_packets} RTP packets from bob arrived over TCP"
    );
    sig.close().await;
    pb.leave().await;
}
