//! Ting SFU: a sans-IO media router for end-to-end encrypted meetings.
//!
//! One [`Sfu`] serves one meeting. It owns one [str0m](https://docs.rs/str0m) `Rtc` per
//! participant (ICE-lite, DTLS-SRTP) and forwards every publisher's RTP packets to every other
//! participant without decoding, mixing or decrypting them: the media payload is SFrame
//! ciphertext (RFC 9605) keyed from the meeting's MLS group, and the router never holds a media
//! key. It owns no socket, clock, task or randomness of its own: the driver (the server's UDP
//! loop) feeds datagrams and time, and drains [`Output`]s, like a str0m `Rtc`.
//!
//! ```no_run
//! # use std::time::Instant;
//! # use ting_sfu::{Sfu, SfuConfig, Output, ParticipantId};
//! # fn send(_: &[u8], _: std::net::SocketAddr) {}
//! # let offer_from_signaling = "";
//! let local = "127.0.0.1:3478".parse().unwrap();
//! let mut sfu = Sfu::new(Instant::now(), SfuConfig::new(local));
//! let answer = sfu.add_participant(Instant::now(), ParticipantId(1), offer_from_signaling)?;
//! // ... send `answer` over the signaling WebSocket, then loop:
//! loop {
//!     match sfu.poll_output() {
//!         Output::Transmit { transmit, .. } => send(&transmit.contents, transmit.destination),
//!         Output::Event(event) => { /* offers, tracks, disconnects → signaling layer */ }
//!         Output::Timeout(_deadline) => break, // wait for socket or deadline, then
//!                                              // handle_receive / handle_timeout
//!     }
//! }
//! # Ok::<(), ting_sfu::Error>(())
//! ```
//!
//! # Forwarding mode: RTP, not frames
//!
//! The router runs str0m in **RTP mode**: it forwards packets as they arrive, rewriting only
//! SSRC, payload type, sequence number and timestamp per subscriber, and hands the payload bytes
//! on untouched (the same `Arc<[u8]>`). The one exception is VP8 simulcast: on a layer switch
//! the PictureID and TL0PICIDX in the VP8 *payload descriptor* are rewritten (str0m's
//! `Vp8Patch`, applied while serializing) so a receiver sees them continue. The descriptor is
//! added by the packetizer after the browser's SFrame transform: it is neither ciphertext nor
//! SFrame-authenticated, and everything after it goes out byte for byte.
//!
//! Frame mode (str0m's depacketize → frame → packetize) was rejected because
//! * it reassembles frames using the codec's payload format, then re-packetizes them with
//!   str0m's own packetizer — which reads and rewrites codec headers inside the payload; with
//!   SFrame ciphertext there is no codec bitstream to read, and the browser's depacketizer
//!   expects exactly the packetization the sender's browser produced;
//! * it adds a frame of latency and a copy per frame per subscriber;
//! * RTP mode keeps NACK/RTX per hop (str0m's receive side NACKs the publisher and unwraps RTX;
//!   the send side answers subscribers' NACKs from its RTX cache) and TWCC feedback.
//!
//! What the router must read to switch simulcast layers is whether a packet starts a keyframe.
//! It reads it from the codec's *RTP payload descriptor* (VP8 RFC 7741, VP9, AV1 aggregation
//! header) and, for VP8, the first byte of the frame, which the SFrame packetization keeps in
//! the clear but authenticated (the Jitsi/LiveKit scheme: VP8 10 bytes on keyframes, 3 on delta
//! frames; Opus 1 byte). Where the browser offers the dependency-descriptor extension a generic
//! packetizer can replace this later.
//!
//! # API at a glance
//!
//! * [`Sfu::new`], [`Sfu::add_participant`] (offer in, answer out), [`Sfu::remove_participant`]
//! * [`Sfu::handle_receive`] (one UDP socket for everyone, demultiplexed with `Rtc::accepts`),
//!   [`Sfu::handle_timeout`], [`Sfu::poll_output`] → [`Output`]. Each input is fully
//!   processed before the call returns (str0m holds one received packet at a time), so a driver
//!   may feed a batch of datagrams before draining outputs.
//! * [`Sfu::remove_participant`] sends RTCP BYE and DTLS close_notify, then forgets the
//!   participant; silent peers are dropped on ICE consent expiry (15 s) or, if they never
//!   connect, after [`SfuConfig::connect_timeout`]
//! * renegotiation: [`Event::Offer`] → [`Sfu::handle_answer`]; a participant's own offer (screen
//!   share on or off) → [`Sfu::handle_offer`]; glare resolved with the router as polite peer
//! * [`Sfu::set_preferred_layer`]: the largest simulcast layer a subscriber wants; the
//!   subscriber's TWCC bandwidth estimate may lower it; switching waits for a keyframe of the
//!   new layer and asks the publisher for one (PLI, throttled)
//! * NACK/RTX per hop and TWCC feedback are str0m's; the router marks video nackable
//!
//! # What the server can see
//!
//! RTP headers (SSRC, sequence numbers, timestamps, marker, payload type), the simulcast layer
//! (RID), the codec payload descriptor (VP8 picture id, temporal layer, partition, start bit),
//! keyframe flags, the clear codec header bytes (for VP8 keyframes these include the frame's
//! width and height), SFrame headers (key id, counter), packet sizes and timing, bitrates and
//! bandwidth estimates, IP addresses. It does **not** see media content or keys. In an encrypted
//! meeting ([`SfuConfig::encrypted`], the default) the audio-level header extension is not
//! negotiated and never forwarded, so the router cannot tell who is speaking.
//!
//! # State
//!
//! Everything lives in memory in the [`Sfu`] value; dropping it (the meeting ends) leaves
//! nothing behind (R17). Membership is decided elsewhere (MLS): the signaling layer calls
//! [`Sfu::remove_participant`] to end a removed member's media session. str0m itself draws
//! randomness for ICE credentials, SSRCs and DTLS keys from its crypto provider.
#![deny(missing_docs)]

mod error;
mod event;
mod forward;
mod ids;
mod participant;
mod sfu;

pub use error::Error;
pub use event::{DisconnectReason, Event, Output, SfuConfig};
pub use ids::{Layer, ParticipantId, TrackId};
pub use sfu::Sfu;

/// The str0m version this crate is built against, re-exported for drivers and tests.
pub use str0m;
