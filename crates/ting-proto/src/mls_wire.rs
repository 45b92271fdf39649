//! Structural checks of MLS framing (RFC 9420 §6, §7.2, §10), without any cryptography.
//!
//! The server stores KeyPackages as opaque bytes for clients to claim. It cannot and must not
//! verify them cryptographically (that is the claiming client's job, and the server links no MLS
//! code), but it can refuse bytes that are not a well-formed KeyPackage, check the ciphersuite
//! against its allow-list and check that the leaf's signature key is the key of the device that
//! uploads it — so one device cannot publish packages in another device's name.

/// `ProtocolVersion mls10`.
pub const PROTOCOL_VERSION_MLS10: u16 = 1;
/// `WireFormat mls_key_package`.
pub const WIRE_FORMAT_KEY_PACKAGE: u16 = 5;
/// `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`.
pub const CIPHERSUITE_X25519_AES128GCM_SHA256_ED25519: u16 = 0x0001;
/// The `last_resort` KeyPackage extension type.
pub const EXTENSION_LAST_RESORT: u16 = 0x000a;
/// `LeafNodeSource key_package`.
const LEAF_NODE_SOURCE_KEY_PACKAGE: u8 = 1;
/// `CredentialType basic`.
pub const CREDENTIAL_BASIC: u16 = 1;
/// `CredentialType x509`.
pub const CREDENTIAL_X509: u16 = 2;
/// Ting's credential type (from the private-use range 0xF000–0xFFFF of RFC 9420 §17.1): an
/// `opaque certificate<V>` holding an encoded `ting_trust::DeviceCertificate` (the device's
/// key vouched for by its user's master key).
pub const CREDENTIAL_TING_CERTIFICATE: u16 = 0xF000;

/// Why bytes are not an acceptable KeyPackage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyPackageError {
    /// The bytes end before the structure does.
    #[error("truncated at byte {0}")]
    Truncated(usize),
    /// Bytes are left over after the structure.
    #[error("{0} trailing bytes after the KeyPackage")]
    TrailingBytes(usize),
    /// A variable-length integer uses the reserved `0b11` prefix.
    #[error("invalid variable-length integer at byte {0}")]
    InvalidVarint(usize),
    /// Not MLS 1.0.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u16),
    /// The MLSMessage does not carry a KeyPackage.
    #[error("wire format {0} is not mls_key_package")]
    NotAKeyPackage(u16),
    /// The leaf node's source is not `key_package`.
    #[error("leaf node source {0} is not key_package")]
    WrongLeafNodeSource(u8),
    /// A credential type other than basic, x509 or Ting's certificate.
    #[error("unknown credential type {0}")]
    UnknownCredentialType(u16),
    /// A field has an impossible length (e.g. an empty key).
    #[error("field {0} has an invalid length")]
    InvalidLength(&'static str),
}

/// What the server learns from a well-formed KeyPackage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackageInfo {
    /// The ciphersuite id.
    pub cipher_suite: u16,
    /// HPKE init key.
    pub init_key: Vec<u8>,
    /// The leaf's signature public key.
    pub signature_key: Vec<u8>,
    /// The credential type.
    pub credential_type: u16,
    /// For basic credentials, the identity bytes.
    pub identity: Option<Vec<u8>>,
    /// For Ting certificate credentials, the encoded device certificate (not checked here).
    pub certificate: Option<Vec<u8>>,
    /// Lifetime start (Unix seconds).
    pub not_before: u64,
    /// Lifetime end (Unix seconds).
    pub not_after: u64,
    /// Whether the KeyPackage carries the `last_resort` extension.
    pub last_resort: bool,
}

/// Parses a TLS-serialised `MLSMessage` carrying a KeyPackage and returns what it declares.
///
/// Checks framing, lengths and enumerations exactly and rejects trailing bytes. Signatures are
/// *not* verified here: clients verify them when they claim the package.
pub fn parse_key_package_message(bytes: &[u8]) -> Result<KeyPackageInfo, KeyPackageError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let version = r.u16()?;
    if version != PROTOCOL_VERSION_MLS10 {
        return Err(KeyPackageError::UnsupportedVersion(version));
    }
    let wire_format = r.u16()?;
    if wire_format != WIRE_FORMAT_KEY_PACKAGE {
        return Err(KeyPackageError::NotAKeyPackage(wire_format));
    }
    let info = parse_key_package(&mut r)?;
    if r.pos != bytes.len() {
        return Err(KeyPackageError::TrailingBytes(bytes.len() - r.pos));
    }
    Ok(info)
}

fn parse_key_package(r: &mut Reader<'_>) -> Result<KeyPackageInfo, KeyPackageError> {
    let version = r.u16()?;
    if version != PROTOCOL_VERSION_MLS10 {
        return Err(KeyPackageError::UnsupportedVersion(version));
    }
    let cipher_suite = r.u16()?;
    let init_key = r.opaque_nonempty("init_key")?.to_vec();
    // LeafNode
    let _encryption_key = r.opaque_nonempty("encryption_key")?;
    let signature_key = r.opaque_nonempty("signature_key")?.to_vec();
    let credential_type = r.u16()?;
    let (identity, certificate) = match credential_type {
        CREDENTIAL_BASIC => (Some(r.opaque()?.to_vec()), None),
        CREDENTIAL_X509 => {
            let mut certs = r.sub_reader()?;
            while !certs.is_empty() {
                certs.opaque()?;
            }
            (None, None)
        }
        CREDENTIAL_TING_CERTIFICATE => (None, Some(r.opaque_nonempty("certificate")?.to_vec())),
        other => return Err(KeyPackageError::UnknownCredentialType(other)),
    };
    // Capabilities: five vectors of uint16.
    for name in [
        "versions",
        "cipher_suites",
        "extensions",
        "proposals",
        "credentials",
    ] {
        let v = r.opaque()?;
        if v.len() % 2 != 0 {
            return Err(KeyPackageError::InvalidLength(name));
        }
    }
    let source = r.u8()?;
    if source != LEAF_NODE_SOURCE_KEY_PACKAGE {
        return Err(KeyPackageError::WrongLeafNodeSource(source));
    }
    let not_before = r.u64()?;
    let not_after = r.u64()?;
    parse_extensions(r)?; // leaf node extensions
    r.opaque_nonempty("leaf_signature")?;
    // KeyPackage extensions
    let extension_types = parse_extensions(r)?;
    r.opaque_nonempty("signature")?;
    Ok(KeyPackageInfo {
        cipher_suite,
        init_key,
        signature_key,
        credential_type,
        identity,
        certificate,
        not_before,
        not_after,
        last_resort: extension_types.contains(&EXTENSION_LAST_RESORT),
    })
}

fn parse_extensions(r: &mut Reader<'_>) -> Result<Vec<u16>, KeyPackageError> {
    let mut list = r.sub_reader()?;
    let mut types = Vec::new();
    while !list.is_empty() {
        types.push(list.u16()?);
        list.opaque()?;
    }
    Ok(types)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], KeyPackageError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or(KeyPackageError::Truncated(self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, KeyPackageError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, KeyPackageError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u64(&mut self) -> Result<u64, KeyPackageError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }

    /// RFC 9420 §2.1.2 variable-length integer.
    fn varint(&mut self) -> Result<usize, KeyPackageError> {
        let start = self.pos;
        let first = self.u8()?;
        let len = 1usize << (first >> 6);
        if len == 8 {
            return Err(KeyPackageError::InvalidVarint(start));
        }
        let mut v = u64::from(first & 0x3f);
        for &b in self.take(len - 1)? {
            v = (v << 8) | u64::from(b);
        }
        usize::try_from(v).map_err(|_| KeyPackageError::InvalidVarint(start))
    }

    fn opaque(&mut self) -> Result<&'a [u8], KeyPackageError> {
        let n = self.varint()?;
        self.take(n)
    }

    fn opaque_nonempty(&mut self, name: &'static str) -> Result<&'a [u8], KeyPackageError> {
        let v = self.opaque()?;
        if v.is_empty() {
            return Err(KeyPackageError::InvalidLength(name));
        }
        Ok(v)
    }

    fn sub_reader(&mut self) -> Result<Reader<'a>, KeyPackageError> {
        let buf = self.opaque()?;
        Ok(Reader { buf, pos: 0 })
    }
}

/// Builds KeyPackage framing for tests and tools. The signatures are filler bytes: the result is
/// well-formed, not valid.
pub mod build {
    use super::*;

    /// Fields of a synthetic KeyPackage.
    #[derive(Debug, Clone)]
    pub struct Synthetic {
        /// Ciphersuite id.
        pub cipher_suite: u16,
        /// Signature key.
        pub signature_key: Vec<u8>,
        /// Basic-credential identity.
        pub identity: Vec<u8>,
        /// Lifetime start.
        pub not_before: u64,
        /// Lifetime end.
        pub not_after: u64,
        /// Add the last-resort extension.
        pub last_resort: bool,
    }

    /// Encodes `s` as a TLS-serialised MLSMessage(KeyPackage) with a basic credential whose
    /// identity is `s.identity`.
    pub fn key_package_message(s: &Synthetic) -> Vec<u8> {
        key_package_message_with_credential(s, CREDENTIAL_BASIC, &s.identity)
    }

    /// Encodes `s` with a credential of `credential_type` whose single `opaque<V>` field is
    /// `credential` (basic: the identity; Ting certificate: the certificate; `s.identity` is
    /// then unused).
    pub fn key_package_message_with_credential(
        s: &Synthetic,
        credential_type: u16,
        credential: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&PROTOCOL_VERSION_MLS10.to_be_bytes());
        out.extend_from_slice(&WIRE_FORMAT_KEY_PACKAGE.to_be_bytes());
        out.extend_from_slice(&PROTOCOL_VERSION_MLS10.to_be_bytes());
        out.extend_from_slice(&s.cipher_suite.to_be_bytes());
        opaque(&mut out, &[7u8; 32]); // init key
        opaque(&mut out, &[8u8; 32]); // encryption key
        opaque(&mut out, &s.signature_key);
        out.extend_from_slice(&credential_type.to_be_bytes());
        opaque(&mut out, credential);
        opaque(&mut out, &PROTOCOL_VERSION_MLS10.to_be_bytes());
        opaque(&mut out, &s.cipher_suite.to_be_bytes());
        opaque(&mut out, &EXTENSION_LAST_RESORT.to_be_bytes());
        opaque(&mut out, &[]);
        opaque(&mut out, &credential_type.to_be_bytes());
        out.push(LEAF_NODE_SOURCE_KEY_PACKAGE);
        out.extend_from_slice(&s.not_before.to_be_bytes());
        out.extend_from_slice(&s.not_after.to_be_bytes());
        opaque(&mut out, &[]); // leaf extensions
        opaque(&mut out, &[9u8; 64]); // leaf signature
        let mut exts = Vec::new();
        if s.last_resort {
            exts.extend_from_slice(&EXTENSION_LAST_RESORT.to_be_bytes());
            opaque(&mut exts, &[]);
        }
        opaque(&mut out, &exts);
        opaque(&mut out, &[10u8; 64]); // signature
        out
    }

    /// Appends an RFC 9420 `opaque<V>`.
    pub fn opaque(out: &mut Vec<u8>, data: &[u8]) {
        let n = data.len();
        if n < 1 << 6 {
            out.push(n as u8);
        } else if n < 1 << 14 {
            out.extend_from_slice(&((n as u16) | 0x4000).to_be_bytes());
        } else {
            out.extend_from_slice(&((n as u32) | 0x8000_0000).to_be_bytes());
        }
        out.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::build::{Synthetic, key_package_message, key_package_message_with_credential};
    use super::*;
    use proptest::prelude::*;

    fn sample(last_resort: bool) -> Synthetic {
        Synthetic {
            cipher_suite: CIPHERSUITE_X25519_AES128GCM_SHA256_ED25519,
            signature_key: vec![1; 32],
            identity: b"alice".to_vec(),
            not_before: 1,
            not_after: 2,
            last_resort,
        }
    }

    #[test]
    fn parses_synthetic_key_package() {
        let info = parse_key_package_message(&key_package_message(&sample(true))).unwrap();
        assert_eq!(info.signature_key, vec![1; 32]);
        assert_eq!(info.identity.as_deref(), Some(&b"alice"[..]));
        assert!(info.last_resort);
        let info = parse_key_package_message(&key_package_message(&sample(false))).unwrap();
        assert!(!info.last_resort);
    }

    #[test]
    fn rejects_every_truncation_and_trailing_bytes() {
        let bytes = key_package_message(&sample(false));
        for n in 0..bytes.len() {
            assert!(
                parse_key_package_message(&bytes[..n]).is_err(),
                "prefix {n}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            parse_key_package_message(&long),
            Err(KeyPackageError::TrailingBytes(1))
        );
    }

    #[test]
    fn rejects_other_wire_formats() {
        let mut bytes = key_package_message(&sample(false));
        bytes[3] = 1; // public_message
        assert_eq!(
            parse_key_package_message(&bytes),
            Err(KeyPackageError::NotAKeyPackage(1))
        );
    }

    #[test]
    fn parses_ting_certificate_credentials() {
        let bytes = key_package_message_with_credential(
            &sample(false),
            CREDENTIAL_TING_CERTIFICATE,
            b"cert",
        );
        let info = parse_key_package_message(&bytes).unwrap();
        assert_eq!(info.credential_type, CREDENTIAL_TING_CERTIFICATE);
        assert_eq!(info.certificate.as_deref(), Some(&b"cert"[..]));
        assert_eq!(info.identity, None);
        assert_eq!(info.signature_key, vec![1; 32]);
        for n in 0..bytes.len() {
            assert!(
                parse_key_package_message(&bytes[..n]).is_err(),
                "prefix {n}"
            );
        }
        let basic = parse_key_package_message(&key_package_message(&sample(false))).unwrap();
        assert_eq!(
            (basic.credential_type, basic.certificate),
            (CREDENTIAL_BASIC, None)
        );
    }

    #[test]
    fn rejects_empty_certificates_and_unknown_credential_types() {
        let empty =
            key_package_message_with_credential(&sample(false), CREDENTIAL_TING_CERTIFICATE, b"");
        assert_eq!(
            parse_key_package_message(&empty),
            Err(KeyPackageError::InvalidLength("certificate"))
        );
        for other in [0u16, 3, 0xEFFF, 0xF001, 0xFFFF] {
            let bytes = key_package_message_with_credential(&sample(false), other, b"x");
            assert_eq!(
                parse_key_package_message(&bytes),
                Err(KeyPackageError::UnknownCredentialType(other)),
                "{other:#06x}"
            );
        }
    }

    proptest! {
        #[test]
        fn ting_certificate_round_trip(cert in proptest::collection::vec(any::<u8>(), 1..20000),
                                       sig in proptest::collection::vec(any::<u8>(), 1..100)) {
            let s = Synthetic { signature_key: sig.clone(), ..sample(true) };
            let bytes = key_package_message_with_credential(&s, CREDENTIAL_TING_CERTIFICATE, &cert);
            let info = parse_key_package_message(&bytes).unwrap();
            prop_assert_eq!(info.certificate, Some(cert));
            prop_assert_eq!(info.signature_key, sig);
            prop_assert!(info.last_resort);
        }

        #[test]
        fn round_trip(sig in proptest::collection::vec(any::<u8>(), 1..100),
                      id in proptest::collection::vec(any::<u8>(), 0..20000),
                      suite: u16, nb: u64, na: u64, lr: bool) {
            let s = Synthetic { cipher_suite: suite, signature_key: sig.clone(), identity: id.clone(),
                                not_before: nb, not_after: na, last_resort: lr };
            let info = parse_key_package_message(&key_package_message(&s)).unwrap();
            prop_assert_eq!(info.signature_key, sig);
            prop_assert_eq!(info.identity, Some(id));
            prop_assert_eq!((info.cipher_suite, info.not_before, info.not_after, info.last_resort),
                            (suite, nb, na, lr));
        }

        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_key_package_message(&bytes);
        }
    }
}
