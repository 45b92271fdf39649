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
//!   revocation is caught:
//!   * [`log`]: the server's [`KeyLog`] (RFC 6962 hashing, as in c2sp.org/tlog-tiles) with
//!     inclusion and consistency proofs;
//!   * [`checkpoint`]: c2sp.org/tlog-checkpoint notes signed by the log ([`LogSigner`]) and
//!     cosigned by witnesses (c2sp.org/tlog-cosignature, [`WitnessSigner`]); a client's
//!     [`CheckpointPolicy`] requires k fresh cosignatures;
//!   * [`directory`]: the rules every entry must pass, replayed into each user's current keys
//!     ([`Directory`], [`UserKeys`]);
//!   * [`witness`]: the [`Witness`] the customer runs apart from the server, which holds the
//!     whole log and cosigns only what it checked.
//!
//! Every signature is over a domain-separated label followed by the statement's own encoding,
//! and the labels of different statement kinds differ, so a signature of one kind can never be
//! replayed as another (the confusion behind CVE-2022-39250).
//!
//! The crate is sans-IO: randomness and time are passed in.
//!
//! ```
//! use ting_trust::{
//!     CheckpointPolicy, Entry, IdentityKind, IdentityStatement, KeyLog, LogSigner, MasterKey,
//!     Witness, WitnessSigner, directory::ed25519_only, verify_inclusion,
//! };
//!
//! // The server logs alice's master key and signs a checkpoint.
//! let alice = MasterKey::from_secret(&[1; 32]);
//! let genesis = IdentityStatement::sign(&alice, IdentityKind::Genesis, "alice", 0).unwrap();
//! let record = Entry::Identity(genesis).encode();
//! let mut log = KeyLog::new();
//! let index = log.append(&record);
//! let log_signer = LogSigner::new("ting.example.org/keylog", &[2; 32]).unwrap();
//! let note = log_signer.sign(log.size(), &log.root());
//!
//! // The witness checks the new records against the checkpoint and cosigns it.
//! let witness_signer = WitnessSigner::new("witness.example.com", &[3; 32]).unwrap();
//! let witness_key = witness_signer.verifier_key();
//! let log_key = log_signer.verifier_key();
//! let mut witness =
//!     Witness::new(log_signer.origin(), &log_key, witness_signer, ed25519_only).unwrap();
//! let now = 1_700_000_000;
//! let report = witness.handle_update(&note, &[record.clone()], now).unwrap();
//!
//! // A client accepts the checkpoint with one fresh cosignature, then the proof that alice's
//! // key is in it.
//! let policy = CheckpointPolicy {
//!     origin: "ting.example.org/keylog".into(),
//!     log_key: log_signer.verifier_key(),
//!     witness_keys: vec![witness_key],
//!     required_witnesses: 1,
//!     max_age_secs: 3600,
//! };
//! let checkpoint = policy.verify(&report.cosigned_note, now + 5).unwrap();
//! let proof = log.inclusion_proof(index, checkpoint.size).unwrap();
//! verify_inclusion(&record, index, checkpoint.size, &checkpoint.root, &proof).unwrap();
//! ```
#![deny(missing_docs)]

pub mod checkpoint;
mod codec;
pub mod directory;
pub mod error;
pub mod keys;
pub mod log;
pub mod statement;
pub mod view;
pub mod witness;

pub use checkpoint::{
    CheckpointPolicy, LogSigner, VerifiedCheckpoint, WitnessSigner, merge_cosignatures,
};
pub use directory::{Applied, Directory, UserKeys};
pub use error::{Error, Result};
pub use keys::{MasterKey, MasterPublicKey, SignatureScheme};
pub use log::{Hash, KeyLog, verify_consistency, verify_inclusion};
pub use statement::{
    CertificateSummary, DeviceCertificate, Entry, IdentityKind, IdentityStatement, Revocation,
    UnsignedCertificate,
};
pub use view::{LogView, NeedProof, SeenCheckpoint};
pub use witness::{Alert, Witness, WitnessReport};
