//! The crate's one error type.

/// Why a statement, proof or checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bytes that should be a statement, entry, proof or checkpoint could not be parsed.
    #[error("malformed {what}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
    },
    /// A signature did not verify.
    #[error("bad signature on {what}")]
    BadSignature {
        /// Which signature.
        what: &'static str,
    },
    /// Well-formed and authentic, but not acceptable (wrong user, wrong key, expired...).
    #[error("refused {what}: {reason}")]
    Refused {
        /// What was refused.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A Merkle inclusion or consistency proof did not verify.
    #[error("bad {what} proof")]
    BadProof {
        /// Which kind of proof.
        what: &'static str,
    },
    /// A record of the key log was refused; `index` is its position in the log.
    #[error("log entry {index}: {reason}")]
    LogEntry {
        /// The record's index in the log.
        index: u64,
        /// Why it was refused.
        reason: Box<Error>,
    },
    /// A checkpoint contradicts one accepted before: the log was rolled back or forked (the
    /// server shows this client another log than before).
    #[error("{reason}")]
    Inconsistent {
        /// What contradicts what (starts with `rollback` or `fork`).
        reason: String,
    },
    /// A caller passed an invalid argument.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn refused(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Refused {
            what,
            reason: reason.into(),
        }
    }
}
