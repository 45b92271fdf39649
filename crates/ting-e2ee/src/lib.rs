//! # ting-e2ee
//!
//! The client crypto core of Ting: the only place Ting encrypts or decrypts content. It runs on
//! clients only — natively and in the browser (wasm32, through `ting-web`) — and the server
//! never links it.
//!
//! It is **sans-IO**: no sockets, tasks or clocks. Every operation takes bytes and returns
//! bytes; the embedder moves them over the network and stores the encrypted [`Client`] state.
//! Time is passed in where it matters (`now_ms`, only for the media-key grace window).
//!
//! ## What is in here
//!
//! | module | what |
//! |---|---|
//! | [`Client`] ([`client`]) | one device: its identity (user id + Ed25519 device key) and groups |
//! | [`mls`] | RFC 9420 groups on openmls: key packages ([`mls::key_package`]), create/join ([`mls::group`]), commits with the delivery service's one-commit-per-epoch rule ([`mls::commit`]), incoming messages ([`mls::incoming`]) |
//! | [`policy`] | the cipher suite allow-list ([`CipherSuitePolicy`]) |
//! | [`envelope`] | the typed, padded chat payload inside MLS application messages |
//! | [`sframe`] | RFC 9605 media keys derived from the MLS exporter ([`MediaKeys`]) |
//! | [`mod@file`] | streaming chunked AES-256-GCM for attachments |
//! | [`safety_number`] | per-user fingerprints and the 60-digit safety number |
//! | [`state`] | the versioned, encrypted state blob |
//!
//! Everything on the wire is an RFC 9420 `MLSMessage`: key packages, welcomes (with the
//! ratchet-tree extension, so a joiner needs nothing else), commits, proposals and application
//! messages (all handshake messages are encrypted, too).
//!
//! ## The delivery service contract
//!
//! The delivery service accepts one commit per epoch. A commit-creating call
//! ([`Client::add_members`], [`Client::remove_members`], [`Client::remove_user`],
//! [`Client::self_update`], [`Client::commit_pending_proposals`]) leaves the commit pending;
//! after sending it, call [`Client::merge_pending_commit`] if it was accepted or
//! [`Client::clear_pending_commit`] if it lost the race — then process the winning commit with
//! [`Client::handle_message`] and retry.
//!
//! ## Errors
//!
//! One [`Error`] type; [`Error::fault`] tells the peer's fault (malformed, tampered, replayed,
//! wrong epoch, unknown sender, wrong group, refused cipher suite) from API misuse and internal
//! errors. No input makes this crate panic.
//!
//! ## Example: two members
//!
//! ```
//! use ting_e2ee::{Body, Client, ClientConfig, Envelope, GroupId, Received, StorageKey};
//!
//! # fn main() -> ting_e2ee::Result<()> {
//! let mut alice = Client::new("alice", ClientConfig::default())?;
//! let mut bob = Client::new("bob", ClientConfig::default())?;
//! // Each user's first device creates the user's master identity key and certifies itself
//! // (the statements go to the server's key log; later devices are linked, not created).
//! alice.create_identity(b"alice-laptop", 0)?;
//! bob.create_identity(b"bob-phone", 0)?;
//!
//! // Bob publishes key packages; Alice creates the room's group and adds him.
//! let bob_kp = bob.key_packages(1)?.remove(0);
//! let room = GroupId::new(*b"room-1")?;
//! alice.create_group(&room)?;
//! let commit = alice.add_members(&room, &[bob_kp])?;
//! // ... the delivery service accepts the commit ...
//! let change = alice.merge_pending_commit(&room, 0)?;
//! assert_eq!(change.added[0].user_id, "bob");
//!
//! // Bob joins from the welcome alone.
//! let joined = bob.join(commit.welcome.as_deref().expect("a welcome for bob"))?;
//! assert_eq!(joined.added_by.user_id, "alice");
//!
//! // A chat message, padded to a size bucket and MLS-encrypted.
//! let ciphertext = alice.encrypt_message(&room, &Envelope::text("hi bob")?)?;
//! match bob.handle_message(&room, &ciphertext, 0)? {
//!     Received::Message(m) => {
//!         assert_eq!(m.sender.user_id, "alice");
//!         assert!(matches!(m.envelope.body, Body::Text { ref body, .. } if body == "hi bob"));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! // Decrypting the same ciphertext again is refused: MLS deleted the key.
//! assert!(bob.handle_message(&room, &ciphertext, 0).is_err());
//!
//! // Media: both derive the same SFrame keys from the epoch.
//! let frame = alice.media_keys(&room)?.encrypt_frame(0, b"", b"a video frame")?;
//! let decrypted = bob.media_keys(&room)?.decrypt_frame(0, b"", &frame)?;
//! assert_eq!(decrypted.payload, b"a video frame");
//!
//! // Persist and restore.
//! let key = StorageKey::new([7; 32]);
//! let blob = bob.save(&key)?;
//! let bob = Client::load(&blob, &key)?;
//! assert_eq!(bob.epoch(&room)?, 1);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod client;
mod codec;
pub mod envelope;
pub mod error;
pub mod file;
pub mod hex;
pub mod identity;
pub mod mls;
pub mod policy;
mod provider;
pub mod safety_number;
pub mod sframe;
pub mod state;
pub mod trust;

pub use client::{Client, ClientConfig};
pub use envelope::{Body, Envelope, FileRef, MessageId};
pub use error::{Error, Fault, Result};
pub use file::{EncryptedFileInfo, FileDecryptor, FileEncryptor, FileSecret};
pub use identity::{CREDENTIAL_TING_CERTIFICATE, DeviceKey, IdentityKey, Member};
pub use mls::key_package::KeyPackageInfo;
pub use mls::{
    CommitBundle, DeviceKeyChange, GroupId, Joined, MembershipChange, ProposalKind, Received,
    ReceivedCommit, ReceivedMessage, ReceivedProposal,
};
pub use policy::{CipherSuite, CipherSuitePolicy};
pub use safety_number::{SafetyNumber, UserFingerprint};
pub use sframe::{DecryptedFrame, MediaEpoch, MediaKeys, SframeConfig};
pub use state::StorageKey;
pub use ting_trust;
pub use trust::link::{LinkPreview, device_fingerprint, rendezvous_of};
pub use trust::recovery::RecoveryKit;
pub use trust::{IdentityAlert, LogPosition, NewIdentity, Pin};
