//! Errors as JavaScript sees them.
//!
//! Every failing binding throws a JS `Error` whose `name` is `"TingError"`, with two extra
//! properties:
//!
//! - `code`: a stable snake_case string, one per [`ting_e2ee::Error`] variant (see
//!   [`WebError::code`]) plus the binding's own `invalid_argument` for unusable JS input. UI code
//!   switches on it; the message is for humans and may change.
//! - `fault`: `"peer"` (the input came from someone else and is bad: drop it), `"misuse"` (the
//!   calling code is wrong) or `"internal"` (a bug).

use std::fmt;

use ting_e2ee::{Error, Fault};

/// A failure of a binding, before it becomes a JS exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebError {
    code: &'static str,
    fault: &'static str,
    message: String,
}

impl WebError {
    /// An error of the binding layer itself: the JS caller passed something unusable.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self {
            code: "invalid_argument",
            fault: "misuse",
            message: message.into(),
        }
    }

    /// The server's key log does not prove what it claims: a bad signature or inclusion
    /// proof, a rollback or a fork of what this device saw before (`code: "key_log"`).
    pub fn key_log(message: impl Into<String>) -> Self {
        Self {
            code: "key_log",
            fault: "peer",
            message: message.into(),
        }
    }

    /// A bug in the binding layer (a value that should always convert did not).
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: "internal",
            fault: "internal",
            message: message.into(),
        }
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// `"peer"`, `"misuse"` or `"internal"`.
    pub fn fault(&self) -> &'static str {
        self.fault
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for WebError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for WebError {}

impl From<Error> for WebError {
    fn from(err: Error) -> Self {
        let code = match &err {
            Error::Malformed { .. } => "malformed",
            Error::Tampered { .. } => "tampered",
            Error::Replayed { .. } => "replayed",
            Error::WrongEpoch { .. } => "wrong_epoch",
            Error::UnknownEpoch => "unknown_epoch",
            Error::UnknownSender => "unknown_sender",
            Error::WrongGroup => "wrong_group",
            Error::UnsupportedCiphersuite { .. } => "unsupported_ciphersuite",
            Error::InvalidCredential { .. } => "invalid_credential",
            Error::Invalid { .. } => "invalid",
            Error::FileIntegrity { .. } => "file_integrity",
            Error::UnknownGroup => "unknown_group",
            Error::GroupExists => "group_exists",
            Error::PendingCommit => "pending_commit",
            Error::NoPendingCommit => "no_pending_commit",
            Error::UnknownMember => "unknown_member",
            Error::NotAMember => "not_a_member",
            Error::IdentityChanged { .. } => "identity_changed",
            Error::RevokedDevice { .. } => "revoked_device",
            Error::Link { .. } => "link",
            Error::NotCertified => "not_certified",
            Error::NoMasterKey => "no_master_key",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::StateDecryption => "state_decryption",
            Error::StateVersion { .. } => "state_version",
            Error::StateFormat => "state_format",
            Error::FileStream(_) => "file_stream",
            Error::Internal(_) => "internal",
            // `Error` is non-exhaustive: a variant added later maps here until it gets a code.
            _ => "unknown",
        };
        let fault = match err.fault() {
            Fault::Peer => "peer",
            Fault::Misuse => "misuse",
            Fault::Internal => "internal",
        };
        Self {
            code,
            fault,
            message: err.to_string(),
        }
    }
}

/// Shorthand used by the pure-Rust half of the bindings.
pub type WebResult<T> = Result<T, WebError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case() {
        let cases = [
            (Error::UnknownGroup, "unknown_group", "misuse"),
            (Error::Tampered { what: "frame" }, "tampered", "peer"),
            (
                Error::WrongEpoch {
                    message_epoch: 1,
                    group_epoch: 2,
                },
                "wrong_epoch",
                "peer",
            ),
            (Error::Internal("x".into()), "internal", "internal"),
        ];
        for (err, code, fault) in cases {
            let msg = err.to_string();
            let web = WebError::from(err);
            assert_eq!(web.code(), code);
            assert_eq!(web.fault(), fault);
            assert_eq!(web.message(), msg);
        }
        let arg = WebError::invalid_argument("bad hex");
        assert_eq!((arg.code(), arg.fault()), ("invalid_argument", "misuse"));
    }
}
