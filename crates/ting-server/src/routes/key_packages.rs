//! `/api/v1/key-packages`: devices publish MLS KeyPackages; others claim one per device.
//!
//! The server treats packages as opaque except for a structural check (framing, ciphersuite
//! allow-list, lifetime, and that the leaf's signature key is the uploading device's key). A
//! Ting certificate credential must name the uploader: its user, device id and device key, and
//! the user's current master key as the key log says. The claiming client verifies signatures.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use ting_proto::api::{
    ClaimedKeyPackage, ClaimedKeyPackages, KeyPackageCount, KeyPackageUpload, MAX_KEY_PACKAGE_LEN,
    MAX_KEY_PACKAGES_PER_UPLOAD,
};
use ting_proto::mls_wire::{
    CREDENTIAL_BASIC, CREDENTIAL_TING_CERTIFICATE, KeyPackageInfo, parse_key_package_message,
};
use ting_proto::ws::ServerEvent;
use ting_proto::{Base64, ErrorCode};
use ting_trust::{DeviceCertificate, MasterPublicKey};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json};
use crate::hub::Delivery;
use crate::routes::devices::find_user;
use crate::state::AppState;

/// Publishes one-time KeyPackages and optionally replaces the last-resort package. All or
/// nothing: one bad package rejects the whole upload.
#[utoipa::path(post, path = "/api/v1/key-packages", tag = "key_packages", security(("bearer" = [])),
    request_body = KeyPackageUpload,
    responses((status = 200, body = KeyPackageCount), (status = 400, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<KeyPackageUpload>,
) -> ApiResult<axum::Json<KeyPackageCount>> {
    if req.key_packages.is_empty() && req.last_resort.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "upload at least one KeyPackage",
        ));
    }
    if req.key_packages.len() > MAX_KEY_PACKAGES_PER_UPLOAD {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("at most {MAX_KEY_PACKAGES_PER_UPLOAD} KeyPackages per upload"),
        ));
    }
    let allowed = crate::routes::policy::effective(&state)
        .await?
        .policy
        .mls
        .allowed_ciphersuites;
    let master = state
        .keylog
        .current_master(
            state.store.as_ref(),
            &auth.user.username,
            state.clock.now_unix(),
        )
        .await?;
    let check = |kp: &Base64, what: &str| check(&state, &auth, &allowed, master, kp, what);
    for (i, kp) in req.key_packages.iter().enumerate() {
        let info = check(kp, &format!("key_packages[{i}]"))?;
        if info.last_resort {
            return Err(invalid(format!(
                "key_packages[{i}] carries the last_resort extension; send it as last_resort"
            )));
        }
    }
    if let Some(kp) = &req.last_resort {
        let info = check(kp, "last_resort")?;
        if !info.last_resort {
            return Err(invalid(
                "last_resort lacks the last_resort extension".into(),
            ));
        }
    }
    let (available, had_last_resort) = state.store.count_key_packages(auth.device.id).await?;
    let first_upload = available == 0 && !had_last_resort;
    let max = state.config.mls.max_key_packages_per_device;
    if available + req.key_packages.len() as u64 > max {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("a device may store at most {max} unclaimed KeyPackages ({available} stored)"),
        ));
    }
    let n = req.key_packages.len() as u64;
    let one_time = req
        .key_packages
        .into_iter()
        .map(Base64::into_inner)
        .collect();
    let available = state
        .store
        .add_key_packages(
            auth.device.id,
            one_time,
            req.last_resort.map(Base64::into_inner),
            state.clock.now_unix(),
        )
        .await?;
    state.metrics.key_packages_uploaded.inc_by(n);
    if first_upload {
        // The device can now be added to groups: tell the user's devices (those that add
        // devices check its certificate in the key log first).
        let device =
            crate::routes::device_info_of(&state, &auth.user.username, &auth.device).await?;
        state.hub.to_user(
            auth.user.id,
            Delivery::Event(ServerEvent::DeviceAdded { device }),
        );
    }
    let (_, has_last_resort) = state.store.count_key_packages(auth.device.id).await?;
    Ok(axum::Json(KeyPackageCount {
        available,
        has_last_resort,
    }))
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidKeyPackage, message)
}

fn check(
    state: &AppState,
    auth: &Auth,
    allowed: &[u16],
    master: Option<MasterPublicKey>,
    kp: &Base64,
    what: &str,
) -> ApiResult<KeyPackageInfo> {
    let bytes = kp.as_slice();
    if bytes.len() > MAX_KEY_PACKAGE_LEN {
        return Err(invalid(format!(
            "{what} is larger than {MAX_KEY_PACKAGE_LEN} bytes"
        )));
    }
    let info = parse_key_package_message(bytes)
        .map_err(|e| invalid(format!("{what} is not an MLS KeyPackage: {e}")))?;
    if !allowed.contains(&info.cipher_suite) {
        // `invalid_key_package` (not `policy_forbids`): clients already handle it per package.
        return Err(invalid(format!(
            "{what} uses ciphersuite {:#06x}, which this server's policy does not allow (allowed: {allowed:?})",
            info.cipher_suite
        )));
    }
    if info.signature_key != auth.device.signature_key {
        return Err(invalid(format!(
            "{what} is signed by a key that is not this device's"
        )));
    }
    let now = state.clock.now_unix().max(0) as u64;
    if info.not_after <= now || info.not_before > info.not_after {
        return Err(invalid(format!(
            "{what} has expired or has an invalid lifetime"
        )));
    }
    match (info.credential_type, info.certificate.as_deref()) {
        (CREDENTIAL_TING_CERTIFICATE, Some(cert)) => check_certificate(auth, master, cert, what)?,
        (CREDENTIAL_BASIC, _) if state.config.keylog.require_certificates => {
            return Err(ApiError::new(
                ErrorCode::CertificateMismatch,
                format!("{what} has a basic credential; a Ting device certificate is required"),
            ));
        }
        _ => {}
    }
    Ok(info)
}

/// A certificate credential must certify the uploading device (user, device id, device key)
/// under the user's current master key, with valid signatures.
fn check_certificate(
    auth: &Auth,
    master: Option<MasterPublicKey>,
    cert: &[u8],
    what: &str,
) -> ApiResult<()> {
    let refuse = |why: &str| {
        ApiError::new(
            ErrorCode::CertificateMismatch,
            format!("{what}: the credential's certificate {why}"),
        )
    };
    let cert = DeviceCertificate::decode(cert).map_err(|_| refuse("cannot be parsed"))?;
    cert.verify()
        .map_err(|_| refuse("has a signature that does not verify"))?;
    let b = &cert.body;
    if b.user_id != auth.user.username {
        return Err(refuse("names another user"));
    }
    if b.device_id != auth.device.id.to_string().as_bytes() {
        return Err(refuse("names another device"));
    }
    if b.device_key != auth.device.signature_key {
        return Err(refuse("names another device key"));
    }
    match master {
        None => Err(refuse(
            "cannot be checked: the user has no identity in the key log yet",
        )),
        Some(m) if m != b.master_key => Err(refuse(
            "is signed by a master key that is not the user's current one",
        )),
        Some(_) => Ok(()),
    }
}

/// The caller device's remaining KeyPackages.
#[utoipa::path(get, path = "/api/v1/key-packages", tag = "key_packages", security(("bearer" = [])),
    responses((status = 200, body = KeyPackageCount), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn count(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<KeyPackageCount>> {
    let (available, has_last_resort) = state.store.count_key_packages(auth.device.id).await?;
    Ok(axum::Json(KeyPackageCount {
        available,
        has_last_resort,
    }))
}

/// Which devices to claim for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ClaimQuery {
    /// Only this device of the user (e.g. to add a user's new device to a group).
    pub device_id: Option<String>,
}

/// Claims one KeyPackage for each active device of a user (to add them to an MLS group). A
/// one-time package is never handed out twice.
#[utoipa::path(post, path = "/api/v1/users/{username}/key-packages/claim", tag = "key_packages", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username"), ClaimQuery),
    responses((status = 200, body = ClaimedKeyPackages), (status = 404, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    _auth: Auth,
    Path(username): Path<String>,
    Query(q): Query<ClaimQuery>,
) -> ApiResult<axum::Json<ClaimedKeyPackages>> {
    let user = find_user(&state, &username).await?;
    if user.deactivated_at.is_some() {
        return Err(ApiError::new(
            ErrorCode::AccountDeactivated,
            format!("{username}'s account is deactivated; it cannot be added to rooms"),
        ));
    }
    let only = match q.device_id {
        Some(d) => Some(
            d.parse()
                .map_err(|_| ApiError::new(ErrorCode::UnknownDevice, "no such device"))?,
        ),
        None => None,
    };
    let claims = state.store.claim_key_packages(user.id, only).await?;
    let mut out = ClaimedKeyPackages {
        user_id: user.id,
        key_packages: Vec::new(),
        devices_without_packages: Vec::new(),
    };
    for c in claims {
        match c.key_package {
            Some(kp) => {
                state.metrics.key_packages_claimed.inc();
                if !c.last_resort {
                    notify_if_low(&state, c.device_id).await?;
                }
                out.key_packages.push(ClaimedKeyPackage {
                    device_id: c.device_id,
                    key_package: Base64(kp),
                    last_resort: c.last_resort,
                });
            }
            None => out.devices_without_packages.push(c.device_id),
        }
    }
    Ok(axum::Json(out))
}

async fn notify_if_low(state: &AppState, device: ting_proto::DeviceId) -> ApiResult<()> {
    let (available, _) = state.store.count_key_packages(device).await?;
    if available < state.config.mls.key_packages_low_watermark {
        state.hub.to_device(
            device,
            Delivery::Event(ServerEvent::KeyPackagesLow { available }),
        );
    }
    Ok(())
}
