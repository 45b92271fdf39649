//! Governance state: the organisation policy ([`PolicyStore`]), the hash-chained audit log
//! ([`AuditStore`], [`ChainVerifier`]) and the per-user export of stored fields
//! ([`SubjectStore`], GDPR art. 15/20).
//!
//! # The audit chain
//!
//! Each record's `hash = SHA-256(prev_hash || canonical(record))`, where `prev_hash` is the
//! previous record's hash (32 zero bytes before the first record) and `canonical` is a
//! length-prefixed binary encoding of every field, the seq included ([`canonical`]). The store
//! assigns seqs and reads the previous hash inside one serialised transaction, so the chain is
//! linear even with several server nodes. Changing, inserting, deleting or reordering a record
//! breaks the recomputation at that record. Pruning deletes a *prefix* of the chain and keeps
//! the last pruned record's seq and hash as the [`AuditAnchor`] that verification starts from.
//! Truncating the newest records cannot be seen from the chain alone: compare the head hash
//! with one written down earlier (`ting audit verify` prints it).

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use ting_proto::UserId;

use crate::{Blob, Result, RoomDevice, Session};

/// Hash that the first record chains from.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// A stored policy revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPolicy {
    /// 1, 2, …; the highest is in effect.
    pub revision: u64,
    /// The validated policy file (TOML).
    pub document: String,
    /// Administrator who set it; `None` when set on the server's command line.
    pub set_by: Option<UserId>,
    /// Unix seconds.
    pub set_at: i64,
}

/// Policy revisions (validation is the caller's job; the store keeps history).
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Stores `document` as the next revision. Concurrent setters may get
    /// [`crate::Error::Conflict`]`("policy")`; retry.
    async fn set_policy(
        &self,
        document: String,
        set_by: Option<UserId>,
        now: i64,
    ) -> Result<StoredPolicy>;
    /// The revision in effect, if any was ever set.
    async fn current_policy(&self) -> Result<Option<StoredPolicy>>;
    /// Every revision, oldest first.
    async fn policy_history(&self) -> Result<Vec<StoredPolicy>>;
}

/// An audit event before the store places it in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NewAuditRecord {
    /// Unix seconds.
    pub at: i64,
    /// Event type, e.g. `login_failed`.
    pub event: String,
    /// Acting account id.
    pub actor_user: Option<String>,
    /// Acting device id.
    pub actor_device: Option<String>,
    /// Account the event is about.
    pub target_user: Option<String>,
    /// Other object the event is about (device, room, policy revision).
    pub target: Option<String>,
    /// Truncated client network.
    pub client_net: Option<String>,
    /// JSON details, never content.
    pub details: String,
}

/// A record in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The event.
    pub record: NewAuditRecord,
    /// `SHA-256(prev_hash || canonical(record))`.
    pub hash: Vec<u8>,
}

/// Where verification starts after pruning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditAnchor {
    /// Seq of the last pruned record.
    pub seq: u64,
    /// Its hash.
    pub hash: Vec<u8>,
    /// When the pruning happened.
    pub pruned_at: i64,
}

/// The append-only audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends a record at the end of the chain (serialised against other appends and pruning).
    async fn append_audit(&self, record: NewAuditRecord) -> Result<AuditRecord>;
    /// Up to `limit` records with seq greater than `after_seq`, in seq order.
    async fn audit_page(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditRecord>>;
    /// The anchor left by the last pruning, if any.
    async fn audit_anchor(&self) -> Result<Option<AuditAnchor>>;
    /// Deletes the oldest records up to (not including) the first one at or after `before`,
    /// and moves the anchor to the last one deleted. Returns how many were deleted.
    async fn prune_audit(&self, before: i64, now: i64) -> Result<u64>;
    /// Records whose actor or target user is `user`, in seq order.
    async fn audit_for_user(&self, user: UserId) -> Result<Vec<AuditRecord>>;
}

/// One message a user sent, as metadata (the ciphertext only on request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// Room.
    pub room_id: String,
    /// Position in the room's log.
    pub seq: u64,
    /// Sending device.
    pub sender_device: String,
    /// `application` or `commit`.
    pub kind: String,
    /// MLS epoch.
    pub epoch: u64,
    /// When it was accepted.
    pub created_at: i64,
    /// When it expires.
    pub expires_at: Option<i64>,
    /// Ciphertext size in bytes.
    pub size: u64,
    /// The ciphertext, if asked for.
    pub payload: Option<Vec<u8>>,
}

/// Everything stored about one user, for the art. 15/20 export (beyond [`crate::UserStore`] and
/// [`crate::DeviceStore`]).
#[async_trait]
pub trait SubjectStore: Send + Sync {
    /// The user's sessions (token hashes only; tokens are never stored).
    async fn sessions_for_user(&self, user: UserId) -> Result<Vec<Session>>;
    /// Room memberships of all the user's devices, past ones included.
    async fn memberships_of_user(&self, user: UserId) -> Result<Vec<RoomDevice>>;
    /// Messages the user sent, oldest first; ciphertext only with `with_payload`.
    async fn messages_sent_by(&self, user: UserId, with_payload: bool) -> Result<Vec<SentMessage>>;
    /// Blobs uploaded by the user's devices.
    async fn blobs_uploaded_by(&self, user: UserId) -> Result<Vec<Blob>>;
}

fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_optional(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_field(out, v.as_bytes());
        }
    }
}

/// The canonical encoding of a record at `seq`: a domain tag, the seq and time as big-endian
/// integers, then every field length-prefixed (optional ones with a presence byte).
pub fn canonical(seq: u64, r: &NewAuditRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + r.details.len());
    put_field(&mut out, b"ting-audit-v1");
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&r.at.to_be_bytes());
    put_field(&mut out, r.event.as_bytes());
    put_optional(&mut out, r.actor_user.as_deref());
    put_optional(&mut out, r.actor_device.as_deref());
    put_optional(&mut out, r.target_user.as_deref());
    put_optional(&mut out, r.target.as_deref());
    put_optional(&mut out, r.client_net.as_deref());
    put_field(&mut out, r.details.as_bytes());
    out
}

/// `SHA-256(prev_hash || canonical(seq, record))`.
pub fn chain_hash(prev_hash: &[u8], seq: u64, record: &NewAuditRecord) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(canonical(seq, record));
    h.finalize().to_vec()
}

/// Why the chain does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit record {seq}: {reason}")]
pub struct ChainBreak {
    /// The first record that does not fit.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// Checks records one by one, in seq order, from the anchor (or the genesis).
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    next_seq: u64,
    prev_hash: Vec<u8>,
    checked: u64,
}

impl ChainVerifier {
    /// Starts after `anchor`, or at seq 1 from [`GENESIS_HASH`].
    pub fn new(anchor: Option<&AuditAnchor>) -> Self {
        match anchor {
            Some(a) => Self {
                next_seq: a.seq + 1,
                prev_hash: a.hash.clone(),
                checked: 0,
            },
            None => Self {
                next_seq: 1,
                prev_hash: GENESIS_HASH.to_vec(),
                checked: 0,
            },
        }
    }

    /// Checks the next record: its seq follows the previous one and its hash recomputes.
    pub fn check(&mut self, r: &AuditRecord) -> std::result::Result<(), ChainBreak> {
        if r.seq != self.next_seq {
            return Err(ChainBreak {
                seq: r.seq,
                reason: format!(
                    "expected record {} here: a record was deleted, inserted or reordered",
                    self.next_seq
                ),
            });
        }
        let expected = chain_hash(&self.prev_hash, r.seq, &r.record);
        if expected != r.hash {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "hash mismatch: this record, or the chain before it, was altered"
                    .to_string(),
            });
        }
        self.prev_hash = expected;
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Records checked so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Hash of the last record checked (or the anchor's): the chain head.
    pub fn head(&self) -> &[u8] {
        &self.prev_hash
    }
}

/// A verified chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked.
    pub checked: u64,
    /// Where verification started (after pruning).
    pub anchor: Option<AuditAnchor>,
    /// Hash of the newest record: write it down to detect later truncation.
    pub head: Vec<u8>,
}

/// Reads the whole chain from the anchor in pages and verifies it. The outer error is a store
/// failure, the inner one the first broken record.
pub async fn verify_audit(
    store: &dyn AuditStore,
) -> Result<std::result::Result<ChainReport, ChainBreak>> {
    let anchor = store.audit_anchor().await?;
    let mut verifier = ChainVerifier::new(anchor.as_ref());
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            if let Err(e) = verifier.check(r) {
                return Ok(Err(e));
            }
        }
    }
    Ok(Ok(ChainReport {
        checked: verifier.checked(),
        anchor,
        head: verifier.head().to_vec(),
    }))
}

/// The record that follows `prev` (`(seq, hash)` of the chain end, `None` at the genesis).
pub(crate) fn next_record(prev: Option<(i64, Vec<u8>)>, record: NewAuditRecord) -> AuditRecord {
    let (prev_seq, prev_hash) = prev.unwrap_or((0, GENESIS_HASH.to_vec()));
    let seq = u64::try_from(prev_seq).unwrap_or(0) + 1;
    let hash = chain_hash(&prev_hash, seq, &record);
    AuditRecord { seq, record, hash }
}

/// `seq, at, event, actor_user, actor_device, target_user, target, client_net, details, hash`.
pub(crate) type AuditRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Vec<u8>,
);

pub(crate) fn audit_record(row: AuditRow) -> Result<AuditRecord> {
    let (seq, at, event, actor_user, actor_device, target_user, target, client_net, details, hash) =
        row;
    Ok(AuditRecord {
        seq: crate::rows::unsigned(seq, "audit seq")?,
        record: NewAuditRecord {
            at,
            event,
            actor_user,
            actor_device,
            target_user,
            target,
            client_net,
            details,
        },
        hash,
    })
}

/// `revision, document, set_by, set_at`.
pub(crate) type PolicyRow = (i64, String, Option<String>, i64);

pub(crate) fn policy(row: PolicyRow) -> Result<StoredPolicy> {
    let (revision, document, set_by, set_at) = row;
    Ok(StoredPolicy {
        revision: crate::rows::unsigned(revision, "policy revision")?,
        document,
        set_by: set_by.as_deref().map(crate::rows::user_id).transpose()?,
        set_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(event: &str) -> NewAuditRecord {
        NewAuditRecord {
            at: 7,
            event: event.into(),
            details: "{}".into(),
            ..Default::default()
        }
    }

    #[test]
    fn chain_detects_changes() {
        let a = next_record(None, rec("a"));
        let b = next_record(Some((1, a.hash.clone())), rec("b"));
        let mut v = ChainVerifier::new(None);
        v.check(&a).unwrap();
        v.check(&b).unwrap();
        let mut altered = b.clone();
        altered.record.details = "{ }".into();
        let mut v = ChainVerifier::new(None);
        v.check(&a).unwrap();
        assert_eq!(v.check(&altered).unwrap_err().seq, 2);
        let mut v = ChainVerifier::new(None);
        assert_eq!(v.check(&b).unwrap_err().seq, 2);
    }

    #[test]
    fn optional_fields_are_unambiguous() {
        let mut x = rec("e");
        x.actor_user = Some(String::new());
        assert_ne!(canonical(1, &x), canonical(1, &rec("e")));
        let mut y = rec("e");
        y.target = Some(String::new());
        assert_ne!(canonical(1, &x), canonical(1, &y));
    }
}
