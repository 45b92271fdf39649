//! `/api/v1/auth/*` and `/api/v1/me`: login (registers or resumes a device), logout, logout
//! everywhere.

use axum::extract::State;
use axum::http::StatusCode;
use ting_proto::api::{LoginRequest, LoginResponse, Me, SIGNATURE_KEY_LEN, SessionsRevoked};
use ting_proto::ws::close_code;
use ting_proto::{DeviceId, ErrorCode};
use ting_store::{NewDevice, Session};

use crate::audit::{self, Entry, Event};
use crate::auth::{normalise_username, password, token};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientAddr, Json};
use crate::hub::Delivery;
use crate::routes::{device_info_of, user_info};
use crate::state::AppState;

/// Longest accepted device name.
const MAX_DEVICE_NAME: usize = 100;

/// Counts an attempt from `addr` and refuses when the address is over its limit.
pub fn throttle_address(state: &AppState, addr: ClientAddr) -> ApiResult<()> {
    let Some(ip) = addr.0 else { return Ok(()) };
    let key = ip.to_string();
    let now = state.clock.now();
    if let Err(retry) = state.limiters.address_attempts.check(&key, now) {
        state.metrics.login("rate_limited");
        return Err(rate_limited(retry.as_secs()));
    }
    state.limiters.address_attempts.record(&key, now);
    Ok(())
}

fn rate_limited(retry_after: u64) -> ApiError {
    let mut e = ApiError::new(
        ErrorCode::RateLimited,
        "too many login attempts; try again later",
    );
    e.retry_after = Some(retry_after.max(1));
    e
}

/// Logs in with username and password, registering the device (or resuming it when its
/// signature key is already registered), and returns a session token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ting_proto::ErrorBody),
              (status = 429, body = ting_proto::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    throttle_address(&state, addr)?;
    if req.signature_key.as_slice().len() != SIGNATURE_KEY_LEN {
        return Err(ApiError::new(
            ErrorCode::InvalidSignatureKey,
            "signature_key must be a 32-byte Ed25519 public key",
        ));
    }
    let device_name = req.device_name.trim().to_string();
    if device_name.is_empty() || device_name.chars().count() > MAX_DEVICE_NAME {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "device_name must be 1 to 100 characters",
        ));
    }
    let username = normalise_username(&req.username).unwrap_or_default();
    let now = state.clock.now();
    if let Err(retry) = state.limiters.account_failures.check(&username, now) {
        state.metrics.login("rate_limited");
        return Err(rate_limited(retry.as_secs()));
    }
    let user = if username.is_empty() {
        None
    } else {
        state.store.user_by_username(&username).await?
    };
    let ok = password::verify_async(
        req.password,
        user.as_ref().map(|u| u.password_hash.clone()),
        state.password_cost(),
    )
    .await;
    let known = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|_| ok) else {
        state.limiters.account_failures.record(&username, now);
        state.metrics.login("failure");
        let mut entry = Entry::new(Event::LoginFailed, state.clock.now_unix()).client(addr.0);
        entry = match known {
            Some(id) => entry
                .target_user(id)
                .details(serde_json::json!({ "reason": "wrong_password" })),
            None => entry.details(serde_json::json!({ "reason": "unknown_user" })),
        };
        audit::record(state.store.as_ref(), entry).await?;
        return Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong username or password",
        ));
    };
    state.limiters.account_failures.clear(&username);
    if user.deactivated_at.is_some() {
        state.metrics.login("deactivated");
        audit::record(
            state.store.as_ref(),
            Entry::new(Event::LoginFailed, state.clock.now_unix())
                .client(addr.0)
                .target_user(user.id)
                .details(serde_json::json!({ "reason": "account_deactivated" })),
        )
        .await?;
        return Err(ApiError::new(
            ErrorCode::AccountDeactivated,
            "this account has been deactivated by an administrator",
        ));
    }

    let now_unix = state.clock.now_unix();
    let key = req.signature_key.into_inner();
    let (device, is_new) = match state.store.active_device_by_key(user.id, &key).await? {
        Some(d) => (d, false),
        None => {
            let d = state
                .store
                .create_device(NewDevice {
                    id: DeviceId::random(),
                    user_id: user.id,
                    name: device_name,
                    signature_key: key,
                    created_at: now_unix,
                })
                .await?;
            (d, true)
        }
    };
    state.store.touch_device(device.id, now_unix).await?;
    let token = token::generate();
    let expires_at = now_unix + (state.config.auth.session_ttl_hours * 3600) as i64;
    state
        .store
        .create_session(Session {
            token_hash: token::hash(&token),
            user_id: user.id,
            device_id: device.id,
            created_at: now_unix,
            expires_at,
        })
        .await?;
    state.metrics.login("success");
    if is_new {
        audit::record(
            state.store.as_ref(),
            Entry::new(Event::DeviceAdded, now_unix)
                .actor(user.id, Some(device.id))
                .target_user(user.id)
                .target(device.id)
                .client(addr.0),
        )
        .await?;
        // Tell the user's devices at once: a device they did not expect means someone else
        // logged in as them (it stays untrusted until one of their devices links it).
        let info = crate::routes::device_info_of(&state, &user.username, &device).await?;
        state.hub.to_user(
            user.id,
            crate::hub::Delivery::Event(ting_proto::ws::ServerEvent::DeviceAdded { device: info }),
        );
    }
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::LoginSucceeded, now_unix)
            .actor(user.id, Some(device.id))
            .target_user(user.id)
            .client(addr.0)
            .details(serde_json::json!({ "new_device": is_new })),
    )
    .await?;
    tracing::info!(user = %user.id, device = %device.id, new_device = is_new, "login");
    Ok(axum::Json(LoginResponse {
        token,
        expires_at,
        user: user_info(&user),
        device: device_info_of(&state, &user.username, &device).await?,
    }))
}

/// Ends the presented session and closes its WebSocket connections.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    state.store.delete_session(&auth.session.token_hash).await?;
    state.hub.to_session(
        auth.session.token_hash,
        Delivery::Close(close_code::SESSION_ENDED, "logged out"),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller, on all devices.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionsRevoked), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn logout_all(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<SessionsRevoked>> {
    let revoked = state.store.delete_sessions_for_user(auth.user.id).await?;
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::LogoutAll, state.clock.now_unix())
            .actor(auth.user.id, Some(auth.device.id))
            .target_user(auth.user.id)
            .details(serde_json::json!({ "sessions": revoked })),
    )
    .await?;
    state.hub.to_user(
        auth.user.id,
        Delivery::Close(close_code::SESSION_ENDED, "signed out everywhere"),
    );
    tracing::info!(user = %auth.user.id, revoked, "signed out everywhere");
    Ok(axum::Json(SessionsRevoked { revoked }))
}

/// The caller's user, device and session expiry.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(Me {
        user: user_info(&auth.user),
        device: device_info_of(&state, &auth.user.username, &auth.device).await?,
        session_expires_at: auth.session.expires_at,
    }))
}
