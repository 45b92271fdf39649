//! The administration API (`/api/v1/admin/…`, administrators only; every route refuses
//! others with `admin_only`) and the invitation links it hands out (`/api/v1/invitations/…`,
//! no session: the link's token is the credential).
//!
//! Nothing here carries content or key material: an administrator manages accounts, devices,
//! the policy and the audit log, and reads health figures, but cannot read or decrypt.

use serde::{Deserialize, Serialize};

use crate::api::DeviceInfo;
use crate::{DeviceId, UserId};

/// An account as the administration console lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminUser {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Whether the user administers this server.
    pub is_admin: bool,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
    /// Unix time (seconds) of deactivation, while the account is deactivated.
    pub deactivated_at: Option<i64>,
    /// Devices that are not revoked.
    pub active_devices: u32,
    /// Latest sign-in or connection of any of the user's devices.
    pub last_seen_at: Option<i64>,
}

/// `GET /api/v1/admin/users?q=&after=&limit=`: one page of accounts, by login name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminUserPage {
    /// Accounts on this page, ordered by login name.
    pub users: Vec<AdminUser>,
    /// Accounts matching the search in total.
    pub total: u64,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
    /// Who manages accounts: `local` (this server's administrators). Reserved for a directory
    /// (`scim`), where the console then offers only what the directory leaves to it.
    pub management: String,
}

/// `POST /api/v1/admin/invitations`: invite someone to create an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateInvitation {
    /// The login name the account will have (reserved until the invitation is used or ends).
    pub username: String,
    /// Whether the account will be an administrator.
    #[serde(default)]
    pub admin: bool,
}

/// What an invitation link does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationKind {
    /// Creates the account; its holder chooses the password.
    Invite,
    /// Sets a new password on an existing account and ends its sessions.
    PasswordReset,
}

/// A one-time link an administrator hands over (`POST /api/v1/admin/invitations`,
/// `POST /api/v1/admin/users/{username}/password-reset`). The token is shown once: the server
/// keeps only its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedInvitation {
    /// Id (to withdraw it).
    pub id: String,
    /// The account it is for.
    pub username: String,
    /// What it does.
    pub kind: InvitationKind,
    /// The secret token.
    pub token: String,
    /// Path and fragment of the link on this server: `/invite#<token>` (the fragment never
    /// reaches the server's logs).
    pub link: String,
    /// Unix time (seconds) after which it no longer works.
    pub expires_at: i64,
}

/// A pending invitation as listed (`GET /api/v1/admin/invitations`); never the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingInvitation {
    /// Id.
    pub id: String,
    /// The account it is for.
    pub username: String,
    /// What it does.
    pub kind: InvitationKind,
    /// Whether the account will be an administrator (invitations).
    pub admin: bool,
    /// Who issued it (login name).
    pub created_by: Option<String>,
    /// Unix time (seconds) of issue.
    pub created_at: i64,
    /// Unix time (seconds) after which it no longer works.
    pub expires_at: i64,
}

/// `GET /api/v1/admin/invitations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationList {
    /// Invitations neither used, withdrawn nor expired, newest first.
    pub invitations: Vec<PendingInvitation>,
}

/// `GET /api/v1/invitations/{token}` (no session): what the link is for, before its holder
/// chooses a password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationInfo {
    /// The account's login name.
    pub username: String,
    /// What the link does.
    pub kind: InvitationKind,
    /// Unix time (seconds) after which it no longer works.
    pub expires_at: i64,
}

/// `POST /api/v1/invitations/{token}` (no session): use the link. Sign in next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptInvitation {
    /// The password the account will have.
    pub password: String,
}

/// `PUT /api/v1/admin/users/{username}/admin`: promote or demote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetAdmin {
    /// Whether the user shall be an administrator.
    pub admin: bool,
}

/// A device as the console lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminDevice {
    /// The device.
    #[serde(flatten)]
    pub device: DeviceInfo,
    /// Latest sign-in or connection.
    pub last_seen_at: Option<i64>,
}

/// `GET /api/v1/admin/users/{username}/devices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminDeviceList {
    /// The owner.
    pub user: AdminUser,
    /// Every device, revoked ones included, oldest first.
    pub devices: Vec<AdminDevice>,
}

/// `DELETE /api/v1/admin/devices/{id}`: what revoking did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRevoked {
    /// The device.
    pub device_id: DeviceId,
    /// False when it was already revoked.
    pub revoked: bool,
}

/// One stored policy revision (`GET /api/v1/admin/policy/revisions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRevision {
    /// Revision number (1, 2, …).
    pub revision: u64,
    /// Unix time (seconds) it was set.
    pub set_at: i64,
    /// Who set it (login name); absent when set from the command line without a user.
    pub set_by: Option<String>,
    /// The document.
    pub document: String,
}

/// `GET /api/v1/admin/policy/revisions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRevisions {
    /// Newest first.
    pub revisions: Vec<PolicyRevision>,
}

/// A reason a policy document is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyProblem {
    /// What is wrong.
    pub message: String,
    /// The line (1-based) it concerns, where one can be named.
    pub line: Option<u32>,
}

/// One setting a policy document changes, as clients will see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyEffect {
    /// The client-visible setting (a field of [`crate::policy::ClientPolicy`] as a user who is
    /// not an administrator gets it, e.g. `file_sharing`, `guest_access`, `screen_share`).
    pub setting: String,
    /// Its value now.
    pub before: serde_json::Value,
    /// Its value once the document is saved.
    pub after: serde_json::Value,
}

/// `POST /api/v1/admin/policy/check` (body: [`crate::policy::SetPolicy`]): validates a
/// document without saving it and says what saving it would change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyCheck {
    /// Whether the document would be accepted.
    pub valid: bool,
    /// Why not (empty when valid).
    pub problems: Vec<PolicyProblem>,
    /// What changes for users (empty when invalid or unchanged).
    pub effects: Vec<PolicyEffect>,
}

/// An audit record as the console shows it: who did what to whom, never content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecordView {
    /// Position in the chain (1, 2, …).
    pub seq: u64,
    /// Unix time (seconds).
    pub at: i64,
    /// Event name, e.g. `login_succeeded`, `policy_changed`, `user_deactivated`.
    pub event: String,
    /// Acting user id.
    pub actor: Option<String>,
    /// Acting user's login name, where the account still exists.
    pub actor_name: Option<String>,
    /// Acting device.
    pub actor_device: Option<String>,
    /// What the event concerns (a user id, device id, revision …).
    pub target: Option<String>,
    /// The target user's login name, where it is a user that still exists.
    pub target_name: Option<String>,
    /// Truncated client address, where recorded.
    pub client: Option<String>,
    /// Event details (JSON).
    pub details: serde_json::Value,
    /// This record's chain hash (hex).
    pub hash: String,
}

/// `GET /api/v1/admin/audit?event=&actor=&since=&until=&before=&limit=`: newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// Matching records, newest first.
    pub records: Vec<AuditRecordView>,
    /// Pass as `before` for older records; absent when there are none.
    pub next_before: Option<u64>,
    /// Every event name the server records, for a filter list.
    pub events: Vec<String>,
}

/// `GET /api/v1/admin/audit/verify`: the hash chain checked end to end, now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditVerification {
    /// Whether every record links to the one before and hashes to what is stored.
    pub ok: bool,
    /// Records checked.
    pub checked: u64,
    /// The chain head (hex): compare with a copy kept elsewhere to detect a rewritten log.
    pub head_hash: String,
    /// Sequence number of the head.
    pub head_seq: u64,
    /// Where and why the chain breaks, when it does.
    pub problem: Option<String>,
    /// First sequence number still stored (older records were pruned under the retention
    /// policy; the chain is checked from the recorded anchor).
    pub first_seq: Option<u64>,
}

/// A media port of this server and whether it answered a probe from the server itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaPort {
    /// `udp` or `tcp` (ICE-TCP).
    pub protocol: String,
    /// The advertised address clients are told to use.
    pub address: String,
    /// Whether a probe sent to the advertised address from this machine was answered.
    pub reachable: bool,
    /// What the probe saw, when it was not answered.
    pub problem: Option<String>,
}

/// `GET /api/v1/admin/health`: how the server runs; nothing about content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminHealth {
    /// Server version.
    pub version: String,
    /// SHA-256 over the web bundle's file list (hex), as `GET /api/v1/web-bundle` publishes.
    pub web_bundle_hash: String,
    /// `sqlite` or `postgres`.
    pub store_backend: String,
    /// Whether the store answered a ping just now.
    pub store_ok: bool,
    /// Seconds since the server started.
    pub uptime_secs: u64,
    /// Accounts (active and deactivated).
    pub users: u64,
    /// Open WebSocket connections.
    pub connections: u64,
    /// Distinct devices with an open connection.
    pub connected_devices: u64,
    /// Meetings running now.
    pub meetings: u64,
    /// Participants in those meetings.
    pub meeting_participants: u64,
    /// Media ports.
    pub media_ports: Vec<MediaPort>,
}

/// A table in a report section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportTable {
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

/// A section of the compliance report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportSection {
    /// Heading.
    pub heading: String,
    /// Paragraphs (plain text; `code` spans in backticks).
    pub paragraphs: Vec<String>,
    /// A table, where the section has one.
    pub table: Option<ReportTable>,
}

/// `GET /api/v1/admin/compliance` (JSON; `?format=markdown` or `?format=html` gives the same
/// report as `ting compliance report`, as a download).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceReport {
    /// Title.
    pub title: String,
    /// Unix time (seconds) it was built from the live configuration, policy and database.
    pub generated_at: i64,
    /// Sections in order.
    pub sections: Vec<ReportSection>,
}
