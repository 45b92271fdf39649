//! The key log as this device checks it (ting-trust's `LogView`): `KeyLogView` remembers the
//! pinned log key and the newest checkpoint the device accepted, refuses checkpoints that roll
//! the log back or fork it, and `KeyLogView.userKeys` replays a user's records only after each
//! one's inclusion proof checked out against an accepted checkpoint.
//!
//! ```js
//! const view = KeyLogView.fromState(saved) ?? new KeyLogView(origin, verifierKey, [], 0);
//! const need = view.needs(resp.checkpoint);          // { old, new } or null
//! const proof = need ? await consistency(need.old, need.new) : [];
//! const cp = view.accept(resp.checkpoint, proof, Date.now() / 1000);   // throws key_log
//! const keys = KeyLogView.userKeys(cp, "alice", resp.records, resp.proofs);
//! save(view.toState());
//! ```

use serde::{Deserialize, Serialize};
use ting_e2ee::hex;
use ting_e2ee::ting_trust::directory::ed25519_only;
use ting_e2ee::ting_trust::{
    CheckpointPolicy, Hash, LogView, NeedProof, SeenCheckpoint, VerifiedCheckpoint,
};
use ting_e2ee::{IdentityKey, LogPosition};
use wasm_bindgen::prelude::*;

use crate::client::TingClient;
use crate::error::{WebError, WebResult};
use crate::js::{JsResult, from_js, to_js};

/// Checkpoints older than this (seconds) are refused when witnesses are required.
const MAX_AGE_SECS: u64 = 24 * 3600;

fn key_log_err(e: ting_e2ee::ting_trust::Error) -> JsValue {
    WebError::key_log(format!("key log: {e}")).into()
}

fn hash(bytes: &[u8]) -> WebResult<Hash> {
    bytes
        .try_into()
        .map_err(|_| WebError::key_log("a key log hash is not 32 bytes"))
}

fn hashes(list: &[serde_bytes::ByteBuf]) -> WebResult<Vec<Hash>> {
    list.iter().map(|h| hash(h)).collect()
}

fn root_hex(root: &str) -> WebResult<Hash> {
    hex::decode(&root.to_ascii_lowercase())
        .ok_or_else(|| WebError::invalid_argument("a tree root is hex"))
        .and_then(|b| hash(&b))
}

/// The newest checkpoint a device accepted (`KeyLogState.latest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestView {
    /// Tree size.
    pub size: u64,
    /// Tree root, hex.
    pub root: String,
    /// The signed note.
    pub note: String,
}

/// What a device keeps of the key log (a plain object to store with the rest of its state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyLogState {
    /// The log's origin (first line of its checkpoints).
    pub origin: String,
    /// The log's pinned signed-note verifier key.
    pub log_key: String,
    /// Trusted witnesses' verifier keys.
    #[serde(default)]
    pub witness_keys: Vec<String>,
    /// How many of them must have cosigned.
    #[serde(default)]
    pub required_witnesses: usize,
    /// The newest accepted checkpoint.
    #[serde(default)]
    pub latest: Option<LatestView>,
}

/// A key log position (tree size and root, hex) as carried in messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionView {
    /// Tree size.
    pub size: u64,
    /// Tree root, hex.
    pub root: String,
}

impl From<&LogPosition> for PositionView {
    fn from(p: &LogPosition) -> Self {
        Self {
            size: p.size,
            root: hex::encode(&p.root),
        }
    }
}

/// One record of a user as `GET /api/v1/keylog/users/{name}` lists them (decoded).
#[derive(Debug, Deserialize)]
struct RecordIn {
    index: u64,
    #[serde(with = "serde_bytes")]
    record: Vec<u8>,
}

/// A device the log certifies.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceOut {
    device_id: String,
    device_key: String,
}

/// A revoked device and its revocation as a key log record.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RevokedOut {
    device_id: String,
    device_key: String,
    #[serde(with = "serde_bytes")]
    record: Vec<u8>,
}

/// A user's keys as the log proves them (`VerifiedUserKeys`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UserKeysOut {
    user_id: String,
    identity_key: Option<String>,
    resets: u32,
    devices: Vec<DeviceOut>,
    revoked: Vec<RevokedOut>,
}

fn id_text(id: &[u8]) -> String {
    String::from_utf8(id.to_vec()).unwrap_or_else(|_| hex::encode(id))
}

/// A checkpoint `KeyLogView.accept` verified: pass it to `KeyLogView.userKeys`.
#[wasm_bindgen]
pub struct KeyLogCheckpoint {
    inner: VerifiedCheckpoint,
}

#[wasm_bindgen]
impl KeyLogCheckpoint {
    /// Tree size.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        self.inner.size as f64
    }

    /// Tree root, hex.
    #[wasm_bindgen(getter)]
    pub fn root(&self) -> String {
        hex::encode(&self.inner.root)
    }
}

/// This device's view of the key log.
#[wasm_bindgen]
pub struct KeyLogView {
    inner: LogView,
}

#[wasm_bindgen]
impl KeyLogView {
    /// A view that pins `logKey` (the log's signed-note verifier key, from
    /// `GET /api/v1/keylog/key` on first contact) and has seen nothing yet.
    #[wasm_bindgen(constructor)]
    pub fn new(
        origin: &str,
        #[wasm_bindgen(js_name = logKey)] log_key: &str,
        #[wasm_bindgen(js_name = witnessKeys)] witness_keys: Vec<String>,
        required: usize,
    ) -> Self {
        Self {
            inner: LogView::new(CheckpointPolicy {
                origin: origin.to_owned(),
                log_key: log_key.to_owned(),
                witness_keys,
                required_witnesses: required,
                max_age_secs: MAX_AGE_SECS,
            }),
        }
    }

    /// Restores a view from `toState()`.
    #[wasm_bindgen(js_name = fromState)]
    pub fn from_state(
        #[wasm_bindgen(unchecked_param_type = "KeyLogState")] state: JsValue,
    ) -> JsResult<KeyLogView> {
        let s: KeyLogState = from_js(state, "key log state")?;
        let mut view = Self::new(&s.origin, &s.log_key, s.witness_keys, s.required_witnesses);
        if let Some(l) = s.latest {
            view.inner.latest = Some(SeenCheckpoint {
                size: l.size,
                root: root_hex(&l.root)?,
                note: l.note,
            });
        }
        Ok(view)
    }

    /// What to save (a plain object).
    #[wasm_bindgen(js_name = toState, unchecked_return_type = "KeyLogState")]
    pub fn to_state(&self) -> JsResult<JsValue> {
        to_js(&self.state())
    }

    /// The newest accepted checkpoint (`{ size, root, note }`), or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "KeyLogLatest | null")]
    pub fn latest(&self) -> JsResult<JsValue> {
        to_js(&self.state().latest)
    }

    /// What `note` needs before `accept`: `{ old, new }` (fetch a consistency proof between
    /// those sizes) or `null`. Throws `key_log` for a note that is no checkpoint.
    #[wasm_bindgen(unchecked_return_type = "{ old: number; new: number } | null")]
    pub fn needs(&self, note: &str) -> JsResult<JsValue> {
        match self.inner.needs(note).map_err(key_log_err)? {
            NeedProof::None => Ok(JsValue::NULL),
            NeedProof::Consistency { old, new } => {
                #[derive(Serialize)]
                struct Need {
                    old: u64,
                    new: u64,
                }
                to_js(&Need { old, new })
            }
        }
    }

    /// Verifies `note` (the log's signature, witnesses) and that it extends the checkpoint
    /// this view accepted before (`consistency`: the proof `needs` asked for, its hashes), and
    /// remembers it if newer. Throws `key_log` on a rollback, a fork or a bad signature.
    pub fn accept(
        &mut self,
        note: &str,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] consistency: JsValue,
        #[wasm_bindgen(js_name = nowUnix)] now_unix: f64,
    ) -> JsResult<KeyLogCheckpoint> {
        let proof: Vec<serde_bytes::ByteBuf> = from_js(consistency, "consistency proof")?;
        let proof = hashes(&proof)?;
        let now = if now_unix.is_finite() && now_unix > 0.0 {
            now_unix as u64
        } else {
            0
        };
        let inner = self.inner.accept(note, &proof, now).map_err(key_log_err)?;
        Ok(KeyLogCheckpoint { inner })
    }

    /// A user's keys as the log proves them: each record (`{ index, record }`, in log order)
    /// must be included in `checkpoint` (its proof in `proofs`, same order), then the records
    /// are replayed through the log's rules. Returns `VerifiedUserKeys`; throws `key_log`.
    #[wasm_bindgen(js_name = userKeys, unchecked_return_type = "VerifiedUserKeys")]
    pub fn user_keys(
        checkpoint: &KeyLogCheckpoint,
        user: &str,
        #[wasm_bindgen(unchecked_param_type = "{ index: number; record: Uint8Array }[]")]
        records: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[][]")] proofs: JsValue,
    ) -> JsResult<JsValue> {
        let records: Vec<RecordIn> = from_js(records, "key log records")?;
        let proofs: Vec<Vec<serde_bytes::ByteBuf>> = from_js(proofs, "inclusion proofs")?;
        let proofs = proofs
            .iter()
            .map(|p| hashes(p))
            .collect::<WebResult<Vec<_>>>()?;
        let records: Vec<(u64, Vec<u8>)> =
            records.into_iter().map(|r| (r.index, r.record)).collect();
        let keys = LogView::user_keys(&checkpoint.inner, user, &records, &proofs, ed25519_only)
            .map_err(key_log_err)?;
        let out = UserKeysOut {
            user_id: keys.user_id.clone(),
            identity_key: keys
                .master_key
                .as_ref()
                .map(|k| IdentityKey::from_master(k).to_hex()),
            resets: keys.resets,
            devices: keys
                .devices
                .iter()
                .map(|(id, c)| DeviceOut {
                    device_id: id_text(id),
                    device_key: hex::encode(&c.body.device_key),
                })
                .collect(),
            revoked: keys
                .revoked
                .iter()
                .map(|(id, r)| RevokedOut {
                    device_id: id_text(id),
                    device_key: hex::encode(&r.device_key),
                    record: ting_e2ee::ting_trust::Entry::Revocation(r.clone()).encode(),
                })
                .collect(),
        };
        to_js(&out)
    }

    /// Whether the tree of `newSize` records with root `newRoot` (hex) extends the one of
    /// `oldSize` with `oldRoot`, by the consistency proof `proof` (the server's, its hashes).
    /// Equal sizes compare the roots.
    #[wasm_bindgen(js_name = verifyConsistency)]
    pub fn verify_consistency(
        #[wasm_bindgen(js_name = oldSize)] old_size: f64,
        #[wasm_bindgen(js_name = oldRoot)] old_root: &str,
        #[wasm_bindgen(js_name = newSize)] new_size: f64,
        #[wasm_bindgen(js_name = newRoot)] new_root: &str,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] proof: JsValue,
    ) -> JsResult<bool> {
        let proof: Vec<serde_bytes::ByteBuf> = from_js(proof, "consistency proof")?;
        let proof = hashes(&proof)?;
        let (old_root, new_root) = (root_hex(old_root)?, root_hex(new_root)?);
        let (old, new) = (size(old_size)?, size(new_size)?);
        if old == new {
            return Ok(old_root == new_root);
        }
        Ok(
            ting_e2ee::ting_trust::verify_consistency(old, &old_root, new, &new_root, &proof)
                .is_ok(),
        )
    }
}

fn size(value: f64) -> WebResult<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0
    {
        Ok(value as u64)
    } else {
        Err(WebError::invalid_argument(
            "a tree size is a non-negative integer",
        ))
    }
}

impl KeyLogView {
    fn state(&self) -> KeyLogState {
        let p = &self.inner.policy;
        KeyLogState {
            origin: p.origin.clone(),
            log_key: p.log_key.clone(),
            witness_keys: p.witness_keys.clone(),
            required_witnesses: p.required_witnesses,
            latest: self.inner.latest.as_ref().map(|l| LatestView {
                size: l.size,
                root: hex::encode(&l.root),
                note: l.note.clone(),
            }),
        }
    }
}

#[wasm_bindgen]
impl TingClient {
    /// The key log position (`{ size, root }`, root hex) this device carries in the
    /// authenticated data of every message it sends, or `null` to carry none.
    #[wasm_bindgen(js_name = setLogPosition)]
    pub fn set_log_position(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "LogPosition | null")] position: JsValue,
    ) -> JsResult<()> {
        let position = if position.is_null() || position.is_undefined() {
            None
        } else {
            let p: PositionView = from_js(position, "log position")?;
            Some(LogPosition {
                size: p.size,
                root: root_hex(&p.root)?,
            })
        };
        self.inner.set_log_position(position);
        Ok(())
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** A key log position as members carry it in messages. `root` is hex. */
export interface LogPosition { size: number; root: string; }
export interface KeyLogLatest { size: number; root: string; note: string; }
/** What a device keeps of the key log. */
export interface KeyLogState {
  origin: string; logKey: string; witnessKeys: string[]; requiredWitnesses: number;
  latest: KeyLogLatest | null;
}
/** A user's keys as the key log proves them. Keys are hex. */
export interface VerifiedUserKeys {
  userId: string; identityKey: string | null; resets: number;
  devices: { deviceId: string; deviceKey: string }[];
  revoked: { deviceId: string; deviceKey: string; record: Uint8Array }[];
}
"#;
