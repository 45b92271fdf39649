//! `/api/v1/admin/users…` and `/api/v1/admin/devices/{id}`: list and search accounts,
//! deactivate and reactivate them, make administrators, and see and revoke a user's devices.
//!
//! None of this touches keys: deactivating or revoking stops the server from serving a device,
//! but the device keeps its keys and stays in its rooms' MLS groups until members remove it.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use ting_proto::admin::{
    AdminDevice, AdminDeviceList, AdminUser, AdminUserPage, DeviceRevoked, SetAdmin,
};
use ting_proto::ws::close_code;
use ting_proto::{DeviceId, ErrorCode};
use ting_store::{User, UserQuery, UserSummary};

use super::{admin_user, require_admin};
use crate::audit::{self, Entry, Event};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientAddr, Json};
use crate::hub::Delivery;
use crate::routes::device_infos;
use crate::routes::devices::{announce_revocation, find_user};
use crate::state::AppState;

/// Accounts per page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 50;
/// Most accounts per page.
const MAX_PAGE: u32 = 200;
/// Longest search term.
const MAX_SEARCH: usize = 100;

/// Query of `GET /api/v1/admin/users`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct UsersQuery {
    /// Only login names containing this (ASCII case ignored).
    q: Option<String>,
    /// The previous page's `next`.
    after: Option<String>,
    /// Accounts per page (1–200, default 50).
    limit: Option<u32>,
}

/// One page of accounts, by login name.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(UsersQuery),
    responses((status = 200, body = AdminUserPage), (status = 400, body = ting_proto::ErrorBody), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<UsersQuery>,
) -> ApiResult<axum::Json<AdminUserPage>> {
    require_admin(&auth)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let search =
        q.q.map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
    if search
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SEARCH)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("the search term may have at most {MAX_SEARCH} characters"),
        ));
    }
    let (users, total) = state
        .store
        .user_page(&UserQuery {
            search,
            after: q.after.filter(|a| !a.is_empty()),
            limit,
        })
        .await?;
    let next = (users.len() == limit as usize)
        .then(|| users.last().map(|s| s.user.username.clone()))
        .flatten();
    Ok(axum::Json(AdminUserPage {
        users: users.iter().map(admin_user).collect(),
        total,
        next,
        management: "local".into(),
    }))
}

/// The summary of one account.
async fn summary(state: &AppState, user: User) -> ApiResult<UserSummary> {
    let devices = state.store.devices_for_user(user.id, true).await?;
    Ok(UserSummary {
        active_devices: devices.iter().filter(|d| d.revoked_at.is_none()).count() as u32,
        last_seen_at: devices.iter().filter_map(|d| d.last_seen_at).max(),
        user,
    })
}

async fn reload(state: &AppState, user: &User) -> ApiResult<axum::Json<AdminUser>> {
    let fresh = state
        .store
        .user_by_id(user.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownUser, "no such user"))?;
    Ok(axum::Json(admin_user(&summary(state, fresh).await?)))
}

fn last_admin() -> ApiError {
    ApiError::new(
        ErrorCode::LastAdmin,
        "this is the only active administrator; make someone else an administrator first",
    )
}

fn store_error(e: ting_store::Error) -> ApiError {
    match e {
        ting_store::Error::Conflict("last_admin") => last_admin(),
        ting_store::Error::NotFound(_) => ApiError::new(ErrorCode::UnknownUser, "no such user"),
        other => other.into(),
    }
}

/// A user's devices, revoked ones included, with when each was last seen.
#[utoipa::path(get, path = "/api/v1/admin/users/{username}/devices", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "Login name")),
    responses((status = 200, body = AdminDeviceList), (status = 403, body = ting_proto::ErrorBody), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn devices(
    State(state): State<AppState>,
    auth: Auth,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<AdminDeviceList>> {
    require_admin(&auth)?;
    let user = find_user(&state, &username).await?;
    let stored = state.store.devices_for_user(user.id, true).await?;
    let infos = device_infos(&state, &user.username, &stored).await?;
    let devices = infos
        .into_iter()
        .zip(&stored)
        .map(|(device, d)| AdminDevice {
            device,
            last_seen_at: d.last_seen_at,
        })
        .collect();
    Ok(axum::Json(AdminDeviceList {
        user: admin_user(&summary(&state, user).await?),
        devices,
    }))
}

/// Deactivates an account: all its sessions end at once (open connections are closed), it
/// cannot sign in and others cannot add it to rooms. Its devices keep their keys and stay in
/// their rooms' groups. Not for the caller's own account or the last active administrator.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/deactivate", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "Login name")),
    responses((status = 200, body = AdminUser), (status = 400, body = ting_proto::ErrorBody), (status = 403, body = ting_proto::ErrorBody),
              (status = 404, body = ting_proto::ErrorBody), (status = 409, body = ting_proto::ErrorBody)))]
pub async fn deactivate(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<AdminUser>> {
    require_admin(&auth)?;
    let user = find_user(&state, &username).await?;
    if user.id == auth.user.id {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "you cannot deactivate your own account",
        ));
    }
    let now = state.clock.now_unix();
    state
        .store
        .deactivate(user.id, now)
        .await
        .map_err(store_error)?;
    let sessions = state.store.delete_sessions_for_user(user.id).await?;
    state.hub.to_user(
        user.id,
        Delivery::Close(close_code::SESSION_ENDED, "account deactivated"),
    );
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::UserDeactivated, now)
            .actor(auth.user.id, Some(auth.device.id))
            .target_user(user.id)
            .client(addr.0)
            .details(serde_json::json!({ "sessions_ended": sessions })),
    )
    .await?;
    tracing::info!(user = %user.id, by = %auth.user.id, sessions, "account deactivated");
    reload(&state, &user).await
}

/// Reactivates an account: it can sign in again, from the devices it had.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/reactivate", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "Login name")),
    responses((status = 200, body = AdminUser), (status = 403, body = ting_proto::ErrorBody), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn reactivate(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<AdminUser>> {
    require_admin(&auth)?;
    let user = find_user(&state, &username).await?;
    if user.deactivated_at.is_some() {
        state
            .store
            .set_deactivated(user.id, None)
            .await
            .map_err(store_error)?;
        audit::record(
            state.store.as_ref(),
            Entry::new(Event::UserReactivated, state.clock.now_unix())
                .actor(auth.user.id, Some(auth.device.id))
                .target_user(user.id)
                .client(addr.0),
        )
        .await?;
    }
    reload(&state, &user).await
}

/// Makes a user an administrator or takes the role away (never from the last active one).
/// Administrators manage accounts and the policy; they cannot read content.
#[utoipa::path(put, path = "/api/v1/admin/users/{username}/admin", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "Login name")), request_body = SetAdmin,
    responses((status = 200, body = AdminUser), (status = 403, body = ting_proto::ErrorBody),
              (status = 404, body = ting_proto::ErrorBody), (status = 409, body = ting_proto::ErrorBody)))]
pub async fn set_admin(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Path(username): Path<String>,
    Json(req): Json<SetAdmin>,
) -> ApiResult<axum::Json<AdminUser>> {
    require_admin(&auth)?;
    let user = find_user(&state, &username).await?;
    if user.is_admin != req.admin {
        state
            .store
            .set_admin(user.id, req.admin)
            .await
            .map_err(store_error)?;
        let event = if req.admin {
            Event::AdminGranted
        } else {
            Event::AdminRevoked
        };
        audit::record(
            state.store.as_ref(),
            Entry::new(event, state.clock.now_unix())
                .actor(auth.user.id, Some(auth.device.id))
                .target_user(user.id)
                .client(addr.0),
        )
        .await?;
    }
    reload(&state, &user).await
}

/// Revokes a device: its sessions and KeyPackages are deleted and its connections closed. Its
/// keys are not erased from it; it leaves encrypted groups when members remove it.
#[utoipa::path(delete, path = "/api/v1/admin/devices/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, body = DeviceRevoked), (status = 403, body = ting_proto::ErrorBody), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn revoke_device(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<DeviceRevoked>> {
    require_admin(&auth)?;
    let unknown = || ApiError::new(ErrorCode::UnknownDevice, "no such device");
    let id: DeviceId = id.parse().map_err(|_| unknown())?;
    let device = state.store.device_by_id(id).await?.ok_or_else(unknown)?;
    let now = state.clock.now_unix();
    let revoked = state.store.revoke_device(device.id, now).await?;
    if revoked {
        announce_revocation(&state, &device);
        audit::record(
            state.store.as_ref(),
            Entry::new(Event::DeviceRevoked, now)
                .actor(auth.user.id, Some(auth.device.id))
                .target_user(device.user_id)
                .target(device.id)
                .client(addr.0)
                .details(serde_json::json!({ "via": "admin_api" })),
        )
        .await?;
    }
    Ok(axum::Json(DeviceRevoked {
        device_id: device.id,
        revoked,
    }))
}
