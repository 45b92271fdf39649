//! Safety numbers: what two users compare (read aloud or by QR code) to be sure no one —
//! the server included — slipped an extra device into their conversation (R6).
//!
//! A user's fingerprint covers the user id and their **master identity key** (normally one;
//! a set while an identity change is in flight). Devices are vouched for by the master key, so
//! linking or removing a device leaves the number unchanged; an identity reset changes it:
//!
//! ```text
//! keys   = SHA-512(uint32(n) || for each key, ascending: uint16(len) || key)
//! h_0    = SHA-512(uint16(version = 0) || keys || uint16(len) || user_id)
//! h_i    = SHA-512(h_{i-1} || keys)           for i = 1..5200
//! fingerprint = h_5200[0..30]
//! ```
//!
//! As in Signal, each 5-byte piece of the 30-byte fingerprint becomes a 5-digit group
//! (big-endian integer mod 100000): 30 digits per user. The safety number of a pair is both
//! users' digits, the smaller first, so both sides see the same 60 digits in 12 groups of 5.
//! The QR payload carries both fingerprints so a scan checks the pair in both directions.

use sha2::{Digest, Sha512};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::{IdentityKey, validate_user_id};
use crate::mls::GroupId;

/// Fingerprint format version.
pub const VERSION: u16 = 1;
const ITERATIONS: usize = 5200;
const FP_LEN: usize = 30;

/// One user's fingerprint over their user id and device keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFingerprint {
    user_id: String,
    bytes: [u8; FP_LEN],
}

impl UserFingerprint {
    /// Computes the fingerprint of `user_id` with their identity keys (order and duplicates
    /// do not matter). At least one key is required.
    pub fn new(user_id: &str, identity_keys: &[IdentityKey]) -> Result<Self> {
        validate_user_id(user_id)?;
        if identity_keys.is_empty() {
            return Err(Error::InvalidArgument(
                "a fingerprint needs at least one identity key",
            ));
        }
        let mut keys: Vec<&[u8]> = identity_keys.iter().map(IdentityKey::as_bytes).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut h = Sha512::new();
        h.update((keys.len() as u32).to_be_bytes());
        for k in &keys {
            let len = u16::try_from(k.len())
                .map_err(|_| Error::InvalidArgument("identity key too long"))?;
            h.update(len.to_be_bytes());
            h.update(k);
        }
        let keys_digest = h.finalize();

        let mut h = Sha512::new();
        h.update(VERSION.to_be_bytes());
        h.update(keys_digest);
        h.update((user_id.len() as u16).to_be_bytes());
        h.update(user_id.as_bytes());
        let mut digest = h.finalize();
        for _ in 0..ITERATIONS {
            let mut h = Sha512::new();
            h.update(digest);
            h.update(keys_digest);
            digest = h.finalize();
        }
        let mut bytes = [0u8; FP_LEN];
        bytes.copy_from_slice(&digest[..FP_LEN]);
        Ok(Self {
            user_id: user_id.to_owned(),
            bytes,
        })
    }

    /// The user.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The 30 fingerprint bytes.
    pub fn bytes(&self) -> &[u8; FP_LEN] {
        &self.bytes
    }

    /// 30 decimal digits.
    pub fn digits(&self) -> String {
        self.bytes
            .chunks_exact(5)
            .map(|c| {
                let v = c.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
                format!("{:05}", v % 100_000)
            })
            .collect()
    }
}

/// The safety number between a local and a remote user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyNumber {
    local: UserFingerprint,
    remote: UserFingerprint,
}

const QR_VERSION: u8 = 1;

impl SafetyNumber {
    /// The pair's safety number.
    pub fn new(local: UserFingerprint, remote: UserFingerprint) -> Self {
        Self { local, remote }
    }

    /// The local user's fingerprint.
    pub fn local(&self) -> &UserFingerprint {
        &self.local
    }

    /// The remote user's fingerprint.
    pub fn remote(&self) -> &UserFingerprint {
        &self.remote
    }

    /// 60 digits, identical on both sides.
    pub fn digits(&self) -> String {
        let (a, b) = (self.local.digits(), self.remote.digits());
        if a <= b { a + &b } else { b + &a }
    }

    /// The 12 groups of 5 digits.
    pub fn groups(&self) -> Vec<String> {
        let d = self.digits();
        d.as_bytes()
            .chunks(5)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    /// The groups joined by spaces, e.g. for display in three rows of four.
    pub fn display(&self) -> String {
        self.groups().join(" ")
    }

    /// Bytes to encode in a QR code: `version(1) || local fingerprint(30) || remote(30)`.
    pub fn qr_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 2 * FP_LEN);
        out.push(QR_VERSION);
        out.extend_from_slice(&self.local.bytes);
        out.extend_from_slice(&self.remote.bytes);
        out
    }

    /// Checks a QR payload scanned from the other user's screen (their local is our remote and
    /// vice versa). `Ok(false)` means the numbers differ: do not trust the conversation.
    pub fn verify_qr(&self, scanned: &[u8]) -> Result<bool> {
        if scanned.len() != 1 + 2 * FP_LEN || scanned[0] != QR_VERSION {
            return Err(Error::Malformed {
                what: "safety number QR payload",
            });
        }
        Ok(
            scanned[1..1 + FP_LEN] == self.remote.bytes
                && scanned[1 + FP_LEN..] == self.local.bytes,
        )
    }

    /// Whether two safety numbers (e.g. computed on both sides) match.
    pub fn matches(&self, other_side: &SafetyNumber) -> bool {
        self.digits() == other_side.digits()
    }
}

impl Client {
    /// The fingerprint of `user_id` over the identity keys that certified their devices in
    /// group `group_id`.
    pub fn user_fingerprint(&self, group_id: &GroupId, user_id: &str) -> Result<UserFingerprint> {
        let keys: Vec<IdentityKey> = self
            .members(group_id)?
            .into_iter()
            .filter(|m| m.user_id == user_id)
            .map(|m| m.identity_key)
            .collect();
        if keys.is_empty() {
            return Err(Error::UnknownMember);
        }
        UserFingerprint::new(user_id, &keys)
    }

    /// The safety number between this client's user and `other_user`, over the identity keys
    /// of both in group `group_id`.
    pub fn safety_number(&self, group_id: &GroupId, other_user: &str) -> Result<SafetyNumber> {
        Ok(SafetyNumber::new(
            self.user_fingerprint(group_id, &self.user_id)?,
            self.user_fingerprint(group_id, other_user)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> IdentityKey {
        IdentityKey::from_master(&ting_trust::MasterKey::from_secret(&[b; 32]).public())
    }

    #[test]
    fn both_sides_see_the_same_number() {
        let alice = UserFingerprint::new("alice", &[key(1), key(2)]).unwrap();
        let bob = UserFingerprint::new("bob", &[key(3)]).unwrap();
        let on_alice = SafetyNumber::new(alice.clone(), bob.clone());
        let on_bob = SafetyNumber::new(bob, alice);
        assert!(on_alice.matches(&on_bob));
        assert_eq!(on_alice.digits().len(), 60);
        assert_eq!(on_alice.groups().len(), 12);
        assert!(
            on_alice
                .groups()
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit()))
        );
        assert!(on_alice.verify_qr(&on_bob.qr_payload()).unwrap());
        assert!(!on_alice.verify_qr(&on_alice.qr_payload()).unwrap());
        assert!(on_alice.verify_qr(&[1, 2, 3]).is_err());
    }

    #[test]
    fn fingerprint_covers_the_key_set_not_its_order() {
        let a = UserFingerprint::new("alice", &[key(1), key(2)]).unwrap();
        let b = UserFingerprint::new("alice", &[key(2), key(1), key(2)]).unwrap();
        assert_eq!(a, b);
        let added = UserFingerprint::new("alice", &[key(1), key(2), key(9)]).unwrap();
        assert_ne!(a.digits(), added.digits());
        let removed = UserFingerprint::new("alice", &[key(1)]).unwrap();
        assert_ne!(a.digits(), removed.digits());
        let other_user = UserFingerprint::new("mallory", &[key(1), key(2)]).unwrap();
        assert_ne!(a.digits(), other_user.digits());
        assert!(UserFingerprint::new("alice", &[]).is_err());
    }
}
