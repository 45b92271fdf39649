//! Encrypted file blobs: `POST /api/v1/rooms/{id}/blobs` announces an upload of a known size,
//! `PATCH /api/v1/blobs/{id}` appends bytes at `Upload-Offset` (streamed to disk, never buffered
//! whole; an interrupted upload keeps what arrived and resumes there), `GET /api/v1/blobs/{id}`
//! streams a complete blob back. Only active members of the blob's room may touch it. The
//! server sees sizes only: names, types and keys travel inside MLS messages.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use ting_proto::ds::{BlobInfo, CreateBlob};
use ting_proto::{BlobId, ErrorCode};
use ting_store::Blob;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json};
use crate::routes::rooms::require_member;
use crate::state::AppState;

/// Header carrying the byte offset an upload chunk starts at.
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// Progress is persisted at least every this many bytes during a long upload.
const CHECKPOINT_BYTES: u64 = 4 * 1024 * 1024;

fn info(b: &Blob) -> BlobInfo {
    BlobInfo {
        id: b.id,
        room_id: b.room_id,
        size: b.size,
        received: b.received,
        complete: b.complete,
    }
}

fn path(state: &AppState, id: BlobId) -> PathBuf {
    state.config.blob_dir().join(id.to_string())
}

fn unknown() -> ApiError {
    ApiError::new(
        ErrorCode::UnknownBlob,
        "no such file, or you may not read it",
    )
}

/// The blob, if the caller is an active member of its room.
async fn readable(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Blob> {
    let id: BlobId = id.parse().map_err(|_| unknown())?;
    let blob = state.store.blob(id).await?.ok_or_else(unknown)?;
    require_member(state, &blob.room_id.to_string(), auth)
        .await
        .map_err(|_| unknown())?;
    Ok(blob)
}

/// Announces an encrypted upload of `size` bytes into a room.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/blobs", tag = "files", security(("bearer" = [])), request_body = CreateBlob,
    params(("id" = String, Path, description = "Room id")),
    responses((status = 201, body = BlobInfo), (status = 413, body = ting_proto::ErrorBody), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(room): Path<String>,
    Json(req): Json<CreateBlob>,
) -> ApiResult<(StatusCode, axum::Json<BlobInfo>)> {
    let (room, _) = require_member(&state, &room, &auth).await?;
    let features = crate::routes::policy::effective(&state)
        .await?
        .policy
        .features;
    if !features.file_sharing {
        return Err(ApiError::new(
            ErrorCode::FeatureDisabled,
            "file sharing is switched off by this server's policy",
        ));
    }
    let max = features.max_file_bytes;
    if req.size > max {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("files are limited to {max} bytes"),
        ));
    }
    if req.size == 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "an encrypted file is never empty",
        ));
    }
    let id = BlobId::random();
    tokio::fs::create_dir_all(state.config.blob_dir())
        .await
        .map_err(ApiError::internal)?;
    tokio::fs::File::create(path(&state, id))
        .await
        .map_err(ApiError::internal)?;
    let blob = state
        .store
        .create_blob(
            id,
            room.id,
            auth.device.id,
            req.size,
            state.clock.now_unix(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(info(&blob))))
}

/// Upload state (to resume an interrupted upload).
#[utoipa::path(get, path = "/api/v1/blobs/{id}/status", tag = "files", security(("bearer" = [])),
    params(("id" = String, Path, description = "Blob id")),
    responses((status = 200, body = BlobInfo), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<BlobInfo>> {
    Ok(axum::Json(info(&readable(&state, &auth, &id).await?)))
}

/// Appends the request body at `Upload-Offset`, which must equal the bytes already stored.
/// More bytes than announced are refused and the request's bytes are discarded (back to
/// the last recorded checkpoint, which a long upload writes every 4 MiB).
#[utoipa::path(patch, path = "/api/v1/blobs/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = String, Path, description = "Blob id"), ("Upload-Offset" = u64, Header, description = "Where this chunk starts")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = BlobInfo), (status = 409, body = ting_proto::ErrorBody), (status = 413, body = ting_proto::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<BlobInfo>> {
    let blob = readable(&state, &auth, &id).await?;
    if blob.uploader_device != auth.device.id {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only the uploading device may add to this file",
        ));
    }
    let offset: u64 = headers
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidInput,
                "Upload-Offset header (bytes already sent) is required",
            )
        })?;
    let _guard = state.uploads.begin(blob.id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::OffsetMismatch,
            "another upload to this file is in progress",
        )
    })?;
    let blob = state.store.blob(blob.id).await?.ok_or_else(unknown)?; // fresh, under the guard
    if offset != blob.received || blob.complete {
        let mut e = ApiError::new(
            ErrorCode::OffsetMismatch,
            format!("the upload continues at byte {}", blob.received),
        );
        e.position = Some(blob.received);
        return Err(e);
    }
    let file_path = path(&state, blob.id);
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&file_path)
        .await
        .map_err(ApiError::internal)?;
    // Bytes past the last recorded checkpoint (e.g. from a crash) are not trusted: cut them.
    file.set_len(blob.received)
        .await
        .map_err(ApiError::internal)?;
    file.seek(std::io::SeekFrom::Start(blob.received))
        .await
        .map_err(ApiError::internal)?;

    let mut received = blob.received;
    let mut checkpoint = received;
    let mut stream = body.into_data_stream();
    let mut failure = None;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(_) => break, // client went away: keep what arrived, it can resume
        };
        if received + chunk.len() as u64 > blob.size {
            failure = Some(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("more bytes than the announced {} ", blob.size),
            ));
            break;
        }
        if let Err(e) = file.write_all(&chunk).await {
            failure = Some(ApiError::internal(e));
            break;
        }
        received += chunk.len() as u64;
        if received - checkpoint >= CHECKPOINT_BYTES {
            file.sync_data().await.map_err(ApiError::internal)?;
            state.store.set_blob_received(blob.id, received).await?;
            checkpoint = received;
        }
    }
    if let Some(err) = failure {
        // Nothing of a refused request is kept beyond its last recorded checkpoint.
        file.set_len(checkpoint).await.map_err(ApiError::internal)?;
        return Err(err);
    }
    file.sync_data().await.map_err(ApiError::internal)?;
    state.store.set_blob_received(blob.id, received).await?;
    let blob = state.store.blob(blob.id).await?.ok_or_else(unknown)?;
    Ok(axum::Json(info(&blob)))
}

/// Streams a complete blob.
#[utoipa::path(get, path = "/api/v1/blobs/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = String, Path, description = "Blob id")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ting_proto::ErrorBody), (status = 409, body = ting_proto::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let blob = readable(&state, &auth, &id).await?;
    if !blob.complete {
        let mut e = ApiError::new(
            ErrorCode::BlobIncomplete,
            "this file has not been fully uploaded yet",
        );
        e.position = Some(blob.received);
        return Err(e);
    }
    let file = tokio::fs::File::open(path(&state, blob.id))
        .await
        .map_err(ApiError::internal)?;
    let stream = futures_util::stream::unfold((file, blob.size), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; 64 * 1024.min(left as usize)];
        match file.read(&mut buf).await {
            Ok(0) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "blob file is shorter than recorded",
                )),
                (file, 0),
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, blob.size.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
