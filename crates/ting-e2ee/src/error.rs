//! The crate's one error type.

use thiserror::Error as ThisError;

/// Who is to blame for an [`Error`].
///
/// A client shows [`Fault::Peer`] errors as "a message could not be read" (and may report the
/// sender), treats [`Fault::Misuse`] as a bug in the embedding code, and [`Fault::Internal`] as a
/// bug in this crate or its dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The input came from another party (a group member, the server, a file) and is invalid:
    /// malformed, tampered with, replayed, from the wrong epoch or group, or from an unknown
    /// sender. Never a reason to crash; drop the input.
    Peer,
    /// The caller used the API wrongly: an unknown group, a commit while another is pending, a
    /// wrong storage key, an oversized message.
    Misuse,
    /// Something that should not happen: a bug or a failing dependency.
    Internal,
}

/// Everything that can go wrong in `ting-e2ee`.
///
/// Variants are grouped by [`Fault`]; call [`Error::fault`] to tell them apart.
#[derive(Debug, ThisError)]
#[non_exhaustive]
pub enum Error {
    // ---- the peer's fault -------------------------------------------------------------------
    /// Bytes that should be an MLS message, an envelope, a media frame, a file chunk or a key
    /// package could not be parsed.
    #[error("malformed {what}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
    },
    /// The input failed authentication: an AEAD tag, a signature, a membership or confirmation
    /// tag did not verify. Someone modified it, or it was not meant for us.
    #[error("{what} failed authentication (tampered or not for us)")]
    Tampered {
        /// What failed to authenticate.
        what: &'static str,
    },
    /// The message or frame was already processed (or is older than the reordering window
    /// accepts). MLS deletes each message key after use, so a second decryption fails.
    #[error("{what} was already processed (replay) or is too old")]
    Replayed {
        /// What was replayed.
        what: &'static str,
    },
    /// The message belongs to another epoch than the group's current one.
    #[error("message is for epoch {message_epoch}, group is at epoch {group_epoch}")]
    WrongEpoch {
        /// Epoch the message claims.
        message_epoch: u64,
        /// Epoch the local group is in.
        group_epoch: u64,
    },
    /// A media frame's key id names an epoch we hold no keys for (too old, beyond the grace
    /// window, or not yet known).
    #[error("no media keys for the epoch of this frame")]
    UnknownEpoch,
    /// The sender is not (or no longer) a member of the group in that epoch.
    #[error("sender is not a member of the group")]
    UnknownSender,
    /// The message names another group than the one it was delivered for.
    #[error("message belongs to another group")]
    WrongGroup,
    /// A key package, welcome or group uses a cipher suite the [`crate::CipherSuitePolicy`]
    /// does not allow.
    #[error("cipher suite 0x{suite:04x} is not allowed by the policy (allowed: {allowed:04x?})")]
    UnsupportedCiphersuite {
        /// The offered suite (RFC 9420 registry value).
        suite: u16,
        /// The suites the local policy allows.
        allowed: Vec<u16>,
    },
    /// A credential is not a valid Ting device certificate (signed by the user's master key,
    /// counter-signed by the device, for the leaf's own signature key), or a commit tried to
    /// change a member's user id.
    #[error("invalid credential: {reason}")]
    InvalidCredential {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A commit, proposal, welcome or key package is well-formed and authentic but violates the
    /// MLS rules (RFC 9420 validation), so it was refused and the group state is unchanged.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was refused.
        what: &'static str,
        /// The validation failure, as reported by the MLS library.
        detail: String,
    },
    /// A member's master identity key differs from the one pinned for that user (an identity
    /// reset, or a server presenting keys of its own). Adding that user's devices is refused
    /// until the change is acknowledged ([`crate::Client::acknowledge_identity_change`]).
    #[error(
        "{user_id}'s identity key changed: acknowledge the change before adding or messaging them"
    )]
    IdentityChanged {
        /// The user whose master key changed.
        user_id: String,
    },
    /// A device was certified by its user's master key and later revoked.
    #[error("device of {user_id} was revoked by its owner")]
    RevokedDevice {
        /// The owner.
        user_id: String,
    },
    /// A linking message was replayed, swapped, expired or does not match the code shown.
    #[error("device linking refused: {reason}")]
    Link {
        /// Why.
        reason: &'static str,
    },
    /// A recovery key does not open the backup, or the backup holds another identity key than
    /// the key log shows.
    #[error("recovery refused: {reason}")]
    Recovery {
        /// Why.
        reason: &'static str,
    },
    /// A file's plaintext does not match the size or SHA-256 announced in its `FileRef`, or its
    /// ciphertext stream ended early or has extra bytes.
    #[error("file integrity check failed: {reason}")]
    FileIntegrity {
        /// What did not match.
        reason: &'static str,
    },

    // ---- API misuse -------------------------------------------------------------------------
    /// No group with this id is known to the client.
    #[error("unknown group")]
    UnknownGroup,
    /// A group with this id already exists locally.
    #[error("group already exists")]
    GroupExists,
    /// The group has a pending commit; merge or clear it first (the delivery service accepts one
    /// commit per epoch).
    #[error("group has a pending commit: merge or clear it first")]
    PendingCommit,
    /// No pending commit to merge.
    #[error("group has no pending commit")]
    NoPendingCommit,
    /// The named member, user or leaf is not in the group.
    #[error("no such member in the group")]
    UnknownMember,
    /// The local client is no longer a member of this group.
    #[error("this client is not an active member of the group")]
    NotAMember,
    /// An argument is out of range (empty list, oversized input, bad length).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The encrypted state blob could not be opened: wrong storage key, or the blob was
    /// modified or truncated.
    #[error("client state could not be decrypted: wrong storage key, or the blob is corrupted")]
    StateDecryption,
    /// The state blob has a format version this build does not understand.
    #[error("client state format version {found} is not supported (this build reads {supported})")]
    StateVersion {
        /// Version found in the blob.
        found: u16,
        /// Version this build writes and reads.
        supported: u16,
    },
    /// The state blob is not a Ting client state at all.
    #[error("not a ting-e2ee client state blob")]
    StateFormat,
    /// This device has no certificate from its user's master key yet (link it from another
    /// device, or create the user's identity on the first device).
    #[error("this device is not certified by its user's identity key yet")]
    NotCertified,
    /// The operation needs the user's master identity key, which this device does not hold.
    #[error("this device does not hold the user's master identity key")]
    NoMasterKey,
    /// The file stream was used after it finished, or fed more data than announced.
    #[error("file stream misuse: {0}")]
    FileStream(&'static str),

    // ---- internal ---------------------------------------------------------------------------
    /// An error inside this crate or a dependency that input cannot cause. Please report it.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Who is to blame for this error.
    pub fn fault(&self) -> Fault {
        match self {
            Error::Malformed { .. }
            | Error::Tampered { .. }
            | Error::Replayed { .. }
            | Error::WrongEpoch { .. }
            | Error::UnknownEpoch
            | Error::UnknownSender
            | Error::WrongGroup
            | Error::UnsupportedCiphersuite { .. }
            | Error::InvalidCredential { .. }
            | Error::Invalid { .. }
            | Error::IdentityChanged { .. }
            | Error::RevokedDevice { .. }
            | Error::Link { .. }
            | Error::Recovery { .. }
            | Error::FileIntegrity { .. } => Fault::Peer,
            Error::UnknownGroup
            | Error::GroupExists
            | Error::PendingCommit
            | Error::NoPendingCommit
            | Error::UnknownMember
            | Error::NotAMember
            | Error::InvalidArgument(_)
            | Error::StateDecryption
            | Error::StateVersion { .. }
            | Error::StateFormat
            | Error::NotCertified
            | Error::NoMasterKey
            | Error::FileStream(_) => Fault::Misuse,
            Error::Internal(_) => Fault::Internal,
        }
    }

    pub(crate) fn from_trust(err: ting_trust::Error) -> Self {
        match err {
            ting_trust::Error::InvalidArgument(a) => Error::InvalidArgument(a),
            ting_trust::Error::Malformed { .. } => Error::InvalidCredential {
                reason: "malformed device certificate",
            },
            ting_trust::Error::BadSignature { .. } => Error::InvalidCredential {
                reason: "device certificate signature does not verify",
            },
            other => Error::Invalid {
                what: "identity statement",
                detail: other.to_string(),
            },
        }
    }

    pub(crate) fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        Error::Internal(format!("{context}: {err}"))
    }
}

/// Shorthand for `Result<T, ting_e2ee::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
