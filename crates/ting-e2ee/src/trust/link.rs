//! Linking a new device: only an existing device of the user can make it trusted.
//!
//! 1. The **new device** makes a [`Client::link_request`]: its user and device id, its MLS
//!    signature key, a one-time HPKE public key, an expiry and a nonce, signed with its
//!    device key. It posts the request to the server's rendezvous and shows a code —
//!    `rendezvous id . commitment` — as text and QR code ([`Client::link_code`]), where
//!    `commitment = SHA-256(LABEL_COMMITMENT || request)[..10]`.
//! 2. The **existing device** fetches the request by rendezvous id, checks it against the
//!    code the user typed or scanned ([`Client::link_preview`]): same commitment (so the
//!    server cannot swap the one-time key or the device key), same user, not expired,
//!    signature valid. The user confirms the device name and key fingerprint, and
//!    [`Client::link_approve`] seals to the one-time key: the master identity key and its
//!    signature on the new device's certificate. HPKE `info` binds the commitment, `aad` the
//!    rendezvous id.
//! 3. The **new device** opens it with [`Client::link_complete`], checks the certificate names
//!    itself, counter-signs it and forgets the one-time key: a replayed or second response
//!    cannot be opened.

use openmls_traits::OpenMlsProvider as _;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::types::{HpkeAeadType, HpkeCiphertext, HpkeConfig, HpkeKdfType, HpkeKemType};
use sha2::{Digest, Sha256};
use ting_trust::keys::verify_ed25519;
use ting_trust::{DeviceCertificate, MasterKey, SignatureScheme, UnsignedCertificate};
use zeroize::Zeroizing;

use crate::client::Client;
use crate::codec::{Reader, Writer};
use crate::error::{Error, Result};
use crate::identity::trust_scheme;

/// Signature label of link requests (by the new device's key).
pub const LABEL_REQUEST: &[u8] = b"ting link request v1\0";
/// Hash label of the commitment in the link code.
pub const LABEL_COMMITMENT: &[u8] = b"ting link commitment v1\0";
/// HPKE info label of link responses.
pub const LABEL_RESPONSE: &[u8] = b"ting link response v1\0";
/// Longest a link request may stay valid.
pub const MAX_LINK_TTL_MS: u64 = 15 * 60 * 1000;
const COMMITMENT_LEN: usize = 10;
const VERSION: u8 = 1;

fn hpke() -> HpkeConfig {
    HpkeConfig(
        HpkeKemType::DhKem25519,
        HpkeKdfType::HkdfSha256,
        HpkeAeadType::AesGcm128,
    )
}

fn link_err(reason: &'static str) -> Error {
    Error::Link { reason }
}

/// The one-time state of a device waiting to be linked (memory only).
pub(crate) struct PendingLink {
    hpke_private: Zeroizing<Vec<u8>>,
    request: Vec<u8>,
    device_id: Vec<u8>,
    expires_at_ms: u64,
    rendezvous_id: Option<String>,
}

/// A parsed, verified link request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LinkRequest {
    user_id: String,
    device_id: Vec<u8>,
    device_scheme: SignatureScheme,
    device_key: Vec<u8>,
    hpke_public: Vec<u8>,
    expires_at_ms: u64,
}

impl LinkRequest {
    fn tbs(&self, nonce: &[u8; 16]) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION);
        w.str(&self.user_id);
        w.bytes(&self.device_id);
        w.u16(self.device_scheme.0);
        w.bytes(&self.device_key);
        w.bytes(&self.hpke_public);
        w.u64(self.expires_at_ms);
        w.raw(nonce);
        w.into_bytes()
    }

    fn decode(
        bytes: &[u8],
        verify: impl Fn(SignatureScheme, &[u8], &[u8], &[u8]) -> bool,
    ) -> Result<Self> {
        let mut r = Reader::new(bytes, "link request");
        if r.u8()? != VERSION {
            return Err(r.malformed());
        }
        let req = LinkRequest {
            user_id: r.string()?,
            device_id: r.bytes()?.to_vec(),
            device_scheme: SignatureScheme(r.u16()?),
            device_key: r.bytes()?.to_vec(),
            hpke_public: r.bytes()?.to_vec(),
            expires_at_ms: r.u64()?,
        };
        let nonce: [u8; 16] = r.array()?;
        let sig = r.bytes()?.to_vec();
        r.finish()?;
        let mut msg = LABEL_REQUEST.to_vec();
        msg.extend_from_slice(&req.tbs(&nonce));
        let ok = if req.device_scheme == SignatureScheme::ED25519 {
            verify_ed25519(
                &req.device_key,
                LABEL_REQUEST,
                &req.tbs(&nonce),
                &sig,
                "link",
            )
            .is_ok()
        } else {
            verify(req.device_scheme, &msg, &req.device_key, &sig)
        };
        if !ok {
            return Err(link_err("the request's signature does not verify"));
        }
        Ok(req)
    }
}

/// What the approving device shows before the user confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    /// The new device's id.
    pub device_id: String,
    /// A short fingerprint of the new device's key, also shown on the new device.
    pub device_fingerprint: String,
    /// When the request expires (ms since the Unix epoch).
    pub expires_at_ms: u64,
}

/// A short, readable fingerprint of a device key: 4 groups of 4 hex digits of its SHA-256.
pub fn device_fingerprint(device_key: &[u8]) -> String {
    let d = Sha256::digest(device_key);
    d[..8]
        .chunks(2)
        .map(|c| format!("{:02X}{:02X}", c[0], c[1]))
        .collect::<Vec<_>>()
        .join(" ")
}

fn commitment(request: &[u8]) -> [u8; COMMITMENT_LEN] {
    let mut h = Sha256::new();
    h.update(LABEL_COMMITMENT);
    h.update(request);
    let d = h.finalize();
    let mut out = [0; COMMITMENT_LEN];
    out.copy_from_slice(&d[..COMMITMENT_LEN]);
    out
}

/// Splits a link code into rendezvous id and commitment.
fn parse_code(code: &str) -> Result<(String, [u8; COMMITMENT_LEN])> {
    let code: String = code.trim().chars().filter(|c| !c.is_whitespace()).collect();
    let (rid, commit) = code
        .rsplit_once('.')
        .ok_or(link_err("the code is not a link code"))?;
    if rid.is_empty() || rid.len() > 128 {
        return Err(link_err("the code is not a link code"));
    }
    let bytes = crate::hex::decode(&commit.to_ascii_lowercase())
        .filter(|b| b.len() == COMMITMENT_LEN)
        .ok_or(link_err("the code is not a link code"))?;
    let mut c = [0; COMMITMENT_LEN];
    c.copy_from_slice(&bytes);
    Ok((rid.to_ascii_lowercase(), c))
}

/// The rendezvous id inside a link code (to fetch the request from the server).
pub fn rendezvous_of(code: &str) -> Result<String> {
    Ok(parse_code(code)?.0)
}

impl Client {
    /// Starts linking this (new, uncertified) device as `device_id`: returns the request to
    /// post to the server. Valid for `ttl_ms` (at most 15 minutes) from `now_ms`.
    pub fn link_request(&mut self, device_id: &[u8], now_ms: u64, ttl_ms: u64) -> Result<Vec<u8>> {
        if self.identity.certificate.is_some() {
            return Err(Error::InvalidArgument("this device is already certified"));
        }
        if ttl_ms == 0 || ttl_ms > MAX_LINK_TTL_MS {
            return Err(Error::InvalidArgument("link requests live 1 ms ..= 15 min"));
        }
        let ikm = Zeroizing::new(self.provider.random::<32>()?);
        let kp = self
            .provider
            .crypto()
            .derive_hpke_keypair(hpke(), ikm.as_slice())
            .map_err(|e| Error::internal("HPKE key", format!("{e:?}")))?;
        let nonce: [u8; 16] = self.provider.random()?;
        let req = LinkRequest {
            user_id: self.user_id.clone(),
            device_id: device_id.to_vec(),
            device_scheme: trust_scheme(self.signer.signature_scheme()),
            device_key: self.signer.to_public_vec(),
            hpke_public: kp.public.clone(),
            expires_at_ms: now_ms.saturating_add(ttl_ms),
        };
        let tbs = req.tbs(&nonce);
        let mut msg = LABEL_REQUEST.to_vec();
        msg.extend_from_slice(&tbs);
        let sig = openmls_traits::signatures::Signer::sign(&self.signer, &msg)
            .map_err(|e| Error::internal("link signature", format!("{e:?}")))?;
        let mut w = Writer::new();
        w.raw(&tbs);
        w.bytes(&sig);
        let request = w.into_bytes();
        self.pending_link = Some(PendingLink {
            hpke_private: Zeroizing::new(kp.private.to_vec()),
            request: request.clone(),
            device_id: device_id.to_vec(),
            expires_at_ms: req.expires_at_ms,
            rendezvous_id: None,
        });
        Ok(request)
    }

    /// The code this new device shows (text and QR) once the server assigned `rendezvous_id`.
    pub fn link_code(&mut self, rendezvous_id: &str) -> Result<String> {
        let pending = self
            .pending_link
            .as_mut()
            .ok_or(Error::InvalidArgument("no link request pending"))?;
        if rendezvous_id.is_empty()
            || rendezvous_id.len() > 128
            || rendezvous_id.contains('.')
            || rendezvous_id.chars().any(char::is_whitespace)
        {
            return Err(Error::InvalidArgument(
                "rendezvous id must be 1..=128 plain characters",
            ));
        }
        pending.rendezvous_id = Some(rendezvous_id.to_ascii_lowercase());
        Ok(format!(
            "{}.{}",
            rendezvous_id.to_ascii_lowercase(),
            crate::hex::encode(&commitment(&pending.request))
        ))
    }

    /// The fingerprint of this device's key, shown next to the link code.
    pub fn own_device_fingerprint(&self) -> String {
        device_fingerprint(&self.signer.to_public_vec())
    }

    fn checked_request(
        &self,
        code: &str,
        request: &[u8],
        now_ms: u64,
    ) -> Result<(LinkRequest, [u8; COMMITMENT_LEN])> {
        let (_, expected) = parse_code(code)?;
        if commitment(request) != expected {
            return Err(link_err(
                "the request the server returned is not the one the new device shows (swapped?)",
            ));
        }
        let crypto = self.provider.crypto();
        let req = LinkRequest::decode(request, |scheme, msg, key, sig| {
            openmls_traits::types::SignatureScheme::try_from(scheme.0)
                .is_ok_and(|s| crypto.verify_signature(s, msg, key, sig).is_ok())
        })?;
        if req.user_id != self.user_id {
            return Err(link_err("the new device belongs to another user"));
        }
        if now_ms >= req.expires_at_ms {
            return Err(link_err("the link code has expired"));
        }
        if req.expires_at_ms > now_ms.saturating_add(MAX_LINK_TTL_MS) {
            return Err(link_err("the request claims an expiry too far ahead"));
        }
        if req.device_key == self.signer.to_public_vec() {
            return Err(link_err("a device cannot link itself"));
        }
        Ok((req, expected))
    }

    /// Checks a request fetched from the server against the code the user entered; returns
    /// what to show for confirmation.
    pub fn link_preview(&self, code: &str, request: &[u8], now_ms: u64) -> Result<LinkPreview> {
        let (req, _) = self.checked_request(code, request, now_ms)?;
        Ok(LinkPreview {
            device_id: String::from_utf8_lossy(&req.device_id).into_owned(),
            device_fingerprint: device_fingerprint(&req.device_key),
            expires_at_ms: req.expires_at_ms,
        })
    }

    /// Approves the new device (after the user confirmed the preview): returns the sealed
    /// response to post to the rendezvous. Needs the master key.
    pub fn link_approve(&self, code: &str, request: &[u8], now_ms: u64) -> Result<Vec<u8>> {
        let master = self.identity.master.as_ref().ok_or(Error::NoMasterKey)?;
        let (req, commit) = self.checked_request(code, request, now_ms)?;
        let (rendezvous, _) = parse_code(code)?;
        let body = UnsignedCertificate {
            user_id: req.user_id.clone(),
            device_id: req.device_id.clone(),
            device_scheme: req.device_scheme,
            device_key: req.device_key.clone(),
            master_key: master.public(),
            issued_at_ms: now_ms,
        };
        let master_sig = body.sign_master(master).map_err(Error::from_trust)?;
        let secret = Zeroizing::new(master.secret_bytes());
        let mut w = Writer::new();
        w.u8(VERSION);
        w.raw(secret.as_slice());
        w.u64(now_ms);
        w.raw(&master_sig);
        let plaintext = Zeroizing::new(w.into_bytes());
        let mut info = LABEL_RESPONSE.to_vec();
        info.extend_from_slice(&commit);
        let ct = self
            .provider
            .crypto()
            .hpke_seal(
                hpke(),
                &req.hpke_public,
                &info,
                rendezvous.as_bytes(),
                &plaintext,
            )
            .map_err(|e| Error::internal("HPKE seal", format!("{e:?}")))?;
        let mut w = Writer::new();
        w.bytes(ct.kem_output.as_slice());
        w.bytes(ct.ciphertext.as_slice());
        Ok(w.into_bytes())
    }

    /// Opens the approving device's response on the new device: takes the master key, checks
    /// and counter-signs the certificate. The one-time key is forgotten on success, so the
    /// same or another response cannot be opened again. Returns the certificate to publish.
    pub fn link_complete(&mut self, response: &[u8], now_ms: u64) -> Result<DeviceCertificate> {
        let pending = self.pending_link.as_ref().ok_or(link_err(
            "no link request is pending on this device (replayed response?)",
        ))?;
        if now_ms >= pending.expires_at_ms {
            self.pending_link = None;
            return Err(link_err(
                "the link request expired before the response arrived",
            ));
        }
        let rendezvous = pending
            .rendezvous_id
            .clone()
            .ok_or(Error::InvalidArgument("show the link code first"))?;
        let mut r = Reader::new(response, "link response");
        let kem_output = r.bytes()?.to_vec();
        let ciphertext = r.bytes()?.to_vec();
        r.finish()?;
        let mut info = LABEL_RESPONSE.to_vec();
        info.extend_from_slice(&commitment(&pending.request));
        let ct = HpkeCiphertext {
            kem_output: kem_output.into(),
            ciphertext: ciphertext.into(),
        };
        let plaintext = Zeroizing::new(
            self.provider
                .crypto()
                .hpke_open(
                    hpke(),
                    &ct,
                    &pending.hpke_private,
                    &info,
                    rendezvous.as_bytes(),
                )
                .map_err(|_| {
                    link_err("the response cannot be opened with this device's one-time key")
                })?,
        );
        let mut r = Reader::new(&plaintext, "link response");
        if r.u8()? != VERSION {
            return Err(r.malformed());
        }
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(r.array()?);
        let issued_at_ms = r.u64()?;
        let master_sig: [u8; 64] = r.array()?;
        r.finish()?;
        let master = MasterKey::from_secret(&secret);
        let body = self.own_certificate_body(&master, &pending.device_id, issued_at_ms);
        let cert = self.countersign(body, master_sig)?;
        self.pending_link = None;
        self.identity.master = Some(master);
        self.identity.certificate = Some(cert.clone());
        Ok(cert)
    }
}

#[cfg(test)]
mod tests;
