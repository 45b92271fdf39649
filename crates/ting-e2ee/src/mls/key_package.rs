//! Key packages: generating this device's, validating other devices'.
//!
//! A key package is published to the server so others can add this device to groups while it
//! is offline. Ordinary key packages are used once (their private keys are deleted when a
//! welcome consumes them); the *last-resort* key package (RFC 9420 `last_resort` extension) is
//! reused when the server has run out of ordinary ones.

use openmls::prelude::{
    Capabilities, CredentialType, ExtensionType, KeyPackage, MlsMessageBodyIn, MlsMessageOut,
    ProtocolVersion,
};
use openmls_traits::OpenMlsProvider as _;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::{CREDENTIAL_TING_CERTIFICATE, DeviceKey, IdentityKey, certificate_of};
use crate::mls::parse_mls_message;
use crate::policy::{CipherSuite, CipherSuitePolicy};
use crate::provider::Provider;

/// Most key packages generated in one call.
pub const MAX_KEY_PACKAGE_BATCH: usize = 1000;

/// What a validated key package says about its device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPackageInfo {
    /// The user id in its credential.
    pub user_id: String,
    /// The device's signature key.
    pub device_key: DeviceKey,
    /// Its MLS cipher suite.
    pub ciphersuite: CipherSuite,
    /// Whether it is a last-resort key package.
    pub last_resort: bool,
    /// Its `KeyPackageRef` (RFC 9420 §5.2): a stable hash to refer to it.
    pub reference: Vec<u8>,
    /// The device id its certificate names.
    pub device_id: String,
    /// The master identity key that certified the device.
    pub identity_key: IdentityKey,
}

/// Capabilities every Ting leaf advertises: the defaults plus `last_resort`, and the Ting
/// certificate as its only credential type.
pub(crate) fn leaf_capabilities() -> Capabilities {
    Capabilities::new(
        None,
        None,
        Some(&[ExtensionType::LastResort]),
        None,
        Some(&[CredentialType::Other(CREDENTIAL_TING_CERTIFICATE)]),
    )
}

impl Client {
    /// Generates `count` one-time key packages, each a TLS-serialized `MLSMessage` with
    /// `wire_format = mls_key_package`. Their private keys stay in the client's storage until a
    /// welcome uses them.
    pub fn key_packages(&mut self, count: usize) -> Result<Vec<Vec<u8>>> {
        if count == 0 || count > MAX_KEY_PACKAGE_BATCH {
            return Err(Error::InvalidArgument("key package batch must be 1..=1000"));
        }
        (0..count).map(|_| self.build_key_package(false)).collect()
    }

    /// Generates a last-resort key package (RFC 9420 `last_resort` extension), reusable until
    /// replaced.
    pub fn last_resort_key_package(&mut self) -> Result<Vec<u8>> {
        self.build_key_package(true)
    }

    fn build_key_package(&mut self, last_resort: bool) -> Result<Vec<u8>> {
        let suite = self.config.policy.preferred().to_openmls()?;
        let mut builder = KeyPackage::builder().leaf_node_capabilities(leaf_capabilities());
        if last_resort {
            builder = builder.mark_as_last_resort();
        }
        let bundle = builder
            .build(
                suite,
                &self.provider,
                &self.signer,
                self.credential_with_key()?,
            )
            .map_err(|e| Error::internal("key package", e))?;
        MlsMessageOut::from(bundle.key_package().clone())
            .to_bytes()
            .map_err(|e| Error::internal("key package serialization", e))
    }

    /// Validates a key package (structure, cipher suite allowed by this client's policy,
    /// signatures, lifetime, and a valid device certificate for its leaf key) and describes
    /// it. It also applies this device's trust: a device of this user must be certified by
    /// this user's own master key, another user's by the pinned key ([`Error::IdentityChanged`]
    /// otherwise), and revoked devices are refused.
    pub fn inspect_key_package(&self, bytes: &[u8]) -> Result<KeyPackageInfo> {
        let (kp, cert) = self.trusted_key_package(bytes)?;
        describe(&self.provider, &kp, &cert)
    }

    /// [`validate_key_package`], its leaf's certificate, and this device's trust applied to
    /// it (as [`Client::inspect_key_package`] describes): what adding a device requires.
    pub(crate) fn trusted_key_package(
        &self,
        bytes: &[u8],
    ) -> Result<(KeyPackage, ting_trust::DeviceCertificate)> {
        let kp = validate_key_package(&self.provider, &self.config.policy, bytes)?;
        let cert = certificate_of(
            &self.provider,
            kp.leaf_node().credential(),
            kp.leaf_node().signature_key().as_slice(),
        )?;
        self.trust
            .check_add(&self.user_id, self.identity_key().as_ref(), &cert)?;
        Ok((kp, cert))
    }
}

/// The cipher suite field of a serialized `MLSMessage` carrying a key package or welcome, read
/// before full parsing so an unknown suite gets a clear error instead of "malformed".
///
/// Layout: `version u16 | wire_format u16 | ...`; a KeyPackage starts with
/// `version u16 | cipher_suite u16`, a Welcome with `cipher_suite u16`.
pub(crate) fn peek_ciphersuite(bytes: &[u8], wire_format: u16) -> Option<CipherSuite> {
    let header = bytes.get(..4)?;
    if header[..2] != [0, 1] || u16::from_be_bytes([header[2], header[3]]) != wire_format {
        return None;
    }
    let offset = match wire_format {
        WIRE_FORMAT_KEY_PACKAGE => 6,
        _ => 4,
    };
    let raw = bytes.get(offset..offset + 2)?;
    Some(CipherSuite::from_u16(u16::from_be_bytes([raw[0], raw[1]])))
}

pub(crate) const WIRE_FORMAT_WELCOME: u16 = 3;
pub(crate) const WIRE_FORMAT_KEY_PACKAGE: u16 = 5;

/// Parses and fully validates a serialized key package.
pub(crate) fn validate_key_package(
    provider: &Provider,
    policy: &CipherSuitePolicy,
    bytes: &[u8],
) -> Result<KeyPackage> {
    const WHAT: &str = "key package";
    if let Some(suite) = peek_ciphersuite(bytes, WIRE_FORMAT_KEY_PACKAGE) {
        policy.check(suite)?;
    }
    let kp_in = match parse_mls_message(bytes, WHAT)? {
        MlsMessageBodyIn::KeyPackage(kp) => kp,
        _ => {
            return Err(Error::Malformed {
                what: "key package (wrong MLS wire format)",
            });
        }
    };
    let kp = kp_in
        .validate(provider.crypto(), ProtocolVersion::Mls10)
        .map_err(|e| Error::Invalid {
            what: WHAT,
            detail: e.to_string(),
        })?;
    policy.check(CipherSuite::from_openmls(kp.ciphersuite()))?;
    certificate_of(
        provider,
        kp.leaf_node().credential(),
        kp.leaf_node().signature_key().as_slice(),
    )?;
    Ok(kp)
}

fn describe(
    provider: &Provider,
    kp: &KeyPackage,
    cert: &ting_trust::DeviceCertificate,
) -> Result<KeyPackageInfo> {
    let reference = kp
        .hash_ref(provider.crypto())
        .map_err(|e| Error::internal("key package ref", e))?;
    Ok(KeyPackageInfo {
        user_id: cert.body.user_id.clone(),
        device_key: DeviceKey::from_bytes(kp.leaf_node().signature_key().as_slice().to_vec()),
        device_id: String::from_utf8_lossy(&cert.body.device_id).into_owned(),
        identity_key: IdentityKey::from_master(&cert.body.master_key),
        ciphersuite: CipherSuite::from_openmls(kp.ciphersuite()),
        last_resort: kp.last_resort(),
        reference: reference.as_slice().to_vec(),
    })
}
