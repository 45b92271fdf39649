//! Recovery: the user's master identity key, encrypted under a recovery key the user writes
//! down, so a user who lost every device can certify a new one without starting over.
//!
//! The recovery key is 32 random bytes shown as 52 Crockford base32 digits in groups of four.
//! The backup (stored on the server, which cannot open it) is
//! `version || nonce(12) || AES-256-GCM(key, master secret)` with
//! `key = HKDF-SHA256(salt = LABEL, ikm = recovery key, info = user id)` and the label and
//! user id as associated data. Recovering checks that the key it opens is the master key the
//! key log shows for the user: an old backup, or one of another user, is refused.

use openmls_traits::OpenMlsProvider as _;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::types::{AeadType, HashType};
use ting_trust::{DeviceCertificate, MasterKey, MasterPublicKey};
use zeroize::Zeroizing;

use crate::client::Client;
use crate::error::{Error, Result};

/// Key derivation label and associated data prefix of recovery backups.
pub const LABEL_RECOVERY: &[u8] = b"ting recovery v1\0";
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new recovery key and the backup it opens.
pub struct RecoveryKit {
    /// What the user writes down (52 digits in groups of four).
    pub key: Zeroizing<String>,
    /// The encrypted master key, to store on the server.
    pub backup: Vec<u8>,
}

fn refused(reason: &'static str) -> Error {
    Error::Recovery { reason }
}

/// Crockford base32 of 32 bytes, grouped by four.
fn encode_key(bytes: &[u8; 32]) -> Zeroizing<String> {
    let mut digits = Zeroizing::new(Vec::with_capacity(52));
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            digits.push(ALPHABET[((acc >> bits) & 31) as usize]);
        }
        acc &= (1 << bits) - 1;
    }
    digits.push(ALPHABET[((acc << (5 - bits)) & 31) as usize]);
    let mut out = Zeroizing::new(String::with_capacity(64));
    for (i, chunk) in digits.chunks(4).enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.extend(chunk.iter().map(|&c| c as char));
    }
    out
}

/// Parses a recovery key as typed: case, spaces and dashes do not matter; I and L read as 1,
/// O as 0.
fn decode_key(text: &str) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    let (mut acc, mut bits, mut n, mut digits) = (0u32, 0u32, 0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-') {
        let c = match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        };
        let v = ALPHABET
            .iter()
            .position(|&a| a as char == c)
            .ok_or(refused(
                "the recovery key has a character that is not a digit of it",
            ))?;
        digits += 1;
        acc = (acc << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            if n < 32 {
                out[n] = (acc >> bits) as u8;
            }
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    if digits != 52 || acc != 0 {
        return Err(refused("a recovery key has 52 digits"));
    }
    Ok(out)
}

impl Client {
    fn recovery_aead_key(&self, secret: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>> {
        let crypto = self.provider.crypto();
        let prk = crypto
            .hkdf_extract(HashType::Sha2_256, LABEL_RECOVERY, secret)
            .map_err(|e| Error::internal("recovery key derivation", format!("{e:?}")))?;
        let okm = crypto
            .hkdf_expand(
                HashType::Sha2_256,
                prk.as_slice(),
                self.user_id.as_bytes(),
                32,
            )
            .map_err(|e| Error::internal("recovery key derivation", format!("{e:?}")))?;
        Ok(Zeroizing::new(okm.as_slice().to_vec()))
    }

    fn recovery_aad(&self) -> Vec<u8> {
        [LABEL_RECOVERY, self.user_id.as_bytes()].concat()
    }

    /// Makes a new recovery key and the backup of the master key that only it opens (needs
    /// the master key). Show the key once; store the backup on the server (replacing any
    /// older one, whose key then opens nothing current).
    pub fn create_recovery(&self) -> Result<RecoveryKit> {
        let master = self.identity.master.as_ref().ok_or(Error::NoMasterKey)?;
        let secret = Zeroizing::new(self.provider.random::<32>()?);
        let nonce = self.provider.random::<NONCE_LEN>()?;
        let key = self.recovery_aead_key(&secret)?;
        let plaintext = Zeroizing::new(master.secret_bytes());
        let ct = self
            .provider
            .crypto()
            .aead_encrypt(
                AeadType::Aes256Gcm,
                &key,
                plaintext.as_slice(),
                &nonce,
                &self.recovery_aad(),
            )
            .map_err(|e| Error::internal("recovery backup", format!("{e:?}")))?;
        let mut backup = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        backup.push(VERSION);
        backup.extend_from_slice(&nonce);
        backup.extend_from_slice(&ct);
        Ok(RecoveryKit {
            key: encode_key(&secret),
            backup,
        })
    }

    /// On a new device with no identity: opens `backup` with the recovery key the user typed,
    /// checks that it holds `expected` (the master key the verified key log shows for this
    /// user) and certifies this device as `device_id` under it. Returns the certificate to
    /// publish.
    pub fn recover(
        &mut self,
        recovery_key: &str,
        backup: &[u8],
        expected: &MasterPublicKey,
        device_id: &[u8],
        now_ms: u64,
    ) -> Result<DeviceCertificate> {
        if self.identity.master.is_some() || self.identity.certificate.is_some() {
            return Err(Error::InvalidArgument(
                "this device already has an identity",
            ));
        }
        let secret = decode_key(recovery_key)?;
        if backup.len() < 1 + NONCE_LEN || backup[0] != VERSION {
            return Err(Error::Malformed {
                what: "recovery backup",
            });
        }
        let (nonce, ct) = backup[1..].split_at(NONCE_LEN);
        let key = self.recovery_aead_key(&secret)?;
        let plaintext = Zeroizing::new(
            self.provider
                .crypto()
                .aead_decrypt(AeadType::Aes256Gcm, &key, ct, nonce, &self.recovery_aad())
                .map_err(|_| refused("this recovery key does not open the backup"))?,
        );
        let master_secret: Zeroizing<[u8; 32]> = Zeroizing::new(
            plaintext
                .as_slice()
                .try_into()
                .map_err(|_| refused("the backup does not hold a key"))?,
        );
        let master = MasterKey::from_secret(&master_secret);
        if master.public() != *expected {
            return Err(refused(
                "the backup holds another identity key than the key log shows (an old backup?)",
            ));
        }
        let body = self.own_certificate_body(&master, device_id, now_ms);
        let master_sig = body.sign_master(&master).map_err(Error::from_trust)?;
        let cert = self.countersign(body, master_sig)?;
        self.identity.master = Some(master);
        self.identity.certificate = Some(cert.clone());
        Ok(cert)
    }
}

#[cfg(test)]
mod tests;
