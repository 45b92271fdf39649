//! [`MediaEpoch`]: one epoch's SFrame base key and membership.

use std::fmt;

use ::sframe::CipherSuite as SframeSuite;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::kid::index_bits_for;
use crate::codec::{Reader, Writer};
use crate::error::{Error, Result};

/// One MLS epoch's media key material: what a [`MediaKeys`](super::MediaKeys) needs to encrypt and decrypt
/// frames in that epoch. Contains the epoch's SFrame base key — keep it on the device.
#[derive(Clone)]
pub struct MediaEpoch {
    pub(super) epoch: u64,
    pub(super) suite: SframeSuite,
    pub(super) base_key: Zeroizing<Vec<u8>>,
    pub(super) own_leaf: Option<u32>,
    pub(super) members: Vec<u32>,
}

impl fmt::Debug for MediaEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaEpoch")
            .field("epoch", &self.epoch)
            .field("suite", &self.suite)
            .field("base_key", &"<redacted>")
            .field("own_leaf", &self.own_leaf)
            .field("members", &self.members.len())
            .finish()
    }
}

const MEDIA_EPOCH_VERSION: u8 = 1;

impl MediaEpoch {
    /// Key material for `epoch`: the RFC 9605 §5.2 base key, this device's leaf (if it sends)
    /// and the leaf indices of the epoch's members.
    pub fn new(
        epoch: u64,
        suite: SframeSuite,
        base_key: Vec<u8>,
        own_leaf: Option<u32>,
        mut members: Vec<u32>,
    ) -> Result<Self> {
        let base_key = Zeroizing::new(base_key);
        if base_key.is_empty() || base_key.len() > 64 {
            return Err(Error::InvalidArgument("base key must be 1..=64 bytes"));
        }
        members.sort_unstable();
        members.dedup();
        if members.is_empty() || own_leaf.is_some_and(|own| members.binary_search(&own).is_err()) {
            return Err(Error::InvalidArgument(
                "own leaf must be one of the members",
            ));
        }
        Ok(Self {
            epoch,
            suite,
            base_key,
            own_leaf,
            members,
        })
    }

    /// The MLS epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// This device's leaf index, if it is a member that sends.
    pub fn own_leaf(&self) -> Option<u32> {
        self.own_leaf
    }

    /// Leaf indices of the epoch's members, ascending.
    pub fn members(&self) -> &[u32] {
        &self.members
    }

    /// `S` for this epoch (see [`kid`](super::kid)).
    pub fn index_bits(&self) -> u8 {
        index_bits_for(self.members.last().copied().unwrap_or(0))
    }

    /// A short public fingerprint of the base key (first 8 bytes of
    /// `SHA-256("ting sframe key fingerprint" || base_key)`), to check two implementations
    /// derived the same key without revealing it.
    pub fn key_fingerprint(&self) -> [u8; 8] {
        let mut h = Sha256::new();
        h.update(b"ting sframe key fingerprint");
        h.update(self.base_key.as_slice());
        let digest = h.finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        out
    }

    /// Serializes (with the secret base key) for handing to another context on the same device,
    /// e.g. via `postMessage` to a worker.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.into_bytes()
    }

    /// Parses [`Self::to_bytes`] output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "media epoch");
        let epoch = Self::read(&mut r)?;
        r.finish()?;
        Ok(epoch)
    }

    pub(super) fn write(&self, w: &mut Writer) {
        w.u8(MEDIA_EPOCH_VERSION);
        w.u64(self.epoch);
        w.u16(self.suite as u16);
        w.bytes(&self.base_key);
        match self.own_leaf {
            None => w.u8(0),
            Some(l) => {
                w.u8(1);
                w.u32(l);
            }
        }
        w.varint(self.members.len() as u64);
        for m in &self.members {
            w.u32(*m);
        }
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self> {
        if r.u8()? != MEDIA_EPOCH_VERSION {
            return Err(r.malformed());
        }
        let epoch = r.u64()?;
        let suite = match r.u16()? {
            0x0004 => SframeSuite::AesGcm128Sha256,
            0x0005 => SframeSuite::AesGcm256Sha512,
            _ => return Err(r.malformed()),
        };
        let base_key = r.bytes()?.to_vec();
        let own_leaf = match r.u8()? {
            0 => None,
            1 => Some(r.u32()?),
            _ => return Err(r.malformed()),
        };
        let n = r.count(4)?;
        let members = (0..n).map(|_| r.u32()).collect::<Result<Vec<_>>>()?;
        Self::new(epoch, suite, base_key, own_leaf, members).map_err(|_| r.malformed())
    }
}
