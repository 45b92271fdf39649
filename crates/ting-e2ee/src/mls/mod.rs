//! MLS (RFC 9420) groups on openmls: key packages, group life cycle, commits and incoming
//! messages. Everything here is an `impl` block on [`crate::Client`] plus the data types the
//! operations return.
//!
//! All messages that leave the client are TLS-serialized `MLSMessage`s (RFC 9420 §6):
//! key packages (`wire_format = mls_key_package`), welcomes (`mls_welcome`) and commits,
//! proposals and application messages (`mls_private_message`: handshake messages are
//! encrypted too, so the server sees only group id, epoch and content type).

pub mod commit;
pub mod group;
pub mod incoming;
pub mod key_package;

use std::fmt;

use openmls::prelude::{
    MlsMessageBodyIn, MlsMessageIn, ProcessMessageError, ProtocolMessage,
    tls_codec::Deserialize as _,
};
use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::identity::{DeviceKey, Member};

/// Longest accepted group id, in bytes.
pub const MAX_GROUP_ID_LEN: usize = 255;

/// A group id: opaque bytes chosen by whoever creates the group (Ting uses the room id).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId(Vec<u8>);

impl GroupId {
    /// Wraps group id bytes; 1..=255 bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self> {
        let bytes = bytes.into();
        if bytes.is_empty() || bytes.len() > MAX_GROUP_ID_LEN {
            return Err(Error::InvalidArgument("group id must be 1..=255 bytes"));
        }
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn to_openmls(&self) -> openmls::prelude::GroupId {
        openmls::prelude::GroupId::from_slice(&self.0)
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) if !s.chars().any(char::is_control) => write!(f, "GroupId({s:?})"),
            _ => write!(f, "GroupId({})", crate::hex::encode(&self.0)),
        }
    }
}

/// A commit created by this client, to be sent to the delivery service.
///
/// The group keeps it as *pending*: call [`crate::Client::merge_pending_commit`] once the
/// delivery service accepted it, or [`crate::Client::clear_pending_commit`] if it was refused
/// (another member's commit won the epoch).
#[derive(Debug, Clone)]
pub struct CommitBundle {
    /// The commit: an `MLSMessage` for the existing members.
    pub commit: Vec<u8>,
    /// The welcome for added members (`MLSMessage`, carries the ratchet tree), if any.
    pub welcome: Option<Vec<u8>>,
    /// The epoch the commit was created in (the delivery service's slot).
    pub epoch: u64,
    /// What merging the commit will change.
    pub change: MembershipChange,
}

/// A member's device key changed (its leaf was updated with a new signature key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKeyChange {
    /// The member after the change.
    pub member: Member,
    /// The previous signature key.
    pub old_device_key: DeviceKey,
}

/// Who joined, who left, whose device key changed: to be shown in the UI (R6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipChange {
    /// Devices added.
    pub added: Vec<Member>,
    /// Devices removed (including ones that left).
    pub removed: Vec<Member>,
    /// Devices whose signature key changed.
    pub device_key_changes: Vec<DeviceKeyChange>,
}

impl MembershipChange {
    /// `true` if nobody joined or left and no device key changed (a plain key update).
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.device_key_changes.is_empty()
    }
}

/// The result of joining a group from a welcome.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The group joined.
    pub group_id: GroupId,
    /// Its current epoch.
    pub epoch: u64,
    /// The member who added us.
    pub added_by: Member,
    /// All members, ourselves included.
    pub members: Vec<Member>,
    /// Identity changes seen among the members (to show to the user).
    pub alerts: Vec<crate::trust::IdentityAlert>,
}

/// A decrypted chat message.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// The group.
    pub group_id: GroupId,
    /// The epoch it was sent in.
    pub epoch: u64,
    /// The authenticated sender.
    pub sender: Member,
    /// The content.
    pub envelope: Envelope,
    /// The key log position the sender carried (authenticated with the message).
    pub log_position: Option<crate::trust::LogPosition>,
}

/// Another member's commit, already applied to the local group.
#[derive(Debug, Clone)]
pub struct ReceivedCommit {
    /// The group.
    pub group_id: GroupId,
    /// The epoch the group is in now.
    pub epoch: u64,
    /// The member who committed.
    pub committer: Member,
    /// What changed.
    pub change: MembershipChange,
    /// `true` if this commit removed the local client: the group is gone from the client.
    pub removed_self: bool,
    /// Identity changes the commit brought (to show to the user).
    pub alerts: Vec<crate::trust::IdentityAlert>,
}

/// What a proposal asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProposalKind {
    /// Remove a member; `member == sender` means the sender leaves.
    Remove {
        /// The member to remove.
        member: Member,
    },
    /// Add a device.
    Add {
        /// The device to add (its `leaf_index` is `u32::MAX`: assigned only by the commit).
        member: Member,
    },
    /// The sender updates its own leaf.
    Update,
    /// Another proposal type.
    Other,
}

/// A proposal from another member, stored until someone commits it (see
/// [`crate::Client::commit_pending_proposals`]).
#[derive(Debug, Clone)]
pub struct ReceivedProposal {
    /// The group.
    pub group_id: GroupId,
    /// The epoch it belongs to.
    pub epoch: u64,
    /// Who proposed.
    pub sender: Member,
    /// What is proposed.
    pub kind: ProposalKind,
}

/// The outcome of [`crate::Client::handle_message`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Received {
    /// A chat message.
    Message(ReceivedMessage),
    /// A commit by another member, merged.
    Commit(ReceivedCommit),
    /// A proposal by another member, queued.
    Proposal(ReceivedProposal),
    /// A message this client sent itself, echoed back (its key was deleted after sending, so
    /// it cannot be read again; the caller knows its content already). An echo of this
    /// client's own pending commit is reported this way too: merge it with
    /// [`crate::Client::merge_pending_commit`] once the delivery service confirms.
    OwnMessage {
        /// The group.
        group_id: GroupId,
        /// The epoch it was sent in.
        epoch: u64,
    },
}

/// Parses an `MLSMessage` and returns it with its raw bytes checked for exact length.
pub(crate) fn parse_mls_message(bytes: &[u8], what: &'static str) -> Result<MlsMessageBodyIn> {
    let msg = MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| Error::Malformed { what })?;
    Ok(msg.extract())
}

/// Peeks at the group id and epoch of a protocol message.
pub(crate) fn protocol_message(body: MlsMessageBodyIn) -> Result<ProtocolMessage> {
    match body {
        MlsMessageBodyIn::PrivateMessage(m) => Ok(m.into()),
        MlsMessageBodyIn::PublicMessage(m) => Ok(m.into()),
        _ => Err(Error::Malformed {
            what: "group message (expected a private or public message)",
        }),
    }
}

/// Maps openmls's processing errors onto the crate's peer/misuse/internal split.
pub(crate) fn map_process_error<E: fmt::Debug + fmt::Display>(
    err: ProcessMessageError<E>,
) -> Error {
    use openmls::framing::errors::{MessageDecryptionError as D, SecretTreeError as S};
    use openmls::prelude::{StageCommitError as C, ValidationError as V};
    match err {
        ProcessMessageError::ValidationError(v) => match v {
            V::WrongGroupId => Error::WrongGroup,
            V::WrongEpoch | V::NoPastEpochData => Error::WrongEpoch {
                message_epoch: u64::MAX,
                group_epoch: u64::MAX,
            },
            V::UnknownMember | V::NonMemberApplicationMessage => Error::UnknownSender,
            V::InvalidSignature
            | V::InvalidMembershipTag
            | V::MissingMembershipTag
            | V::InvalidLeafNodeSignature => Error::Tampered {
                what: "MLS message",
            },
            V::UnableToDecrypt(d) => match d {
                D::AeadError => Error::Tampered {
                    what: "MLS message",
                },
                D::SecretTreeError(S::SecretReuseError | S::TooDistantInThePast) => {
                    Error::Replayed {
                        what: "MLS message",
                    }
                }
                D::SecretTreeError(S::IndexOutOfBounds) => Error::UnknownSender,
                D::MalformedContent | D::WrongWireFormat => Error::Malformed {
                    what: "MLS message content",
                },
                other => Error::Invalid {
                    what: "MLS message",
                    detail: other.to_string(),
                },
            },
            other => Error::Invalid {
                what: "MLS message",
                detail: other.to_string(),
            },
        },
        ProcessMessageError::InvalidCommit(c) => match c {
            C::ConfirmationTagMismatch | C::PathLeafNodeVerificationFailure => {
                Error::Tampered { what: "commit" }
            }
            C::EpochMismatch => Error::WrongEpoch {
                message_epoch: u64::MAX,
                group_epoch: u64::MAX,
            },
            other => Error::Invalid {
                what: "commit",
                detail: other.to_string(),
            },
        },
        ProcessMessageError::IncompatibleWireFormat => Error::Invalid {
            what: "MLS message",
            detail: "wire format not allowed by the group's policy (plaintext handshake?)"
                .to_owned(),
        },
        ProcessMessageError::GroupStateError(_) => Error::NotAMember,
        ProcessMessageError::LibraryError(e) => Error::internal("openmls", e),
        ProcessMessageError::StorageError(e) => Error::internal("storage", e),
        other => Error::Invalid {
            what: "MLS message",
            detail: other.to_string(),
        },
    }
}
