//! API errors: a stable [`ErrorCode`] plus a human message. Internal details are logged and
//! replaced by a generic message before anything is sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ting_proto::{ErrorBody, ErrorCode};

/// An error that becomes a JSON [`ErrorBody`] response.
#[derive(Debug)]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// Message for people.
    pub message: String,
    /// Seconds until retry makes sense (sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// Extra field of `stale_epoch`.
    pub current_epoch: Option<u64>,
    /// Extra field of `duplicate_message` / `offset_mismatch`.
    pub position: Option<u64>,
    /// Extra field of `invalid_policy`: the line concerned.
    pub line: Option<u32>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            current_epoch: None,
            position: None,
            line: None,
        }
    }

    /// An internal failure: logs `detail`, sends only a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(ErrorCode::Internal, "internal server error")
    }

    /// 401 for a missing, unknown, expired or revoked token.
    pub fn invalid_token() -> Self {
        Self::new(
            ErrorCode::InvalidToken,
            "the session token is invalid, expired or revoked",
        )
    }
}

impl From<ting_store::Error> for ApiError {
    fn from(e: ting_store::Error) -> Self {
        match e {
            ting_store::Error::Conflict("username") => {
                Self::new(ErrorCode::UsernameTaken, "this username is already taken")
            }
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .expect("invariant: error codes map to valid statuses");
        let mut body = ErrorBody::new(self.code, self.message);
        body.current_epoch = self.current_epoch;
        body.position = self.position;
        body.line = self.line;
        let mut resp = (status, Json(body)).into_response();
        if let Some(v) = self
            .retry_after
            .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
