//! What a client checks of the key log before it trusts a key it was handed.
//!
//! A [`LogView`] remembers the newest checkpoint this client accepted. Every later checkpoint
//! must satisfy the client's [`CheckpointPolicy`] (the log's signature, the witnesses it
//! requires, their freshness) and be consistent with the remembered one: a smaller tree is a
//! rollback, the same size with another root or a bigger tree without a valid consistency
//! proof is a fork — a server showing this client another log than everyone else.
//! [`LogView::user_keys`] then checks that each of a user's records is included in the
//! accepted tree and replays them through the same rules the server and witnesses apply.
//!
//! What this cannot prove: that the server handed out *every* record about the user. A
//! withheld record (say, a revocation) is caught by witnesses only if someone asks them; the
//! device that revoked also removes the device from its groups by commit.

use crate::checkpoint::{CheckpointPolicy, VerifiedCheckpoint, peek};
use crate::directory::UserKeys;
use crate::error::{Error, Result};
use crate::keys::SignatureScheme;
use crate::log::{Hash, verify_consistency, verify_inclusion};
use crate::statement::Entry;

/// A checkpoint a client accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: Hash,
    /// The note as received (to carry in messages and compare with peers).
    pub note: String,
}

/// What a checkpoint needs from the client before [`LogView::accept`] can decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedProof {
    /// Nothing: accept directly.
    None,
    /// A consistency proof from the remembered size to the new one.
    Consistency {
        /// The remembered size.
        old: u64,
        /// The new size.
        new: u64,
    },
}

/// A client's view of the key log.
#[derive(Debug, Clone)]
pub struct LogView {
    /// What checkpoints must satisfy.
    pub policy: CheckpointPolicy,
    /// The newest accepted checkpoint.
    pub latest: Option<SeenCheckpoint>,
}

impl LogView {
    /// A view that has seen nothing yet.
    pub fn new(policy: CheckpointPolicy) -> Self {
        Self {
            policy,
            latest: None,
        }
    }

    /// What proof `note` needs (without verifying signatures yet).
    pub fn needs(&self, note: &str) -> Result<NeedProof> {
        let (_, size, _) = peek(note)?;
        Ok(match &self.latest {
            Some(l) if size > l.size && l.size > 0 => NeedProof::Consistency {
                old: l.size,
                new: size,
            },
            _ => NeedProof::None,
        })
    }

    /// Verifies `note` against the policy and the remembered checkpoint (with `consistency`,
    /// the proof [`LogView::needs`] asked for) and remembers it if it is newer.
    pub fn accept(
        &mut self,
        note: &str,
        consistency: &[Hash],
        now_unix: u64,
    ) -> Result<VerifiedCheckpoint> {
        let cp = self.policy.verify(note, now_unix)?;
        if let Some(l) = &self.latest {
            if cp.size < l.size {
                return Err(Error::Inconsistent {
                    reason: format!(
                        "rollback: the log had {} records, now it claims {}",
                        l.size, cp.size
                    ),
                });
            }
            if cp.size == l.size && cp.root != l.root {
                return Err(Error::Inconsistent {
                    reason: format!("fork: two different trees of {} records", cp.size),
                });
            }
            if cp.size > l.size {
                verify_consistency(l.size, &l.root, cp.size, &cp.root, consistency).map_err(
                    |_| Error::Inconsistent {
                        reason: format!(
                            "fork: the tree of {} records does not extend the one of {} this device saw",
                            cp.size, l.size
                        ),
                    },
                )?;
            }
        }
        if self.latest.as_ref().is_none_or(|l| cp.size > l.size) {
            self.latest = Some(SeenCheckpoint {
                size: cp.size,
                root: cp.root,
                note: cp.note.clone(),
            });
        }
        Ok(cp)
    }

    /// Checks a user's records (index and encoding, in log order) against an accepted
    /// checkpoint with their inclusion proofs, and replays them: the user's master key,
    /// certified and revoked devices as the log proves them.
    pub fn user_keys(
        cp: &VerifiedCheckpoint,
        user_id: &str,
        records: &[(u64, Vec<u8>)],
        proofs: &[Vec<Hash>],
        verify_device: impl Fn(SignatureScheme, &[u8], &[u8], &[u8]) -> bool,
    ) -> Result<UserKeys> {
        if records.len() != proofs.len() {
            return Err(Error::refused(
                "key history",
                "one proof per record expected",
            ));
        }
        let mut keys = UserKeys::new(user_id);
        let mut last: Option<u64> = None;
        for ((index, record), proof) in records.iter().zip(proofs) {
            if last.is_some_and(|l| *index <= l) {
                return Err(Error::refused("key history", "records out of log order"));
            }
            last = Some(*index);
            verify_inclusion(record, *index, cp.size, &cp.root, proof).map_err(|_| {
                Error::LogEntry {
                    index: *index,
                    reason: Box::new(Error::BadProof { what: "inclusion" }),
                }
            })?;
            let entry = Entry::decode(record).map_err(|e| Error::LogEntry {
                index: *index,
                reason: Box::new(e),
            })?;
            keys.apply(&entry, &verify_device)
                .map_err(|e| Error::LogEntry {
                    index: *index,
                    reason: Box::new(e),
                })?;
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests;
