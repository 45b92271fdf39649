//! Users, devices and group members as the rest of Ting sees them.
//!
//! A **user** is identified by a UTF-8 user id (the account id of the server, e.g. the OIDC
//! subject). A **device** is one client of that user and is identified by its Ed25519 signature
//! public key ([`DeviceKey`]); the MLS credential of a device is a `BasicCredential` whose
//! identity is the user id. A user with three devices is three leaves of every group.

use std::fmt;

use openmls::prelude::{BasicCredential, Credential, CredentialType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest accepted user id, in bytes.
pub const MAX_USER_ID_LEN: usize = 256;

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

/// A leaf of an MLS group: one device of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's leaf index in the ratchet tree (stable while it stays in the group).
    pub leaf_index: u32,
    /// The user id in the member's credential.
    pub user_id: String,
    /// The device's signature public key.
    pub device_key: DeviceKey,
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

/// Extracts the user id from a peer's credential; refuses anything but a basic credential with
/// a valid UTF-8 user id.
pub(crate) fn user_id_of(credential: &Credential) -> Result<String> {
    if credential.credential_type() != CredentialType::Basic {
        return Err(Error::InvalidCredential {
            reason: "not a basic credential",
        });
    }
    let basic =
        BasicCredential::try_from(credential.clone()).map_err(|_| Error::InvalidCredential {
            reason: "not a basic credential",
        })?;
    let user_id = std::str::from_utf8(basic.identity()).map_err(|_| Error::InvalidCredential {
        reason: "user id is not UTF-8",
    })?;
    validate_user_id(user_id).map_err(|_| Error::InvalidCredential {
        reason: "user id is empty, too long or has control characters",
    })?;
    Ok(user_id.to_owned())
}

/// Builds a [`Member`] from an openmls member entry.
pub(crate) fn member_from_mls(member: &openmls::prelude::Member) -> Result<Member> {
    Ok(Member {
        leaf_index: member.index.u32(),
        user_id: user_id_of(&member.credential)?,
        device_key: DeviceKey::from_bytes(member.signature_key.clone()),
    })
}
