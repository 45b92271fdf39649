//! The device's local state on disk: the `ting-e2ee` state (keys, groups) plus what the app
//! needs (server, session, per-room progress and decrypted history), sealed with AES-256-GCM
//! under a 32-byte storage key kept beside it in `device.key` (mode 0600). Writes are atomic
//! (temp file, fsync, rename), so a crash leaves the previous state intact. Decrypted history
//! lives only here, on the device.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};
use ting_e2ee::FileRef;
use ting_proto::{DeviceId, RoomId, UserId};

use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"TINGCLI1";
const STATE_FILE: &str = "state.ting";
const KEY_FILE: &str = "device.key";

/// One line of a room's decrypted history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Position in the room.
    pub seq: u64,
    /// Sender's username (as proven by the MLS credential).
    pub sender: String,
    /// Sending device.
    pub sender_device: DeviceId,
    /// Server timestamp (Unix seconds).
    pub at: i64,
    /// What happened.
    pub item: HistoryItem,
}

/// What a history line shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HistoryItem {
    /// A text message (possibly edited later).
    Text {
        /// Message id (hex).
        id: String,
        /// Current text.
        body: String,
        /// Reply target (hex id).
        reply_to: Option<String>,
        /// Whether it was edited.
        edited: bool,
        /// Reactions: emoji → usernames.
        reactions: BTreeMap<String, BTreeSet<String>>,
    },
    /// A shared file.
    File {
        /// Message id (hex).
        id: String,
        /// How to fetch and decrypt it.
        file: FileRef,
    },
    /// The room was renamed.
    RoomName(String),
    /// The topic changed.
    RoomTopic(String),
    /// Members joined or left.
    Membership {
        /// Added usernames.
        added: Vec<String>,
        /// Removed usernames.
        removed: Vec<String>,
    },
    /// A message that could not be decrypted or verified; shown as such, never hidden.
    Undecryptable {
        /// Why.
        reason: String,
    },
}

/// Per-room progress and history.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RoomLocal {
    /// Everything up to this seq has been processed.
    pub processed_seq: u64,
    /// Seqs of messages this device sent and applied itself (skipped when echoed).
    pub own_seqs: BTreeSet<u64>,
    /// Decrypted room name.
    pub name: Option<String>,
    /// Decrypted topic.
    pub topic: Option<String>,
    /// Decrypted history.
    pub history: Vec<HistoryEntry>,
    /// Whether this device was removed from the room.
    pub removed: bool,
}

/// The app part of the device state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AppState {
    /// Server base URL.
    pub server: String,
    /// Login name (also the MLS credential identity).
    pub username: String,
    /// Server-side ids, once logged in.
    pub user_id: Option<UserId>,
    /// This device's server id.
    pub device_id: Option<DeviceId>,
    /// Session token.
    pub token: Option<String>,
    /// Rooms.
    pub rooms: BTreeMap<RoomId, RoomLocal>,
    /// What this device trusts of the key log, and the newest checkpoint it accepted.
    #[serde(default)]
    pub key_log: KeyLogTrust,
}

/// Oldest witness cosignature a checkpoint may carry when witnesses are required.
pub const DEFAULT_CHECKPOINT_MAX_AGE_SECS: u64 = 24 * 3600;

/// The key log as this device trusts it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KeyLogTrust {
    /// The log's origin (first line of its checkpoints).
    pub origin: String,
    /// The log's signed-note verifier key: given at login, or pinned on first contact.
    pub log_key: Option<String>,
    /// Verifier keys of the witnesses this device trusts (given by the organisation, never
    /// learned from the server).
    pub witness_keys: Vec<String>,
    /// How many of them must have cosigned a checkpoint.
    pub required_witnesses: usize,
    /// Oldest acceptable cosignature, in seconds.
    pub max_age_secs: u64,
    /// The newest checkpoint accepted.
    pub latest: Option<SeenCheckpointLocal>,
}

/// A checkpoint this device accepted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeenCheckpointLocal {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: [u8; 32],
    /// The note.
    pub note: String,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    app: AppState,
    e2ee: Vec<u8>,
}

/// Where a device keeps its state.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
    key: [u8; 32],
}

impl StateDir {
    /// Opens `dir`, creating it and a fresh storage key if needed.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Storage(format!("creating {}: {e}", dir.display())))?;
        let key_path = dir.join(KEY_FILE);
        let key = match std::fs::read(&key_path) {
            Ok(bytes) => bytes.try_into().map_err(|_| {
                Error::Storage(format!("{} is not a 32-byte key", key_path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                write_private(&key_path, &key)?;
                key
            }
            Err(e) => {
                return Err(Error::Storage(format!(
                    "reading {}: {e}",
                    key_path.display()
                )));
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            key,
        })
    }

    /// The key that seals the e2ee state.
    pub fn storage_key(&self) -> ting_e2ee::StorageKey {
        ting_e2ee::StorageKey::new(self.key)
    }

    /// Whether a saved state exists.
    pub fn exists(&self) -> bool {
        self.dir.join(STATE_FILE).exists()
    }

    /// Loads the saved state. A wrong key or a damaged file is an error, never an empty state.
    pub fn load(&self) -> Result<(AppState, ting_e2ee::Client)> {
        let path = self.dir.join(STATE_FILE);
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::Storage(format!("reading {}: {e}", path.display())))?;
        let damaged = || {
            Error::Storage(format!(
                "{} is damaged or was sealed with another key",
                path.display()
            ))
        };
        if bytes.len() < MAGIC.len() + 12 || &bytes[..8] != MAGIC {
            return Err(damaged());
        }
        let cipher = Aes256Gcm::new_from_slice(&self.key).map_err(|_| damaged())?;
        let plain = cipher
            .decrypt(Nonce::from_slice(&bytes[8..20]), &bytes[20..])
            .map_err(|_| damaged())?;
        let sealed: Sealed = serde_json::from_slice(&plain).map_err(|_| damaged())?;
        let client = ting_e2ee::Client::load(&sealed.e2ee, &self.storage_key())?;
        Ok((sealed.app, client))
    }

    /// Saves atomically.
    pub fn save(&self, app: &AppState, client: &ting_e2ee::Client) -> Result<()> {
        let sealed = Sealed {
            app: app.clone(),
            e2ee: client.save(&self.storage_key())?,
        };
        let plain = serde_json::to_vec(&sealed).map_err(|e| Error::Storage(e.to_string()))?;
        let nonce: [u8; 12] = rand::random();
        let cipher =
            Aes256Gcm::new_from_slice(&self.key).map_err(|e| Error::Storage(e.to_string()))?;
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .map_err(|e| Error::Storage(e.to_string()))?;
        let mut out = Vec::with_capacity(20 + ct.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        let tmp = self.dir.join(format!("{STATE_FILE}.tmp"));
        write_private(&tmp, &out)?;
        std::fs::rename(&tmp, self.dir.join(STATE_FILE))
            .map_err(|e| Error::Storage(format!("replacing state: {e}")))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| Error::Storage(format!("writing {}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::Storage(format!("writing {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::open(dir.path()).unwrap();
        let client = ting_e2ee::Client::new("alice", ting_e2ee::ClientConfig::default()).unwrap();
        let mut app = AppState {
            username: "alice".into(),
            ..Default::default()
        };
        app.rooms.insert(
            RoomId::random(),
            RoomLocal {
                processed_seq: 7,
                ..Default::default()
            },
        );
        sd.save(&app, &client).unwrap();
        let (back, c2) = StateDir::open(dir.path()).unwrap().load().unwrap();
        assert_eq!(back.username, "alice");
        assert_eq!(back.rooms.values().next().unwrap().processed_seq, 7);
        assert_eq!(c2.device_key(), client.device_key());
        let path = dir.path().join(STATE_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(sd.load(), Err(Error::Storage(_))));
        std::fs::write(dir.path().join(KEY_FILE), [0u8; 32]).unwrap();
        assert!(StateDir::open(dir.path()).unwrap().load().is_err());
    }
}
