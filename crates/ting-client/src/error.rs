//! The client's one error type.

use ting_proto::ErrorCode;

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an API error.
    #[error("{message} ({code})", code = code.as_str())]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable code.
        code: ErrorCode,
        /// Server's explanation.
        message: String,
        /// With `stale_epoch`.
        current_epoch: Option<u64>,
        /// With `duplicate_message` / `offset_mismatch`.
        position: Option<u64>,
    },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach the server: {0}")]
    Transport(String),
    /// The server sent something this client does not understand.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// End-to-end encryption refused something (tampering, wrong epoch, unknown sender, …).
    #[error("encryption: {0}")]
    Crypto(#[from] ting_e2ee::Error),
    /// Local state could not be read or written.
    #[error("local state: {0}")]
    Storage(String),
    /// The server's word contradicts what the cryptography proves (e.g. a message claims a
    /// device that did not sign it): shown to the user as a warning.
    #[error("verification failed: {0}")]
    Verification(String),
    /// The key log contradicts what this device accepted before (a rollback or a fork): the
    /// server shows this device another log than before.
    #[error("key log conflicts with what this device saw: {0}")]
    LogConflict(String),
    /// The caller asked for something impossible (unknown room, not logged in, …).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The API error code, if this is an API error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::Transport(e.to_string())
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;
