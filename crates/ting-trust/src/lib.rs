//! # ting-trust
//!
//! What makes a device trustworthy in Ting, in a form every party can check: clients (native
//! and browser), the server (which only stores and orders these statements), and the witness
//! the customer runs apart from the server.
//!
//! * A user's **master identity key** (Ed25519) exists only on that user's devices. It is
//!   declared once in an [`IdentityStatement`] (kind `Genesis`, or `Reset` when the user lost
//!   every device and the recovery key and started over: contacts are warned).
//! * The master key signs a [`DeviceCertificate`] per device (user id, device id, the device's
//!   MLS signature key, time); the device counter-signs it. MLS credentials carry it, so a
//!   server that adds a device of its own has no certificate to give it.
//! * A [`Revocation`] is master-signed; any member who sees it removes that device.
//! * Every statement is an [`Entry`] of an append-only Merkle log with signed checkpoints, so
//!   a server that shows different keys to different people (a split view) or hides a
//!   revocation is caught.
//!
//! Every signature is over a domain-separated label followed by the statement's own encoding,
//! and the labels of different statement kinds differ, so a signature of one kind can never be
//! replayed as another (the confusion behind CVE-2022-39250).
//!
//! The crate is sans-IO: randomness and time are passed in.
#![deny(missing_docs)]

pub mod checkpoint;
mod codec;
pub mod directory;
pub mod error;
pub mod keys;
pub mod log;
pub mod statement;
pub mod witness;

pub use checkpoint::{
    CheckpointPolicy, LogSigner, VerifiedCheckpoint, WitnessSigner, merge_cosignatures,
};
pub use directory::{Applied, Directory, UserKeys};
pub use error::{Error, Result};
pub use keys::{MasterKey, MasterPublicKey, SignatureScheme};
pub use log::{Hash, KeyLog, verify_consistency, verify_inclusion};
pub use statement::{
    DeviceCertificate, Entry, IdentityKind, IdentityStatement, Revocation, UnsignedCertificate,
};
pub use witness::{Alert, Witness, WitnessReport};
