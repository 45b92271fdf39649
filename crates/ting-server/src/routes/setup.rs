//! `POST /api/v1/setup`: the one-time link printed at first start creates the first admin.

use axum::extract::State;
use ting_proto::ErrorCode;
use ting_proto::api::SetupRequest;

use crate::auth::{check_password, normalise_username, password};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientAddr, Json};
use crate::state::AppState;
use ting_store::NewUser;

/// Creates the first administrator. Refused once any user exists.
#[utoipa::path(post, path = "/api/v1/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, description = "Administrator created; log in next"),
              (status = 401, body = ting_proto::ErrorBody), (status = 409, body = ting_proto::ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    addr: ClientAddr,
    Json(req): Json<SetupRequest>,
) -> ApiResult<(
    axum::http::StatusCode,
    axum::Json<ting_proto::api::UserInfo>,
)> {
    crate::routes::auth::throttle_address(&state, addr)?;
    if state.store.count_users().await? > 0 {
        return Err(ApiError::new(
            ErrorCode::SetupAlreadyDone,
            "the first administrator already exists",
        ));
    }
    if !state.setup.matches(&req.setup_token) {
        return Err(ApiError::new(
            ErrorCode::InvalidSetupToken,
            "the setup link is not valid; use the one the server printed",
        ));
    }
    let username =
        normalise_username(&req.username).map_err(|m| ApiError::new(ErrorCode::InvalidInput, m))?;
    check_password(&req.password, state.config.auth.min_password_len)
        .map_err(|m| ApiError::new(ErrorCode::InvalidInput, m))?;
    let hash = password::hash_async(req.password, state.password_cost())
        .await
        .map_err(ApiError::internal)?;
    let user = NewUser {
        id: ting_proto::UserId::random(),
        username,
        password_hash: hash,
        is_admin: true,
        created_at: state.clock.now_unix(),
    };
    let created = state.store.create_first_user(user).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::SetupAlreadyDone,
            "the first administrator already exists",
        )
    })?;
    state.setup.disarm();
    crate::audit::record(
        state.store.as_ref(),
        crate::audit::Entry::new(crate::audit::Event::SetupCompleted, created.created_at)
            .actor(created.id, None)
            .target_user(created.id)
            .client(addr.0),
    )
    .await?;
    tracing::info!(user = %created.id, "first administrator created");
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(crate::routes::user_info(&created)),
    ))
}
