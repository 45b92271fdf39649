//! Meetings: a native, headless participant.
//!
//! A [`Participant`] joins a room's meeting over the server's WebSocket (SDP offer → answer,
//! then the server's renegotiation offers as others publish), runs str0m as a full-ICE client
//! over a real UDP socket against the server's ICE-lite router, publishes synthetic audio and
//! VP8 video frames encrypted with the room's SFrame keys ([`ting_e2ee::MediaKeys`], from the
//! room's MLS group), and decrypts and verifies every frame it receives ([`frame`]). It is
//! used by the end-to-end tests and load tests; it never needs a browser.
//!
//! ```no_run
//! # async fn demo(device: &mut ting_client::Device, room: ting_proto::RoomId) -> ting_client::Result<()> {
//! use ting_client::meeting::MeetingOptions;
//! let p = device.join_meeting(room, MeetingOptions::default()).await?;
//! // … later, after a commit: p.set_epoch(device.media_epoch(room)?);
//! p.leave().await;
//! # Ok(()) }
//! ```

pub mod frame;
mod join;
mod participant;
mod signaling;
mod stats;

pub use frame::Kind;
pub use participant::Participant;
pub use signaling::{Signaling, is_meeting_event};
pub use stats::{MeetingOptions, MeetingStats, Recorder, Recording};

use ting_e2ee::{MediaEpoch, MediaKeys, SframeConfig};
use ting_proto::RoomId;

use crate::device::{Device, group_id};
use crate::error::{Error, Result};

impl Device {
    /// The room's current media epoch (its SFrame base key, for this process only).
    pub fn media_epoch(&mut self, room: RoomId) -> Result<MediaEpoch> {
        Ok(self.e2ee().media_epoch(&group_id(room))?)
    }

    /// Joins the room's meeting as a headless participant keyed with the room's current epoch.
    pub async fn join_meeting(
        &mut self,
        room: RoomId,
        options: MeetingOptions,
    ) -> Result<Participant> {
        let mut keys = MediaKeys::new(SframeConfig::default(), rand::random())?;
        keys.set_epoch(0, self.media_epoch(room)?)?;
        let token = self
            .api()
            .token()
            .ok_or_else(|| Error::Usage("not logged in".into()))?
            .to_string();
        let base = self.api().base().to_string();
        Participant::join(&base, &token, room, keys, options).await
    }
}
