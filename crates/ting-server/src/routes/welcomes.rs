//! `/api/v1/welcomes`: MLS Welcomes addressed to the calling device. A Welcome is delivered only
//! to the device it names and deleted once that device acknowledges it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use ting_proto::ds::{Welcome, WelcomeList};
use ting_proto::{Base64, ErrorCode, RoomId};
use ting_store::PendingWelcome;

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// The API view of a pending Welcome.
pub fn welcome_view(w: &PendingWelcome) -> Welcome {
    Welcome {
        room_id: w.room_id,
        commit_seq: w.commit_seq,
        payload: Base64(w.payload.clone()),
    }
}

/// Welcomes waiting for this device.
#[utoipa::path(get, path = "/api/v1/welcomes", tag = "messages", security(("bearer" = [])),
    responses((status = 200, body = WelcomeList), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<WelcomeList>> {
    let welcomes = state.store.pending_welcomes(auth.device.id).await?;
    Ok(axum::Json(WelcomeList {
        welcomes: welcomes.iter().map(welcome_view).collect(),
    }))
}

/// Acknowledges (deletes) this device's Welcome for a room.
#[utoipa::path(delete, path = "/api/v1/welcomes/{room_id}", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path, description = "Room id")),
    responses((status = 204), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(room): Path<String>,
) -> ApiResult<StatusCode> {
    let unknown = || ApiError::new(ErrorCode::NotFound, "no pending welcome for that room");
    let room: RoomId = room.parse().map_err(|_| unknown())?;
    if state.store.delete_welcome(auth.device.id, room).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown())
    }
}
