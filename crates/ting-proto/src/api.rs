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
    /// Whether the key log holds a certificate for this device (id and signature key) under
    /// its user's current master key that no revocation withdrew. The server's view only:
    /// clients verify the certificate and the log themselves.
    #[serde(default)]
    pub certified: bool,
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

/// Largest accepted key log record in bytes (a device certificate is well under 1 KiB).
pub const MAX_KEY_LOG_RECORD_LEN: usize = 4 * 1024;
/// Most records `GET /api/v1/keylog/entries` returns per call.
pub const MAX_KEY_LOG_ENTRIES: u64 = 1000;
/// Largest device-link request in bytes.
pub const MAX_LINK_REQUEST_LEN: usize = 4 * 1024;
/// Largest device-link response in bytes.
pub const MAX_LINK_RESPONSE_LEN: usize = 16 * 1024;
/// Seconds a device-link rendezvous stays usable.
pub const LINK_TTL_SECS: i64 = 10 * 60;

/// What a key log record declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyLogKind {
    /// A master key: genesis, or a reset (contacts must be warned).
    Identity,
    /// A device certificate.
    Device,
    /// A device revocation.
    Revocation,
}

/// `POST /api/v1/keylog`: appends one signed record about the caller.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyLogAppendRequest {
    /// The encoded `ting_trust::Entry` (tag byte, then the identity statement, device
    /// certificate or revocation).
    pub record: Base64,
}

/// Result of `POST /api/v1/keylog`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyLogAppendResponse {
    /// The record's index (leaf) in the log, from 0.
    pub index: u64,
    /// The log's size right after the append (at least `index + 1`).
    pub size: u64,
}

/// One record of a user's key log history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyLogUserRecord {
    /// Its index in the log.
    pub index: u64,
    /// The encoded record.
    pub record: Base64,
}

/// `GET /api/v1/keylog/users/{username}`: every record about one user, with inclusion proofs
/// against a signed checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyLogUserResponse {
    /// The user (the user id inside every record).
    pub username: String,
    /// The user's records, in log order.
    pub records: Vec<KeyLogUserRecord>,
    /// The log size the checkpoint and proofs are for.
    pub size: u64,
    /// The signed checkpoint note (c2sp.org/tlog-checkpoint) of `size`, with the witness
    /// cosignatures collected for it.
    pub checkpoint: String,
    /// For each record (same order), its inclusion proof at `size`: the hashes, each 32 bytes.
    pub proofs: Vec<Vec<Base64>>,
}

/// `GET /api/v1/keylog/key`: what clients and witnesses pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyLogInfo {
    /// The log's origin, the first line of its checkpoints.
    pub origin: String,
    /// The log's signed-note verifier key (`<origin>+<key id>+<base64>`).
    pub verifier_key: String,
}

/// `GET /api/v1/keylog/entries`: a range of records, for witnesses and auditors.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyLogEntriesResponse {
    /// The encoded records from `start`, in index order.
    pub records: Vec<Base64>,
}

/// `GET /api/v1/keylog/proof/inclusion` and `/proof/consistency`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyLogProofResponse {
    /// The proof's hashes, each 32 bytes (RFC 6962 / RFC 9162 order).
    pub proof: Vec<Base64>,
}

/// `POST /api/v1/keylog/cosignatures`: a witness returns the server's checkpoint with its
/// cosignature.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CosignatureRequest {
    /// The checkpoint note with the witness's cosignature line (c2sp.org/tlog-cosignature).
    pub note: String,
}

/// `POST /api/v1/link`: a new device opens a rendezvous for an existing device of the same
/// user to answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkCreateRequest {
    /// Opaque to the server (the new device's public keys), at most 4 KiB.
    pub request: Base64,
}

/// Result of `POST /api/v1/link`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkCreateResponse {
    /// 16 random bytes as 32 lower-case hex digits.
    pub rendezvous_id: String,
    /// Unix time (seconds) after which the rendezvous is gone.
    pub expires_at: i64,
}

/// `GET /api/v1/link/{id}`: what an existing device sees of a rendezvous.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkRequestInfo {
    /// The new device's request.
    pub request: Base64,
    /// The new device.
    pub device_id: DeviceId,
    /// Its name.
    pub device_name: String,
    /// Unix time (seconds) after which the rendezvous is gone.
    pub expires_at: i64,
}

/// `POST /api/v1/link/{id}/response`: the existing device's answer (encrypted to the new
/// device by the client; opaque to the server).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkRespondRequest {
    /// At most 16 KiB.
    pub response: Base64,
}

/// `GET /api/v1/link/{id}/response` once answered (handed out once).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkResponseBody {
    /// The existing device's answer.
    pub response: Base64,
}

/// Largest recovery backup in bytes (an encrypted 32-byte key and a little framing).
pub const MAX_RECOVERY_BACKUP_LEN: usize = 1024;

/// `PUT /api/v1/recovery` and the answer of `GET /api/v1/recovery`: the user's master
/// identity key, encrypted on their device under their recovery key (opaque to the server).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecoveryBackup {
    /// At most 1 KiB.
    pub backup: Base64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::ServerEvent;

    #[test]
    fn device_info_without_certified_reads_as_uncertified() {
        let json = serde_json::json!({
            "id": DeviceId::random(), "user_id": UserId::random(), "name": "phone",
            "signature_key": "AAAA", "created_at": 1, "revoked_at": null,
        });
        let info: DeviceInfo = serde_json::from_value(json).unwrap();
        assert!(!info.certified);
        let back = serde_json::to_value(&info).unwrap();
        assert_eq!(back["certified"], false);
    }

    #[test]
    fn key_log_and_link_shapes() {
        assert_eq!(
            serde_json::to_value(KeyLogAppendResponse { index: 4, size: 5 }).unwrap(),
            serde_json::json!({ "index": 4, "size": 5 })
        );
        let event = ServerEvent::KeyLogAppended {
            username: "ann".into(),
            index: 7,
            kind: KeyLogKind::Revocation,
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({ "type": "key_log_appended", "username": "ann", "index": 7, "kind": "revocation" })
        );
        let event = ServerEvent::LinkResponded {
            rendezvous_id: "ab".into(),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({ "type": "link_responded", "rendezvous_id": "ab" })
        );
        assert!(
            serde_json::from_value::<LinkCreateRequest>(
                serde_json::json!({ "request": "AA==", "extra": 1 })
            )
            .is_err(),
            "unknown fields are refused"
        );
    }
}
