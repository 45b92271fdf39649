//! Whom this device trusts: its own user's master identity key and certificate, and a pin of
//! every other user's master key (trust on first use, upgraded by comparing safety numbers).
//!
//! * **Own devices.** A leaf of this user is accepted only with a certificate from this
//!   user's own master key — which only the user's devices hold. A server that registers a
//!   device for the user (a reset password, a database edit) has no certificate to give it,
//!   so no client adds it, and a commit or welcome containing it is refused.
//! * **Other users.** The first master key seen for a user is pinned. A different key later
//!   means the user reset their identity (or someone presents keys of their own): adding
//!   that user's devices is refused until the change is acknowledged
//!   ([`Client::acknowledge_identity_change`]); a commit by another member that brings the new
//!   identity is accepted but reported as an [`IdentityAlert`]; if the old key had been
//!   verified, sending into groups with that user is blocked until acknowledged.
//! * **Revocations** signed by the user's master key mark device keys that are never
//!   accepted again.

pub mod link;
pub mod recovery;
pub(crate) mod state;

use std::collections::{BTreeMap, BTreeSet};

use openmls::prelude::{Credential, CredentialType, CredentialWithKey, SignaturePublicKey};
use openmls_traits::signatures::Signer as _;
use serde::{Deserialize, Serialize};
use ting_trust::{
    DeviceCertificate, IdentityKind, IdentityStatement, MasterKey, Revocation, UnsignedCertificate,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::{CREDENTIAL_TING_CERTIFICATE, IdentityKey, trust_scheme};
use crate::mls::GroupId;

/// This device's own identity material.
#[derive(Default)]
pub(crate) struct OwnIdentity {
    pub(crate) master: Option<MasterKey>,
    pub(crate) certificate: Option<DeviceCertificate>,
}

/// A pinned identity change not yet acknowledged by the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    /// The key pinned before.
    pub previous: IdentityKey,
    /// Whether the previous key had been verified (safety number compared).
    pub previous_verified: bool,
}

/// What this device believes about another user's master identity key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The key now in use.
    pub identity_key: IdentityKey,
    /// Whether the user compared safety numbers for this key.
    pub verified: bool,
    /// A change seen and not yet acknowledged.
    pub change: Option<PendingChange>,
}

impl Pin {
    /// Sending to this user is blocked: a verified identity changed and nobody acknowledged.
    pub fn blocks_sending(&self) -> bool {
        self.change.as_ref().is_some_and(|c| c.previous_verified)
    }
}

/// Something about identities the user must be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdentityAlert {
    /// Another user's master key changed (a reset, or someone else's keys).
    Changed {
        /// The user.
        user_id: String,
        /// The key pinned before.
        previous: IdentityKey,
        /// The new key.
        current: IdentityKey,
        /// Whether the previous key had been verified: then sending is blocked until the
        /// change is acknowledged.
        was_verified: bool,
    },
    /// A device of this user appeared with another master key than this device holds: the
    /// user's identity was reset elsewhere (or someone tries to impersonate the user).
    OwnIdentityReset {
        /// The foreign key.
        current: IdentityKey,
    },
}

/// A position in the key log — the newest checkpoint a member accepted — carried in the
/// authenticated data of every application message it sends, so members notice when the
/// server shows them different logs (a split view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogPosition {
    /// The tree size.
    pub size: u64,
    /// The tree root.
    pub root: [u8; 32],
}

/// Prefix of the authenticated data that carries a [`LogPosition`].
const LOG_POSITION_TAG: &[u8; 4] = b"TLP1";

impl LogPosition {
    /// The authenticated-data encoding: tag, size (big-endian), root.
    pub fn encode(&self) -> Vec<u8> {
        [&LOG_POSITION_TAG[..], &self.size.to_be_bytes(), &self.root].concat()
    }

    /// Parses [`LogPosition::encode`]; anything else (empty, older clients) is `None`.
    pub fn decode(aad: &[u8]) -> Option<Self> {
        let rest = aad.strip_prefix(&LOG_POSITION_TAG[..])?;
        if rest.len() != 40 {
            return None;
        }
        let (size, root) = rest.split_at(8);
        Some(Self {
            size: u64::from_be_bytes(size.try_into().ok()?),
            root: root.try_into().ok()?,
        })
    }
}

/// Pins and revocations.
#[derive(Debug, Default, Clone)]
pub(crate) struct TrustStore {
    pub(crate) pins: BTreeMap<String, Pin>,
    pub(crate) revoked: BTreeSet<Vec<u8>>,
}

/// A newly created (or reset) identity: the statements to publish in the key log.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    /// The master key declaration.
    pub statement: IdentityStatement,
    /// This device's certificate.
    pub certificate: DeviceCertificate,
}

impl TrustStore {
    /// A leaf that enters a group by someone else's commit or a welcome. Refuses revoked
    /// devices; pins first-seen keys; reports changes.
    pub(crate) fn observe(
        &mut self,
        own_user: &str,
        own_master: Option<&IdentityKey>,
        cert: &DeviceCertificate,
    ) -> Result<Option<IdentityAlert>> {
        let user = &cert.body.user_id;
        if self.revoked.contains(&cert.body.device_key) {
            return Err(Error::RevokedDevice {
                user_id: user.clone(),
            });
        }
        Ok(self.observe_key(
            own_user,
            own_master,
            user,
            IdentityKey::from_master(&cert.body.master_key),
        ))
    }

    /// A master key `user` is seen with (in a certificate, or in the key log). Pins
    /// first-seen keys; reports changes.
    pub(crate) fn observe_key(
        &mut self,
        own_user: &str,
        own_master: Option<&IdentityKey>,
        user: &str,
        key: IdentityKey,
    ) -> Option<IdentityAlert> {
        if user == own_user {
            return match own_master {
                Some(own) if *own == key => None,
                _ => Some(IdentityAlert::OwnIdentityReset { current: key }),
            };
        }
        match self.pins.get_mut(user) {
            None => {
                self.pins.insert(
                    user.to_owned(),
                    Pin {
                        identity_key: key,
                        verified: false,
                        change: None,
                    },
                );
                None
            }
            Some(pin) if pin.identity_key == key => None,
            Some(pin) => {
                let previous = pin.identity_key.clone();
                let was_verified =
                    pin.verified || pin.change.as_ref().is_some_and(|c| c.previous_verified);
                *pin = Pin {
                    identity_key: key.clone(),
                    verified: false,
                    change: Some(PendingChange {
                        previous: previous.clone(),
                        previous_verified: was_verified,
                    }),
                };
                Some(IdentityAlert::Changed {
                    user_id: user.to_owned(),
                    previous,
                    current: key,
                    was_verified,
                })
            }
        }
    }

    /// A device this client is about to add itself: stricter than [`TrustStore::observe`].
    pub(crate) fn check_add(
        &self,
        own_user: &str,
        own_master: Option<&IdentityKey>,
        cert: &DeviceCertificate,
    ) -> Result<()> {
        let user = &cert.body.user_id;
        if self.revoked.contains(&cert.body.device_key) {
            return Err(Error::RevokedDevice {
                user_id: user.clone(),
            });
        }
        let key = IdentityKey::from_master(&cert.body.master_key);
        if user == own_user {
            return match own_master {
                Some(own) if *own == key => Ok(()),
                _ => Err(Error::IdentityChanged {
                    user_id: user.clone(),
                }),
            };
        }
        match self.pins.get(user) {
            None => Ok(()),
            Some(pin) if pin.identity_key == key && pin.change.is_none() => Ok(()),
            Some(_) => Err(Error::IdentityChanged {
                user_id: user.clone(),
            }),
        }
    }

    /// Pins a key after this client added its device (first use).
    pub(crate) fn pin_added(&mut self, own_user: &str, cert: &DeviceCertificate) {
        if cert.body.user_id != own_user {
            self.pins
                .entry(cert.body.user_id.clone())
                .or_insert_with(|| Pin {
                    identity_key: IdentityKey::from_master(&cert.body.master_key),
                    verified: false,
                    change: None,
                });
        }
    }
}

impl Client {
    /// Whether this device holds its user's master identity key.
    pub fn has_master_key(&self) -> bool {
        self.identity.master.is_some()
    }

    /// The user's master identity key as this device knows it (from its own copy, or from
    /// its certificate).
    pub fn identity_key(&self) -> Option<IdentityKey> {
        self.identity
            .master
            .as_ref()
            .map(|m| IdentityKey::from_master(&m.public()))
            .or_else(|| {
                self.identity
                    .certificate
                    .as_ref()
                    .map(|c| IdentityKey::from_master(&c.body.master_key))
            })
    }

    /// This device's certificate, once it has one.
    pub fn certificate(&self) -> Option<&DeviceCertificate> {
        self.identity.certificate.as_ref()
    }

    /// Creates the user's master identity key on their first device and certifies this
    /// device as `device_id` (the server's id for it). Returns the statements to publish.
    /// Refused if this device already has an identity.
    pub fn create_identity(&mut self, device_id: &[u8], now_ms: u64) -> Result<NewIdentity> {
        if self.identity.master.is_some() || self.identity.certificate.is_some() {
            return Err(Error::InvalidArgument(
                "this device already has an identity",
            ));
        }
        self.new_identity(IdentityKind::Genesis, device_id, now_ms)
    }

    /// Starts over with a new master key, for a user who lost every device and the recovery
    /// key. Contacts are warned and must re-invite this user; nothing trusts the new key
    /// automatically. Only on a device that is not in any group.
    pub fn reset_identity(&mut self, device_id: &[u8], now_ms: u64) -> Result<NewIdentity> {
        if !self.groups.is_empty() {
            return Err(Error::InvalidArgument(
                "reset the identity only on a device that is in no group",
            ));
        }
        self.identity = OwnIdentity::default();
        self.new_identity(IdentityKind::Reset, device_id, now_ms)
    }

    fn new_identity(
        &mut self,
        kind: IdentityKind,
        device_id: &[u8],
        now_ms: u64,
    ) -> Result<NewIdentity> {
        let secret = zeroize::Zeroizing::new(self.provider.random::<32>()?);
        let master = MasterKey::from_secret(&secret);
        let statement = IdentityStatement::sign(&master, kind, &self.user_id, now_ms)
            .map_err(Error::from_trust)?;
        let body = self.own_certificate_body(&master, device_id, now_ms);
        let master_sig = body.sign_master(&master).map_err(Error::from_trust)?;
        let certificate = self.countersign(body, master_sig)?;
        self.identity = OwnIdentity {
            master: Some(master),
            certificate: Some(certificate.clone()),
        };
        Ok(NewIdentity {
            statement,
            certificate,
        })
    }

    pub(crate) fn own_certificate_body(
        &self,
        master: &MasterKey,
        device_id: &[u8],
        now_ms: u64,
    ) -> UnsignedCertificate {
        UnsignedCertificate {
            user_id: self.user_id.clone(),
            device_id: device_id.to_vec(),
            device_scheme: trust_scheme(self.signer.signature_scheme()),
            device_key: self.signer.to_public_vec(),
            master_key: master.public(),
            issued_at_ms: now_ms,
        }
    }

    /// Adds this device's counter-signature to a master-signed body naming this device.
    pub(crate) fn countersign(
        &self,
        body: UnsignedCertificate,
        master_sig: [u8; 64],
    ) -> Result<DeviceCertificate> {
        if body.device_key != self.signer.to_public_vec() || body.user_id != self.user_id {
            return Err(Error::Link {
                reason: "the certificate names another device or user",
            });
        }
        let device_sig = self
            .signer
            .sign(&body.device_message())
            .map_err(|e| Error::internal("device signature", format!("{e:?}")))?;
        let cert =
            DeviceCertificate::assemble(body, master_sig, device_sig).map_err(Error::from_trust)?;
        cert.verify_master().map_err(|_| Error::Link {
            reason: "the master signature on the certificate does not verify",
        })?;
        Ok(cert)
    }

    /// Revokes a device of this user (its certificate's encoding, e.g. from the key log).
    /// Returns the revocation to publish; the device is refused from now on.
    pub fn revoke_device(&mut self, certificate: &[u8], now_ms: u64) -> Result<Revocation> {
        let master = self.identity.master.as_ref().ok_or(Error::NoMasterKey)?;
        let cert = DeviceCertificate::decode(certificate).map_err(Error::from_trust)?;
        let rev = Revocation::sign(master, &cert.body, now_ms).map_err(Error::from_trust)?;
        self.trust.revoked.insert(cert.body.device_key);
        Ok(rev)
    }

    /// Records a revocation (e.g. from the key log or a contact). Accepted only if signed by
    /// the master key this device trusts for that user. Returns the members of `group_id`
    /// (if given) that are now revoked, for the caller to remove by commit.
    pub fn note_revocation(&mut self, revocation: &[u8]) -> Result<()> {
        let rev = Revocation::decode(revocation).map_err(Error::from_trust)?;
        let signer = IdentityKey::from_master(&rev.master_key);
        let trusted = if rev.user_id == self.user_id {
            self.identity_key()
        } else {
            self.trust
                .pins
                .get(&rev.user_id)
                .map(|p| p.identity_key.clone())
        };
        if trusted.as_ref() != Some(&signer) {
            return Err(Error::InvalidCredential {
                reason: "revocation is not signed by the user's trusted identity key",
            });
        }
        self.trust.revoked.insert(rev.device_key);
        Ok(())
    }

    /// Members of the group whose devices are revoked (to remove by commit).
    pub fn revoked_members(&self, group_id: &GroupId) -> Result<Vec<crate::Member>> {
        Ok(self
            .members(group_id)?
            .into_iter()
            .filter(|m| self.trust.revoked.contains(m.device_key.as_bytes()))
            .collect())
    }

    /// Records the master key the key log shows for `user_id` (after the caller verified the
    /// log): pins it on first sight, and reports a change — a reset — exactly as if a commit
    /// had brought it, so a verified contact's reset blocks sending until acknowledged. For
    /// this device's own user, a foreign key is reported as [`IdentityAlert::OwnIdentityReset`].
    pub fn observe_identity(
        &mut self,
        user_id: &str,
        master_key: &ting_trust::MasterPublicKey,
    ) -> Option<IdentityAlert> {
        let own = self.identity_key();
        self.trust.observe_key(
            &self.user_id,
            own.as_ref(),
            user_id,
            IdentityKey::from_master(master_key),
        )
    }

    /// Sets the key log position carried in every application message from now on (`None`:
    /// carry nothing).
    pub fn set_log_position(&mut self, position: Option<LogPosition>) {
        self.log_position = position;
    }

    /// The pin of another user, if any.
    pub fn pin(&self, user_id: &str) -> Option<&Pin> {
        self.trust.pins.get(user_id)
    }

    /// All pins.
    pub fn pins(&self) -> &BTreeMap<String, Pin> {
        &self.trust.pins
    }

    /// Marks `user_id`'s current identity key as verified (the safety numbers matched).
    /// `identity_key` must be the key the safety number was computed over.
    pub fn mark_verified(&mut self, user_id: &str, identity_key: &IdentityKey) -> Result<()> {
        let pin = self
            .trust
            .pins
            .get_mut(user_id)
            .ok_or(Error::UnknownMember)?;
        if pin.identity_key != *identity_key {
            return Err(Error::IdentityChanged {
                user_id: user_id.to_owned(),
            });
        }
        pin.verified = true;
        pin.change = None;
        Ok(())
    }

    /// Accepts `user_id`'s identity key `identity_key` after the user saw the warning: the pin
    /// moves to it (unverified) and sending/adding is allowed again.
    pub fn acknowledge_identity_change(
        &mut self,
        user_id: &str,
        identity_key: &IdentityKey,
    ) -> Result<()> {
        if user_id == self.user_id {
            return Err(Error::InvalidArgument(
                "this user's own identity is not acknowledged; link or reset instead",
            ));
        }
        let pin = self.trust.pins.entry(user_id.to_owned()).or_insert(Pin {
            identity_key: identity_key.clone(),
            verified: false,
            change: None,
        });
        if pin.identity_key != *identity_key {
            pin.identity_key = identity_key.clone();
            pin.verified = false;
        }
        pin.change = None;
        Ok(())
    }

    /// Users of the group whose verified identity changed without acknowledgement: sending is
    /// blocked while this is non-empty.
    pub fn blocked_by(&self, group_id: &GroupId) -> Result<Vec<String>> {
        let mut users: Vec<String> = self
            .members(group_id)?
            .into_iter()
            .map(|m| m.user_id)
            .filter(|u| self.trust.pins.get(u).is_some_and(Pin::blocks_sending))
            .collect();
        users.dedup();
        Ok(users)
    }

    pub(crate) fn credential_with_key(&self) -> Result<CredentialWithKey> {
        let cert = self
            .identity
            .certificate
            .as_ref()
            .ok_or(Error::NotCertified)?;
        Ok(CredentialWithKey {
            credential: Credential::new(
                CredentialType::Other(CREDENTIAL_TING_CERTIFICATE),
                cert.encode(),
            ),
            signature_key: SignaturePublicKey::from(self.signer.to_public_vec()),
        })
    }
}

#[cfg(test)]
mod tests;
