//! Wire types shared by the Ting server and its clients.
//!
//! Everything here is plain data: identifiers ([`UserId`], [`DeviceId`]), the JSON bodies of the
//! `/api/v1` HTTP API ([`api`]), the WebSocket event stream ([`ws`]), the stable error codes every
//! error response carries ([`ErrorCode`], [`ErrorBody`]) and structural checks of MLS framing
//! ([`mls_wire`]) that let the server validate a KeyPackage's *format* without any cryptography.
//! The crate performs no I/O and links no decryption code, so the server can depend on it while
//! staying a blind relay.
//!
//! ```
//! use ting_proto::{ErrorBody, ErrorCode};
//! let body = ErrorBody::new(ErrorCode::InvalidCredentials, "wrong username or password");
//! assert_eq!(body.code.as_str(), "invalid_credentials");
//! assert_eq!(body.code.http_status(), 401);
//! ```
#![deny(missing_docs)]

pub mod admin;
pub mod api;
mod base64;
pub mod ds;
mod error;
mod id;
pub mod mls_wire;
pub mod policy;
pub mod ws;

pub use crate::base64::Base64;
pub use crate::error::{ErrorBody, ErrorCode};
pub use crate::id::{BlobId, DeviceId, MessageId, ParseIdError, RoomId, UserId};

/// The API version prefix every HTTP route lives under.
pub const API_PREFIX: &str = "/api/v1";
