//! JSON bodies of the `/api/v1` HTTP API.

use serde::{Deserialize, Serialize};

use crate::{Base64, DeviceId, UserId};

/// Most KeyPackages one upload may carry.
pub const MAX_KEY_PACKAGES_PER_UPLOAD: usize = 100;
/// Largest accepted KeyPackage in bytes.
pub const MAX_KEY_PACKAGE_LEN: usize = 16 * 1024;
/// Length of an Ed25519 public key.
pub const SIGNATURE_KEY_LEN: usize = 32;

/// `GET /healthz`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `"ok"` when the server can reach its store.
    pub status: String,
    /// `"sqlite"` or `"postgres"`.
    pub store: String,
}

/// `GET /api/v1/web-bundle`: the published hash of the web app this server delivers (R14), so
/// it can be compared with a reproducible build of the same release.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebBundleInfo {
    /// SHA-256 over every file (path, length and SHA-256 of each, in path order), hex.
    pub sha256: String,
    /// `embedded`, `placeholder` or `directory`.
    pub source: String,
    /// Each file of the bundle.
    pub files: Vec<WebBundleFile>,
}

/// One file of the web bundle.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebBundleFile {
    /// Path relative to the bundle root, e.g. `assets/index-3f2a.js`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents, hex.
    pub sha256: String,
}

/// `POST /api/v1/setup`: creates the first administrator with the one-time setup token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token printed once by the server at first start.
    pub setup_token: String,
    /// Login name of the first administrator.
    pub username: String,
    /// Their password.
    pub password: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// A human-readable name for the device, e.g. "Firefox on laptop".
    pub device_name: String,
    /// The device's Ed25519 signature public key (32 bytes). Logging in again with the same key
    /// resumes the same device; a new key registers a new device.
    pub signature_key: Base64,
}

/// Response of a successful login or setup.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`; shown once, stored only hashed.
    pub token: String,
    /// Unix time (seconds) when the token expires.
    pub expires_at: i64,
    /// The logged-in user.
    pub user: UserInfo,
    /// The device this session belongs to.
    pub device: DeviceInfo,
}

/// A user as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Whether the user administers this server (never grants decryption).
    pub is_admin: bool,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
}

/// A device as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    /// Id.
    pub id: DeviceId,
    /// Owner.
    pub user_id: UserId,
    /// Human-readable name.
    pub name: String,
    /// Ed25519 signature public key.
    pub signature_key: Base64,
    /// Unix time (seconds) of registration.
    pub created_at: i64,
    /// Unix time (seconds) when revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// `GET /api/v1/devices`, `GET /api/v1/users/{username}/devices`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceList {
    /// The owner.
    pub user_id: UserId,
    /// Devices, oldest first. Revoked devices are listed only for their owner.
    pub devices: Vec<DeviceInfo>,
}

/// `POST /api/v1/key-packages`: the device publishes fresh KeyPackages.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyPackageUpload {
    /// One-time KeyPackages (TLS-serialised MLSMessage, wire format `mls_key_package`).
    pub key_packages: Vec<Base64>,
    /// A last-resort KeyPackage, handed out only when no one-time package is left; replaces the
    /// previous one.
    #[serde(default)]
    pub last_resort: Option<Base64>,
}

/// How many KeyPackages a device has left on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyPackageCount {
    /// One-time packages not yet claimed.
    pub available: u64,
    /// Whether a last-resort package is stored.
    pub has_last_resort: bool,
}

/// One device's claimed KeyPackage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimedKeyPackage {
    /// The device it belongs to.
    pub device_id: DeviceId,
    /// The KeyPackage bytes.
    pub key_package: Base64,
    /// True when this is the device's last-resort package (it may be handed out again).
    pub last_resort: bool,
}

/// `POST /api/v1/users/{username}/key-packages/claim`: one package for each active device.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimedKeyPackages {
    /// The user whose devices these are.
    pub user_id: UserId,
    /// One entry per active device that had a package; devices without any are listed in
    /// `devices_without_packages`.
    pub key_packages: Vec<ClaimedKeyPackage>,
    /// Active devices that had neither a one-time nor a last-resort package.
    pub devices_without_packages: Vec<DeviceId>,
}

/// `GET /api/v1/me`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The user.
    pub user: UserInfo,
    /// The device of the presented session.
    pub device: DeviceInfo,
    /// Unix time (seconds) when the presented session expires.
    pub session_expires_at: i64,
}

/// Result of `POST /api/v1/auth/logout-all`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionsRevoked {
    /// How many sessions were ended.
    pub revoked: u64,
}
