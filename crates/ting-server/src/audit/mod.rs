//! The audit log (R25): administrative and security events, appended to the store's
//! hash-chained log ([`ting_store::governance`]). Records carry ids, a truncated client network
//! and JSON details — never content, passwords, tokens or keys.
//!
//! Decisions: a failed login records the account as `target_user` only when the username
//! exists (so an administrator sees attacks on real accounts); the attempted name of an unknown
//! account is not stored, because people type passwords into the username field. Recording is
//! fail-closed: when the audit append fails, the audited operation answers with an internal
//! error (it may already have taken effect; the error is logged).

pub mod cli;

use std::net::IpAddr;

use ting_proto::{DeviceId, UserId};
use ting_store::{AuditRecord, NewAuditRecord, Store};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (wrong password or unknown user).
    LoginFailed,
    /// A new device was registered at login.
    DeviceAdded,
    /// A device was revoked (by its owner or an administrator).
    DeviceRevoked,
    /// A user ended all their sessions.
    LogoutAll,
    /// The policy changed.
    PolicyChanged,
    /// A room was created (id only).
    RoomCreated,
    /// The first administrator was created through the setup link.
    SetupCompleted,
    /// An administrator created a user.
    UserCreated,
    /// An administrator reset a password.
    PasswordReset,
    /// The audit log was exported.
    AuditExported,
    /// Everything stored about a user was exported.
    UserExported,
    /// Old audit records were pruned.
    AuditPruned,
    /// A record (identity statement, device certificate or revocation) was appended to the
    /// key log; the details name its index and kind, never its content.
    KeyLogAppended,
    /// An existing device answered a new device's link rendezvous.
    DeviceLinkAnswered,
    /// An administrator deactivated an account (its sessions ended).
    UserDeactivated,
    /// An administrator reactivated an account.
    UserReactivated,
    /// An administrator made a user an administrator.
    AdminGranted,
    /// An administrator took the administrator role from a user.
    AdminRevoked,
    /// An administrator issued a one-time invitation or password-reset link.
    InvitationIssued,
    /// An administrator withdrew a pending link.
    InvitationWithdrawn,
}

impl Event {
    /// Every event, for filter lists.
    pub const ALL: &'static [Event] = &[
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::DeviceAdded,
        Self::DeviceRevoked,
        Self::LogoutAll,
        Self::PolicyChanged,
        Self::RoomCreated,
        Self::SetupCompleted,
        Self::UserCreated,
        Self::PasswordReset,
        Self::AuditExported,
        Self::UserExported,
        Self::AuditPruned,
        Self::KeyLogAppended,
        Self::DeviceLinkAnswered,
        Self::UserDeactivated,
        Self::UserReactivated,
        Self::AdminGranted,
        Self::AdminRevoked,
        Self::InvitationIssued,
        Self::InvitationWithdrawn,
    ];

    /// The stable name stored in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::DeviceAdded => "device_added",
            Self::DeviceRevoked => "device_revoked",
            Self::LogoutAll => "logout_all",
            Self::PolicyChanged => "policy_changed",
            Self::RoomCreated => "room_created",
            Self::SetupCompleted => "setup_completed",
            Self::UserCreated => "user_created",
            Self::PasswordReset => "password_reset",
            Self::AuditExported => "audit_exported",
            Self::UserExported => "user_exported",
            Self::AuditPruned => "audit_pruned",
            Self::KeyLogAppended => "key_log_appended",
            Self::DeviceLinkAnswered => "device_link_answered",
            Self::UserDeactivated => "user_deactivated",
            Self::UserReactivated => "user_reactivated",
            Self::AdminGranted => "admin_granted",
            Self::AdminRevoked => "admin_revoked",
            Self::InvitationIssued => "invitation_issued",
            Self::InvitationWithdrawn => "invitation_withdrawn",
        }
    }
}

/// One event to record; build with [`Entry::new`] and the setters.
#[derive(Clone, Debug)]
pub struct Entry(NewAuditRecord);

impl Entry {
    /// An event at `at` with empty details.
    pub fn new(event: Event, at: i64) -> Self {
        Self(NewAuditRecord {
            at,
            event: event.as_str().to_owned(),
            details: "{}".into(),
            ..NewAuditRecord::default()
        })
    }
    /// The acting user and device.
    pub fn actor(mut self, user: UserId, device: Option<DeviceId>) -> Self {
        self.0.actor_user = Some(user.to_string());
        self.0.actor_device = device.map(|d| d.to_string());
        self
    }
    /// The user the event is about.
    pub fn target_user(mut self, user: UserId) -> Self {
        self.0.target_user = Some(user.to_string());
        self
    }
    /// The other object the event is about.
    pub fn target(mut self, id: impl ToString) -> Self {
        self.0.target = Some(id.to_string());
        self
    }
    /// The client address, stored truncated.
    pub fn client(mut self, ip: Option<IpAddr>) -> Self {
        self.0.client_net = ip.map(truncate_ip);
        self
    }
    /// JSON details (never content).
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.0.details = details.to_string();
        self
    }
}

/// Appends `entry` to the chain.
pub async fn record(store: &dyn Store, entry: Entry) -> Result<AuditRecord, ting_store::Error> {
    let event = entry.0.event.clone();
    store.append_audit(entry.0).await.inspect_err(|e| {
        tracing::error!(error = %e, %event, "audit append failed");
    })
}

/// The client's network: IPv4 /24, IPv6 /48 (IPv4-mapped IPv6 as IPv4).
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => truncate_ip(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
                format!("{net}/48")
            }
        },
    }
}

/// A record as one JSON Lines object (hashes in hex).
pub fn to_json(r: &AuditRecord) -> serde_json::Value {
    let details: serde_json::Value = serde_json::from_str(&r.record.details)
        .unwrap_or_else(|_| serde_json::Value::String(r.record.details.clone()));
    serde_json::json!({
        "seq": r.seq,
        "at": r.record.at,
        "event": r.record.event,
        "actor_user": r.record.actor_user,
        "actor_device": r.record.actor_device,
        "target_user": r.record.target_user,
        "target": r.record.target,
        "client_net": r.record.client_net,
        "details": details,
        "hash": hex(&r.hash),
    })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_truncated() {
        assert_eq!(truncate_ip("192.0.2.77".parse().unwrap()), "192.0.2.0/24");
        assert_eq!(
            truncate_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
        assert_eq!(
            truncate_ip("::ffff:198.51.100.9".parse().unwrap()),
            "198.51.100.0/24"
        );
    }
}
