//! The JavaScript-facing shapes of identities, pins, alerts, device linking and key log
//! records (same conventions as [`crate::views`]: camelCase fields, keys as lower-case hex,
//! encodings as `Uint8Array`).

use serde::Serialize;
use ting_e2ee::ting_trust::{Entry, IdentityKind};
use ting_e2ee::{IdentityAlert, IdentityKey, LinkPreview, NewIdentity, Pin, hex};

use crate::error::{WebError, WebResult};

/// An identity alert (`IdentityAlert`), tagged by `kind`: `"changed"` (another user's master
/// key changed) or `"ownIdentityReset"` (a device of this user with another master key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum IdentityAlertView {
    /// `{ kind: "changed", userId, previous, current, wasVerified }`
    Changed {
        /// The user.
        user_id: String,
        /// The key pinned before, hex.
        previous: String,
        /// The new key, hex.
        current: String,
        /// Sending is blocked until acknowledged.
        was_verified: bool,
    },
    /// `{ kind: "ownIdentityReset", current }`
    OwnIdentityReset {
        /// The foreign master key, hex.
        current: String,
    },
}

impl From<&IdentityAlert> for IdentityAlertView {
    fn from(a: &IdentityAlert) -> Self {
        match a {
            IdentityAlert::Changed {
                user_id,
                previous,
                current,
                was_verified,
            } => Self::Changed {
                user_id: user_id.clone(),
                previous: previous.to_hex(),
                current: current.to_hex(),
                was_verified: *was_verified,
            },
            IdentityAlert::OwnIdentityReset { current } => Self::OwnIdentityReset {
                current: current.to_hex(),
            },
        }
    }
}

/// Alerts as views.
pub(crate) fn alerts(list: &[IdentityAlert]) -> Vec<IdentityAlertView> {
    list.iter().map(IdentityAlertView::from).collect()
}

/// A pinned change not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingChangeView {
    /// The key pinned before, hex.
    pub previous: String,
    /// Whether it had been verified.
    pub previous_verified: bool,
}

/// What this device believes about another user's master key (`Pin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PinView {
    /// The user.
    pub user_id: String,
    /// The key in use, hex.
    pub identity_key: String,
    /// Whether the safety number was compared for this key.
    pub verified: bool,
    /// A change not yet acknowledged, or `null`.
    pub change: Option<PendingChangeView>,
    /// Sending to this user is blocked (a verified key changed).
    pub blocks_sending: bool,
}

impl PinView {
    /// The view of `user`'s pin.
    pub fn new(user: &str, pin: &Pin) -> Self {
        Self {
            user_id: user.to_owned(),
            identity_key: pin.identity_key.to_hex(),
            verified: pin.verified,
            change: pin.change.as_ref().map(|c| PendingChangeView {
                previous: c.previous.to_hex(),
                previous_verified: c.previous_verified,
            }),
            blocks_sending: pin.blocks_sending(),
        }
    }
}

/// A new (or reset) identity: the key log records to publish, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewIdentityView {
    /// The identity statement as a key log record (`Entry`): publish first.
    #[serde(with = "serde_bytes")]
    pub statement_record: Vec<u8>,
    /// This device's certificate as a key log record: publish second.
    #[serde(with = "serde_bytes")]
    pub certificate_record: Vec<u8>,
    /// The bare statement encoding.
    #[serde(with = "serde_bytes")]
    pub statement: Vec<u8>,
    /// The bare certificate encoding.
    #[serde(with = "serde_bytes")]
    pub certificate: Vec<u8>,
    /// The new master identity key, hex.
    pub identity_key: String,
}

impl From<NewIdentity> for NewIdentityView {
    fn from(n: NewIdentity) -> Self {
        let identity_key = IdentityKey::from_master(&n.statement.master_key).to_hex();
        Self {
            statement: n.statement.encode(),
            certificate: n.certificate.encode(),
            statement_record: Entry::Identity(n.statement).encode(),
            certificate_record: Entry::Device(n.certificate).encode(),
            identity_key,
        }
    }
}

/// What the approving device shows before the user confirms a link (`LinkPreview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkPreviewView {
    /// The new device's id (the server's id for it).
    pub device_id: String,
    /// Short fingerprint of its key, also shown on the new device.
    pub device_fingerprint: String,
    /// When the request expires, ms since the Unix epoch.
    pub expires_at_ms: u64,
}

impl From<&LinkPreview> for LinkPreviewView {
    fn from(p: &LinkPreview) -> Self {
        Self {
            device_id: p.device_id.clone(),
            device_fingerprint: p.device_fingerprint.clone(),
            expires_at_ms: p.expires_at_ms,
        }
    }
}

/// A key log record, parsed (signatures of statements and revocations verified while
/// parsing; certificates by their master signature). Tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyLogRecordView {
    /// `"identity"`, `"device"` or `"revocation"`.
    pub kind: &'static str,
    /// The user it is about.
    pub user_id: String,
    /// The master key that signed it, hex.
    pub identity_key: String,
    /// For identities: `"genesis"` or `"reset"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<&'static str>,
    /// For devices and revocations: the device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// For devices and revocations: the device key, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// For devices: the short fingerprint of the device key (as linking shows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_fingerprint: Option<String>,
    /// When it was signed, ms since the Unix epoch.
    pub at_ms: u64,
}

impl KeyLogRecordView {
    /// Parses and checks a record's signatures.
    pub fn parse(bytes: &[u8]) -> WebResult<Self> {
        let bad = |e: ting_e2ee::ting_trust::Error| {
            WebError::invalid_argument(format!("not a valid key log record: {e}"))
        };
        let entry = Entry::decode(bytes).map_err(bad)?;
        let identity_key = IdentityKey::from_master(&entry.master_key()).to_hex();
        let user_id = entry.user_id().to_owned();
        let device_text = |id: &[u8]| String::from_utf8_lossy(id).into_owned();
        Ok(match entry {
            Entry::Identity(s) => Self {
                kind: "identity",
                user_id,
                identity_key,
                identity: Some(match s.kind {
                    IdentityKind::Genesis => "genesis",
                    IdentityKind::Reset => "reset",
                }),
                device_id: None,
                device_key: None,
                device_fingerprint: None,
                at_ms: s.created_at_ms,
            },
            Entry::Device(c) => {
                c.verify_master().map_err(bad)?;
                Self {
                    kind: "device",
                    user_id,
                    identity_key,
                    identity: None,
                    device_id: Some(device_text(&c.body.device_id)),
                    device_key: Some(hex::encode(&c.body.device_key)),
                    device_fingerprint: Some(ting_e2ee::device_fingerprint(&c.body.device_key)),
                    at_ms: c.body.issued_at_ms,
                }
            }
            Entry::Revocation(r) => Self {
                kind: "revocation",
                user_id,
                identity_key,
                identity: None,
                device_id: Some(device_text(&r.device_id)),
                device_key: Some(hex::encode(&r.device_key)),
                device_fingerprint: None,
                at_ms: r.revoked_at_ms,
            },
        })
    }
}

/// An identity key from hex.
pub(crate) fn identity_key(hex_key: &str) -> WebResult<IdentityKey> {
    let bad = || WebError::invalid_argument("an identity key is 64 hex digits");
    let bytes = hex::decode(&hex_key.to_ascii_lowercase()).ok_or_else(bad)?;
    let key = ting_e2ee::ting_trust::MasterPublicKey::from_bytes(&bytes).map_err(|_| bad())?;
    Ok(IdentityKey::from_master(&key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ting_e2ee::ting_trust::MasterKey;

    #[test]
    fn alerts_are_tagged_camel_case_with_hex_keys() {
        let k = |b: u8| IdentityKey::from_master(&MasterKey::from_secret(&[b; 32]).public());
        let a = IdentityAlert::Changed {
            user_id: "bob".into(),
            previous: k(1),
            current: k(2),
            was_verified: true,
        };
        let json = serde_json::to_value(IdentityAlertView::from(&a)).unwrap();
        assert_eq!(json["kind"], "changed");
        assert_eq!(json["userId"], "bob");
        assert_eq!(json["wasVerified"], true);
        assert_eq!(json["current"], k(2).to_hex());
        assert_eq!(identity_key(&k(2).to_hex()).unwrap(), k(2));
        assert!(identity_key("00").is_err());
        let own = IdentityAlert::OwnIdentityReset { current: k(3) };
        let json = serde_json::to_value(IdentityAlertView::from(&own)).unwrap();
        assert_eq!(json["kind"], "ownIdentityReset");
    }

    #[test]
    fn key_log_records_parse() {
        let m = MasterKey::from_secret(&[7; 32]);
        let s = ting_e2ee::ting_trust::IdentityStatement::sign(&m, IdentityKind::Reset, "al", 5)
            .unwrap();
        let v = KeyLogRecordView::parse(&Entry::Identity(s).encode()).unwrap();
        assert_eq!(
            (v.kind, v.identity, v.at_ms),
            ("identity", Some("reset"), 5)
        );
        assert_eq!(v.user_id, "al");
        assert_eq!(
            v.identity_key,
            IdentityKey::from_master(&m.public()).to_hex()
        );
        assert!(KeyLogRecordView::parse(&[9, 9]).is_err());
    }
}
