//! Checkpoints of the key log: c2sp.org/tlog-checkpoint bodies in c2sp.org/signed-note notes,
//! signed by the log and cosigned by witnesses (c2sp.org/tlog-cosignature).
//!
//! ```text
//! ting.example.org/keylog                      origin (also the log key's name)
//! 1234                                         tree size
//! nND/nri//U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI= root hash
//!
//! — ting.example.org/keylog <base64(key id || Ed25519 signature)>
//! — witness.example.com <base64(key id || timestamp || Ed25519 signature)>
//! ```
//!
//! The log signs with an ordinary signed-note Ed25519 key (signature type 0x01). Witnesses
//! cosign with `cosignature/v1` (signature type 0x04): the signed message is
//! `"cosignature/v1\ntime <timestamp>\n"` followed by the note text, and the signature is the
//! big-endian u64 timestamp followed by the Ed25519 signature. A cosignature says "as of this
//! time, this is the largest tree of this log I have seen, and it extends every earlier one".
//!
//! Keys are written as signed-note verifier keys, `<name>+<key id hex>+<base64(type || key)>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use signed_note::{Note, Signature, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::checkpoint::Checkpoint;
use tlog_tiles::tlog;

use crate::error::{Error, Result};
use crate::log::Hash;

/// Signature type of signed-note Ed25519 keys (the log's).
const ALG_ED25519: u8 = 0x01;
/// Signature type of Ed25519 `cosignature/v1` keys (witnesses').
const ALG_COSIGNATURE_V1: u8 = 0x04;
/// Largest timestamp a cosignature may carry (c2sp.org/tlog-cosignature).
const MAX_TIMESTAMP: u64 = i64::MAX as u64;
/// Most signature lines a note may carry (the signed-note parser's limit).
const MAX_SIGNATURES: usize = 100;

fn check_name(name: &str) -> Result<()> {
    if !signed_note::is_key_name_valid(name) || name.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(
            "key name must be non-empty, without spaces, '+' or control characters",
        ));
    }
    Ok(())
}

fn verifier_key(name: &str, alg: u8, public: &VerifyingKey) -> (u32, String) {
    let mut key = vec![alg];
    key.extend_from_slice(public.as_bytes());
    let id = signed_note::key_id(name, &key);
    (id, format!("{name}+{id:08x}+{}", BASE64.encode(&key)))
}

fn malformed() -> Error {
    Error::Malformed { what: "checkpoint" }
}

/// A parsed note and its checkpoint body (signatures not checked).
struct Parsed {
    note: Note,
    checkpoint: Checkpoint,
    signatures: Vec<Signature>,
}

fn parse(note: &str) -> Result<Parsed> {
    let parsed = Note::from_bytes(note.as_bytes()).map_err(|_| malformed())?;
    let checkpoint = Checkpoint::from_bytes(parsed.text()).map_err(|_| malformed())?;
    // `Note` keeps its signatures to itself: read the lines after the blank line again
    // (already validated by `Note::from_bytes`).
    let (_, lines) = note.rsplit_once("\n\n").ok_or_else(malformed)?;
    let signatures = lines
        .lines()
        .map(|l| Signature::from_bytes(l.as_bytes()).map_err(|_| malformed()))
        .collect::<Result<Vec<_>>>()?;
    Ok(Parsed {
        note: parsed,
        checkpoint,
        signatures,
    })
}

fn to_text(note: &Note) -> String {
    String::from_utf8(note.to_bytes()).expect("invariant: a parsed note is UTF-8")
}

/// The log's checkpoint signer: an Ed25519 key named after the log's origin.
pub struct LogSigner {
    origin: String,
    signer: StandardSigner,
    verifier_key: String,
}

impl LogSigner {
    /// The signer of the log `origin` (e.g. `ting.example.org/keylog`; also the key's name)
    /// with a key from 32 secret bytes.
    pub fn new(origin: &str, secret: &[u8; 32]) -> Result<Self> {
        check_name(origin)?;
        let key = SigningKey::from_bytes(secret);
        let (id, verifier_key) = verifier_key(origin, ALG_ED25519, &key.verifying_key());
        let mut private = vec![ALG_ED25519];
        private.extend_from_slice(secret);
        let skey = format!("PRIVATE+KEY+{origin}+{id:08x}+{}", BASE64.encode(&private));
        let signer =
            StandardSigner::new(&skey).map_err(|_| Error::InvalidArgument("log signer key"))?;
        Ok(Self {
            origin: origin.to_owned(),
            signer,
            verifier_key,
        })
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key clients and witnesses are configured with
    /// (`<origin>+<key id>+<base64>`).
    pub fn verifier_key(&self) -> String {
        self.verifier_key.clone()
    }

    /// The signed checkpoint of the tree of `size` records with root `root`.
    pub fn sign(&self, size: u64, root: &Hash) -> String {
        let body = Checkpoint::new(&self.origin, size, tlog::Hash(*root), "")
            .expect("invariant: the origin was checked");
        let mut note = Note::new(&body.to_bytes(), &[]).expect("invariant: checkpoints are notes");
        note.add_sigs(&[&self.signer])
            .expect("invariant: Ed25519 signing does not fail");
        to_text(&note)
    }
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogSigner({})", self.verifier_key)
    }
}

/// A witness's cosigning key (`cosignature/v1`, Ed25519).
pub struct WitnessSigner {
    name: String,
    key: SigningKey,
    id: u32,
    verifier_key: String,
}

/// Signs one note text as a `cosignature/v1` at a given time.
struct Timestamped<'a> {
    signer: &'a WitnessSigner,
    timestamp: u64,
}

fn cosigned_message(timestamp: u64, text: &[u8]) -> Vec<u8> {
    let mut msg = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    msg.extend_from_slice(text);
    msg
}

impl signed_note::Signer for Timestamped<'_> {
    fn name(&self) -> &str {
        &self.signer.name
    }

    fn key_id(&self) -> u32 {
        self.signer.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        let sig = self.signer.key.sign(&cosigned_message(self.timestamp, msg));
        let mut out = self.timestamp.to_be_bytes().to_vec();
        out.extend_from_slice(&sig.to_bytes());
        Ok(out)
    }
}

impl WitnessSigner {
    /// The witness `name` (a schema-less URL such as `witness.example.com`) with a key from
    /// 32 secret bytes.
    pub fn new(name: &str, secret: &[u8; 32]) -> Result<Self> {
        check_name(name)?;
        let key = SigningKey::from_bytes(secret);
        let (id, verifier_key) = verifier_key(name, ALG_COSIGNATURE_V1, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key,
            id,
            verifier_key,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key the server and clients are configured with
    /// (`<name>+<key id>+<base64(0x04 || key)>`).
    pub fn verifier_key(&self) -> String {
        self.verifier_key.clone()
    }

    /// `note` with this witness's cosignature at `now_unix` added (replacing an earlier
    /// cosignature of this key). Only checks that `note` is a checkpoint: deciding that it
    /// deserves a cosignature is the caller's job (see [`crate::witness::Witness`]).
    pub fn cosign(&self, note: &str, now_unix: u64) -> Result<String> {
        if now_unix > MAX_TIMESTAMP {
            return Err(Error::InvalidArgument("timestamp beyond 2^63 - 1"));
        }
        let mut parsed = parse(note)?.note;
        let signer = Timestamped {
            signer: self,
            timestamp: now_unix,
        };
        parsed
            .add_sigs(&[&signer])
            .map_err(|_| Error::InvalidArgument("cosignature"))?;
        Ok(to_text(&parsed))
    }
}

impl std::fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WitnessSigner({})", self.verifier_key)
    }
}

/// A witness's public cosigning key, parsed from its verifier key.
#[derive(Debug, Clone)]
struct Cosigner {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl Cosigner {
    fn parse(vkey: &str) -> Result<Self> {
        const BAD: Error = Error::InvalidArgument("witness key is not a cosignature/v1 vkey");
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(BAD);
        };
        let raw = BASE64.decode(key).map_err(|_| BAD)?;
        let id = u32::from_str_radix(id, 16).map_err(|_| BAD)?;
        if check_name(name).is_err()
            || raw.len() != 33
            || raw[0] != ALG_COSIGNATURE_V1
            || id != signed_note::key_id(name, &raw)
        {
            return Err(BAD);
        }
        let bytes: [u8; 32] = raw[1..].try_into().map_err(|_| BAD)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| BAD)?;
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// The timestamp of `sig` if it is this witness's valid cosignature of `text`.
    fn verify(&self, text: &[u8], sig: &Signature) -> Option<u64> {
        if sig.name() != self.name || sig.id() != self.id {
            return None;
        }
        let raw = sig.signature();
        if raw.len() != 8 + 64 {
            return None;
        }
        let timestamp = u64::from_be_bytes(raw[..8].try_into().ok()?);
        if timestamp > MAX_TIMESTAMP {
            return None;
        }
        let signature = ed25519_dalek::Signature::from_slice(&raw[8..]).ok()?;
        self.key
            .verify_strict(&cosigned_message(timestamp, text), &signature)
            .ok()?;
        Some(timestamp)
    }
}

/// What a client (or the server, or a witness) requires of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// The log's origin (the checkpoint's first line).
    pub origin: String,
    /// The log's verifier key.
    pub log_key: String,
    /// The verifier keys of the trusted witnesses (`cosignature/v1`).
    pub witness_keys: Vec<String>,
    /// How many distinct trusted witnesses must have cosigned.
    pub required_witnesses: usize,
    /// How old the newest cosignature may be, in seconds (checked when
    /// `required_witnesses > 0`).
    pub max_age_secs: u64,
}

/// A checkpoint that satisfied a [`CheckpointPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The tree size.
    pub size: u64,
    /// The tree root.
    pub root: Hash,
    /// The note, as given.
    pub note: String,
    /// The trusted witnesses that validly cosigned it: name and cosignature timestamp.
    pub witnesses: Vec<(String, u64)>,
}

impl CheckpointPolicy {
    /// Checks `note` at time `now_unix`: the origin, the log's signature, at least
    /// `required_witnesses` valid cosignatures by distinct trusted witnesses, and (if any are
    /// required) that the newest of them is at most `max_age_secs` old. Signature lines by
    /// unknown keys, and invalid cosignatures, are ignored.
    pub fn verify(&self, note: &str, now_unix: u64) -> Result<VerifiedCheckpoint> {
        let parsed = parse(note)?;
        let origin = parsed.checkpoint.origin();
        if origin != self.origin {
            return Err(Error::refused(
                "checkpoint",
                format!("origin {origin:?}, expected {:?}", self.origin),
            ));
        }
        let log = StandardVerifier::new(&self.log_key)
            .map_err(|_| Error::InvalidArgument("log key is not a signed-note vkey"))?;
        parsed
            .note
            .verify(&VerifierList::new(vec![Box::new(log)]))
            .map_err(|_| Error::BadSignature {
                what: "checkpoint (log)",
            })?;

        let mut cosigners: Vec<Cosigner> = Vec::with_capacity(self.witness_keys.len());
        for vkey in &self.witness_keys {
            let c = Cosigner::parse(vkey)?;
            if !cosigners.iter().any(|k| k.name == c.name && k.key == c.key) {
                cosigners.push(c);
            }
        }
        let text = parsed.note.text();
        let mut witnesses = Vec::new();
        for c in &cosigners {
            let newest = parsed
                .signatures
                .iter()
                .filter_map(|sig| c.verify(text, sig))
                .max();
            if let Some(ts) = newest {
                witnesses.push((c.name.clone(), ts));
            }
        }
        if witnesses.len() < self.required_witnesses {
            return Err(Error::refused(
                "checkpoint",
                format!(
                    "{} valid witness cosignature(s), {} required",
                    witnesses.len(),
                    self.required_witnesses
                ),
            ));
        }
        if self.required_witnesses > 0 {
            let newest = witnesses.iter().map(|(_, t)| *t).max().unwrap_or(0);
            let age = now_unix.saturating_sub(newest);
            if age > self.max_age_secs {
                return Err(Error::refused(
                    "checkpoint",
                    format!(
                        "stale: the newest cosignature is {age} s old (at most {} s)",
                        self.max_age_secs
                    ),
                ));
            }
        }
        Ok(VerifiedCheckpoint {
            size: parsed.checkpoint.size(),
            root: parsed.checkpoint.hash().0,
            note: note.to_owned(),
            witnesses,
        })
    }
}

/// The size and root of a checkpoint note, unverified (to decide what to fetch before
/// verifying).
pub fn peek(note: &str) -> Result<(String, u64, Hash)> {
    let parsed = parse(note)?;
    let c = parsed.checkpoint;
    Ok((c.origin().to_owned(), c.size(), c.hash().0))
}

/// The checkpoint `note` with the signature lines of `other` (the same checkpoint) added:
/// how a server collects several witnesses' cosignatures. A line of `other` by the same key
/// (name and key id) as a line of `note` replaces it, so a witness's repeated cosignatures
/// do not pile up. Signatures are not checked here.
pub fn merge_cosignatures(note: &str, other: &str) -> Result<String> {
    let a = parse(note)?;
    let b = parse(other)?;
    if a.note.text() != b.note.text() {
        return Err(Error::refused(
            "cosignature merge",
            "the notes are different checkpoints",
        ));
    }
    let mut sigs = a.signatures;
    for sig in b.signatures {
        match sigs
            .iter_mut()
            .find(|s| s.name() == sig.name() && s.id() == sig.id())
        {
            Some(old) => *old = sig,
            None => sigs.push(sig),
        }
    }
    if sigs.len() > MAX_SIGNATURES {
        return Err(Error::refused(
            "cosignature merge",
            "more than 100 signature lines",
        ));
    }
    let merged = Note::new(a.note.text(), &sigs).map_err(|_| malformed())?;
    Ok(to_text(&merged))
}

#[cfg(test)]
mod tests;
