//! Request extractors that turn every rejection into a JSON error with a stable code.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use ting_proto::ErrorCode;

use crate::auth::token;
use crate::error::ApiError;
use crate::state::AppState;
use ting_store::{Device, Session, User};

/// Like [`axum::Json`], but malformed JSON, a wrong content type and an oversized body become
/// `invalid_json`, `unsupported_media_type` and `payload_too_large`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "expected Content-Type: application/json",
        ),
        JsonRejection::JsonDataError(e) => ApiError::new(
            ErrorCode::InvalidJson,
            format!("JSON does not match the expected shape: {}", e.body_text()),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            ErrorCode::InvalidJson,
            format!("malformed JSON: {}", e.body_text()),
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "request body is larger than the configured limit",
            )
        }
        other => ApiError::new(
            ErrorCode::InvalidJson,
            format!("could not read the request body: {}", other.body_text()),
        ),
    }
}

/// The authenticated caller: a valid, unexpired session of an active device.
#[derive(Clone, Debug)]
pub struct Auth {
    /// The user.
    pub user: User,
    /// The device of the session.
    pub device: Device,
    /// The session.
    pub session: Session,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                "missing Authorization: Bearer token",
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthenticated,
                    "expected Authorization: Bearer <token>",
                )
            })?;
        authenticate(state, token.trim()).await
    }
}

/// Resolves a bearer token to its session, user and device, or `invalid_token`.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Auth, ApiError> {
    let hash = token::hash(token);
    let session = state
        .store
        .session_by_token_hash(&hash)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    if session.expires_at <= state.clock.now_unix() {
        return Err(ApiError::invalid_token());
    }
    let device = state
        .store
        .device_by_id(session.device_id)
        .await?
        .filter(|d| d.revoked_at.is_none())
        .ok_or_else(ApiError::invalid_token)?;
    let user = state
        .store
        .user_by_id(session.user_id)
        .await?
        .filter(|u| u.deactivated_at.is_none())
        .ok_or_else(ApiError::invalid_token)?;
    Ok(Auth {
        user,
        device,
        session,
    })
}

/// The client address, if the server knows it (tests via `oneshot` have none).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
