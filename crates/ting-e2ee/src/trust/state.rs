//! The identity and trust part of the persisted client state.
//!
//! ```text
//! identity = opt_bytes(master secret, 32) || opt_bytes(own certificate)
//! pins     = varint(n) || n × (user_id || identity key || flags u8 || opt_bytes(previous key))
//!            flags: bit 0 verified, bit 1 change pending, bit 2 previous was verified
//! revoked  = varint(n) || n × device key
//! ```

use ting_trust::{DeviceCertificate, MasterKey};
use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
use crate::error::Result;
use crate::identity::IdentityKey;
use crate::trust::{OwnIdentity, PendingChange, Pin, TrustStore};

pub(crate) fn write(w: &mut Writer, identity: &OwnIdentity, trust: &TrustStore) {
    let secret = identity
        .master
        .as_ref()
        .map(|m| Zeroizing::new(m.secret_bytes()));
    w.opt_bytes(secret.as_ref().map(|s| s.as_slice()));
    let cert = identity.certificate.as_ref().map(DeviceCertificate::encode);
    w.opt_bytes(cert.as_deref());
    w.varint(trust.pins.len() as u64);
    for (user, pin) in &trust.pins {
        w.str(user);
        w.bytes(pin.identity_key.as_bytes());
        let mut flags = u8::from(pin.verified);
        if let Some(c) = &pin.change {
            flags |= 2;
            flags |= u8::from(c.previous_verified) << 2;
        }
        w.u8(flags);
        w.opt_bytes(pin.change.as_ref().map(|c| c.previous.as_bytes()));
    }
    w.varint(trust.revoked.len() as u64);
    for key in &trust.revoked {
        w.bytes(key);
    }
}

fn identity_key(bytes: &[u8]) -> Result<IdentityKey> {
    let key =
        ting_trust::MasterPublicKey::from_bytes(bytes).map_err(crate::error::Error::from_trust)?;
    Ok(IdentityKey::from_master(&key))
}

pub(crate) fn read(r: &mut Reader<'_>) -> Result<(OwnIdentity, TrustStore)> {
    let master = match r.opt_bytes()? {
        Some(b) => {
            let arr: Zeroizing<[u8; 32]> = Zeroizing::new(b.try_into().map_err(|_| r.malformed())?);
            Some(MasterKey::from_secret(&arr))
        }
        None => None,
    };
    let certificate = match r.opt_bytes()? {
        Some(b) => Some(DeviceCertificate::decode(b).map_err(|_| r.malformed())?),
        None => None,
    };
    let mut trust = TrustStore::default();
    let n = r.count(3)?;
    for _ in 0..n {
        let user = r.string()?;
        let key = identity_key(r.bytes()?).map_err(|_| r.malformed())?;
        let flags = r.u8()?;
        let previous = r.opt_bytes()?;
        let change = match (flags & 2 != 0, previous) {
            (true, Some(p)) => Some(PendingChange {
                previous: identity_key(p).map_err(|_| r.malformed())?,
                previous_verified: flags & 4 != 0,
            }),
            (false, None) => None,
            _ => return Err(r.malformed()),
        };
        trust.pins.insert(
            user,
            Pin {
                identity_key: key,
                verified: flags & 1 != 0,
                change,
            },
        );
    }
    let n = r.count(1)?;
    for _ in 0..n {
        trust.revoked.insert(r.bytes()?.to_vec());
    }
    Ok((
        OwnIdentity {
            master,
            certificate,
        },
        trust,
    ))
}
