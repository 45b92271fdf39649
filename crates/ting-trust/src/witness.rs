//! The witness the customer runs apart from the server (sans-IO core).
//!
//! It keeps a full copy of the key log. Given the log's newest signed checkpoint and the
//! records added since its last one, it cosigns only if
//!
//! 1. the checkpoint carries the log's valid signature and origin,
//! 2. the log did not shrink (a rollback) and, at an unchanged size, kept its root (no fork),
//! 3. its own copy plus the new records hashes to exactly the checkpoint's root (so the log
//!    only appended, and the records are the ones every client is shown: no split view),
//! 4. every new record is a well-formed entry that passes the [`Directory`] rules.
//!
//! Anything else is refused with an error naming the index and reason, and the witness's
//! state is left as it was. Identity resets are legal but reported as [`Alert`]s.
//!
//! ```
//! use ting_trust::checkpoint::{LogSigner, WitnessSigner};
//! use ting_trust::directory::ed25519_only;
//! use ting_trust::log::KeyLog;
//! use ting_trust::witness::Witness;
//! use ting_trust::{IdentityKind, IdentityStatement, MasterKey, Entry};
//!
//! let log_signer = LogSigner::new("ting.example.org/keylog", &[1; 32]).unwrap();
//! let signer = WitnessSigner::new("witness.example.com", &[2; 32]).unwrap();
//! let log_key = log_signer.verifier_key();
//! let mut witness = Witness::new(log_signer.origin(), &log_key, signer, ed25519_only).unwrap();
//!
//! let master = MasterKey::from_secret(&[3; 32]);
//! let genesis = IdentityStatement::sign(&master, IdentityKind::Genesis, "alice", 0).unwrap();
//! let records = vec![Entry::Identity(genesis).encode()];
//! let log = KeyLog::from_records(&records);
//! let note = log_signer.sign(log.size(), &log.root());
//! let report = witness.handle_update(&note, &records, 1_700_000_000).unwrap();
//! assert!(report.alerts.is_empty());
//! assert!(report.cosigned_note.starts_with(&note));
//! ```

use crate::checkpoint::{CheckpointPolicy, WitnessSigner};
use crate::codec::{Reader, Writer};
use crate::directory::{Applied, DeviceVerifier, Directory};
use crate::error::{Error, Result};
use crate::keys::MasterPublicKey;
use crate::log::{Hash, KeyLog};

const STATE_MAGIC: &[u8] = b"ting witness state v1\n";

/// Something the witness's operator should know although the log is consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Alert {
    /// A user started over with a new master key: whoever talks to them should compare
    /// safety numbers again.
    IdentityReset {
        /// The user.
        user_id: String,
        /// The reset's index in the log.
        index: u64,
        /// The master key before, if there was one.
        previous: Option<MasterPublicKey>,
        /// The new master key.
        master_key: MasterPublicKey,
    },
}

/// The outcome of a successful [`Witness::handle_update`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessReport {
    /// The checkpoint with this witness's cosignature added, to give back to the server.
    pub cosigned_note: String,
    /// What the new records call attention to.
    pub alerts: Vec<Alert>,
}

/// A witness of one key log.
pub struct Witness {
    policy: CheckpointPolicy,
    signer: WitnessSigner,
    verify_device: DeviceVerifier,
    log: KeyLog,
    records: Vec<Vec<u8>>,
    directory: Directory,
    last_note: Option<String>,
}

fn refused(reason: impl Into<String>) -> Error {
    Error::refused("checkpoint", reason)
}

impl Witness {
    /// A witness that has seen nothing yet of the log `origin` signed by `log_key` (a
    /// signed-note verifier key). `verify_device` checks device counter-signatures of schemes
    /// other than Ed25519 ([`crate::directory::ed25519_only`] refuses them).
    pub fn new(
        origin: &str,
        log_key: &str,
        signer: WitnessSigner,
        verify_device: DeviceVerifier,
    ) -> Result<Self> {
        signed_note::StandardVerifier::new(log_key)
            .map_err(|_| Error::InvalidArgument("log key is not a signed-note vkey"))?;
        Ok(Self {
            policy: CheckpointPolicy {
                origin: origin.to_owned(),
                log_key: log_key.to_owned(),
                witness_keys: Vec::new(),
                required_witnesses: 0,
                max_age_secs: 0,
            },
            signer,
            verify_device,
            log: KeyLog::new(),
            records: Vec::new(),
            directory: Directory::new(),
            last_note: None,
        })
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.policy.origin
    }

    /// The log's verifier key.
    pub fn log_key(&self) -> &str {
        &self.policy.log_key
    }

    /// This witness's verifier key (for the server's and clients' configuration).
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// How many records the witness has checked.
    pub fn size(&self) -> u64 {
        self.log.size()
    }

    /// The root of the witness's copy of the log.
    pub fn root(&self) -> Hash {
        self.log.root()
    }

    /// The last checkpoint this witness cosigned (with its cosignature).
    pub fn last_note(&self) -> Option<&str> {
        self.last_note.as_deref()
    }

    /// Every user's keys as of the witness's last checkpoint.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Checks the log's checkpoint `note` and the records added since the witness's last
    /// checkpoint (`new_records`, in order); cosigns it at `now_unix` if all is well. On
    /// error nothing changes.
    pub fn handle_update(
        &mut self,
        note: &str,
        new_records: &[Vec<u8>],
        now_unix: u64,
    ) -> Result<WitnessReport> {
        let checkpoint = self.policy.verify(note, now_unix)?;
        let cosigned_note = self.signer.cosign(note, now_unix)?;
        let old_size = self.log.size();
        if checkpoint.size < old_size {
            return Err(refused(format!(
                "rollback: the log shrank from {old_size} to {} records",
                checkpoint.size
            )));
        }
        let expected = checkpoint.size - old_size;
        if new_records.len() as u64 != expected {
            return Err(refused(format!(
                "{} new records given for a checkpoint {expected} records ahead",
                new_records.len()
            )));
        }
        if expected == 0 {
            if checkpoint.root != self.log.root() {
                return Err(refused(format!(
                    "fork: another root for the {old_size} records already witnessed"
                )));
            }
        } else {
            for r in new_records {
                self.log.append(r);
            }
            if self.log.root() != checkpoint.root {
                self.log.truncate(old_size);
                return Err(refused(format!(
                    "split view: records {old_size}..{} do not hash to the checkpoint's root \
                     (the log changed earlier records or shows others different ones)",
                    checkpoint.size
                )));
            }
        }
        let applied = match self
            .directory
            .apply_batch(old_size, new_records, self.verify_device)
        {
            Ok(a) => a,
            Err(e) => {
                self.log.truncate(old_size);
                return Err(e);
            }
        };
        let alerts = applied
            .into_iter()
            .filter_map(|(index, entry, a)| match a {
                Applied::Reset { previous } => Some(Alert::IdentityReset {
                    user_id: entry.user_id().to_owned(),
                    index,
                    previous,
                    master_key: entry.master_key(),
                }),
                _ => None,
            })
            .collect();
        self.records.extend_from_slice(new_records);
        self.last_note = Some(cosigned_note.clone());
        Ok(WitnessReport {
            cosigned_note,
            alerts,
        })
    }

    /// The witness's state (origin, log key, last cosigned checkpoint, every record) as bytes
    /// to persist. The signing key is not included.
    pub fn save(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(STATE_MAGIC);
        w.bytes(self.policy.origin.as_bytes());
        w.bytes(self.policy.log_key.as_bytes());
        let note = self.last_note.as_deref().unwrap_or("");
        w.u32(note.len() as u32);
        w.raw(note.as_bytes());
        w.u64(self.records.len() as u64);
        for r in &self.records {
            w.u32(r.len() as u32);
            w.raw(r);
        }
        w.into_bytes()
    }

    /// A witness from [`Witness::save`]'s bytes: replays and re-checks every record, and
    /// checks that they hash to the saved checkpoint's root.
    pub fn load(
        bytes: &[u8],
        signer: WitnessSigner,
        verify_device: DeviceVerifier,
    ) -> Result<Self> {
        let mut r = Reader::new(bytes, "witness state");
        if r.raw(STATE_MAGIC.len())? != STATE_MAGIC {
            return Err(r.malformed());
        }
        let origin = r.string()?;
        let log_key = r.string()?;
        let n = r.u32()? as usize;
        let note = String::from_utf8(r.raw(n)?.to_vec()).map_err(|_| r.malformed())?;
        let count = r.u64()?;
        let mut records = Vec::new();
        for _ in 0..count {
            let n = r.u32()? as usize;
            records.push(r.raw(n)?.to_vec());
        }
        r.finish()?;

        let mut witness = Self::new(&origin, &log_key, signer, verify_device)?;
        if note.is_empty() {
            if !records.is_empty() {
                return Err(Error::Malformed {
                    what: "witness state",
                });
            }
            return Ok(witness);
        }
        // The saved checkpoint carries the log's signature; the records must match it.
        let checkpoint = witness.policy.verify(&note, 0)?;
        witness.log = KeyLog::from_records(&records);
        if checkpoint.size != witness.log.size() || checkpoint.root != witness.log.root() {
            return Err(refused(
                "the saved records do not hash to the saved checkpoint",
            ));
        }
        witness.directory.apply_batch(0, &records, verify_device)?;
        witness.records = records;
        witness.last_note = Some(note);
        Ok(witness)
    }
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("origin", &self.policy.origin)
            .field("size", &self.log.size())
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
