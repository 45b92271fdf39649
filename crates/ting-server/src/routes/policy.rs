//! `/api/v1/policy` (any authenticated user: the client-relevant subset, so apps hide what is
//! off) and `/api/v1/admin/policy` (administrators: read the full document, set a new one —
//! validated first, stored as a new revision, audited).

use axum::extract::State;
use ting_proto::ErrorCode;
use ting_proto::admin::{
    PolicyCheck, PolicyEffect, PolicyProblem, PolicyRevision, PolicyRevisions,
};
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

use crate::routes::admin::{Names, require_admin};

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
    Policy::parse_located(&req.document).map_err(|(message, line)| {
        let mut e = ApiError::new(ErrorCode::InvalidPolicy, message);
        e.line = line;
        e
    })?;
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

/// Validates a document without saving it, and says what saving it would change for users.
#[utoipa::path(post, path = "/api/v1/admin/policy/check", tag = "policy", security(("bearer" = [])), request_body = SetPolicy,
    responses((status = 200, body = PolicyCheck), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<SetPolicy>,
) -> ApiResult<axum::Json<PolicyCheck>> {
    require_admin(&auth)?;
    let new = match Policy::parse_located(&req.document) {
        Ok(p) => p,
        Err((message, line)) => {
            return Ok(axum::Json(PolicyCheck {
                valid: false,
                problems: vec![PolicyProblem { message, line }],
                effects: Vec::new(),
            }));
        }
    };
    let current = effective(&state).await?;
    Ok(axum::Json(PolicyCheck {
        valid: true,
        problems: Vec::new(),
        effects: effects(&current.policy, &new),
    }))
}

/// The client-visible settings that differ, as a user who is not an administrator sees them.
pub fn effects(before: &Policy, after: &Policy) -> Vec<PolicyEffect> {
    let view = |p: &Policy| serde_json::to_value(p.for_client(0, false)).unwrap_or_default();
    let (b, a) = (view(before), view(after));
    let (Some(b), Some(a)) = (b.as_object(), a.as_object()) else {
        return Vec::new();
    };
    a.iter()
        .filter(|(k, v)| k.as_str() != "revision" && b.get(k.as_str()) != Some(v))
        .map(|(k, v)| PolicyEffect {
            setting: k.clone(),
            before: b.get(k.as_str()).cloned().unwrap_or_default(),
            after: v.clone(),
        })
        .collect()
}

/// Every stored revision, newest first, with who set it.
#[utoipa::path(get, path = "/api/v1/admin/policy/revisions", tag = "policy", security(("bearer" = [])),
    responses((status = 200, body = PolicyRevisions), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn revisions(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<PolicyRevisions>> {
    require_admin(&auth)?;
    let mut history = state.store.policy_history().await?;
    history.sort_by_key(|p| std::cmp::Reverse(p.revision));
    let mut names = Names::default();
    let mut revisions = Vec::with_capacity(history.len());
    for p in history {
        let set_by = match p.set_by {
            Some(id) => names.of_id(&state, id).await?,
            None => None,
        };
        revisions.push(PolicyRevision {
            revision: p.revision,
            set_at: p.set_at,
            set_by,
            document: p.document,
        });
    }
    Ok(axum::Json(PolicyRevisions { revisions }))
}
