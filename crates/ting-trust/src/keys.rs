//! The master identity key of a user, and the signature schemes device keys may use.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::error::{Error, Result};

/// Length of an Ed25519 public key, a master key's public half.
pub const MASTER_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A signature scheme of a device's MLS signature key (the TLS `SignatureScheme` registry
/// values that RFC 9420 uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignatureScheme(pub u16);

impl SignatureScheme {
    /// `ed25519` (0x0807): Ting's default.
    pub const ED25519: Self = Self(0x0807);
    /// `ecdsa_secp256r1_sha256` (0x0403).
    pub const ECDSA_P256_SHA256: Self = Self(0x0403);
}

/// The public half of a user's master identity key (Ed25519).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MasterPublicKey([u8; MASTER_KEY_LEN]);

impl MasterPublicKey {
    /// Wraps 32 bytes; refuses bytes that are not a valid Ed25519 point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; MASTER_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::Malformed { what: "master key" })?;
        VerifyingKey::from_bytes(&arr).map_err(|_| Error::Malformed { what: "master key" })?;
        Ok(Self(arr))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Verifies `signature` over `label || message` (strict Ed25519: no malleable signatures,
    /// no small-order keys).
    pub fn verify(
        &self,
        label: &[u8],
        message: &[u8],
        signature: &[u8],
        what: &'static str,
    ) -> Result<()> {
        verify_ed25519(&self.0, label, message, signature, what)
    }
}

impl fmt::Debug for MasterPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterPublicKey({})", self.to_hex())
    }
}

/// Verifies an Ed25519 signature over `label || message` with raw key bytes.
pub fn verify_ed25519(
    key: &[u8],
    label: &[u8],
    message: &[u8],
    signature: &[u8],
    what: &'static str,
) -> Result<()> {
    let key: [u8; 32] = key.try_into().map_err(|_| Error::BadSignature { what })?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| Error::BadSignature { what })?;
    if key.is_weak() {
        return Err(Error::BadSignature { what });
    }
    let sig = Signature::from_slice(signature).map_err(|_| Error::BadSignature { what })?;
    let mut msg = Vec::with_capacity(label.len() + message.len());
    msg.extend_from_slice(label);
    msg.extend_from_slice(message);
    key.verify_strict(&msg, &sig)
        .map_err(|_| Error::BadSignature { what })
}

/// A user's master identity key, private half included. It exists only on that user's
/// devices (and, encrypted, in their recovery backup); it signs device certificates and
/// revocations.
pub struct MasterKey(SigningKey);

impl MasterKey {
    /// A master key from 32 secret bytes (the caller's CSPRNG output, or a stored key).
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(secret))
    }

    /// The 32 secret bytes (to persist encrypted, or to hand to a newly linked device over an
    /// encrypted channel). Never send them anywhere in the clear.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public half.
    pub fn public(&self) -> MasterPublicKey {
        MasterPublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `label || message`.
    pub fn sign(&self, label: &[u8], message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut msg = Vec::with_capacity(label.len() + message.len());
        msg.extend_from_slice(label);
        msg.extend_from_slice(message);
        self.0.sign(&msg).to_bytes()
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(public {})", self.public().to_hex())
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> Self {
        Self(SigningKey::from_bytes(&self.0.to_bytes()))
    }
}
