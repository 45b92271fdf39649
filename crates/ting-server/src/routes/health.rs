//! `/healthz` and `/metrics`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use ting_proto::ErrorCode;
use ting_proto::api::Health;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Liveness and store reachability.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = ting_proto::ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<axum::Json<Health>> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: store unreachable");
        ApiError::new(ErrorCode::Unavailable, "the database is unreachable")
    })?;
    Ok(axum::Json(Health {
        status: "ok".into(),
        store: state.store.backend().as_str().into(),
    }))
}

/// Prometheus text exposition; no personal data.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state
        .metrics
        .ws_connections
        .set(state.hub.connection_count().await as i64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
