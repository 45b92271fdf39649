//! The organisation policy: a versioned TOML file (`policy_version = 1`) stored in the database
//! (every revision kept, the newest in effect, shared by all nodes), validated before it takes
//! effect and enforced at every entry point.
//!
//! Precedence: until an administrator sets a policy, the effective policy is derived from the
//! configuration (`files.max_blob_bytes`, `delivery.default_retention_secs`,
//! `mls.allowed_ciphersuites`, everything else at its default: [`Policy::from_config`]). Once a
//! policy is stored, it alone decides; the configuration values no longer apply. End-to-end
//! encryption is not a setting: there is no key for it, and a file that tries to switch it off
//! is refused. Recording and phone dial-in (R23), guests and federation (R21) are switches that
//! stay off: this build has none of them, so turning one on is refused with the reason.

pub mod cli;
pub mod locate;

use serde::{Deserialize, Serialize};
use ting_proto::policy::ClientPolicy;
use ting_store::{RoomKind, Store, StoredPolicy};

use crate::config::Config;

/// The only policy file format this build reads.
pub const POLICY_VERSION: u32 = 1;

/// MLS ciphersuites this build supports (the allow-list must be a subset).
pub const SUPPORTED_CIPHERSUITES: &[u16] =
    &[ting_proto::mls_wire::CIPHERSUITE_X25519_AES128GCM_SHA256_ED25519];

/// Longest retention a policy may set (ten years).
pub const MAX_RETENTION_SECS: i64 = 10 * 366 * 24 * 3600;

/// Largest file size a policy may allow (64 GiB).
pub const MAX_FILE_BYTES: u64 = 64 << 30;

/// Keys that would switch end-to-end encryption off; named so the refusal can say why.
const E2EE_KEYS: &[&str] = &["e2ee", "end_to_end_encryption", "encryption", "encrypted"];

/// The policy file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// File format version; must be 1.
    pub policy_version: u32,
    /// Which features are on.
    #[serde(default)]
    pub features: Features,
    /// Retention per room type.
    #[serde(default)]
    pub retention: Retention,
    /// Who may create what.
    #[serde(default)]
    pub permissions: Permissions,
    /// MLS settings.
    #[serde(default)]
    pub mls: MlsPolicy,
}

/// `[features]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Features {
    /// Unauthenticated guests may join (not built: must stay false).
    pub guest_access: bool,
    /// Files may be shared.
    pub file_sharing: bool,
    /// Largest encrypted file in bytes.
    pub max_file_bytes: u64,
    /// Meetings may be held.
    pub meetings: bool,
    /// Screens may be shared in meetings.
    pub screen_share: bool,
    /// Federation with other servers (not built: must stay false).
    pub federation: bool,
    /// Server-side recording (not available: must stay false).
    pub recording: bool,
    /// Phone dial-in gateway (not available: must stay false).
    pub phone_dial_in: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self {
            guest_access: false,
            file_sharing: true,
            max_file_bytes: crate::config::FilesConfig::default().max_blob_bytes,
            meetings: true,
            screen_share: true,
            federation: false,
            recording: false,
            phone_dial_in: false,
        }
    }
}

/// `[retention]`: per room type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Group rooms.
    pub room: RetentionBounds,
    /// Direct (two-person) rooms.
    pub direct: RetentionBounds,
}

/// Retention of one room type, in seconds; 0 means forever / no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionBounds {
    /// Retention of new rooms that do not ask for one; 0 = keep forever.
    pub default_secs: i64,
    /// Longest retention a room may have; 0 = no limit (forever allowed).
    pub max_secs: i64,
}

/// Who may do something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// Every user.
    #[default]
    Everyone,
    /// Administrators only.
    Admins,
}

impl Who {
    /// Whether a user with this admin flag qualifies.
    pub fn allows(self, is_admin: bool) -> bool {
        matches!(self, Who::Everyone) || is_admin
    }
}

/// `[permissions]`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Permissions {
    /// Who may create rooms.
    pub create_rooms: Who,
    /// Who may start meetings.
    pub create_meetings: Who,
}

/// `[mls]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlsPolicy {
    /// Ciphersuites accepted in KeyPackages (a subset of [`SUPPORTED_CIPHERSUITES`]).
    pub allowed_ciphersuites: Vec<u16>,
}

impl Default for MlsPolicy {
    fn default() -> Self {
        Self {
            allowed_ciphersuites: SUPPORTED_CIPHERSUITES.to_vec(),
        }
    }
}

/// The policy in effect and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// Stored revision; 0 = derived from the configuration.
    pub revision: u64,
    /// When it was set (0 for the configuration defaults).
    pub set_at: i64,
    /// The policy.
    pub policy: Policy,
}

impl Policy {
    /// The policy that applies while none is stored: configuration values as defaults.
    pub fn from_config(config: &Config) -> Self {
        let retention = RetentionBounds {
            default_secs: config.delivery.default_retention_secs,
            max_secs: 0,
        };
        Self {
            policy_version: POLICY_VERSION,
            features: Features {
                max_file_bytes: config.files.max_blob_bytes,
                ..Features::default()
            },
            retention: Retention {
                room: retention,
                direct: retention,
            },
            permissions: Permissions::default(),
            mls: MlsPolicy {
                allowed_ciphersuites: config.mls.allowed_ciphersuites.clone(),
            },
        }
    }

    /// Parses and validates a policy file; the error is the reason to show.
    pub fn parse(text: &str) -> Result<Policy, String> {
        Self::parse_located(text).map_err(|(message, _)| message)
    }

    /// [`Policy::parse`], with the 1-based line the reason concerns where one can be named.
    pub fn parse_located(text: &str) -> Result<Policy, (String, Option<u32>)> {
        let at_span = |e: &toml::de::Error| e.span().map(|s| locate::line_of_offset(text, s.start));
        let value: toml::Table = toml::from_str(text).map_err(|e| {
            let line = at_span(&e);
            (format!("not a valid TOML file: {}", e.message()), line)
        })?;
        Self::parse_table(value).map_err(|message| {
            // A type error has no position in the parsed table: parse the text once more as
            // a policy to find it; otherwise the message names its key.
            let line = toml::from_str::<Policy>(text)
                .err()
                .and_then(|e| at_span(&e))
                .or_else(|| locate::line_of_message(text, &message));
            (message, line)
        })
    }

    fn parse_table(value: toml::Table) -> Result<Policy, String> {
        refuse_e2ee_switch(&value)?;
        match value.get("policy_version") {
            Some(toml::Value::Integer(v)) if *v == i64::from(POLICY_VERSION) => {}
            Some(other) => {
                return Err(format!(
                    "policy_version {other} is not supported; this build reads policy_version = {POLICY_VERSION}"
                ));
            }
            None => return Err("policy_version = 1 is missing".into()),
        }
        let policy: Policy = value
            .try_into()
            .map_err(|e: toml::de::Error| format!("invalid policy: {}", e.message()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> Result<(), String> {
        let f = &self.features;
        for (on, name, why) in [
            (
                f.recording,
                "features.recording",
                "server-side recording is not available in this build (R17, R23: it would need plaintext)",
            ),
            (
                f.phone_dial_in,
                "features.phone_dial_in",
                "phone dial-in is not available in this build (R23: it needs a separate gateway component)",
            ),
            (
                f.guest_access,
                "features.guest_access",
                "guest access is not built yet; unauthenticated joins are always refused (R21)",
            ),
            (
                f.federation,
                "features.federation",
                "federation is not built yet (R21)",
            ),
        ] {
            if on {
                return Err(format!("{name} cannot be turned on: {why}"));
            }
        }
        if f.file_sharing && (f.max_file_bytes == 0 || f.max_file_bytes > MAX_FILE_BYTES) {
            return Err(format!(
                "features.max_file_bytes must be between 1 and {MAX_FILE_BYTES} when file sharing is on"
            ));
        }
        if f.screen_share && !f.meetings {
            return Err("features.screen_share needs features.meetings".into());
        }
        for (name, b) in [
            ("retention.room", self.retention.room),
            ("retention.direct", self.retention.direct),
        ] {
            for (field, v) in [("default_secs", b.default_secs), ("max_secs", b.max_secs)] {
                if v != 0 && !(60..=MAX_RETENTION_SECS).contains(&v) {
                    return Err(format!(
                        "{name}.{field} must be 0 (forever / no limit) or between 60 seconds and ten years"
                    ));
                }
            }
            if b.max_secs != 0 && (b.default_secs == 0 || b.default_secs > b.max_secs) {
                return Err(format!(
                    "{name}.default_secs must be set and at most {name}.max_secs when a maximum is set"
                ));
            }
        }
        let suites = &self.mls.allowed_ciphersuites;
        if suites.is_empty() {
            return Err("mls.allowed_ciphersuites must name at least one ciphersuite".into());
        }
        if let Some(bad) = suites.iter().find(|s| !SUPPORTED_CIPHERSUITES.contains(s)) {
            return Err(format!(
                "mls.allowed_ciphersuites: ciphersuite {bad:#06x} is not supported by this build (supported: {SUPPORTED_CIPHERSUITES:?})"
            ));
        }
        Ok(())
    }

    /// The policy as a file (with `policy_version`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Retention bounds for a room type.
    pub fn retention_for(&self, kind: RoomKind) -> RetentionBounds {
        match kind {
            RoomKind::Direct => self.retention.direct,
            _ => self.retention.room,
        }
    }

    /// The part clients see, for a user with this admin flag.
    pub fn for_client(&self, revision: u64, is_admin: bool) -> ClientPolicy {
        let opt = |v: i64| (v > 0).then_some(v);
        let f = &self.features;
        ClientPolicy {
            revision,
            guest_access: f.guest_access,
            file_sharing: f.file_sharing,
            max_file_bytes: if f.file_sharing { f.max_file_bytes } else { 0 },
            meetings: f.meetings,
            screen_share: f.screen_share && f.meetings,
            federation: f.federation,
            recording: f.recording,
            phone_dial_in: f.phone_dial_in,
            may_create_rooms: self.permissions.create_rooms.allows(is_admin),
            may_create_meetings: f.meetings && self.permissions.create_meetings.allows(is_admin),
            room_default_retention_secs: opt(self.retention.room.default_secs),
            room_max_retention_secs: opt(self.retention.room.max_secs),
            direct_default_retention_secs: opt(self.retention.direct.default_secs),
            direct_max_retention_secs: opt(self.retention.direct.max_secs),
            allowed_ciphersuites: self.mls.allowed_ciphersuites.clone(),
        }
    }
}

fn refuse_e2ee_switch(value: &toml::Table) -> Result<(), String> {
    let sections = std::iter::once(("", value)).chain(
        value
            .iter()
            .filter_map(|(k, v)| v.as_table().map(|t| (k.as_str(), t))),
    );
    for (section, table) in sections {
        if let Some(key) = table.keys().find(|k| E2EE_KEYS.contains(&k.as_str())) {
            let at = if section.is_empty() {
                key.clone()
            } else {
                format!("{section}.{key}")
            };
            return Err(format!(
                "{at}: end-to-end encryption is always on and cannot be configured; remove this key (R1, R2)"
            ));
        }
    }
    Ok(())
}

/// The effective policy: the newest stored revision, or the configuration defaults.
pub async fn effective(config: &Config, store: &dyn Store) -> anyhow::Result<Effective> {
    match store.current_policy().await? {
        Some(stored) => from_stored(&stored),
        None => Ok(Effective {
            revision: 0,
            set_at: 0,
            policy: Policy::from_config(config),
        }),
    }
}

/// Parses a stored revision (it was validated when set; a failure here is corruption or a
/// newer server's file).
pub fn from_stored(stored: &StoredPolicy) -> anyhow::Result<Effective> {
    let policy = Policy::parse(&stored.document).map_err(|e| {
        anyhow::anyhow!("stored policy revision {} is invalid: {e}", stored.revision)
    })?;
    Ok(Effective {
        revision: stored.revision,
        set_at: stored.set_at,
        policy,
    })
}

#[cfg(test)]
mod tests;
