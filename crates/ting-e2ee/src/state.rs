//! Persisting a [`Client`]: one versioned, encrypted blob the embedder stores (a file natively,
//! IndexedDB in the browser).
//!
//! ```text
//! blob      = magic "TINGE2EE" (8) || uint16 version = 1 || nonce (12) || ciphertext
//! ciphertext = AES-256-GCM(storage_key, nonce, aad = magic || version, plaintext)
//! plaintext = user_id, signature public key + scheme, config, groups (id + media key epochs
//!             with their grace deadlines), identity (master secret if held, own
//!             certificate), pins of other users' identity keys, revoked device keys, and
//!             every key/value of the openmls storage (key package secrets, group states,
//!             signature key pair)
//! ```
//!
//! The storage key is the caller's (32 bytes; e.g. from the platform keystore or a passphrase
//! KDF) and never stored. Opening fails loudly: [`Error::StateFormat`] for something that is
//! not a Ting blob, [`Error::StateVersion`] for an unknown version, [`Error::StateDecryption`]
//! for a wrong key or a modified/truncated blob. Never an empty client.
//!
//! Media counters are not saved: a restored client starts a new SFrame sender session, so it
//! cannot reuse a key id and counter of the previous run.

use std::collections::{BTreeMap, HashMap};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use openmls::prelude::MlsGroup;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::MemoryStorage;
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::types::SignatureScheme;
use zeroize::Zeroizing;

use crate::client::{Client, ClientConfig, GroupEntry};
use crate::codec::{Reader, Writer};
use crate::error::{Error, Result};
use crate::mls::GroupId;
use crate::policy::{CipherSuite, CipherSuitePolicy};
use crate::provider::Provider;
use crate::sframe::{MediaKeys, SframeConfig};

/// Blob magic.
pub const MAGIC: &[u8; 8] = b"TINGE2EE";
/// Format version this build writes and reads.
pub const STATE_VERSION: u16 = 2;
const HEADER_LEN: usize = 8 + 2 + 12;

/// A 32-byte AES-256-GCM key for the state blob, supplied by the embedder.
pub struct StorageKey(Zeroizing<[u8; 32]>);

impl StorageKey {
    /// Wraps key bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A key from a slice; must be 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::InvalidArgument("storage key must be 32 bytes"))?;
        Ok(Self::new(arr))
    }
}

impl std::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageKey(<redacted>)")
    }
}

fn aad() -> [u8; 10] {
    let mut a = [0u8; 10];
    a[..8].copy_from_slice(MAGIC);
    a[8..].copy_from_slice(&STATE_VERSION.to_be_bytes());
    a
}

impl Client {
    /// Serializes and encrypts the whole client under `key`. Save after every operation that
    /// changes state (sending or receiving a message advances ratchets too).
    pub fn save(&self, key: &StorageKey) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        w.str(&self.user_id);
        w.bytes(self.signer.public());
        w.u16(self.signer.signature_scheme() as u16);
        write_config(&mut w, &self.config);
        w.varint(self.groups.len() as u64);
        for (id, entry) in &self.groups {
            w.bytes(id.as_bytes());
            entry.media.write_state(&mut w);
        }
        crate::trust::state::write(&mut w, &self.identity, &self.trust);
        {
            let values = self
                .provider
                .storage()
                .values
                .read()
                .map_err(|_| Error::Internal("storage lock poisoned".into()))?;
            let sorted: BTreeMap<&Vec<u8>, &Vec<u8>> = values.iter().collect();
            w.varint(sorted.len() as u64);
            for (k, v) in sorted {
                w.bytes(k);
                w.bytes(v);
            }
        }
        let plaintext = Zeroizing::new(w.into_bytes());

        let nonce: [u8; 12] = self.provider.random()?;
        let cipher = Aes256Gcm::new_from_slice(key.0.as_slice())
            .map_err(|e| Error::internal("storage key", e))?;
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: &aad(),
                },
            )
            .map_err(|_| Error::Internal("state encryption failed".into()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&STATE_VERSION.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts and restores a client saved with [`Client::save`].
    pub fn load(blob: &[u8], key: &StorageKey) -> Result<Self> {
        if blob.len() < 10 || &blob[..8] != MAGIC {
            return Err(Error::StateFormat);
        }
        let version = u16::from_be_bytes([blob[8], blob[9]]);
        if version != STATE_VERSION {
            return Err(Error::StateVersion {
                found: version,
                supported: STATE_VERSION,
            });
        }
        if blob.len() < HEADER_LEN + 16 {
            return Err(Error::StateDecryption);
        }
        let cipher = Aes256Gcm::new_from_slice(key.0.as_slice())
            .map_err(|e| Error::internal("storage key", e))?;
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&blob[10..HEADER_LEN]),
                    Payload {
                        msg: &blob[HEADER_LEN..],
                        aad: &aad(),
                    },
                )
                .map_err(|_| Error::StateDecryption)?,
        );
        // Authentic from here on; a parse failure means an incompatible writer.
        decode_plaintext(&plaintext).map_err(|e| match e {
            Error::Malformed { .. } => Error::StateFormat,
            other => other,
        })
    }
}

fn decode_plaintext(plaintext: &[u8]) -> Result<Client> {
    let mut r = Reader::new(plaintext, "client state");
    let user_id = r.string()?;
    let public_key = r.bytes()?.to_vec();
    let scheme = SignatureScheme::try_from(r.u16()?).map_err(|_| r.malformed())?;
    let config = read_config(&mut r)?;

    let n_groups = r.count(2)?;
    let mut group_media = Vec::with_capacity(n_groups);
    for _ in 0..n_groups {
        let id = GroupId::new(r.bytes()?.to_vec()).map_err(|_| r.malformed())?;
        // The seed is replaced below, once the provider exists.
        let media = MediaKeys::read_state(&mut r, 0)?;
        group_media.push((id, media));
    }
    let (identity, trust) = crate::trust::state::read(&mut r)?;
    let n_values = r.count(2)?;
    let mut values = HashMap::with_capacity(n_values);
    for _ in 0..n_values {
        let k = r.bytes()?.to_vec();
        let v = r.bytes()?.to_vec();
        values.insert(k, v);
    }
    r.finish()?;

    let storage = MemoryStorage {
        values: std::sync::RwLock::new(values),
    };
    let provider = Provider::with_storage(storage);
    let signer = SignatureKeyPair::read(provider.storage(), &public_key, scheme)
        .ok_or(Error::StateFormat)?;
    let mut groups = BTreeMap::new();
    for (id, media) in group_media {
        let mls = MlsGroup::load(provider.storage(), &id.to_openmls())
            .map_err(|e| Error::internal("storage", e))?
            .ok_or(Error::StateFormat)?;
        let seed = u64::from_be_bytes(provider.random::<8>()?);
        let media = media.with_new_session(seed);
        groups.insert(id, GroupEntry { mls, media });
    }
    Ok(Client {
        provider,
        signer,
        user_id,
        config,
        groups,
        identity,
        trust,
        pending_link: None,
        log_position: None,
    })
}

fn write_config(w: &mut Writer, c: &ClientConfig) {
    w.varint(c.policy.allowed().len() as u64);
    for s in c.policy.allowed() {
        w.u16(s.to_u16());
    }
    w.u8(c.sframe.epoch_bits);
    w.u8(c.sframe.session_bits);
    w.u64(c.sframe.grace_ms);
    w.u16(c.max_past_epochs);
    w.u32(c.out_of_order_tolerance);
    w.u32(c.maximum_forward_distance);
}

fn read_config(r: &mut Reader<'_>) -> Result<ClientConfig> {
    let n = r.count(2)?;
    let suites = (0..n)
        .map(|_| Ok(CipherSuite::from_u16(r.u16()?)))
        .collect::<Result<Vec<_>>>()?;
    let policy = CipherSuitePolicy::new(suites).map_err(|_| r.malformed())?;
    Ok(ClientConfig {
        policy,
        sframe: SframeConfig {
            epoch_bits: r.u8()?,
            session_bits: r.u8()?,
            grace_ms: r.u64()?,
        },
        max_past_epochs: r.u16()?,
        out_of_order_tolerance: r.u32()?,
        maximum_forward_distance: r.u32()?,
    })
}

#[cfg(test)]
mod tests;
