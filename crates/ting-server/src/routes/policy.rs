//! `/api/v1/policy` (any authenticated user: the client-relevant subset, so apps hide what is
//! off) and `/api/v1/admin/policy` (administrators: read the full document, set a new one —
//! validated first, stored as a new revision, audited).

use axum::extract::State;
use ting_proto::ErrorCode;
use ting_proto::policy::{ClientPolicy, PolicyDocument, SetPolicy};

use crate::audit::{self, Entry, Event};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientAddr, Json};
use crate::policy::{self, Effective, Policy};
use crate::state::AppState;

/// The effective policy (stored, or the configuration defaults).
pub async fn effective(state: &AppState) -> ApiResult<Effective> {
    policy::effective(&state.config, state.store.as_ref())
        .await
        .map_err(ApiError::internal)
}

fn require_admin(auth: &Auth) -> ApiResult<()> {
    if auth.user.is_admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only administrators may read or change the policy",
        ))
    }
}

fn document(e: &Effective) -> PolicyDocument {
    PolicyDocument {
        revision: e.revision,
        document: e.policy.to_toml(),
        set_at: e.set_at,
    }
}

/// The policy as it concerns the caller.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy", security(("bearer" = [])),
    responses((status = 200, body = ClientPolicy), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn client(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<ClientPolicy>> {
    let e = effective(&state).await?;
    Ok(axum::Json(
        e.policy.for_client(e.revision, auth.user.is_admin),
    ))
}

/// The full policy document in effect (administrators).
#[utoipa::path(get, path = "/api/v1/admin/policy", tag = "policy", security(("bearer" = [])),
    responses((status = 200, body = PolicyDocument), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<PolicyDocument>> {
    require_admin(&auth)?;
    Ok(axum::Json(document(&effective(&state).await?)))
}

/// Sets a new policy (administrators). Refused with `invalid_policy` and the reason when the
/// document is not valid; nothing is stored then.
#[utoipa::path(put, path = "/api/v1/admin/policy", tag = "policy", security(("bearer" = [])), request_body = SetPolicy,
    responses((status = 200, body = PolicyDocument), (status = 400, body = ting_proto::ErrorBody), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn set(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Json(req): Json<SetPolicy>,
) -> ApiResult<axum::Json<PolicyDocument>> {
    require_admin(&auth)?;
    Policy::parse(&req.document).map_err(|m| ApiError::new(ErrorCode::InvalidPolicy, m))?;
    let now = state.clock.now_unix();
    let stored = state
        .store
        .set_policy(req.document, Some(auth.user.id), now)
        .await?;
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::PolicyChanged, now)
            .actor(auth.user.id, Some(auth.device.id))
            .target(stored.revision)
            .client(addr.0)
            .details(serde_json::json!({ "revision": stored.revision, "via": "api" })),
    )
    .await?;
    tracing::info!(revision = stored.revision, user = %auth.user.id, "policy changed");
    let e = policy::from_stored(&stored).map_err(ApiError::internal)?;
    Ok(axum::Json(document(&e)))
}
