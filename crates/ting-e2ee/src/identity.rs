//! Users, devices and group members as the rest of Ting sees them.
//!
//! A **user** is identified by a UTF-8 user id (the account's username). Each user has a
//! **master identity key** (Ed25519) that exists only on their devices; it certifies each
//! **device**, whose MLS signature key is its identity in every group ([`DeviceKey`]). The MLS
//! credential of a device is a [`DeviceCertificate`] (credential type
//! [`CREDENTIAL_TING_CERTIFICATE`], private-use range): master-signed, counter-signed by the
//! device, naming the leaf's own signature key. A leaf without a valid certificate is refused
//! everywhere. A user with three devices is three leaves of every group.

use std::fmt;

use openmls::prelude::{Credential, CredentialType};
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::types::SignatureScheme as MlsScheme;
use serde::{Deserialize, Serialize};
use ting_trust::{DeviceCertificate, SignatureScheme};

use crate::error::{Error, Result};
use crate::provider::Provider;

/// Longest accepted user id, in bytes.
pub const MAX_USER_ID_LEN: usize = 256;

/// The private-use MLS credential type whose content is a Ting [`DeviceCertificate`].
pub const CREDENTIAL_TING_CERTIFICATE: u16 = 0xF000;

/// A device's signature public key (Ed25519, 32 bytes for the default suite): the device's
/// identity in every group.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DeviceKey(Vec<u8>);

impl DeviceKey {
    /// Wraps raw public key bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The raw public key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex, for logs and UIs.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey({})", self.to_hex())
    }
}

/// A user's master identity public key (Ed25519, 32 bytes). Deliberately a different type
/// from [`DeviceKey`]: the two are never interchangeable.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdentityKey(Vec<u8>);

impl IdentityKey {
    /// From the trust crate's key.
    pub fn from_master(key: &ting_trust::MasterPublicKey) -> Self {
        Self(key.as_bytes().to_vec())
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityKey({})", self.to_hex())
    }
}

/// A leaf of an MLS group: one certified device of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's leaf index in the ratchet tree (stable while it stays in the group).
    pub leaf_index: u32,
    /// The user id in the member's certificate.
    pub user_id: String,
    /// The device's signature public key.
    pub device_key: DeviceKey,
    /// The device id its certificate names (the server's device id, as text).
    pub device_id: String,
    /// The master identity key that certified the device.
    pub identity_key: IdentityKey,
}

/// Checks a user id: non-empty, at most [`MAX_USER_ID_LEN`] bytes, no control characters.
pub(crate) fn validate_user_id(user_id: &str) -> Result<()> {
    if user_id.is_empty() || user_id.len() > MAX_USER_ID_LEN {
        return Err(Error::InvalidArgument("user id must be 1..=256 bytes"));
    }
    if user_id.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(
            "user id must not contain control characters",
        ));
    }
    Ok(())
}

/// The MLS signature scheme as the trust crate names it.
pub(crate) fn trust_scheme(scheme: MlsScheme) -> SignatureScheme {
    SignatureScheme(scheme as u16)
}

/// Checks a leaf's credential: a Ting certificate, both signatures valid, naming exactly the
/// leaf's signature key, with a valid user id. Whether its master key is the *right* one for
/// the user is the trust store's decision ([`crate::trust`]).
pub(crate) fn certificate_of(
    provider: &Provider,
    credential: &Credential,
    signature_key: &[u8],
) -> Result<DeviceCertificate> {
    if credential.credential_type() != CredentialType::Other(CREDENTIAL_TING_CERTIFICATE) {
        return Err(Error::InvalidCredential {
            reason: "not a Ting device certificate",
        });
    }
    let cert =
        DeviceCertificate::decode(credential.serialized_content()).map_err(Error::from_trust)?;
    if cert.body.device_key != signature_key {
        return Err(Error::InvalidCredential {
            reason: "the certificate names another signature key than the leaf's",
        });
    }
    validate_user_id(&cert.body.user_id).map_err(|_| Error::InvalidCredential {
        reason: "user id is empty, too long or has control characters",
    })?;
    cert.verify_master().map_err(Error::from_trust)?;
    cert.verify_device_with(|scheme, msg, key, sig| {
        MlsScheme::try_from(scheme.0)
            .is_ok_and(|s| provider.crypto().verify_signature(s, msg, key, sig).is_ok())
    })
    .map_err(Error::from_trust)?;
    Ok(cert)
}

/// A [`Member`] from a certificate and leaf index.
pub(crate) fn member_from_cert(leaf_index: u32, cert: &DeviceCertificate) -> Member {
    Member {
        leaf_index,
        user_id: cert.body.user_id.clone(),
        device_key: DeviceKey::from_bytes(cert.body.device_key.clone()),
        device_id: String::from_utf8_lossy(&cert.body.device_id).into_owned(),
        identity_key: IdentityKey::from_master(&cert.body.master_key),
    }
}

/// Builds a [`Member`] from a member of a local group. Certificates were verified when each
/// leaf entered the group (key package, commit, welcome), so only the binding to the leaf's
/// key is re-checked here.
pub(crate) fn member_from_mls(member: &openmls::prelude::Member) -> Result<Member> {
    let cert = DeviceCertificate::summary(member.credential.serialized_content())
        .map_err(Error::from_trust)?;
    if member.credential.credential_type() != CredentialType::Other(CREDENTIAL_TING_CERTIFICATE)
        || cert.device_key != member.signature_key
    {
        return Err(Error::InvalidCredential {
            reason: "not a Ting device certificate for this leaf",
        });
    }
    Ok(Member {
        leaf_index: member.index.u32(),
        user_id: cert.user_id,
        device_key: DeviceKey::from_bytes(cert.device_key),
        device_id: String::from_utf8_lossy(&cert.device_id).into_owned(),
        identity_key: IdentityKey(cert.master_key.to_vec()),
    })
}
