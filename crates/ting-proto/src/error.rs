//! Stable error codes. Every error response of the API is an [`ErrorBody`]; clients branch on
//! [`ErrorCode`], never on the message text, which is for people.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. The string forms never change once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request body is not valid JSON or does not match the expected shape.
    InvalidJson,
    /// A field has a value that is not allowed (too long, wrong format, …).
    InvalidInput,
    /// The request's `Content-Type` is not one the endpoint accepts.
    UnsupportedMediaType,
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// No such route.
    NotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// No credentials were presented.
    Unauthenticated,
    /// The session token is unknown, expired or revoked.
    InvalidToken,
    /// Wrong username or password.
    InvalidCredentials,
    /// Too many attempts; retry later.
    RateLimited,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The named user does not exist.
    UnknownUser,
    /// The named device does not exist or belongs to someone else.
    UnknownDevice,
    /// The device has been revoked.
    DeviceRevoked,
    /// The bytes are not an acceptable MLS KeyPackage.
    InvalidKeyPackage,
    /// The signature key is not a 32-byte Ed25519 public key, or does not match the device.
    InvalidSignatureKey,
    /// A user with this name already exists.
    UsernameTaken,
    /// The first administrator has already been created.
    SetupAlreadyDone,
    /// The one-time setup token is wrong.
    InvalidSetupToken,
    /// The room does not exist or the caller is not a member.
    UnknownRoom,
    /// The message was built for an older epoch; process the newer commits, then retry.
    StaleEpoch,
    /// A message with this id is already stored (a resend or replay).
    DuplicateMessage,
    /// A commit's declared membership changes are not possible.
    InvalidCommit,
    /// The blob does not exist or the caller may not read it.
    UnknownBlob,
    /// The blob's upload has not finished.
    BlobIncomplete,
    /// An upload chunk does not start where the stored bytes end.
    OffsetMismatch,
    /// The server is shutting down or a dependency is unavailable; retry.
    Unavailable,
    /// Something went wrong on the server; the details are in its log, not here.
    Internal,
    /// The organisation's policy has this feature switched off.
    FeatureDisabled,
    /// The organisation's policy does not allow this caller or value (e.g. only administrators
    /// may create rooms, or a retention outside the policy's bounds).
    PolicyForbids,
    /// A policy document was refused; nothing was stored. The message gives the reason.
    InvalidPolicy,
    /// A meeting SDP offer or answer could not be parsed or negotiated.
    InvalidSdp,
    /// The device is not in this room's meeting (answer, offer or leave without a join).
    NotInMeeting,
    /// The meeting has no such track (publisher and media id).
    UnknownTrack,
    /// Bytes that should be a key log record (identity statement, device certificate or
    /// revocation) do not parse, or one of its signatures does not verify.
    InvalidStatement,
    /// A genesis identity statement for a user who already has an identity in the key log
    /// (start over with a reset statement instead).
    IdentityExists,
    /// The user has no identity in the key log yet: publish a genesis statement first.
    IdentityMissing,
    /// A certificate, revocation or KeyPackage credential does not match the caller's account,
    /// device, device key or current master key.
    CertificateMismatch,
    /// The device-link rendezvous does not exist (or belongs to someone else).
    UnknownLink,
    /// The device-link rendezvous has expired.
    LinkExpired,
    /// The device-link rendezvous has already been answered.
    LinkUsed,
    /// A cosignature is not from a witness this server is configured to accept.
    UnknownWitness,
    /// A cosigned note is malformed, does not verify, or is not for a checkpoint this server
    /// issued.
    InvalidCosignature,
    /// The caller is not an administrator: every `/api/v1/admin/…` route refuses others with it.
    AdminOnly,
    /// The account has been deactivated by an administrator: it cannot sign in, and others
    /// cannot add it to rooms.
    AccountDeactivated,
    /// The invitation or password-reset link does not exist or was withdrawn.
    UnknownInvitation,
    /// The invitation or password-reset link has expired.
    InvitationExpired,
    /// The invitation or password-reset link has already been used.
    InvitationUsed,
    /// The change would leave the server without an active administrator.
    LastAdmin,
}

impl ErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: &'static [ErrorCode] = &[
        Self::InvalidJson,
        Self::InvalidInput,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Unauthenticated,
        Self::InvalidToken,
        Self::InvalidCredentials,
        Self::RateLimited,
        Self::Forbidden,
        Self::UnknownUser,
        Self::UnknownDevice,
        Self::DeviceRevoked,
        Self::InvalidKeyPackage,
        Self::InvalidSignatureKey,
        Self::UsernameTaken,
        Self::SetupAlreadyDone,
        Self::InvalidSetupToken,
        Self::UnknownRoom,
        Self::StaleEpoch,
        Self::DuplicateMessage,
        Self::InvalidCommit,
        Self::UnknownBlob,
        Self::BlobIncomplete,
        Self::OffsetMismatch,
        Self::Unavailable,
        Self::Internal,
        Self::FeatureDisabled,
        Self::PolicyForbids,
        Self::InvalidPolicy,
        Self::InvalidSdp,
        Self::NotInMeeting,
        Self::UnknownTrack,
        Self::InvalidStatement,
        Self::IdentityExists,
        Self::IdentityMissing,
        Self::CertificateMismatch,
        Self::UnknownLink,
        Self::LinkExpired,
        Self::LinkUsed,
        Self::UnknownWitness,
        Self::InvalidCosignature,
        Self::AdminOnly,
        Self::AccountDeactivated,
        Self::UnknownInvitation,
        Self::InvitationExpired,
        Self::InvitationUsed,
        Self::LastAdmin,
    ];

    /// The stable string form, as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidInput => "invalid_input",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::RateLimited => "rate_limited",
            Self::Forbidden => "forbidden",
            Self::UnknownUser => "unknown_user",
            Self::UnknownDevice => "unknown_device",
            Self::DeviceRevoked => "device_revoked",
            Self::InvalidKeyPackage => "invalid_key_package",
            Self::InvalidSignatureKey => "invalid_signature_key",
            Self::UsernameTaken => "username_taken",
            Self::SetupAlreadyDone => "setup_already_done",
            Self::InvalidSetupToken => "invalid_setup_token",
            Self::UnknownRoom => "unknown_room",
            Self::StaleEpoch => "stale_epoch",
            Self::DuplicateMessage => "duplicate_message",
            Self::InvalidCommit => "invalid_commit",
            Self::UnknownBlob => "unknown_blob",
            Self::BlobIncomplete => "blob_incomplete",
            Self::OffsetMismatch => "offset_mismatch",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::FeatureDisabled => "feature_disabled",
            Self::PolicyForbids => "policy_forbids",
            Self::InvalidPolicy => "invalid_policy",
            Self::InvalidSdp => "invalid_sdp",
            Self::NotInMeeting => "not_in_meeting",
            Self::UnknownTrack => "unknown_track",
            Self::InvalidStatement => "invalid_statement",
            Self::IdentityExists => "identity_exists",
            Self::IdentityMissing => "identity_missing",
            Self::CertificateMismatch => "certificate_mismatch",
            Self::UnknownLink => "unknown_link",
            Self::LinkExpired => "link_expired",
            Self::LinkUsed => "link_used",
            Self::UnknownWitness => "unknown_witness",
            Self::InvalidCosignature => "invalid_cosignature",
            Self::AdminOnly => "admin_only",
            Self::AccountDeactivated => "account_deactivated",
            Self::UnknownInvitation => "unknown_invitation",
            Self::InvitationExpired => "invitation_expired",
            Self::InvitationUsed => "invitation_used",
            Self::LastAdmin => "last_admin",
        }
    }

    /// The HTTP status this code is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidJson
            | Self::InvalidInput
            | Self::InvalidKeyPackage
            | Self::InvalidSignatureKey
            | Self::InvalidCommit
            | Self::InvalidPolicy
            | Self::InvalidSdp
            | Self::InvalidStatement
            | Self::CertificateMismatch
            | Self::InvalidCosignature => 400,
            Self::Unauthenticated
            | Self::InvalidToken
            | Self::InvalidCredentials
            | Self::InvalidSetupToken => 401,
            Self::Forbidden
            | Self::DeviceRevoked
            | Self::FeatureDisabled
            | Self::PolicyForbids
            | Self::UnknownWitness
            | Self::AdminOnly
            | Self::AccountDeactivated => 403,
            Self::NotFound
            | Self::UnknownUser
            | Self::UnknownDevice
            | Self::UnknownRoom
            | Self::UnknownBlob
            | Self::UnknownTrack
            | Self::UnknownLink
            | Self::UnknownInvitation => 404,
            Self::MethodNotAllowed => 405,
            Self::UsernameTaken
            | Self::SetupAlreadyDone
            | Self::StaleEpoch
            | Self::DuplicateMessage
            | Self::BlobIncomplete
            | Self::OffsetMismatch
            | Self::NotInMeeting
            | Self::IdentityExists
            | Self::IdentityMissing
            | Self::LinkUsed
            | Self::InvitationUsed
            | Self::LastAdmin => 409,
            Self::LinkExpired | Self::InvitationExpired => 410,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }
}

/// The JSON body of every error response: `{ "code": "...", "message": "..." }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation; never contains internal details.
    pub message: String,
    /// With `stale_epoch`: the room's current epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_epoch: Option<u64>,
    /// With `duplicate_message`: where the original is; with `offset_mismatch`: bytes stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// With `invalid_policy`: the line (1-based) of the policy document the reason concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl ErrorBody {
    /// An error body with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            current_epoch: None,
            position: None,
            line: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code:?}");
        }
    }

    #[test]
    fn codes_are_unique_and_stable() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
        }
        for (code, text, status) in [
            (ErrorCode::InvalidStatement, "invalid_statement", 400),
            (ErrorCode::IdentityExists, "identity_exists", 409),
            (ErrorCode::IdentityMissing, "identity_missing", 409),
            (ErrorCode::CertificateMismatch, "certificate_mismatch", 400),
            (ErrorCode::UnknownLink, "unknown_link", 404),
            (ErrorCode::LinkExpired, "link_expired", 410),
            (ErrorCode::LinkUsed, "link_used", 409),
            (ErrorCode::UnknownWitness, "unknown_witness", 403),
            (ErrorCode::InvalidCosignature, "invalid_cosignature", 400),
        ] {
            assert_eq!((code.as_str(), code.http_status()), (text, status));
        }
    }
}
