//! `/api/v1/devices` (own devices) and `/api/v1/users/{username}/devices` (anyone's active ones).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use ting_proto::api::DeviceList;
use ting_proto::ws::{ServerEvent, close_code};
use ting_proto::{DeviceId, ErrorCode};

use crate::auth::normalise_username;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::hub::Delivery;
use crate::routes::device_infos;
use crate::state::AppState;

/// The caller's devices, revoked ones included.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = DeviceList), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn list_own(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<DeviceList>> {
    let devices = state.store.devices_for_user(auth.user.id, true).await?;
    Ok(axum::Json(DeviceList {
        user_id: auth.user.id,
        devices: device_infos(&state, &auth.user.username, &devices).await?,
    }))
}

/// Revokes one of the caller's devices: its sessions end, its KeyPackages are deleted and it
/// is told to disconnect; the user's other devices are notified.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses((status = 204), (status = 404, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn revoke_own(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let unknown = || ApiError::new(ErrorCode::UnknownDevice, "no such device among yours");
    let id: DeviceId = id.parse().map_err(|_| unknown())?;
    let device = state
        .store
        .device_by_id(id)
        .await?
        .filter(|d| d.user_id == auth.user.id)
        .ok_or_else(unknown)?;
    if state
        .store
        .revoke_device(device.id, state.clock.now_unix())
        .await?
    {
        announce_revocation(&state, &device);
        crate::audit::record(
            state.store.as_ref(),
            crate::audit::Entry::new(crate::audit::Event::DeviceRevoked, state.clock.now_unix())
                .actor(auth.user.id, Some(auth.device.id))
                .target_user(device.user_id)
                .target(device.id)
                .details(serde_json::json!({ "via": "api" })),
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Tells the owner's devices about a revocation and disconnects the revoked device.
pub fn announce_revocation(state: &AppState, device: &ting_store::Device) {
    state.hub.to_device(
        device.id,
        Delivery::Close(close_code::SESSION_ENDED, "device revoked"),
    );
    state.hub.to_user(
        device.user_id,
        Delivery::Event(ServerEvent::DeviceRevoked {
            device_id: device.id,
        }),
    );
    tracing::info!(user = %device.user_id, device = %device.id, "device revoked");
}

/// A user's active devices with their signature keys (needed to add them to a group and to
/// compute safety numbers).
#[utoipa::path(get, path = "/api/v1/users/{username}/devices", tag = "devices", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username")),
    responses((status = 200, body = DeviceList), (status = 404, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn list_for_user(
    State(state): State<AppState>,
    _auth: Auth,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<DeviceList>> {
    let user = find_user(&state, &username).await?;
    let devices = state.store.devices_for_user(user.id, false).await?;
    Ok(axum::Json(DeviceList {
        user_id: user.id,
        devices: device_infos(&state, &user.username, &devices).await?,
    }))
}

/// Looks a user up by (un-normalised) username, or `unknown_user`.
pub async fn find_user(state: &AppState, username: &str) -> ApiResult<ting_store::User> {
    let unknown = || ApiError::new(ErrorCode::UnknownUser, "no such user");
    let name = normalise_username(username).map_err(|_| unknown())?;
    state
        .store
        .user_by_username(&name)
        .await?
        .ok_or_else(unknown)
}
