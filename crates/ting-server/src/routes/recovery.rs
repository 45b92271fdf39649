//! `/api/v1/recovery`: the user's recovery backup — their master identity key, encrypted on
//! their device under a recovery key the user wrote down. The server keeps ciphertext it
//! cannot open. Only a device certified in the key log may replace it (a device the server
//! registered for the user has no certificate); any device of the user may read it, since a
//! new device recovering the identity is not certified yet.

use axum::extract::State;
use axum::http::StatusCode;
use ting_proto::api::{MAX_RECOVERY_BACKUP_LEN, RecoveryBackup};
use ting_proto::{Base64, ErrorCode};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json};
use crate::state::AppState;

/// Stores (replaces) the caller's recovery backup.
#[utoipa::path(put, path = "/api/v1/recovery", tag = "recovery", security(("bearer" = [])),
    request_body = RecoveryBackup,
    responses((status = 204, description = "stored"),
        (status = 400, body = ting_proto::ErrorBody),
        (status = 403, description = "`forbidden`: this device is not certified in the key log", body = ting_proto::ErrorBody),
        (status = 401, body = ting_proto::ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<RecoveryBackup>,
) -> ApiResult<StatusCode> {
    let data = req.backup.into_inner();
    if data.is_empty() || data.len() > MAX_RECOVERY_BACKUP_LEN {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("a recovery backup has 1 to {MAX_RECOVERY_BACKUP_LEN} bytes"),
        ));
    }
    let info = crate::routes::device_info_of(&state, &auth.user.username, &auth.device).await?;
    if !info.certified {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only a device certified in the key log may store the recovery backup",
        ));
    }
    state
        .store
        .put_recovery_backup(auth.user.id, &data, state.clock.now_unix())
        .await?;
    tracing::info!(user = %auth.user.id, device = %auth.device.id, "recovery backup stored");
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's recovery backup.
#[utoipa::path(get, path = "/api/v1/recovery", tag = "recovery", security(("bearer" = [])),
    responses((status = 200, body = RecoveryBackup),
        (status = 404, description = "`not_found`: no backup stored", body = ting_proto::ErrorBody),
        (status = 401, body = ting_proto::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<RecoveryBackup>> {
    let data = state
        .store
        .recovery_backup(auth.user.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no recovery backup is stored"))?;
    Ok(axum::Json(RecoveryBackup {
        backup: Base64(data),
    }))
}
