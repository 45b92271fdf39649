//! The three identity statements and the log entry that carries them.
//!
//! ```text
//! IdentityStatement = 0x01 kind(u8) user_id master_key(32) created_at_ms(u64) || sig(64)
//!   signed by the master key over  LABEL_IDENTITY || tbs
//! DeviceCertificate = 0x01 user_id device_id scheme(u16) device_key master_key(32)
//!                     issued_at_ms(u64) || master_sig(64) || device_sig
//!   master_sig over LABEL_CERT_MASTER || tbs, device_sig (the device's MLS key) over
//!   LABEL_CERT_DEVICE || tbs
//! Revocation        = 0x01 user_id device_id device_key master_key(32) revoked_at_ms(u64)
//!                     || sig(64)   signed by the master key over LABEL_REVOCATION || tbs
//! Entry             = tag(u8: 1 identity, 2 device, 3 revocation) || statement
//! ```
//! Strings and byte strings are u16-length-prefixed. Each label is distinct and ends in a NUL
//! byte, so no signature made for one kind verifies as another.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result};
use crate::keys::{
    MASTER_KEY_LEN, MasterKey, MasterPublicKey, SIGNATURE_LEN, SignatureScheme, verify_ed25519,
};

/// Signature label of identity statements.
pub const LABEL_IDENTITY: &[u8] = b"ting identity statement v1\0";
/// Signature label of the master key's signature on a device certificate.
pub const LABEL_CERT_MASTER: &[u8] = b"ting device certificate (master) v1\0";
/// Signature label of the device's counter-signature on its certificate.
pub const LABEL_CERT_DEVICE: &[u8] = b"ting device certificate (device) v1\0";
/// Signature label of revocations.
pub const LABEL_REVOCATION: &[u8] = b"ting device revocation v1\0";

/// Longest user id, in bytes.
pub const MAX_USER_ID_LEN: usize = 256;
/// Longest device id, in bytes.
pub const MAX_DEVICE_ID_LEN: usize = 64;
/// Longest device public key, in bytes (an uncompressed P-256 point is 65).
pub const MAX_DEVICE_KEY_LEN: usize = 133;
/// Longest device signature (a DER ECDSA P-256 signature is at most 72).
pub const MAX_DEVICE_SIGNATURE_LEN: usize = 144;

const VERSION: u8 = 1;

fn check_user_id(user_id: &str) -> Result<()> {
    if user_id.is_empty()
        || user_id.len() > MAX_USER_ID_LEN
        || user_id.chars().any(char::is_control)
    {
        return Err(Error::InvalidArgument(
            "user id must be 1..=256 bytes without control characters",
        ));
    }
    Ok(())
}

fn check_device(device_id: &[u8], device_key: &[u8]) -> Result<()> {
    if device_id.is_empty() || device_id.len() > MAX_DEVICE_ID_LEN {
        return Err(Error::InvalidArgument("device id must be 1..=64 bytes"));
    }
    if device_key.is_empty() || device_key.len() > MAX_DEVICE_KEY_LEN {
        return Err(Error::InvalidArgument("device key must be 1..=133 bytes"));
    }
    Ok(())
}

/// Why a master key was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    /// The user's first master key.
    Genesis,
    /// The user lost every device and the recovery key and started over with a new master
    /// key. Contacts must be warned; nobody adds the new identity's devices automatically.
    Reset,
}

/// A master key declared for a user, self-signed by that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityStatement {
    /// Genesis or reset.
    pub kind: IdentityKind,
    /// The user.
    pub user_id: String,
    /// The declared master key.
    pub master_key: MasterPublicKey,
    /// When the device that made it says it was made (ms since the Unix epoch; informative).
    pub created_at_ms: u64,
    signature: [u8; SIGNATURE_LEN],
}

impl IdentityStatement {
    /// Declares `master`'s public key as `user_id`'s master key.
    pub fn sign(
        master: &MasterKey,
        kind: IdentityKind,
        user_id: &str,
        created_at_ms: u64,
    ) -> Result<Self> {
        check_user_id(user_id)?;
        let mut s = Self {
            kind,
            user_id: user_id.to_owned(),
            master_key: master.public(),
            created_at_ms,
            signature: [0; SIGNATURE_LEN],
        };
        s.signature = master.sign(LABEL_IDENTITY, &s.tbs());
        Ok(s)
    }

    fn tbs(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION);
        w.u8(match self.kind {
            IdentityKind::Genesis => 1,
            IdentityKind::Reset => 2,
        });
        w.bytes(self.user_id.as_bytes());
        w.raw(self.master_key.as_bytes());
        w.u64(self.created_at_ms);
        w.into_bytes()
    }

    /// Checks the self-signature.
    pub fn verify(&self) -> Result<()> {
        self.master_key.verify(
            LABEL_IDENTITY,
            &self.tbs(),
            &self.signature,
            "identity statement",
        )
    }

    /// The encoding (signature included).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.tbs();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parses and verifies.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "identity statement");
        if r.u8()? != VERSION {
            return Err(r.malformed());
        }
        let kind = match r.u8()? {
            1 => IdentityKind::Genesis,
            2 => IdentityKind::Reset,
            _ => return Err(r.malformed()),
        };
        let user_id = r.string()?;
        check_user_id(&user_id).map_err(|_| r.malformed())?;
        let master_key = MasterPublicKey::from_bytes(r.raw(MASTER_KEY_LEN)?)?;
        let created_at_ms = r.u64()?;
        let signature = r.array()?;
        r.finish()?;
        let s = Self {
            kind,
            user_id,
            master_key,
            created_at_ms,
            signature,
        };
        s.verify()?;
        Ok(s)
    }
}

/// The signed content of a device certificate, before either signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedCertificate {
    /// The user the device belongs to.
    pub user_id: String,
    /// The server's id of the device (opaque bytes).
    pub device_id: Vec<u8>,
    /// The scheme of the device's MLS signature key.
    pub device_scheme: SignatureScheme,
    /// The device's MLS signature public key.
    pub device_key: Vec<u8>,
    /// The master key that vouches for the device.
    pub master_key: MasterPublicKey,
    /// When it was issued (ms since the Unix epoch).
    pub issued_at_ms: u64,
}

impl UnsignedCertificate {
    /// The bytes both signatures cover (after their labels).
    pub fn tbs(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION);
        w.bytes(self.user_id.as_bytes());
        w.bytes(&self.device_id);
        w.u16(self.device_scheme.0);
        w.bytes(&self.device_key);
        w.raw(self.master_key.as_bytes());
        w.u64(self.issued_at_ms);
        w.into_bytes()
    }

    /// The message the device counter-signs: `LABEL_CERT_DEVICE || tbs`.
    pub fn device_message(&self) -> Vec<u8> {
        let mut m = LABEL_CERT_DEVICE.to_vec();
        m.extend_from_slice(&self.tbs());
        m
    }

    /// The master key's signature; refuses a master key other than the one named inside.
    pub fn sign_master(&self, master: &MasterKey) -> Result<[u8; SIGNATURE_LEN]> {
        check_user_id(&self.user_id)?;
        check_device(&self.device_id, &self.device_key)?;
        if master.public() != self.master_key {
            return Err(Error::InvalidArgument(
                "certificate names another master key than the signer",
            ));
        }
        Ok(master.sign(LABEL_CERT_MASTER, &self.tbs()))
    }
}

/// A device vouched for by its user's master key, counter-signed by the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// What is certified.
    pub body: UnsignedCertificate,
    master_signature: [u8; SIGNATURE_LEN],
    device_signature: Vec<u8>,
}

impl DeviceCertificate {
    /// Assembles a certificate from its body and both signatures (checked by
    /// [`DeviceCertificate::verify_master`] and `verify_*_device`, not here).
    pub fn assemble(
        body: UnsignedCertificate,
        master_signature: [u8; SIGNATURE_LEN],
        device_signature: Vec<u8>,
    ) -> Result<Self> {
        check_user_id(&body.user_id)?;
        check_device(&body.device_id, &body.device_key)?;
        if device_signature.is_empty() || device_signature.len() > MAX_DEVICE_SIGNATURE_LEN {
            return Err(Error::InvalidArgument(
                "device signature must be 1..=144 bytes",
            ));
        }
        Ok(Self {
            body,
            master_signature,
            device_signature,
        })
    }

    /// The device's counter-signature.
    pub fn device_signature(&self) -> &[u8] {
        &self.device_signature
    }

    /// Checks the master key's signature (against the key named inside; the caller checks
    /// that key is the user's current one).
    pub fn verify_master(&self) -> Result<()> {
        self.body.master_key.verify(
            LABEL_CERT_MASTER,
            &self.body.tbs(),
            &self.master_signature,
            "device certificate (master)",
        )
    }

    /// Checks the device's counter-signature with `verify(scheme, message, key, signature)`
    /// for schemes this crate does not implement; Ed25519 is checked here.
    pub fn verify_device_with(
        &self,
        verify: impl FnOnce(SignatureScheme, &[u8], &[u8], &[u8]) -> bool,
    ) -> Result<()> {
        const WHAT: &str = "device certificate (device)";
        if self.body.device_scheme == SignatureScheme::ED25519 {
            return verify_ed25519(
                &self.body.device_key,
                LABEL_CERT_DEVICE,
                &self.body.tbs(),
                &self.device_signature,
                WHAT,
            );
        }
        if verify(
            self.body.device_scheme,
            &self.body.device_message(),
            &self.body.device_key,
            &self.device_signature,
        ) {
            Ok(())
        } else {
            Err(Error::BadSignature { what: WHAT })
        }
    }

    /// Both signatures, for Ed25519 device keys (other schemes are refused here; use
    /// [`DeviceCertificate::verify_device_with`]).
    pub fn verify(&self) -> Result<()> {
        self.verify_master()?;
        self.verify_device_with(|_, _, _, _| false)
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(&self.body.tbs());
        w.raw(&self.master_signature);
        w.bytes(&self.device_signature);
        w.into_bytes()
    }

    /// The fields that name the device, read without checking signatures or that the master
    /// key is a valid curve point: for certificates already verified when their leaf entered a
    /// group, listed again and again (a 1000-member group lists 1000 of them).
    pub fn summary(bytes: &[u8]) -> Result<CertificateSummary> {
        let mut r = Reader::new(bytes, "device certificate");
        if r.u8()? != VERSION {
            return Err(r.malformed());
        }
        let user_id = r.string()?;
        let device_id = r.bytes()?.to_vec();
        let _scheme = r.u16()?;
        let device_key = r.bytes()?.to_vec();
        let master_key: [u8; MASTER_KEY_LEN] = r.array()?;
        Ok(CertificateSummary {
            user_id,
            device_id,
            device_key,
            master_key,
        })
    }

    /// Parses (no signature check: see [`DeviceCertificate::verify`]).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "device certificate");
        if r.u8()? != VERSION {
            return Err(r.malformed());
        }
        let user_id = r.string()?;
        let device_id = r.bytes()?.to_vec();
        let device_scheme = SignatureScheme(r.u16()?);
        let device_key = r.bytes()?.to_vec();
        let master_key = MasterPublicKey::from_bytes(r.raw(MASTER_KEY_LEN)?)?;
        let issued_at_ms = r.u64()?;
        let master_signature = r.array()?;
        let device_signature = r.bytes()?.to_vec();
        r.finish()?;
        let body = UnsignedCertificate {
            user_id,
            device_id,
            device_scheme,
            device_key,
            master_key,
            issued_at_ms,
        };
        Self::assemble(body, master_signature, device_signature).map_err(|_| Error::Malformed {
            what: "device certificate",
        })
    }
}

/// What [`DeviceCertificate::summary`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The user.
    pub user_id: String,
    /// The device id.
    pub device_id: Vec<u8>,
    /// The device's signature key.
    pub device_key: Vec<u8>,
    /// The master key's bytes (not checked to be a curve point).
    pub master_key: [u8; MASTER_KEY_LEN],
}

/// A device withdrawn by its user's master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The user.
    pub user_id: String,
    /// The revoked device's id.
    pub device_id: Vec<u8>,
    /// The revoked device's MLS signature key.
    pub device_key: Vec<u8>,
    /// The master key that revokes it.
    pub master_key: MasterPublicKey,
    /// When (ms since the Unix epoch).
    pub revoked_at_ms: u64,
    signature: [u8; SIGNATURE_LEN],
}

impl Revocation {
    /// Revokes the device `cert` certifies.
    pub fn sign(
        master: &MasterKey,
        cert: &UnsignedCertificate,
        revoked_at_ms: u64,
    ) -> Result<Self> {
        if master.public() != cert.master_key {
            return Err(Error::InvalidArgument(
                "the device was certified by another master key",
            ));
        }
        let mut r = Self {
            user_id: cert.user_id.clone(),
            device_id: cert.device_id.clone(),
            device_key: cert.device_key.clone(),
            master_key: master.public(),
            revoked_at_ms,
            signature: [0; SIGNATURE_LEN],
        };
        r.signature = master.sign(LABEL_REVOCATION, &r.tbs());
        Ok(r)
    }

    fn tbs(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION);
        w.bytes(self.user_id.as_bytes());
        w.bytes(&self.device_id);
        w.bytes(&self.device_key);
        w.raw(self.master_key.as_bytes());
        w.u64(self.revoked_at_ms);
        w.into_bytes()
    }

    /// Checks the master signature.
    pub fn verify(&self) -> Result<()> {
        self.master_key
            .verify(LABEL_REVOCATION, &self.tbs(), &self.signature, "revocation")
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.tbs();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parses and verifies.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "revocation");
        if r.u8()? != VERSION {
            return Err(r.malformed());
        }
        let user_id = r.string()?;
        check_user_id(&user_id).map_err(|_| r.malformed())?;
        let device_id = r.bytes()?.to_vec();
        let device_key = r.bytes()?.to_vec();
        check_device(&device_id, &device_key).map_err(|_| r.malformed())?;
        let master_key = MasterPublicKey::from_bytes(r.raw(MASTER_KEY_LEN)?)?;
        let revoked_at_ms = r.u64()?;
        let signature = r.array()?;
        r.finish()?;
        let rev = Self {
            user_id,
            device_id,
            device_key,
            master_key,
            revoked_at_ms,
            signature,
        };
        rev.verify()?;
        Ok(rev)
    }
}

/// One record of the key log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A master key declared (genesis or reset).
    Identity(IdentityStatement),
    /// A device certified.
    Device(DeviceCertificate),
    /// A device revoked.
    Revocation(Revocation),
}

impl Entry {
    /// The user the entry is about.
    pub fn user_id(&self) -> &str {
        match self {
            Self::Identity(s) => &s.user_id,
            Self::Device(c) => &c.body.user_id,
            Self::Revocation(r) => &r.user_id,
        }
    }

    /// The master key that signed it.
    pub fn master_key(&self) -> MasterPublicKey {
        match self {
            Self::Identity(s) => s.master_key,
            Self::Device(c) => c.body.master_key,
            Self::Revocation(r) => r.master_key,
        }
    }

    /// Every signature of the entry (device counter-signatures only for Ed25519 keys; others
    /// with `verify_device`).
    pub fn verify(
        &self,
        verify_device: impl FnOnce(SignatureScheme, &[u8], &[u8], &[u8]) -> bool,
    ) -> Result<()> {
        match self {
            Self::Identity(s) => s.verify(),
            Self::Device(c) => {
                c.verify_master()?;
                c.verify_device_with(verify_device)
            }
            Self::Revocation(r) => r.verify(),
        }
    }

    /// The record bytes stored in the log.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, body) = match self {
            Self::Identity(s) => (1, s.encode()),
            Self::Device(c) => (2, c.encode()),
            Self::Revocation(r) => (3, r.encode()),
        };
        let mut out = Vec::with_capacity(1 + body.len());
        out.push(tag);
        out.extend_from_slice(&body);
        out
    }

    /// Parses a record. Identity statements and revocations are verified while parsing;
    /// certificates are checked with [`Entry::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (&tag, body) = bytes
            .split_first()
            .ok_or(Error::Malformed { what: "log entry" })?;
        match tag {
            1 => Ok(Self::Identity(IdentityStatement::decode(body)?)),
            2 => Ok(Self::Device(DeviceCertificate::decode(body)?)),
            3 => Ok(Self::Revocation(Revocation::decode(body)?)),
            _ => Err(Error::Malformed { what: "log entry" }),
        }
    }
}

#[cfg(test)]
mod tests;
