//! The native Ting client: an SDK that wraps `ting-e2ee` around the Ting API, the
//! `ting-client` command line, and a load generator.
//!
//! A [`Device`] is one logged-in device: it keeps its keys and decrypted history in an
//! encrypted state directory, talks to the server over HTTPS and a WebSocket, and does all
//! encryption locally — the server only ever sees MLS ciphertext and encrypted file chunks.
//!
//! ```no_run
//! # async fn demo() -> ting_client::Result<()> {
//! use std::path::Path;
//! use ting_client::Device;
//! let mut alice = Device::login(Path::new("alice-laptop"), "http://127.0.0.1:8080", "alice", "correct horse battery", "laptop", None).await?;
//! let room = alice.create_room(Some("Project X")).await?;
//! alice.invite(room, "bob").await?;
//! alice.send_text(room, "hello, end-to-end encrypted").await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod api;
pub mod api_admin;
pub mod cli;
pub mod device;
pub mod error;
pub mod events;
pub mod files;
pub mod identity;
pub mod leave;
pub mod load;
pub mod local;
pub mod meeting;
pub mod membership;
pub mod sync;
pub mod trust_events;
pub mod witness;

pub use crate::device::Device;
pub use crate::error::{Error, Result};
pub use crate::events::Stopped;
pub use crate::identity::IdentityStatus;
pub use crate::membership::MemberView;
pub use crate::sync::Event;
