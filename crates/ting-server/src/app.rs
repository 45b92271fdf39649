//! The router: every route, the JSON fallbacks, the body limit, security headers, request
//! metrics and logs.

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use ting_proto::ErrorCode;

use crate::error::ApiError;
use crate::metrics::RequestLabels;
use crate::routes::{
    admin, auth, blobs, devices, health, key_packages, keylog, link, messages, openapi, policy,
    recovery, rooms, setup, welcomes, ws,
};
use crate::state::AppState;

/// Builds the application router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/setup", post(setup::setup))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/me", get(auth::me))
        .route("/devices", get(devices::list_own))
        .route("/devices/{id}", delete(devices::revoke_own))
        .route("/users/{username}/devices", get(devices::list_for_user))
        .route(
            "/users/{username}/key-packages/claim",
            post(key_packages::claim),
        )
        .route(
            "/key-packages",
            post(key_packages::upload).get(key_packages::count),
        )
        .route("/keylog", post(keylog::append))
        .route("/keylog/users/{username}", get(keylog::user))
        .route("/keylog/key", get(keylog::key))
        .route("/keylog/checkpoint", get(keylog::checkpoint))
        .route("/keylog/entries", get(keylog::entries))
        .route("/keylog/proof/inclusion", get(keylog::inclusion))
        .route("/keylog/proof/consistency", get(keylog::consistency))
        .route("/keylog/cosignatures", post(keylog::cosign))
        .route("/link", post(link::create))
        .route("/link/{id}", get(link::get))
        .route("/link/{id}/response", post(link::respond).get(link::take))
        .route("/recovery", put(recovery::put).get(recovery::get))
        .route("/rooms", post(rooms::create).get(rooms::list))
        .route("/rooms/{id}", get(rooms::get).patch(rooms::update))
        .route("/rooms/{id}/members", get(rooms::members))
        .route(
            "/rooms/{id}/messages",
            post(messages::send)
                .get(messages::page)
                .layer(DefaultBodyLimit::max(message_body_limit(&state))),
        )
        .route("/rooms/{id}/ack", post(messages::ack))
        .route("/rooms/{id}/blobs", post(blobs::create))
        .route("/blobs/{id}", patch(blobs::upload).get(blobs::download))
        .route("/blobs/{id}/status", get(blobs::status))
        .route("/welcomes", get(welcomes::list))
        .route("/welcomes/{room_id}", delete(welcomes::delete))
        .route("/policy", get(policy::client))
        .route("/admin/policy", get(policy::get).put(policy::set))
        .route("/admin/policy/check", post(policy::check))
        .route("/admin/policy/revisions", get(policy::revisions))
        .route("/admin/users", get(admin::accounts::list))
        .route(
            "/admin/users/{username}/devices",
            get(admin::accounts::devices),
        )
        .route(
            "/admin/users/{username}/deactivate",
            post(admin::accounts::deactivate),
        )
        .route(
            "/admin/users/{username}/reactivate",
            post(admin::accounts::reactivate),
        )
        .route(
            "/admin/users/{username}/admin",
            put(admin::accounts::set_admin),
        )
        .route(
            "/admin/users/{username}/password-reset",
            post(admin::invitations::password_reset),
        )
        .route(
            "/admin/devices/{id}",
            delete(admin::accounts::revoke_device),
        )
        .route(
            "/admin/invitations",
            post(admin::invitations::create).get(admin::invitations::list),
        )
        .route(
            "/admin/invitations/{id}",
            delete(admin::invitations::withdraw),
        )
        .route(
            "/invitations/{token}",
            get(admin::invitations::info).post(admin::invitations::accept),
        )
        .route("/admin/audit", get(admin::audit::page))
        .route("/admin/audit/verify", get(admin::audit::verify))
        .route("/admin/audit/export", get(admin::audit::export))
        .route("/admin/compliance", get(admin::ops::compliance))
        .route("/admin/health", get(admin::ops::health))
        .route("/ws", get(ws::upgrade))
        .route("/openapi.json", get(openapi::serve))
        .route("/web-bundle", get(crate::web::info));
    Router::new()
        .nest(ting_proto::API_PREFIX, api)
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.server.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// A message body carries a payload and a Welcome of up to `max_message_bytes` each, base64.
fn message_body_limit(state: &AppState) -> usize {
    (state.config.delivery.max_message_bytes * 3).max(state.config.server.max_body_bytes)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not accept that method",
    )
}

/// Counts and logs every request by route template and status — never the client address,
/// query string or body.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            status: format!("{}xx", status / 100),
        })
        .inc();
    tracing::info!(%method, %route, status, ms = start.elapsed().as_millis() as u64, "request");
    resp
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await.into_response();
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(self), microphone=(self), display-capture=(self), geolocation=()",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    resp
}
