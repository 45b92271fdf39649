//! Account administration: paging and searching accounts, deactivation, the administrator
//! flag, one-time invitation and password-reset links, and searching the audit log.

use async_trait::async_trait;
use ting_proto::UserId;

use crate::{AuditRecord, Result, User};

/// An account with what an administrator sees about its devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    /// The account.
    pub user: User,
    /// Devices that are not revoked.
    pub active_devices: u32,
    /// Latest `last_seen_at` of any of its devices.
    pub last_seen_at: Option<i64>,
}

/// Which accounts to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Only login names containing this (case as stored); `None` for all.
    pub search: Option<String>,
    /// Only login names after this one (the previous page's last).
    pub after: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// What a one-time link does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationKind {
    /// Creates the account.
    Invite,
    /// Sets a new password on an existing account.
    PasswordReset,
}

impl InvitationKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::PasswordReset => "password_reset",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "invite" => Ok(Self::Invite),
            "password_reset" => Ok(Self::PasswordReset),
            other => Err(crate::Error::Corrupt(format!("invitation kind {other}"))),
        }
    }
}

/// A one-time link (only the hash of its token is stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Random id.
    pub id: String,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The account's login name.
    pub username: String,
    /// What it does.
    pub kind: InvitationKind,
    /// Whether the invited account will be an administrator.
    pub is_admin: bool,
    /// Who issued it.
    pub created_by: Option<UserId>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it no longer works.
    pub expires_at: i64,
    /// Unix seconds it was used.
    pub used_at: Option<i64>,
}

/// Which audit records to find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this event.
    pub event: Option<String>,
    /// Only records whose actor is this user.
    pub actor: Option<UserId>,
    /// Only records at or after this Unix time.
    pub since: Option<i64>,
    /// Only records at or before this Unix time.
    pub until: Option<i64>,
    /// Only records with a smaller sequence number (paging backwards).
    pub before_seq: Option<u64>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// Account administration.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// One page of accounts by login name, and how many match the search in total.
    async fn user_page(&self, query: &UserQuery) -> Result<(Vec<UserSummary>, u64)>;
    /// Sets (`Some`) or clears (`None`) the deactivation time. [`crate::Error::NotFound`]
    /// if there is no such account.
    async fn set_deactivated(&self, user: UserId, at: Option<i64>) -> Result<()>;
    /// Sets the administrator flag. Refuses with [`crate::Error::Conflict`]`("last_admin")`
    /// when that would leave no active administrator (checked in the same statement).
    async fn set_admin(&self, user: UserId, admin: bool) -> Result<()>;
    /// Deactivates the account unless it is the last active administrator
    /// ([`crate::Error::Conflict`]`("last_admin")`, checked in the same statement).
    async fn deactivate(&self, user: UserId, at: i64) -> Result<()>;
    /// Stores a new link. [`crate::Error::Conflict`] if its token hash exists.
    async fn create_invitation(&self, invitation: Invitation) -> Result<()>;
    /// The link whose token hashes to `token_hash`, used or not.
    async fn invitation_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Invitation>>;
    /// Links neither used nor expired at `now`, newest first.
    async fn pending_invitations(&self, now: i64) -> Result<Vec<Invitation>>;
    /// Withdraws a link; false if there was none with this id.
    async fn delete_invitation(&self, id: &str) -> Result<bool>;
    /// Marks the link used if it is unused and unexpired at `now`; false otherwise (one
    /// statement, so two callers cannot both use it).
    async fn use_invitation(&self, id: &str, now: i64) -> Result<bool>;
    /// Deletes links that expired before `now`; returns how many.
    async fn delete_expired_invitations(&self, now: i64) -> Result<u64>;
    /// Audit records matching the query, newest first.
    async fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
}

/// `id, token_hash, username, kind, is_admin, created_by, created_at, expires_at, used_at`.
pub(crate) type InvitationRow = (
    String,
    Vec<u8>,
    String,
    String,
    bool,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

pub(crate) const INVITATION_COLUMNS: &str =
    "id, token_hash, username, kind, is_admin, created_by, created_at, expires_at, used_at";

pub(crate) fn invitation(row: InvitationRow) -> Result<Invitation> {
    let (id, token_hash, username, kind, is_admin, created_by, created_at, expires_at, used_at) =
        row;
    Ok(Invitation {
        id,
        token_hash,
        username,
        kind: InvitationKind::parse(&kind)?,
        is_admin,
        created_by: created_by
            .as_deref()
            .map(crate::rows::user_id)
            .transpose()?,
        created_at,
        expires_at,
        used_at,
    })
}

/// A search term as a `LIKE` pattern matching it anywhere (`\` escapes).
pub(crate) fn like_pattern(search: &str) -> String {
    let mut out = String::from("%");
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `(user row…, active devices, last seen)` of a page query.
pub(crate) type UserSummaryRow = (
    String,
    String,
    String,
    bool,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
);

pub(crate) fn user_summary(row: UserSummaryRow) -> Result<UserSummary> {
    let (id, username, hash, is_admin, created_at, deactivated_at, devices, last_seen_at) = row;
    Ok(UserSummary {
        user: crate::rows::user((id, username, hash, is_admin, created_at, deactivated_at))?,
        active_devices: u32::try_from(devices).unwrap_or(u32::MAX),
        last_seen_at,
    })
}
