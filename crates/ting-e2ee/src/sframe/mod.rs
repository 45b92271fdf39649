//! Media keys: SFrame (RFC 9605) keyed from MLS (RFC 9605 §5.2).
//!
//! For every MLS epoch, `base_key = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)`. Each
//! sender encrypts under its own key id ([`kid`]: context, sender leaf index, low epoch bits),
//! and the SFrame key and salt are derived from the base key and that key id (RFC 9605 §4.4.2),
//! so every sender — and every stream of a sender — has its own key. A new epoch (anyone joins,
//! leaves or updates) brings new keys; the previous epoch's keys stay usable for decryption for
//! a grace window ([`SframeConfig::grace_ms`]) so frames in flight during a rekey still play.
//! Frames whose key id names a leaf that is not a member in that epoch (a removed device) are
//! refused before any decryption is attempted.
//!
//! [`MediaKeys`] is a self-contained value: a [`crate::Client`] keeps one per group and updates
//! it on every epoch change; the browser hands [`MediaEpoch`]s to a `MediaKeys` living in its
//! encoded-transform worker.
//!
//! What the SFU sees per frame: the SFrame header (key id — so the sender's leaf index and the
//! low epoch bits — and the counter), any metadata the caller left in the clear, and the
//! ciphertext length.

mod epoch;
pub mod kid;
mod replay;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The SFrame cipher suites (RFC 9605 §4.5), re-exported from the `sframe` crate.
pub use ::sframe::CipherSuite as SframeCipherSuite;
use ::sframe::frame::{EncryptedFrameView, MediaFrameView, SingleUseCounter};
use ::sframe::header::SframeHeader;
use ::sframe::key::{DecryptionKey, EncryptionKey};
use serde::{Deserialize, Serialize};

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result};
pub use epoch::MediaEpoch;
use kid::{MediaKeyId, STREAM_BITS};
use replay::ReplayWindow;

/// Decryption keys cached per epoch before the cache is reset.
const MAX_CACHED_RECEIVER_KEYS: usize = 4096;

/// Key id layout and grace window. All members of a group must use the same `epoch_bits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SframeConfig {
    /// `E` of RFC 9605 §5.2: low bits of the epoch carried in the key id (1..=16, default 4).
    pub epoch_bits: u8,
    /// Random bits identifying a sender session in the key id context (0..=32, default 16).
    /// More bits make a key/counter reuse after a client restart within one epoch less likely
    /// (probability about `2^-session_bits` per restart) at the cost of key id length.
    pub session_bits: u8,
    /// How long the previous epochs' keys still decrypt after a new epoch starts, in ms
    /// (default 10 s).
    pub grace_ms: u64,
}

impl Default for SframeConfig {
    fn default() -> Self {
        Self {
            epoch_bits: 4,
            session_bits: 16,
            grace_ms: 10_000,
        }
    }
}

impl SframeConfig {
    fn validate(&self) -> Result<()> {
        if !(1..=16).contains(&self.epoch_bits) || self.session_bits > 32 {
            return Err(Error::InvalidArgument(
                "sframe epoch_bits must be 1..=16 and session_bits 0..=32",
            ));
        }
        Ok(())
    }
}

/// A decrypted media frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedFrame {
    /// The sender's leaf index in the frame's epoch.
    pub sender_leaf: u32,
    /// The MLS epoch whose keys decrypted it.
    pub epoch: u64,
    /// The sender's key id context (`session << 4 | stream`).
    pub context: u64,
    /// The frame payload.
    pub payload: Vec<u8>,
}

struct SenderState {
    key: EncryptionKey,
    next_ctr: u64,
}

struct ReceiverState {
    key: DecryptionKey,
    window: ReplayWindow,
}

struct EpochKeys {
    epoch: MediaEpoch,
    senders: BTreeMap<u8, SenderState>,
    receivers: HashMap<u64, ReceiverState>,
}

impl EpochKeys {
    fn new(epoch: MediaEpoch) -> Self {
        Self {
            epoch,
            senders: BTreeMap::new(),
            receivers: HashMap::new(),
        }
    }
}

/// SFrame encryption and decryption for one group: the current epoch's keys plus the previous
/// epochs' keys within the grace window. Sans-IO: time is passed in (`now_ms`).
pub struct MediaKeys {
    config: SframeConfig,
    session: u64,
    current: Option<EpochKeys>,
    /// Older epochs and the time (ms) their keys expire.
    previous: Vec<(EpochKeys, u64)>,
}

impl fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaKeys")
            .field("config", &self.config)
            .field(
                "current_epoch",
                &self.current.as_ref().map(|c| c.epoch.epoch),
            )
            .field(
                "previous_epochs",
                &self
                    .previous
                    .iter()
                    .map(|(k, t)| (k.epoch.epoch, *t))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl MediaKeys {
    /// Empty media keys. `session_seed` must be random (e.g. from `crypto.getRandomValues`);
    /// its low [`SframeConfig::session_bits`] bits become this sender session's key id context.
    pub fn new(config: SframeConfig, session_seed: u64) -> Result<Self> {
        config.validate()?;
        let session = if config.session_bits == 0 {
            0
        } else {
            session_seed & ((1u64 << config.session_bits) - 1)
        };
        Ok(Self {
            config,
            session,
            current: None,
            previous: Vec::new(),
        })
    }

    /// The same keys with a new sender session (fresh key id context), e.g. after a restart.
    pub(crate) fn with_new_session(mut self, session_seed: u64) -> Self {
        self.session = if self.config.session_bits == 0 {
            0
        } else {
            session_seed & ((1u64 << self.config.session_bits) - 1)
        };
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SframeConfig {
        &self.config
    }

    /// The current epoch, if any.
    pub fn current_epoch(&self) -> Option<u64> {
        self.current.as_ref().map(|c| c.epoch.epoch)
    }

    /// Epochs whose keys still decrypt, newest first.
    pub fn usable_epochs(&self, now_ms: u64) -> Vec<u64> {
        self.current
            .iter()
            .map(|c| c.epoch.epoch)
            .chain(
                self.previous
                    .iter()
                    .filter(|(_, exp)| *exp > now_ms)
                    .map(|(k, _)| k.epoch.epoch),
            )
            .collect()
    }

    /// Fingerprint of the current epoch's base key (see [`MediaEpoch::key_fingerprint`]).
    pub fn key_fingerprint(&self) -> Option<[u8; 8]> {
        self.current.as_ref().map(|c| c.epoch.key_fingerprint())
    }

    /// Installs a new epoch. The current one (if older) is kept for decryption until
    /// `now_ms + grace_ms`; epochs past their grace, and any whose low epoch bits collide with
    /// the new one (RFC 9605 §5.2), are dropped. Setting the current epoch again is a no-op;
    /// going back is refused.
    pub fn set_epoch(&mut self, now_ms: u64, epoch: MediaEpoch) -> Result<()> {
        if let Some(cur) = &self.current {
            if epoch.epoch < cur.epoch.epoch {
                return Err(Error::InvalidArgument("media epoch went backwards"));
            }
            if epoch.epoch == cur.epoch.epoch {
                if epoch.base_key == cur.epoch.base_key {
                    return Ok(());
                }
                return Err(Error::InvalidArgument(
                    "a different key for the current media epoch",
                ));
            }
        }
        let expires = now_ms.saturating_add(self.config.grace_ms);
        if let Some(old) = self.current.take() {
            self.previous.push((old, expires));
        }
        let mask = (1u64 << self.config.epoch_bits) - 1;
        let low = epoch.epoch & mask;
        self.previous
            .retain(|(k, exp)| *exp > now_ms && k.epoch.epoch & mask != low);
        self.current = Some(EpochKeys::new(epoch));
        Ok(())
    }

    /// Drops previous epochs whose grace window ended.
    pub fn expire(&mut self, now_ms: u64) {
        self.previous.retain(|(_, exp)| *exp > now_ms);
    }

    /// Encrypts one frame of outbound `stream` (0..16; one per track) in the current epoch.
    /// `metadata` (e.g. codec header bytes the packetizer must read) is authenticated but not
    /// encrypted and not included in the output; send it alongside. Returns the SFrame
    /// ciphertext (header, encrypted payload, tag).
    pub fn encrypt_frame(
        &mut self,
        stream: u8,
        metadata: &[u8],
        payload: &[u8],
    ) -> Result<Vec<u8>> {
        if stream >= 1 << STREAM_BITS {
            return Err(Error::InvalidArgument("stream must be below 16"));
        }
        let epoch_bits = self.config.epoch_bits;
        let context = (self.session << STREAM_BITS) | u64::from(stream);
        let cur = self.current.as_mut().ok_or(Error::NotAMember)?;
        let own = cur.epoch.own_leaf.ok_or(Error::NotAMember)?;
        let sender = match cur.senders.entry(stream) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let kid = MediaKeyId::new(context, own, cur.epoch.epoch, epoch_bits)
                    .encode(epoch_bits, cur.epoch.index_bits())?;
                let key =
                    EncryptionKey::derive_from(cur.epoch.suite, kid, cur.epoch.base_key.as_slice())
                        .map_err(|e| Error::internal("sframe key derivation", e))?;
                v.insert(SenderState { key, next_ctr: 0 })
            }
        };
        let ctr = sender.next_ctr;
        sender.next_ctr = ctr
            .checked_add(1)
            .ok_or(Error::InvalidArgument("sframe counter exhausted"))?;
        let frame =
            MediaFrameView::try_with_meta_data(&mut SingleUseCounter::new(ctr), payload, metadata)
                .map_err(|e| Error::internal("sframe frame", e))?;
        // Layout after encryption: metadata || header || ciphertext || tag; the metadata is
        // dropped in place (free when there is none) instead of copying the frame out.
        let mut buf = Vec::with_capacity(metadata.len() + payload.len() + 32);
        frame
            .encrypt_into(&sender.key, &mut buf)
            .map_err(|e| Error::internal("sframe encrypt", e))?;
        buf.drain(..metadata.len());
        Ok(buf)
    }

    /// Decrypts a frame from any member, current epoch or previous ones within their grace
    /// window. `metadata` must be the bytes the sender passed as metadata.
    ///
    /// Errors: [`Error::Malformed`] (no valid SFrame header), [`Error::UnknownEpoch`] (no keys
    /// for the key id's epoch: too old, past grace, or not yet known), [`Error::UnknownSender`]
    /// (the key id's leaf is not a member in that epoch, e.g. removed),
    /// [`Error::Replayed`], [`Error::Tampered`].
    pub fn decrypt_frame(
        &mut self,
        now_ms: u64,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<DecryptedFrame> {
        const WHAT: &str = "SFrame frame";
        let header =
            SframeHeader::deserialize(frame).map_err(|_| Error::Malformed { what: WHAT })?;
        let (kid, ctr) = (header.key_id(), header.counter());
        self.expire(now_ms);
        let epoch_bits = self.config.epoch_bits;
        let low = MediaKeyId::epoch_low_of(kid, epoch_bits);
        let mask = (1u64 << epoch_bits) - 1;
        let keys = match self.current.as_mut() {
            Some(c) if c.epoch.epoch & mask == low => c,
            _ => self
                .previous
                .iter_mut()
                .map(|(k, _)| k)
                .find(|k| k.epoch.epoch & mask == low)
                .ok_or(Error::UnknownEpoch)?,
        };
        let id = MediaKeyId::decode(kid, epoch_bits, keys.epoch.index_bits())?;
        if keys.epoch.members.binary_search(&id.sender_index).is_err() {
            return Err(Error::UnknownSender);
        }
        let view = EncryptedFrameView::try_with_meta_data(&frame, &metadata)
            .map_err(|_| Error::Malformed { what: WHAT })?;
        let cached = keys.receivers.get(&kid);
        if cached.is_some_and(|state| !state.window.check(ctr)) {
            return Err(Error::Replayed { what: WHAT });
        }
        // Keys for a new key id are derived here but cached only once a frame authenticates,
        // so forged key ids cannot fill the cache.
        let derived = match cached {
            Some(_) => None,
            None => Some(
                DecryptionKey::derive_from(keys.epoch.suite, kid, keys.epoch.base_key.as_slice())
                    .map_err(|e| Error::internal("sframe key derivation", e))?,
            ),
        };
        let key = match (&derived, cached) {
            (Some(key), _) => key,
            (None, Some(state)) => &state.key,
            (None, None) => return Err(Error::Internal("no sframe key".into())),
        };
        // Layout after decryption: metadata || payload; drop the metadata in place.
        let mut out = Vec::with_capacity(frame.len() + metadata.len());
        view.decrypt_into(key, &mut out)
            .map_err(|_| Error::Tampered { what: WHAT })?;
        out.drain(..metadata.len());
        let payload = out;
        if let Some(key) = derived {
            if keys.receivers.len() >= MAX_CACHED_RECEIVER_KEYS {
                keys.receivers.clear();
            }
            keys.receivers.insert(
                kid,
                ReceiverState {
                    key,
                    window: ReplayWindow::default(),
                },
            );
        }
        if let Some(state) = keys.receivers.get_mut(&kid) {
            state.window.accept(ctr);
        }
        Ok(DecryptedFrame {
            sender_leaf: id.sender_index,
            epoch: keys.epoch.epoch,
            context: id.context,
            payload,
        })
    }

    /// Serializes the epochs (not the per-frame counters: a restored client starts a new
    /// session) for the client state blob.
    pub(crate) fn write_state(&self, w: &mut Writer) {
        w.u8(self.config.epoch_bits);
        w.u8(self.config.session_bits);
        w.u64(self.config.grace_ms);
        match &self.current {
            None => w.u8(0),
            Some(c) => {
                w.u8(1);
                c.epoch.write(w);
            }
        }
        w.varint(self.previous.len() as u64);
        for (k, exp) in &self.previous {
            k.epoch.write(w);
            w.u64(*exp);
        }
    }

    pub(crate) fn read_state(r: &mut Reader<'_>, session_seed: u64) -> Result<Self> {
        let config = SframeConfig {
            epoch_bits: r.u8()?,
            session_bits: r.u8()?,
            grace_ms: r.u64()?,
        };
        let mut keys = Self::new(config, session_seed).map_err(|_| r.malformed())?;
        keys.current = match r.u8()? {
            0 => None,
            1 => Some(EpochKeys::new(MediaEpoch::read(r)?)),
            _ => return Err(r.malformed()),
        };
        let n = r.count(16)?;
        for _ in 0..n {
            let epoch = MediaEpoch::read(r)?;
            let exp = r.u64()?;
            keys.previous.push((EpochKeys::new(epoch), exp));
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests;
