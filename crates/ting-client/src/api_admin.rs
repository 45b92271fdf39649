//! Typed calls of the administration API (`/api/v1/admin/…`, administrators only): accounts,
//! invitation and password-reset links, devices, the policy, the audit log, the compliance
//! report and health. The server refuses everyone else with `admin_only`.

use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use ting_proto::ErrorBody;
use ting_proto::admin::{
    AdminDeviceList, AdminHealth, AdminUser, AdminUserPage, AuditPage, AuditVerification,
    CreateInvitation, DeviceRevoked, InvitationList, IssuedInvitation, PolicyCheck,
    PolicyRevisions, SetAdmin,
};
use ting_proto::policy::{PolicyDocument, SetPolicy};

use crate::api::Api;
use crate::error::{Error, Result};

/// Filters of the audit log search and export.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this event (e.g. `policy_changed`).
    pub event: Option<String>,
    /// Only records whose actor is this login name.
    pub actor: Option<String>,
    /// Only records at or after this Unix time (seconds).
    pub since: Option<i64>,
    /// Only records at or before this Unix time (seconds).
    pub until: Option<i64>,
    /// Only records older than this sequence number (a page's `next_before`).
    pub before: Option<u64>,
    /// Records per page (1–500).
    pub limit: Option<u32>,
}

impl AuditFilter {
    fn query(&self) -> String {
        let mut q = Query::default();
        q.opt("event", self.event.as_deref());
        q.opt("actor", self.actor.as_deref());
        q.opt("since", self.since);
        q.opt("until", self.until);
        q.opt("before", self.before);
        q.opt("limit", self.limit);
        q.0
    }
}

/// Formats of the compliance report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// `ComplianceReport` as JSON.
    Json,
    /// Markdown.
    Markdown,
    /// A standalone HTML page.
    Html,
}

impl ReportFormat {
    fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Markdown => "markdown",
            ReportFormat::Html => "html",
        }
    }
}

/// A query string built from optional parameters, each percent-encoded.
#[derive(Default)]
struct Query(String);

impl Query {
    fn opt(&mut self, key: &str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.0.push(if self.0.is_empty() { '?' } else { '&' });
            self.0.push_str(key);
            self.0.push('=');
            self.0.push_str(&enc(&v.to_string()));
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (path segments, query
/// values).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Turns an error answer into [`Error::Api`]; an invalid policy's line goes in front of the
/// message (`line 4: …`).
async fn checked(resp: Response) -> Result<Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => Err(Error::Api {
            status,
            code: body.code,
            message: match body.line {
                Some(line) => format!("line {line}: {}", body.message),
                None => body.message,
            },
            current_epoch: body.current_epoch,
            position: body.position,
        }),
        Err(_) => Err(Error::Protocol(format!(
            "HTTP {status} without an error body"
        ))),
    }
}

impl Api {
    async fn admin_json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        checked(req.send().await?)
            .await?
            .json()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))
    }

    async fn admin_text(&self, req: RequestBuilder) -> Result<String> {
        checked(req.send().await?)
            .await?
            .text()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))
    }

    async fn admin_get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.admin_json(self.request(Method::GET, path)).await
    }

    /// One page of accounts by login name: those containing `search`, after `after` (the
    /// previous page's `next`).
    pub async fn admin_users(
        &self,
        search: Option<&str>,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<AdminUserPage> {
        let mut q = Query::default();
        q.opt("q", search);
        q.opt("after", after);
        q.opt("limit", limit);
        self.admin_get(&format!("/api/v1/admin/users{}", q.0)).await
    }

    /// Issues a one-time invitation link for the account `username`.
    pub async fn admin_invite(&self, username: &str, admin: bool) -> Result<IssuedInvitation> {
        let body = CreateInvitation {
            username: username.into(),
            admin,
        };
        self.admin_json(
            self.request(Method::POST, "/api/v1/admin/invitations")
                .json(&body),
        )
        .await
    }

    /// Links neither used, withdrawn nor expired.
    pub async fn admin_invitations(&self) -> Result<InvitationList> {
        self.admin_get("/api/v1/admin/invitations").await
    }

    /// Withdraws a link.
    pub async fn admin_withdraw_invitation(&self, id: &str) -> Result<()> {
        let path = format!("/api/v1/admin/invitations/{}", enc(id));
        checked(self.request(Method::DELETE, &path).send().await?)
            .await
            .map(|_| ())
    }

    /// A user's devices, revoked ones included.
    pub async fn admin_devices(&self, username: &str) -> Result<AdminDeviceList> {
        self.admin_get(&format!("/api/v1/admin/users/{}/devices", enc(username)))
            .await
    }

    /// Revokes any user's device.
    pub async fn admin_revoke_device(&self, id: &str) -> Result<DeviceRevoked> {
        let path = format!("/api/v1/admin/devices/{}", enc(id));
        self.admin_json(self.request(Method::DELETE, &path)).await
    }

    /// Deactivates (`true`) or reactivates (`false`) an account.
    pub async fn admin_set_deactivated(&self, username: &str, off: bool) -> Result<AdminUser> {
        let action = if off { "deactivate" } else { "reactivate" };
        let path = format!("/api/v1/admin/users/{}/{action}", enc(username));
        self.admin_json(self.request(Method::POST, &path)).await
    }

    /// Makes a user an administrator or takes the role away.
    pub async fn admin_set_admin(&self, username: &str, admin: bool) -> Result<AdminUser> {
        let path = format!("/api/v1/admin/users/{}/admin", enc(username));
        self.admin_json(self.request(Method::PUT, &path).json(&SetAdmin { admin }))
            .await
    }

    /// Issues a one-time password-reset link for an account.
    pub async fn admin_password_reset(&self, username: &str) -> Result<IssuedInvitation> {
        let path = format!("/api/v1/admin/users/{}/password-reset", enc(username));
        self.admin_json(self.request(Method::POST, &path)).await
    }

    /// The full policy document in effect.
    pub async fn admin_policy(&self) -> Result<PolicyDocument> {
        self.admin_get("/api/v1/admin/policy").await
    }

    /// Sets a new policy; an invalid one is refused with `invalid_policy` (`line N: …`).
    pub async fn admin_set_policy(&self, document: &str) -> Result<PolicyDocument> {
        let body = SetPolicy {
            document: document.into(),
        };
        self.admin_json(
            self.request(Method::PUT, "/api/v1/admin/policy")
                .json(&body),
        )
        .await
    }

    /// Validates a policy document without saving it.
    pub async fn admin_check_policy(&self, document: &str) -> Result<PolicyCheck> {
        let body = SetPolicy {
            document: document.into(),
        };
        self.admin_json(
            self.request(Method::POST, "/api/v1/admin/policy/check")
                .json(&body),
        )
        .await
    }

    /// Every stored policy revision, newest first.
    pub async fn admin_policy_revisions(&self) -> Result<PolicyRevisions> {
        self.admin_get("/api/v1/admin/policy/revisions").await
    }

    /// Audit records matching `filter`, newest first.
    pub async fn admin_audit(&self, filter: &AuditFilter) -> Result<AuditPage> {
        self.admin_get(&format!("/api/v1/admin/audit{}", filter.query()))
            .await
    }

    /// Verifies the audit log's hash chain now.
    pub async fn admin_audit_verify(&self) -> Result<AuditVerification> {
        self.admin_get("/api/v1/admin/audit/verify").await
    }

    /// Audit records matching `filter` as JSON Lines, oldest first (the export is audited).
    pub async fn admin_audit_export(&self, filter: &AuditFilter) -> Result<String> {
        let path = format!("/api/v1/admin/audit/export{}", filter.query());
        self.admin_text(self.request(Method::GET, &path)).await
    }

    /// The compliance report as the server builds it now, in `format` (JSON as text).
    pub async fn admin_compliance(&self, format: ReportFormat) -> Result<String> {
        let path = format!("/api/v1/admin/compliance?format={}", format.as_str());
        self.admin_text(self.request(Method::GET, &path)).await
    }

    /// How the server runs now.
    pub async fn admin_health(&self) -> Result<AdminHealth> {
        self.admin_get("/api/v1/admin/health").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(enc("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        let f = AuditFilter {
            event: Some("policy_changed".into()),
            limit: Some(5),
            ..Default::default()
        };
        assert_eq!(f.query(), "?event=policy_changed&limit=5");
        assert_eq!(AuditFilter::default().query(), "");
    }
}
