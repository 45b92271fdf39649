//! The cipher suite allow-list (R4).
//!
//! Every key package, welcome and group is checked against a [`CipherSuitePolicy`] before any
//! other processing; a suite outside the list is refused with
//! [`Error::UnsupportedCiphersuite`]. The first suite of the list is the one new groups and key
//! packages use. Adding a post-quantum hybrid suite later means: enable it in openmls (the
//! `draft-ietf-mls-pq-ciphersuites` feature provides X-Wing suites), add its registry value to
//! [`CipherSuite::IMPLEMENTED`], give it an SFrame mapping in `CipherSuite::sframe_suite`, and
//! ship a policy that lists it first (and, once all devices have upgraded, alone).

use std::fmt;

use openmls::prelude::Ciphersuite;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An MLS cipher suite, by its RFC 9420 registry value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CipherSuite(u16);

impl CipherSuite {
    /// `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519` (0x0001): Ting's default.
    pub const MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519: Self = Self(0x0001);
    /// `MLS_128_DHKEMP256_AES128GCM_SHA256_P256` (0x0002).
    pub const MLS_128_DHKEMP256_AES128GCM_SHA256_P256: Self = Self(0x0002);
    /// `MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519` (0x0003).
    pub const MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519: Self = Self(0x0003);

    /// Suites this build can run (crypto provider + SFrame mapping). A policy may only list
    /// these.
    pub const IMPLEMENTED: &'static [CipherSuite] = &[
        Self::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        Self::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
        Self::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
    ];

    /// Wraps a registry value (any value; whether it is usable is the policy's business).
    pub const fn from_u16(value: u16) -> Self {
        Self(value)
    }

    /// The registry value.
    pub const fn to_u16(self) -> u16 {
        self.0
    }

    /// The RFC 9420 name, or `"unknown"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            0x0001 => "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
            0x0002 => "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
            0x0003 => "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
            0x0004 => "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448",
            0x0005 => "MLS_256_DHKEMP521_AES256GCM_SHA512_P521",
            0x0006 => "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448",
            0x0007 => "MLS_256_DHKEMP384_AES256GCM_SHA384_P384",
            _ => "unknown",
        }
    }

    pub(crate) fn to_openmls(self) -> Result<Ciphersuite> {
        Ciphersuite::try_from(self.0).map_err(|_| Error::UnsupportedCiphersuite {
            suite: self.0,
            allowed: Vec::new(),
        })
    }

    pub(crate) fn from_openmls(suite: Ciphersuite) -> Self {
        Self(u16::from(suite))
    }

    /// The SFrame (RFC 9605) cipher suite used for media in groups of this MLS suite: the
    /// 128-bit MLS suites map to `AES_128_GCM_SHA256_128` (0x0004).
    pub(crate) fn sframe_suite(self) -> Result<::sframe::CipherSuite> {
        match self.0 {
            0x0001..=0x0003 => Ok(::sframe::CipherSuite::AesGcm128Sha256),
            other => Err(Error::UnsupportedCiphersuite {
                suite: other,
                allowed: Vec::new(),
            }),
        }
    }
}

impl fmt::Debug for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:04x})", self.name(), self.0)
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The ordered allow-list of MLS cipher suites. The first entry is used for new groups and key
/// packages; any entry is accepted from peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CipherSuitePolicy {
    allowed: Vec<CipherSuite>,
}

impl Default for CipherSuitePolicy {
    /// Only `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`.
    fn default() -> Self {
        Self {
            allowed: vec![CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519],
        }
    }
}

impl CipherSuitePolicy {
    /// A policy allowing exactly `allowed`, in order of preference. Fails if the list is empty,
    /// has duplicates, or names a suite this build does not implement.
    pub fn new(allowed: Vec<CipherSuite>) -> Result<Self> {
        if allowed.is_empty() {
            return Err(Error::InvalidArgument(
                "cipher suite policy must allow at least one suite",
            ));
        }
        for (i, suite) in allowed.iter().enumerate() {
            if !CipherSuite::IMPLEMENTED.contains(suite) {
                return Err(Error::UnsupportedCiphersuite {
                    suite: suite.0,
                    allowed: CipherSuite::IMPLEMENTED.iter().map(|s| s.0).collect(),
                });
            }
            if allowed[..i].contains(suite) {
                return Err(Error::InvalidArgument(
                    "cipher suite policy lists a suite twice",
                ));
            }
        }
        Ok(Self { allowed })
    }

    /// The suite for new groups and key packages.
    pub fn preferred(&self) -> CipherSuite {
        self.allowed[0]
    }

    /// All allowed suites, preferred first.
    pub fn allowed(&self) -> &[CipherSuite] {
        &self.allowed
    }

    /// Whether `suite` is allowed.
    pub fn allows(&self, suite: CipherSuite) -> bool {
        self.allowed.contains(&suite)
    }

    /// `Ok` if `suite` is allowed, else [`Error::UnsupportedCiphersuite`].
    pub fn check(&self, suite: CipherSuite) -> Result<()> {
        if self.allows(suite) {
            Ok(())
        } else {
            Err(Error::UnsupportedCiphersuite {
                suite: suite.0,
                allowed: self.allowed.iter().map(|s| s.0).collect(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_allows_only_x25519_aes128() {
        let p = CipherSuitePolicy::default();
        assert!(p.allows(CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519));
        assert!(!p.allows(CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256));
        match p.check(CipherSuite::from_u16(0x0007)) {
            Err(Error::UnsupportedCiphersuite { suite, allowed }) => {
                assert_eq!(suite, 7);
                assert_eq!(allowed, vec![1]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn policy_refuses_empty_duplicate_and_unimplemented() {
        assert!(CipherSuitePolicy::new(vec![]).is_err());
        let s = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
        assert!(CipherSuitePolicy::new(vec![s, s]).is_err());
        assert!(CipherSuitePolicy::new(vec![CipherSuite::from_u16(0x0004)]).is_err());
        assert!(CipherSuitePolicy::new(vec![s]).is_ok());
    }
}
