//! The organisation policy as clients see it: `GET /api/v1/policy` returns [`ClientPolicy`], the
//! subset of the administrator's policy an app needs to hide what is switched off. The full
//! policy document (TOML) is served to administrators as [`PolicyDocument`].

use serde::{Deserialize, Serialize};

/// The client-relevant part of the effective policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientPolicy {
    /// Revision of the stored policy in effect; 0 while the configuration defaults apply.
    pub revision: u64,
    /// Whether guests (unauthenticated joiners) are admitted. Off by default.
    pub guest_access: bool,
    /// Whether files may be shared.
    pub file_sharing: bool,
    /// Largest encrypted file in bytes.
    pub max_file_bytes: u64,
    /// Whether meetings may be held.
    pub meetings: bool,
    /// Whether screens may be shared in meetings.
    pub screen_share: bool,
    /// Whether federation with other servers is on. Off by default.
    pub federation: bool,
    /// Whether recording is on (always false in this build).
    pub recording: bool,
    /// Whether phone dial-in is on (always false in this build).
    pub phone_dial_in: bool,
    /// Whether the caller may create rooms.
    pub may_create_rooms: bool,
    /// Whether the caller may start meetings.
    pub may_create_meetings: bool,
    /// Default retention of new group rooms in seconds; `None` = keep forever.
    pub room_default_retention_secs: Option<i64>,
    /// Longest retention a group room may have; `None` = no limit.
    pub room_max_retention_secs: Option<i64>,
    /// Default retention of new direct rooms in seconds; `None` = keep forever.
    pub direct_default_retention_secs: Option<i64>,
    /// Longest retention a direct room may have; `None` = no limit.
    pub direct_max_retention_secs: Option<i64>,
    /// MLS ciphersuites accepted in KeyPackages.
    pub allowed_ciphersuites: Vec<u16>,
}

/// A policy document as stored (administrators only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyDocument {
    /// Revision (1, 2, …); 0 when no policy is stored and the configuration defaults apply.
    pub revision: u64,
    /// The policy file (TOML, `policy_version = 1`).
    pub document: String,
    /// Unix time it was set; 0 for the defaults.
    pub set_at: i64,
}

/// `PUT /api/v1/admin/policy`: a new policy file, validated before it takes effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPolicy {
    /// The policy file (TOML, `policy_version = 1`).
    pub document: String,
}
