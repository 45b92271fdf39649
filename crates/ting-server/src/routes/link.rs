//! `/api/v1/link`: linking a new device to an account. The new device (logged in, but not yet
//! trusted by its user's other devices) opens a rendezvous with a request (its public keys);
//! an existing device of the same user reads it, checks it with the user (e.g. a code shown on
//! both screens) and answers with a response encrypted to the new device; the new device takes
//! the response once. Both payloads are opaque to the server; a rendezvous lives 10 minutes.
//!
//! Other users' rendezvous do not exist for the caller (`unknown_link`); the creating device
//! may not read its own request or answer it, and only it may take the response.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ting_proto::api::{
    LINK_TTL_SECS, LinkCreateRequest, LinkCreateResponse, LinkRequestInfo, LinkRespondRequest,
    LinkResponseBody, MAX_LINK_REQUEST_LEN, MAX_LINK_RESPONSE_LEN,
};
use ting_proto::ws::ServerEvent;
use ting_proto::{Base64, ErrorCode};
use ting_store::{Link, NewLink};

use crate::audit::{self, Event};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json};
use crate::hub::Delivery;
use crate::state::AppState;

/// Length of a rendezvous id in hex digits (16 random bytes).
const ID_HEX_LEN: usize = 32;

fn unknown() -> ApiError {
    ApiError::new(ErrorCode::UnknownLink, "no such link rendezvous")
}

fn expired() -> ApiError {
    ApiError::new(ErrorCode::LinkExpired, "the link rendezvous has expired")
}

fn used() -> ApiError {
    ApiError::new(
        ErrorCode::LinkUsed,
        "the link rendezvous has already been answered",
    )
}

fn new_id() -> String {
    let bytes: [u8; 16] = rand::random();
    crate::audit::hex(&bytes)
}

/// The caller's user's rendezvous `id` (`unknown_link` for anything else).
async fn find(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Link> {
    let well_formed = id.len() == ID_HEX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(unknown());
    }
    state
        .store
        .link(id)
        .await?
        .filter(|l| l.user_id == auth.user.id)
        .ok_or_else(unknown)
}

/// The rendezvous as another device of the creator's user may use it: not expired, not yet
/// answered.
async fn for_answering(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Link> {
    let link = find(state, auth, id).await?;
    if link.device_id == auth.device.id {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "another device of yours must read and answer this rendezvous",
        ));
    }
    if link.expires_at <= state.clock.now_unix() {
        return Err(expired());
    }
    if link.responded {
        return Err(used());
    }
    Ok(link)
}

/// Opens a rendezvous for this (new) device.
#[utoipa::path(post, path = "/api/v1/link", tag = "link", security(("bearer" = [])),
    request_body = LinkCreateRequest,
    responses((status = 201, body = LinkCreateResponse), (status = 400, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<LinkCreateRequest>,
) -> ApiResult<(StatusCode, axum::Json<LinkCreateResponse>)> {
    let request = req.request.into_inner();
    if request.is_empty() || request.len() > MAX_LINK_REQUEST_LEN {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("a link request has 1 to {MAX_LINK_REQUEST_LEN} bytes"),
        ));
    }
    let now = state.clock.now_unix();
    let link = NewLink {
        id: new_id(),
        user_id: auth.user.id,
        device_id: auth.device.id,
        request,
        created_at: now,
        expires_at: now + LINK_TTL_SECS,
    };
    state.store.create_link(link.clone()).await?;
    tracing::info!(user = %auth.user.id, device = %auth.device.id, "link rendezvous opened");
    Ok((
        StatusCode::CREATED,
        axum::Json(LinkCreateResponse {
            rendezvous_id: link.id,
            expires_at: link.expires_at,
        }),
    ))
}

/// An existing device reads a rendezvous of its user (not its own).
#[utoipa::path(get, path = "/api/v1/link/{id}", tag = "link", security(("bearer" = [])),
    params(("id" = String, Path, description = "Rendezvous id")),
    responses((status = 200, body = LinkRequestInfo),
        (status = 403, description = "`forbidden`: the creating device itself", body = ting_proto::ErrorBody),
        (status = 404, description = "`unknown_link`", body = ting_proto::ErrorBody),
        (status = 409, description = "`link_used`: already answered", body = ting_proto::ErrorBody),
        (status = 410, description = "`link_expired`", body = ting_proto::ErrorBody),
        (status = 401, body = ting_proto::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<LinkRequestInfo>> {
    let link = for_answering(&state, &auth, &id).await?;
    let device = state
        .store
        .device_by_id(link.device_id)
        .await?
        .ok_or_else(unknown)?;
    Ok(axum::Json(LinkRequestInfo {
        request: Base64(link.request),
        device_id: link.device_id,
        device_name: device.name,
        expires_at: link.expires_at,
    }))
}

/// An existing device answers a rendezvous of its user, once. The new device is told with
/// `link_responded`.
#[utoipa::path(post, path = "/api/v1/link/{id}/response", tag = "link", security(("bearer" = [])),
    params(("id" = String, Path, description = "Rendezvous id")),
    request_body = LinkRespondRequest,
    responses((status = 204),
        (status = 400, body = ting_proto::ErrorBody),
        (status = 403, description = "`forbidden`: the creating device itself", body = ting_proto::ErrorBody),
        (status = 404, description = "`unknown_link`", body = ting_proto::ErrorBody),
        (status = 409, description = "`link_used`: already answered", body = ting_proto::ErrorBody),
        (status = 410, description = "`link_expired`", body = ting_proto::ErrorBody),
        (status = 401, body = ting_proto::ErrorBody)))]
pub async fn respond(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(req): Json<LinkRespondRequest>,
) -> ApiResult<StatusCode> {
    let response = req.response.into_inner();
    if response.is_empty() || response.len() > MAX_LINK_RESPONSE_LEN {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("a link response has 1 to {MAX_LINK_RESPONSE_LEN} bytes"),
        ));
    }
    let link = for_answering(&state, &auth, &id).await?;
    let now = state.clock.now_unix();
    if !state.store.set_link_response(&id, &response, now).await? {
        // Answered, taken or expired since it was read: say which.
        return Err(match state.store.link(&id).await? {
            None => unknown(),
            Some(l) if l.expires_at <= now => expired(),
            Some(_) => used(),
        });
    }
    audit::record(
        state.store.as_ref(),
        audit::Entry::new(Event::DeviceLinkAnswered, now)
            .actor(auth.user.id, Some(auth.device.id))
            .target_user(auth.user.id)
            .target(link.device_id),
    )
    .await?;
    state.hub.to_device(
        link.device_id,
        Delivery::Event(ServerEvent::LinkResponded {
            rendezvous_id: link.id,
        }),
    );
    tracing::info!(user = %auth.user.id, device = %link.device_id, by = %auth.device.id, "link rendezvous answered");
    Ok(StatusCode::NO_CONTENT)
}

/// The creating device takes the answer: 200 once (the rendezvous is then gone), 202 while
/// no device has answered yet.
#[utoipa::path(get, path = "/api/v1/link/{id}/response", tag = "link", security(("bearer" = [])),
    params(("id" = String, Path, description = "Rendezvous id")),
    responses((status = 200, body = LinkResponseBody),
        (status = 202, description = "Not answered yet"),
        (status = 403, description = "`forbidden`: not the creating device", body = ting_proto::ErrorBody),
        (status = 404, description = "`unknown_link` (also once taken)", body = ting_proto::ErrorBody),
        (status = 410, description = "`link_expired`", body = ting_proto::ErrorBody),
        (status = 401, body = ting_proto::ErrorBody)))]
pub async fn take(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let link = find(&state, &auth, &id).await?;
    if link.device_id != auth.device.id {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only the device that opened the rendezvous takes its answer",
        ));
    }
    let now = state.clock.now_unix();
    if link.expires_at <= now {
        return Err(expired());
    }
    if !link.responded {
        return Ok(StatusCode::ACCEPTED.into_response());
    }
    match state.store.take_link_response(&id, now).await? {
        Some(response) => Ok(axum::Json(LinkResponseBody {
            response: Base64(response),
        })
        .into_response()),
        None => Err(unknown()),
    }
}
