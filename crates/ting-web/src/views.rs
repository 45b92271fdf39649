//! The JavaScript-facing shapes of ting-e2ee's values, as plain serde types.
//!
//! These are pure Rust (no `JsValue`), so they are unit-tested natively; the bindings turn them
//! into JS objects with `serde-wasm-bindgen`. Conventions:
//!
//! - field names are camelCase;
//! - identifiers and hashes (device keys, message ids, key package references, fingerprints) are
//!   lower-case hex strings, so they can be compared with `===` and used as map keys;
//! - MLS messages, welcomes, key packages, frames and other opaque blobs are `Uint8Array`
//!   (`serde_bytes` fields);
//! - an [`EnvelopeView`] is JSON-compatible throughout (all its bytes are hex), so a decrypted
//!   message can be stored or posted as is;
//! - epochs, sizes and leaf indices are numbers (all stay far below 2^53).

use serde::{Deserialize, Serialize};
use ting_e2ee::{
    Body, CommitBundle, DecryptedFrame, Envelope, FileRef, Joined, KeyPackageInfo, Member,
    MembershipChange, MessageId, ProposalKind, Received, SafetyNumber, hex,
};

use crate::error::{WebError, WebResult};
use crate::trust_views::{IdentityAlertView, alerts};

/// A group member (`Member`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// Leaf index in the ratchet tree.
    pub leaf_index: u32,
    /// User id from the credential.
    pub user_id: String,
    /// Device signature key, hex.
    pub device_key: String,
    /// The device id its certificate names.
    pub device_id: String,
    /// The master identity key that certified the device, hex.
    pub identity_key: String,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            leaf_index: m.leaf_index,
            user_id: m.user_id.clone(),
            device_key: m.device_key.to_hex(),
            device_id: m.device_id.clone(),
            identity_key: m.identity_key.to_hex(),
        }
    }
}

fn members(list: &[Member]) -> Vec<MemberView> {
    list.iter().map(MemberView::from).collect()
}

/// A member whose device key changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceKeyChangeView {
    /// The member after the change.
    pub member: MemberView,
    /// The previous device key, hex.
    pub old_device_key: String,
}

/// Who joined, left, or changed device key (`MembershipChange`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeView {
    /// Devices added.
    pub added: Vec<MemberView>,
    /// Devices removed.
    pub removed: Vec<MemberView>,
    /// Devices whose signature key changed.
    pub device_key_changes: Vec<DeviceKeyChangeView>,
}

impl From<&MembershipChange> for ChangeView {
    fn from(c: &MembershipChange) -> Self {
        Self {
            added: members(&c.added),
            removed: members(&c.removed),
            device_key_changes: c
                .device_key_changes
                .iter()
                .map(|d| DeviceKeyChangeView {
                    member: MemberView::from(&d.member),
                    old_device_key: d.old_device_key.to_hex(),
                })
                .collect(),
        }
    }
}

/// A pending commit to send (`CommitBundle`): `{ commit, welcome, epoch, change }`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitView {
    /// The commit `MLSMessage`.
    #[serde(with = "serde_bytes")]
    pub commit: Vec<u8>,
    /// The welcome `MLSMessage` for added devices, or `null`.
    #[serde(with = "serde_bytes")]
    pub welcome: Option<Vec<u8>>,
    /// The epoch the commit was created in.
    pub epoch: u64,
    /// What merging it will change.
    pub change: ChangeView,
}

impl From<CommitBundle> for CommitView {
    fn from(b: CommitBundle) -> Self {
        Self {
            change: ChangeView::from(&b.change),
            commit: b.commit,
            welcome: b.welcome,
            epoch: b.epoch,
        }
    }
}

/// The result of joining from a welcome (`Joined`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedView {
    /// The group id's bytes.
    #[serde(with = "serde_bytes")]
    pub group_id: Vec<u8>,
    /// Current epoch.
    pub epoch: u64,
    /// Who added us.
    pub added_by: MemberView,
    /// All members.
    pub members: Vec<MemberView>,
    /// Identity changes seen among the members, to show.
    pub alerts: Vec<IdentityAlertView>,
}

impl From<&Joined> for JoinedView {
    fn from(j: &Joined) -> Self {
        Self {
            group_id: j.group_id.as_bytes().to_vec(),
            epoch: j.epoch,
            added_by: MemberView::from(&j.added_by),
            members: members(&j.members),
            alerts: alerts(&j.alerts),
        }
    }
}

/// A validated key package (`KeyPackageInfo`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyPackageInfoView {
    /// User id of its credential.
    pub user_id: String,
    /// Device key, hex.
    pub device_key: String,
    /// RFC 9420 cipher suite value.
    pub ciphersuite: u16,
    /// Whether it is a last-resort key package.
    pub last_resort: bool,
    /// `KeyPackageRef`, hex.
    pub reference: String,
    /// The device id its certificate names.
    pub device_id: String,
    /// The master identity key that certified the device, hex.
    pub identity_key: String,
}

impl From<&KeyPackageInfo> for KeyPackageInfoView {
    fn from(k: &KeyPackageInfo) -> Self {
        Self {
            user_id: k.user_id.clone(),
            device_key: k.device_key.to_hex(),
            ciphersuite: k.ciphersuite.to_u16(),
            last_resort: k.last_resort,
            reference: hex::encode(&k.reference),
            device_id: k.device_id.clone(),
            identity_key: k.identity_key.to_hex(),
        }
    }
}

/// A file attachment reference (`FileRef`), JSON-compatible: `sha256`, `key` and
/// `noncePrefix` are hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileRefView {
    /// Blob store id of the ciphertext.
    pub blob_id: String,
    /// File name.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext, hex (64 digits).
    pub sha256: String,
    /// AES-256-GCM key, hex (64 digits).
    pub key: String,
    /// Nonce prefix, hex (16 digits).
    pub nonce_prefix: String,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
}

impl From<&FileRef> for FileRefView {
    fn from(f: &FileRef) -> Self {
        Self {
            blob_id: f.blob_id.clone(),
            name: f.name.clone(),
            media_type: f.media_type.clone(),
            size: f.size,
            sha256: hex::encode(&f.sha256),
            key: hex::encode(&f.key),
            nonce_prefix: hex::encode(&f.nonce_prefix),
            chunk_size: f.chunk_size,
        }
    }
}

impl TryFrom<&FileRefView> for FileRef {
    type Error = WebError;

    fn try_from(v: &FileRefView) -> WebResult<Self> {
        Ok(Self {
            blob_id: v.blob_id.clone(),
            name: v.name.clone(),
            media_type: v.media_type.clone(),
            size: v.size,
            sha256: hex_array(&v.sha256, "fileRef.sha256")?,
            key: hex_array(&v.key, "fileRef.key")?,
            nonce_prefix: hex_array(&v.nonce_prefix, "fileRef.noncePrefix")?,
            chunk_size: v.chunk_size,
        })
    }
}

/// What a chat message says (`Body`), tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum BodyView {
    /// `{ type: "text", body, replyTo? }`
    Text {
        /// The text.
        body: String,
        /// Message id replied to, hex.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// `{ type: "edit", target, body }`
    Edit {
        /// Edited message id, hex.
        target: String,
        /// New text.
        body: String,
    },
    /// `{ type: "reaction", target, emoji, remove }`
    Reaction {
        /// Message id, hex.
        target: String,
        /// The emoji.
        emoji: String,
        /// Withdraws the reaction.
        #[serde(default)]
        remove: bool,
    },
    /// `{ type: "file", file: FileRef }`
    File {
        /// The attachment.
        file: FileRefView,
    },
    /// `{ type: "roomName", name }`
    RoomName {
        /// New room name.
        name: String,
    },
    /// `{ type: "roomTopic", topic }`
    RoomTopic {
        /// New topic.
        topic: String,
    },
    /// `{ type: "redaction", target, reason? }`
    Redaction {
        /// Withdrawn message id, hex.
        target: String,
        /// Optional reason.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// `{ type: "readReceipt", upTo }`
    ReadReceipt {
        /// Last message read, hex.
        up_to: String,
    },
    /// `{ type: "unknown", kind, payload }`: a kind from a newer client; `payload` hex.
    Unknown {
        /// Kind number.
        kind: u16,
        /// Undecoded body, hex.
        payload: String,
    },
}

/// A chat message (`Envelope`): `{ id, body }`. `id` (32 hex digits) may be omitted when
/// encrypting; a fresh random one is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvelopeView {
    /// Message id, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The content.
    pub body: BodyView,
}

fn hex_array<const N: usize>(s: &str, what: &str) -> WebResult<[u8; N]> {
    hex::decode(s)
        .and_then(|v| <[u8; N]>::try_from(v).ok())
        .ok_or_else(|| WebError::invalid_argument(format!("{what} must be {} hex digits", 2 * N)))
}

fn message_id(s: &str, what: &str) -> WebResult<MessageId> {
    hex_array(s, what).map(MessageId)
}

impl From<&Envelope> for EnvelopeView {
    fn from(e: &Envelope) -> Self {
        let id = |m: &MessageId| m.to_hex();
        let body = match &e.body {
            Body::Text { body, reply_to } => BodyView::Text {
                body: body.clone(),
                reply_to: reply_to.as_ref().map(id),
            },
            Body::Edit { target, body } => BodyView::Edit {
                target: id(target),
                body: body.clone(),
            },
            Body::Reaction {
                target,
                emoji,
                remove,
            } => BodyView::Reaction {
                target: id(target),
                emoji: emoji.clone(),
                remove: *remove,
            },
            Body::File(f) => BodyView::File {
                file: FileRefView::from(f),
            },
            Body::RoomName { name } => BodyView::RoomName { name: name.clone() },
            Body::RoomTopic { topic } => BodyView::RoomTopic {
                topic: topic.clone(),
            },
            Body::Redaction { target, reason } => BodyView::Redaction {
                target: id(target),
                reason: reason.clone(),
            },
            Body::ReadReceipt { up_to } => BodyView::ReadReceipt { up_to: id(up_to) },
            Body::Unknown { kind, payload } => BodyView::Unknown {
                kind: *kind,
                payload: hex::encode(payload),
            },
            // `Body` is non-exhaustive; a kind added to ting-e2ee before ting-web learns it is
            // shown as unknown, with its encoded envelope so nothing is lost.
            _ => BodyView::Unknown {
                kind: 0,
                payload: hex::encode(&e.encode()),
            },
        };
        Self {
            id: Some(e.id.to_hex()),
            body,
        }
    }
}

impl TryFrom<&EnvelopeView> for Envelope {
    type Error = WebError;

    fn try_from(v: &EnvelopeView) -> WebResult<Self> {
        let body = match &v.body {
            BodyView::Text { body, reply_to } => Body::Text {
                body: body.clone(),
                reply_to: reply_to
                    .as_deref()
                    .map(|r| message_id(r, "body.replyTo"))
                    .transpose()?,
            },
            BodyView::Edit { target, body } => Body::Edit {
                target: message_id(target, "body.target")?,
                body: body.clone(),
            },
            BodyView::Reaction {
                target,
                emoji,
                remove,
            } => Body::Reaction {
                target: message_id(target, "body.target")?,
                emoji: emoji.clone(),
                remove: *remove,
            },
            BodyView::File { file } => Body::File(FileRef::try_from(file)?),
            BodyView::RoomName { name } => Body::RoomName { name: name.clone() },
            BodyView::RoomTopic { topic } => Body::RoomTopic {
                topic: topic.clone(),
            },
            BodyView::Redaction { target, reason } => Body::Redaction {
                target: message_id(target, "body.target")?,
                reason: reason.clone(),
            },
            BodyView::ReadReceipt { up_to } => Body::ReadReceipt {
                up_to: message_id(up_to, "body.upTo")?,
            },
            BodyView::Unknown { kind, payload } => Body::Unknown {
                kind: *kind,
                payload: hex::decode(payload)
                    .ok_or_else(|| WebError::invalid_argument("body.payload must be hex"))?,
            },
        };
        match &v.id {
            Some(id) => Ok(Envelope {
                id: message_id(id, "id")?,
                body,
            }),
            None => Ok(Envelope::new(body)?),
        }
    }
}

/// What [`ting_e2ee::Client::handle_message`] produced, tagged by `type`:
/// `"message"`, `"commit"`, `"proposal"` or `"ownMessage"`.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ReceivedView {
    /// A chat message.
    Message {
        /// Epoch it was sent in.
        epoch: u64,
        /// Authenticated sender.
        sender: MemberView,
        /// The message.
        envelope: EnvelopeView,
        /// The key log position the sender carried (`{ size, root }`), or `null`.
        log_position: Option<crate::keylog::PositionView>,
    },
    /// Another member's commit, merged.
    Commit {
        /// Epoch the group is in now.
        epoch: u64,
        /// Who committed.
        committer: MemberView,
        /// What changed.
        change: ChangeView,
        /// `true` if it removed this client (the group is gone locally).
        removed_self: bool,
        /// Identity changes the commit brought, to show.
        alerts: Vec<IdentityAlertView>,
    },
    /// A proposal, queued until committed.
    Proposal {
        /// Its epoch.
        epoch: u64,
        /// Who proposed.
        sender: MemberView,
        /// `"remove"`, `"add"`, `"update"` or `"other"`.
        proposal: &'static str,
        /// The member to remove or add, for those kinds.
        #[serde(skip_serializing_if = "Option::is_none")]
        member: Option<MemberView>,
    },
    /// Our own message echoed back (unreadable by design).
    OwnMessage {
        /// Epoch it was sent in.
        epoch: u64,
    },
}

impl From<&Received> for ReceivedView {
    fn from(r: &Received) -> Self {
        match r {
            Received::Message(m) => Self::Message {
                epoch: m.epoch,
                sender: MemberView::from(&m.sender),
                envelope: EnvelopeView::from(&m.envelope),
                log_position: m
                    .log_position
                    .as_ref()
                    .map(crate::keylog::PositionView::from),
            },
            Received::Commit(c) => Self::Commit {
                epoch: c.epoch,
                committer: MemberView::from(&c.committer),
                change: ChangeView::from(&c.change),
                removed_self: c.removed_self,
                alerts: alerts(&c.alerts),
            },
            Received::Proposal(p) => {
                let (proposal, member) = match &p.kind {
                    ProposalKind::Remove { member } => ("remove", Some(MemberView::from(member))),
                    ProposalKind::Add { member } => ("add", Some(MemberView::from(member))),
                    ProposalKind::Update => ("update", None),
                    _ => ("other", None),
                };
                Self::Proposal {
                    epoch: p.epoch,
                    sender: MemberView::from(&p.sender),
                    proposal,
                    member,
                }
            }
            Received::OwnMessage { epoch, .. } => Self::OwnMessage { epoch: *epoch },
            // `Received` is non-exhaustive: report an outcome this build does not know as an
            // echo without content rather than failing.
            _ => Self::OwnMessage { epoch: 0 },
        }
    }
}

/// A decrypted media frame (`DecryptedFrame`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameView {
    /// Sender's leaf index.
    pub sender_leaf: u32,
    /// MLS epoch of the keys used.
    pub epoch: u64,
    /// Sender's key id context (session and stream).
    pub context: u64,
    /// The plaintext frame.
    #[serde(with = "serde_bytes")]
    pub payload: Vec<u8>,
}

impl From<DecryptedFrame> for FrameView {
    fn from(f: DecryptedFrame) -> Self {
        Self {
            sender_leaf: f.sender_leaf,
            epoch: f.epoch,
            context: f.context,
            payload: f.payload,
        }
    }
}

/// A safety number between this user and another (`SafetyNumber`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetyNumberView {
    /// All 60 digits.
    pub digits: String,
    /// The digits in groups of five.
    pub groups: Vec<String>,
    /// Human display form.
    pub display: String,
    /// Bytes to encode in a QR code.
    #[serde(with = "serde_bytes")]
    pub qr_payload: Vec<u8>,
    /// This user's fingerprint digits.
    pub local: String,
    /// The other user's fingerprint digits.
    pub remote: String,
}

impl From<&SafetyNumber> for SafetyNumberView {
    fn from(s: &SafetyNumber) -> Self {
        Self {
            digits: s.digits(),
            groups: s.groups(),
            display: s.display(),
            qr_payload: s.qr_payload(),
            local: s.local().digits(),
            remote: s.remote().digits(),
        }
    }
}

/// The result of finishing a file encryption: the final ciphertext chunk and the `FileRef` to
/// send (inside an encrypted chat message) once the ciphertext is uploaded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFinishView {
    /// The final ciphertext chunk (append it to everything `update` returned).
    #[serde(with = "serde_bytes")]
    pub chunk: Vec<u8>,
    /// The attachment reference.
    pub file_ref: FileRefView,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str) -> EnvelopeView {
        let view: EnvelopeView = serde_json::from_str(json).unwrap();
        let env = Envelope::try_from(&view).unwrap();
        let back = EnvelopeView::from(&Envelope::decode(&env.encode()).unwrap());
        if view.id.is_some() {
            assert_eq!(back, view);
        }
        back
    }

    #[test]
    fn envelopes_round_trip_through_json() {
        let id = "00112233445566778899aabbccddeeff";
        for body in [
            r#"{"type":"text","body":"hi","replyTo":"00112233445566778899aabbccddeeff"}"#,
            r#"{"type":"text","body":"hi"}"#,
            r#"{"type":"edit","target":"00112233445566778899aabbccddeeff","body":"x"}"#,
            r#"{"type":"reaction","target":"00112233445566778899aabbccddeeff","emoji":"+1","remove":false}"#,
            r#"{"type":"roomName","name":"n"}"#,
            r#"{"type":"roomTopic","topic":"t"}"#,
            r#"{"type":"redaction","target":"00112233445566778899aabbccddeeff","reason":"oops"}"#,
            r#"{"type":"readReceipt","upTo":"00112233445566778899aabbccddeeff"}"#,
            r#"{"type":"unknown","kind":99,"payload":"0102"}"#,
        ] {
            round_trip(&format!(r#"{{"id":"{id}","body":{body}}}"#));
        }
        let file = format!(
            r#"{{"id":"{id}","body":{{"type":"file","file":{{"blobId":"b","name":"a.png","mediaType":"image/png","size":3,"sha256":"{}","key":"{}","noncePrefix":"0001020304050607","chunkSize":65536}}}}}}"#,
            "ab".repeat(32),
            "cd".repeat(32)
        );
        round_trip(&file);
    }

    #[test]
    fn missing_id_is_generated_and_bad_hex_is_refused() {
        let back = round_trip(r#"{"body":{"type":"text","body":"hi"}}"#);
        assert_eq!(back.id.unwrap().len(), 32);
        let bad: EnvelopeView =
            serde_json::from_str(r#"{"id":"zz","body":{"type":"text","body":"hi"}}"#).unwrap();
        let err = Envelope::try_from(&bad).unwrap_err();
        assert_eq!(err.code(), "invalid_argument");
        assert!(serde_json::from_str::<EnvelopeView>(r#"{"body":{"type":"nope"}}"#).is_err());
    }

    #[test]
    fn output_shapes_are_camel_case_and_tagged() {
        let env = Envelope::text("hi").unwrap();
        let json = serde_json::to_value(EnvelopeView::from(&env)).unwrap();
        assert_eq!(json["body"]["type"], "text");
        assert_eq!(json["body"]["body"], "hi");
        assert!(json["body"].get("replyTo").is_none());
    }
}
