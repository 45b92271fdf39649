//! Key transparency on the server: the key log's Merkle tree and directory in memory, its
//! signed checkpoints and the witnesses' cosignatures.
//!
//! The store holds the records (append-only, dense indexes: see [`ting_store::trust`]); each
//! node keeps the tree ([`KeyLog`]) and every user's current keys ([`Directory`]) in memory,
//! built from the records on first use and brought up to date from the store before every use
//! (one indexed query), so several nodes sharing a PostgreSQL database serve the same log. The
//! checkpoint signing key is a server secret generated once (32 random bytes) and shared by
//! every node through the store.
//!
//! The server's checks on a new record are hygiene: it refuses what no honest client sends
//! (bad signatures, statements about someone else, a second genesis, a certificate for a device
//! that is not the caller's or by a master key that is not the current one) with a stable
//! error code. Clients and witnesses verify everything themselves and do not trust it.
//!
//! Appends on one node are serialised by the in-memory lock; appends on different nodes of a
//! cluster get dense indexes from the store, but two of them for the same user could both pass
//! their checks (e.g. two genesis statements at once). The directory then applies the first and
//! logs the second as not following the rules; clients and witnesses refuse it too.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use ting_proto::ErrorCode;
use ting_store::{Device, KeyLogKind, Store};
use ting_trust::checkpoint::{self, CheckpointPolicy, LogSigner};
use ting_trust::directory::{Directory, UserKeys, ed25519_only};
use ting_trust::log::{Hash, KeyLog};
use ting_trust::{Entry, IdentityKind, MasterPublicKey};
use tokio::sync::{Mutex, MutexGuard};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};

/// Name of the checkpoint signing key among the server's secrets.
pub const SIGNING_KEY_SECRET: &str = "keylog_signing_key";

/// Records read from the store per query while catching up.
const SYNC_PAGE: u64 = 1000;

/// The tree, the directory and the signer, once loaded.
struct Loaded {
    log: KeyLog,
    directory: Directory,
    signer: LogSigner,
}

/// The key log service; one per process, shared by the handlers.
pub struct KeyTransparency {
    origin: String,
    witnesses: Vec<String>,
    loaded: Mutex<Option<Loaded>>,
}

impl std::fmt::Debug for KeyTransparency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTransparency")
            .field("origin", &self.origin)
            .field("witnesses", &self.witnesses.len())
            .finish_non_exhaustive()
    }
}

/// A record that passed the checks and was appended.
#[derive(Debug, Clone)]
pub struct Appended {
    /// Its index.
    pub index: u64,
    /// The log size right after it.
    pub size: u64,
    /// The decoded entry.
    pub entry: Entry,
}

/// What a user's view of the log is made of, at one size.
#[derive(Debug, Clone)]
pub struct UserView {
    /// The size the checkpoint and proofs are for.
    pub size: u64,
    /// The signed checkpoint with the cosignatures collected for it.
    pub checkpoint: String,
    /// `(index, record, inclusion proof at size)` of every record about the user.
    pub records: Vec<(u64, Vec<u8>, Vec<Hash>)>,
}

/// Figures for the compliance report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Number of records.
    pub size: u64,
    /// The tree's root.
    pub root: Hash,
    /// Witness cosignatures stored for the checkpoint of the current size.
    pub cosignatures: usize,
    /// Identity resets in the log (all users).
    pub resets: u64,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

fn mismatch(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::CertificateMismatch, message)
}

/// The store kind of an entry.
pub fn kind_of(entry: &Entry) -> KeyLogKind {
    match entry {
        Entry::Identity(_) => KeyLogKind::Identity,
        Entry::Device(_) => KeyLogKind::Device,
        Entry::Revocation(_) => KeyLogKind::Revocation,
    }
}

/// The API kind of a store kind.
pub fn api_kind(kind: KeyLogKind) -> ting_proto::api::KeyLogKind {
    match kind {
        KeyLogKind::Identity => ting_proto::api::KeyLogKind::Identity,
        KeyLogKind::Device => ting_proto::api::KeyLogKind::Device,
        KeyLogKind::Revocation => ting_proto::api::KeyLogKind::Revocation,
    }
}

/// Brings `log` and `directory` up to the store's size. A stored record that does not follow
/// the directory rules (only possible with concurrent appends on several nodes) stays in the
/// tree and is left out of the directory, with a warning.
async fn catch_up(store: &dyn Store, log: &mut KeyLog, directory: &mut Directory) -> ApiResult<()> {
    let size = store.key_log_size().await?;
    while log.size() < size {
        let start = log.size();
        let records = store
            .key_log_range(start, size.min(start + SYNC_PAGE))
            .await?;
        if records.is_empty() {
            break;
        }
        for r in records {
            if r.index != log.size() {
                return Err(internal(format!(
                    "key log record {} where {} was expected",
                    r.index,
                    log.size()
                )));
            }
            log.append(&r.record);
            let applied = Entry::decode(&r.record).and_then(|e| directory.apply(&e, ed25519_only));
            if let Err(e) = applied {
                tracing::warn!(index = r.index, error = %e, "a stored key log record does not follow the directory rules");
            }
        }
    }
    Ok(())
}

impl KeyTransparency {
    /// The service for `config` (nothing is loaded until first use).
    pub fn new(config: &Config) -> Self {
        Self {
            origin: config.keylog_origin(),
            witnesses: config.keylog.witnesses.clone(),
            loaded: Mutex::new(None),
        }
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Loads on first use (signing key, every record), then catches up with the store.
    async fn ready(
        &self,
        store: &dyn Store,
        now: i64,
    ) -> ApiResult<MutexGuard<'_, Option<Loaded>>> {
        let mut guard = self.loaded.lock().await;
        if guard.is_none() {
            let candidate: [u8; 32] = rand::random();
            let secret = store
                .server_secret(SIGNING_KEY_SECRET, &candidate, now)
                .await?;
            let secret: [u8; 32] = secret
                .try_into()
                .map_err(|_| internal("the stored key log signing key is not 32 bytes"))?;
            let signer = LogSigner::new(&self.origin, &secret).map_err(internal)?;
            *guard = Some(Loaded {
                log: KeyLog::new(),
                directory: Directory::new(),
                signer,
            });
        }
        let loaded = guard.as_mut().expect("invariant: loaded above");
        catch_up(store, &mut loaded.log, &mut loaded.directory).await?;
        Ok(guard)
    }

    /// Loads the log now (at server start, so the first request does not wait).
    pub async fn load(&self, store: &dyn Store, now: i64) -> ApiResult<u64> {
        let guard = self.ready(store, now).await?;
        Ok(guard.as_ref().map_or(0, |l| l.log.size()))
    }

    /// The log's verifier key (`<origin>+<key id>+<base64>`), for clients and witnesses.
    pub async fn verifier_key(&self, store: &dyn Store, now: i64) -> ApiResult<String> {
        let guard = self.ready(store, now).await?;
        Ok(loaded(&guard).signer.verifier_key())
    }

    /// Checks `record` as an entry about `username` from a caller whose devices are
    /// `devices`, appends it and returns where it went.
    pub async fn append(
        &self,
        store: &dyn Store,
        user: &ting_store::User,
        devices: &[Device],
        record: &[u8],
        now: i64,
    ) -> ApiResult<Appended> {
        let mut guard = self.ready(store, now).await?;
        let entry = check_entry(
            loaded(&guard).directory.user(&user.username),
            &user.username,
            devices,
            record,
        )?;
        let device = match &entry {
            Entry::Identity(_) => None,
            Entry::Device(c) => device_named(devices, &c.body.device_id).map(|d| d.id),
            Entry::Revocation(r) => device_named(devices, &r.device_id).map(|d| d.id),
        };
        let index = store
            .append_key_log(user.id, kind_of(&entry), device, record, now)
            .await?;
        let loaded = guard.as_mut().expect("invariant: ready loads");
        catch_up(store, &mut loaded.log, &mut loaded.directory).await?;
        Ok(Appended {
            index,
            size: loaded.log.size(),
            entry,
        })
    }

    /// The signed checkpoint of the current size with the witness cosignatures stored for it.
    pub async fn checkpoint(&self, store: &dyn Store, now: i64) -> ApiResult<String> {
        let guard = self.ready(store, now).await?;
        cosigned_checkpoint(store, loaded(&guard)).await
    }

    /// The records about `user`, with inclusion proofs at the current size.
    pub async fn user_view(
        &self,
        store: &dyn Store,
        user: ting_proto::UserId,
        now: i64,
    ) -> ApiResult<UserView> {
        let guard = self.ready(store, now).await?;
        let l = loaded(&guard);
        let size = l.log.size();
        let checkpoint = cosigned_checkpoint(store, l).await?;
        let mut records = Vec::new();
        for r in store.key_log_for_user(user).await? {
            if r.index >= size {
                break;
            }
            let proof = l.log.inclusion_proof(r.index, size).map_err(internal)?;
            records.push((r.index, r.record, proof));
        }
        Ok(UserView {
            size,
            checkpoint,
            records,
        })
    }

    /// The inclusion proof of record `index` in the tree of `size` records.
    pub async fn inclusion_proof(
        &self,
        store: &dyn Store,
        index: u64,
        size: u64,
        now: i64,
    ) -> ApiResult<Vec<Hash>> {
        let guard = self.ready(store, now).await?;
        let log = &loaded(&guard).log;
        if index >= size || size > log.size() {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("need index < size <= {} (the log's size)", log.size()),
            ));
        }
        log.inclusion_proof(index, size).map_err(internal)
    }

    /// The consistency proof between the trees of `old` and `new` records.
    pub async fn consistency_proof(
        &self,
        store: &dyn Store,
        old: u64,
        new: u64,
        now: i64,
    ) -> ApiResult<Vec<Hash>> {
        let guard = self.ready(store, now).await?;
        let log = &loaded(&guard).log;
        if old > new || new > log.size() {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("need old <= new <= {} (the log's size)", log.size()),
            ));
        }
        log.consistency_proof(old, new).map_err(internal)
    }

    /// Whether each of `devices` (of the user `username`) is certified under the current
    /// master key and not revoked, as the log says.
    pub async fn certified(
        &self,
        store: &dyn Store,
        username: &str,
        devices: &[Device],
        now: i64,
    ) -> ApiResult<Vec<bool>> {
        let guard = self.ready(store, now).await?;
        let keys = loaded(&guard).directory.user(username);
        Ok(devices
            .iter()
            .map(|d| {
                keys.is_some_and(|k| {
                    k.is_device_valid(d.id.to_string().as_bytes(), &d.signature_key)
                })
            })
            .collect())
    }

    /// The user's current master key, as the log says.
    pub async fn current_master(
        &self,
        store: &dyn Store,
        username: &str,
        now: i64,
    ) -> ApiResult<Option<MasterPublicKey>> {
        let guard = self.ready(store, now).await?;
        Ok(loaded(&guard)
            .directory
            .user(username)
            .and_then(|k| k.master_key))
    }

    /// Accepts a witness's cosigned checkpoint: it must be a checkpoint this server issued
    /// (its origin, a size the log reached, that size's root, the log's valid signature) and
    /// carry a valid cosignature by a configured witness. Only the configured witnesses' lines
    /// are kept. Returns the names of the witnesses whose cosignatures were stored.
    pub async fn add_cosignature(
        &self,
        store: &dyn Store,
        note: &str,
        now: i64,
    ) -> ApiResult<Vec<String>> {
        let invalid = |m: &str| ApiError::new(ErrorCode::InvalidCosignature, m.to_string());
        let guard = self.ready(store, now).await?;
        let l = loaded(&guard);
        let (origin, size, root) =
            checkpoint::peek(note).map_err(|_| invalid("not a checkpoint note"))?;
        let issued = origin == self.origin
            && size <= l.log.size()
            && l.log.root_at(size).is_ok_and(|r| r == root);
        if !issued {
            return Err(invalid("not a checkpoint this server issued"));
        }
        let at = u64::try_from(now).unwrap_or(0);
        let policy = |witness_keys: Vec<String>| CheckpointPolicy {
            origin: self.origin.clone(),
            log_key: l.signer.verifier_key(),
            required_witnesses: witness_keys.len(),
            witness_keys,
            max_age_secs: u64::MAX,
        };
        policy(Vec::new())
            .verify(note, at)
            .map_err(|_| invalid("the log's signature on the checkpoint does not verify"))?;
        let ours = l.signer.sign(size, &root);
        let mut stored = Vec::new();
        for vkey in &self.witnesses {
            let name = witness_name(vkey).map_err(internal)?;
            if policy(vec![vkey.clone()]).verify(note, at).is_err() {
                continue;
            }
            let cleaned = format!("{ours}{}", signature_lines(note, &name));
            policy(vec![vkey.clone()])
                .verify(&cleaned, at)
                .map_err(internal)?;
            store
                .put_key_log_cosignature(vkey, size, &cleaned, now)
                .await?;
            stored.push(name);
        }
        if stored.is_empty() {
            return Err(ApiError::new(
                ErrorCode::UnknownWitness,
                "no valid cosignature by a witness this server is configured to accept",
            ));
        }
        Ok(stored)
    }
}

fn loaded<'a>(guard: &'a MutexGuard<'_, Option<Loaded>>) -> &'a Loaded {
    guard.as_ref().expect("invariant: ready loads")
}

async fn cosigned_checkpoint(store: &dyn Store, l: &Loaded) -> ApiResult<String> {
    let size = l.log.size();
    let mut note = l.signer.sign(size, &l.log.root());
    for other in store.key_log_cosignatures(size).await? {
        match checkpoint::merge_cosignatures(&note, &other) {
            Ok(merged) => note = merged,
            Err(e) => tracing::warn!(error = %e, size, "a stored cosignature does not merge"),
        }
    }
    Ok(note)
}

/// The signature lines of `note` by the key named `name`, each ending in a newline.
fn signature_lines(note: &str, name: &str) -> String {
    let prefix = format!("\u{2014} {name} ");
    let Some((_, lines)) = note.rsplit_once("\n\n") else {
        return String::new();
    };
    lines
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The caller's device whose id (as its string) is `id`.
fn device_named<'a>(devices: &'a [Device], id: &[u8]) -> Option<&'a Device> {
    devices.iter().find(|d| d.id.to_string().as_bytes() == id)
}

/// The hygiene checks on a new record about `username` (whose keys the log says are `keys`)
/// from a caller whose devices are `devices`.
pub fn check_entry(
    keys: Option<&UserKeys>,
    username: &str,
    devices: &[Device],
    record: &[u8],
) -> ApiResult<Entry> {
    let invalid = |e: ting_trust::Error| {
        ApiError::new(
            ErrorCode::InvalidStatement,
            format!("not a valid key log record: {e}"),
        )
    };
    let entry = Entry::decode(record).map_err(invalid)?;
    entry.verify(ed25519_only).map_err(invalid)?;
    if entry.user_id() != username {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "the record is about another user than the caller",
        ));
    }
    let current = keys.and_then(|k| k.master_key);
    let missing = || {
        ApiError::new(
            ErrorCode::IdentityMissing,
            "the user has no identity in the key log yet: publish a genesis statement first",
        )
    };
    let check_master = |key: MasterPublicKey| -> ApiResult<()> {
        match current {
            None => Err(missing()),
            Some(c) if c == key => Ok(()),
            Some(_) => Err(mismatch(
                "signed by a master key that is not the user's current one",
            )),
        }
    };
    match &entry {
        Entry::Identity(s) => match (s.kind, current) {
            (IdentityKind::Genesis, Some(_)) => {
                return Err(ApiError::new(
                    ErrorCode::IdentityExists,
                    "the user already has an identity; a new master key must be a reset",
                ));
            }
            (IdentityKind::Reset, None) => return Err(missing()),
            _ => {}
        },
        Entry::Device(c) => {
            check_master(c.body.master_key)?;
            let device = device_named(devices, &c.body.device_id)
                .filter(|d| d.revoked_at.is_none())
                .ok_or_else(|| mismatch("the certificate names no active device of yours"))?;
            if device.signature_key != c.body.device_key {
                return Err(mismatch(
                    "the certificate's device key is not the device's registered signature key",
                ));
            }
        }
        Entry::Revocation(r) => {
            check_master(r.master_key)?;
            let device = device_named(devices, &r.device_id)
                .ok_or_else(|| mismatch("the revocation names no device of yours"))?;
            if device.signature_key != r.device_key {
                return Err(mismatch(
                    "the revocation's device key is not the device's registered signature key",
                ));
            }
        }
    }
    // The rules every client and witness applies (no reuse of revoked ids or keys, a
    // revocation names a certified device, …), on a copy.
    let mut copy = keys.cloned().unwrap_or_else(|| UserKeys::new(username));
    copy.apply(&entry, ed25519_only)
        .map_err(|e| mismatch(e.to_string()))?;
    Ok(entry)
}

/// The name of a witness verifier key `name+<key id hex>+<base64(0x04 || Ed25519 key)>`
/// (c2sp.org/signed-note, cosignature/v1), after checking its form and key id.
pub fn witness_name(vkey: &str) -> anyhow::Result<String> {
    use base64::Engine as _;
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("expected name+keyid+base64");
    };
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("invalid key name");
    }
    let key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .context("the key is not base64")?;
    if key.len() != 33 || key[0] != 0x04 {
        bail!("not an Ed25519 cosignature/v1 key (type 0x04, 32 bytes)");
    }
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&key);
    let digest = h.finalize();
    let expected = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    if id.len() != 8 || u32::from_str_radix(id, 16).ok() != Some(expected) {
        bail!("the key id does not match the name and key");
    }
    Ok(name.to_owned())
}

/// Replays the whole log from the store (for the compliance report, without a running
/// server).
pub async fn status(store: &dyn Store) -> anyhow::Result<Status> {
    let mut log = KeyLog::new();
    let mut directory = Directory::new();
    catch_up(store, &mut log, &mut directory)
        .await
        .map_err(|e| anyhow::anyhow!("reading the key log: {}", e.message))?;
    let size = log.size();
    Ok(Status {
        size,
        root: log.root(),
        cosignatures: store.key_log_cosignatures(size).await?.len(),
        resets: directory.users().map(|u| u64::from(u.resets)).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witness_keys_are_checked() {
        let w = ting_trust::WitnessSigner::new("witness.example", &[5; 32]).unwrap();
        assert_eq!(witness_name(&w.verifier_key()).unwrap(), "witness.example");
        let log = LogSigner::new("ting/keylog", &[5; 32]).unwrap();
        assert!(witness_name(&log.verifier_key()).is_err(), "a log key");
        let tampered = w.verifier_key().replacen("witness", "witnesz", 1);
        assert!(witness_name(&tampered).is_err(), "key id of another name");
        assert!(witness_name("nonsense").is_err());
    }

    #[test]
    fn signature_lines_by_name() {
        let note = "o\n1\nAAAA\n\n\u{2014} o abc\n\u{2014} w1 def\n\u{2014} w10 ghi\n";
        assert_eq!(signature_lines(note, "w1"), "\u{2014} w1 def\n");
        assert_eq!(signature_lines(note, "w2"), "");
    }
}
