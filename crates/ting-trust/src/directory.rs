//! Replaying the key log into every user's current keys, with the rules clients and witnesses
//! both enforce.
//!
//! * Every signature verifies ([`Entry::verify`]); device counter-signatures by keys other than
//!   Ed25519 go through a caller-supplied verifier.
//! * A `Genesis` identity statement only for a user without a master key: a second one is
//!   refused (a reset must say it is one).
//! * A `Reset` replaces the master key, counts one more reset and drops every device certified
//!   by the old key. It is legal, but always worth a warning.
//! * A device certificate must be signed by the user's current master key, and must not reuse
//!   a revoked device id or device key. A device id already certified may only be certified
//!   again with the same key (a renewal); a device key may belong to one device only.
//! * A revocation must be signed by the current master key and name a certified device (same
//!   id and key).
//!
//! [`UserKeys::apply`] checks everything before changing anything, so a refused entry leaves
//! the state as it was; [`Directory::apply_batch`] does the same for a run of records.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::keys::{MasterPublicKey, SignatureScheme};
use crate::statement::{DeviceCertificate, Entry, IdentityKind, Revocation};

/// Verifies a device counter-signature by a key this crate does not implement:
/// `(scheme, message, public key, signature) -> valid`.
pub type DeviceVerifier = fn(SignatureScheme, &[u8], &[u8], &[u8]) -> bool;

/// A [`DeviceVerifier`] that knows no scheme beyond Ed25519 (which is checked anyway).
pub fn ed25519_only(_: SignatureScheme, _: &[u8], _: &[u8], _: &[u8]) -> bool {
    false
}

/// What an applied entry changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The user's first master key.
    Genesis,
    /// The user's master key was replaced (their devices were dropped).
    Reset {
        /// The master key before, if there was one.
        previous: Option<MasterPublicKey>,
    },
    /// A device was certified (or its certificate renewed).
    DeviceCertified,
    /// A device was revoked.
    DeviceRevoked,
}

/// One user's keys as the log says they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserKeys {
    /// The user.
    pub user_id: String,
    /// The current master key (`None` until the first identity statement).
    pub master_key: Option<MasterPublicKey>,
    /// How many times the user started over with a new master key.
    pub resets: u32,
    /// The certified devices, by device id.
    pub devices: BTreeMap<Vec<u8>, DeviceCertificate>,
    /// The revoked devices, by device id (kept across resets: ids and keys are never reused).
    pub revoked: BTreeMap<Vec<u8>, Revocation>,
}

fn refused(reason: &str) -> Error {
    Error::refused("log entry", reason)
}

impl UserKeys {
    /// A user the log has said nothing about yet.
    pub fn new(user_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            master_key: None,
            resets: 0,
            devices: BTreeMap::new(),
            revoked: BTreeMap::new(),
        }
    }

    /// Whether `device_id` is certified with `device_key` by the current master key and not
    /// revoked.
    pub fn is_device_valid(&self, device_id: &[u8], device_key: &[u8]) -> bool {
        self.devices
            .get(device_id)
            .is_some_and(|c| c.body.device_key == device_key)
    }

    fn is_key_revoked(&self, device_key: &[u8]) -> bool {
        self.revoked.values().any(|r| r.device_key == device_key)
    }

    fn check_current_master(&self, key: MasterPublicKey) -> Result<()> {
        match self.master_key {
            Some(current) if current == key => Ok(()),
            Some(_) => Err(refused(
                "signed by a master key that is not the user's current one",
            )),
            None => Err(refused("the user has no master key yet")),
        }
    }

    /// Checks `entry` (about this user) against the rules and applies it; a refused entry
    /// changes nothing.
    pub fn apply(
        &mut self,
        entry: &Entry,
        verify_device: impl FnOnce(SignatureScheme, &[u8], &[u8], &[u8]) -> bool,
    ) -> Result<Applied> {
        if entry.user_id() != self.user_id {
            return Err(Error::InvalidArgument("entry about another user"));
        }
        entry.verify(verify_device)?;
        match entry {
            Entry::Identity(s) => match s.kind {
                IdentityKind::Genesis => {
                    if self.master_key.is_some() {
                        return Err(refused(
                            "a second genesis for the user (a new master key must be a reset)",
                        ));
                    }
                    self.master_key = Some(s.master_key);
                    Ok(Applied::Genesis)
                }
                IdentityKind::Reset => {
                    let previous = self.master_key;
                    if previous == Some(s.master_key) {
                        return Err(refused("a reset to the current master key"));
                    }
                    let resets = self
                        .resets
                        .checked_add(1)
                        .ok_or_else(|| refused("too many resets"))?;
                    self.master_key = Some(s.master_key);
                    self.resets = resets;
                    self.devices.clear();
                    Ok(Applied::Reset { previous })
                }
            },
            Entry::Device(c) => {
                let b = &c.body;
                self.check_current_master(b.master_key)?;
                if self.revoked.contains_key(&b.device_id) {
                    return Err(refused("certifies a revoked device id"));
                }
                if self.is_key_revoked(&b.device_key) {
                    return Err(refused("certifies a revoked device key"));
                }
                if let Some(existing) = self.devices.get(&b.device_id)
                    && existing.body.device_key != b.device_key
                {
                    return Err(refused(
                        "certifies a new key for a certified device id (revoke it first)",
                    ));
                }
                if self
                    .devices
                    .iter()
                    .any(|(id, d)| *id != b.device_id && d.body.device_key == b.device_key)
                {
                    return Err(refused("certifies a key another device already has"));
                }
                self.devices.insert(b.device_id.clone(), c.clone());
                Ok(Applied::DeviceCertified)
            }
            Entry::Revocation(r) => {
                self.check_current_master(r.master_key)?;
                if !self.is_device_valid(&r.device_id, &r.device_key) {
                    return Err(refused("revokes a device that is not certified"));
                }
                self.devices.remove(&r.device_id);
                self.revoked.insert(r.device_id.clone(), r.clone());
                Ok(Applied::DeviceRevoked)
            }
        }
    }
}

/// Every user's keys, as replayed from the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    users: BTreeMap<String, UserKeys>,
}

impl Directory {
    /// An empty directory (the empty log).
    pub fn new() -> Self {
        Self::default()
    }

    /// A user's keys, if the log said anything about them.
    pub fn user(&self, user_id: &str) -> Option<&UserKeys> {
        self.users.get(user_id)
    }

    /// Every user, by user id.
    pub fn users(&self) -> impl Iterator<Item = &UserKeys> {
        self.users.values()
    }

    /// How many users the log knows.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the log knows no user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Checks and applies one entry; a refused entry changes nothing.
    pub fn apply(
        &mut self,
        entry: &Entry,
        verify_device: impl FnOnce(SignatureScheme, &[u8], &[u8], &[u8]) -> bool,
    ) -> Result<Applied> {
        let user_id = entry.user_id();
        if let Some(user) = self.users.get_mut(user_id) {
            return user.apply(entry, verify_device);
        }
        let mut user = UserKeys::new(user_id);
        let applied = user.apply(entry, verify_device)?;
        self.users.insert(user_id.to_owned(), user);
        Ok(applied)
    }

    /// Decodes, checks and applies the log records `records`, the first of which has index
    /// `first_index`: all of them or, if one is malformed or refused, none (the error is an
    /// [`Error::LogEntry`] naming its index).
    pub fn apply_batch<R: AsRef<[u8]>>(
        &mut self,
        first_index: u64,
        records: &[R],
        verify_device: impl Fn(SignatureScheme, &[u8], &[u8], &[u8]) -> bool,
    ) -> Result<Vec<(u64, Entry, Applied)>> {
        // The users the batch touches, copied, changed, and put back only if all goes well.
        let mut staged: BTreeMap<String, UserKeys> = BTreeMap::new();
        let mut applied = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            let index = first_index + i as u64;
            let wrap = |e: Error| Error::LogEntry {
                index,
                reason: Box::new(e),
            };
            let entry = Entry::decode(record.as_ref()).map_err(wrap)?;
            let user_id = entry.user_id();
            if !staged.contains_key(user_id) {
                let current = self
                    .users
                    .get(user_id)
                    .cloned()
                    .unwrap_or_else(|| UserKeys::new(user_id));
                staged.insert(user_id.to_owned(), current);
            }
            let user = staged
                .get_mut(user_id)
                .expect("invariant: staged just above");
            let a = user.apply(&entry, &verify_device).map_err(wrap)?;
            applied.push((index, entry, a));
        }
        self.users.extend(staged);
        Ok(applied)
    }
}

#[cfg(test)]
mod tests;
