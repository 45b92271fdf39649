//! `/api/v1/keylog`: the key transparency log. Devices append their user's signed identity
//! statements, device certificates and revocations; clients read a user's records with
//! inclusion proofs against a signed checkpoint; witnesses (which have no account) read the
//! checkpoint and the records and return their cosignatures.
//!
//! The server only checks and orders records (see [`crate::keylog`]); clients verify them.

use std::collections::HashSet;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use ting_proto::api::{
    CosignatureRequest, KeyLogAppendRequest, KeyLogAppendResponse, KeyLogEntriesResponse,
    KeyLogInfo, KeyLogProofResponse, KeyLogUserRecord, KeyLogUserResponse, MAX_KEY_LOG_ENTRIES,
    MAX_KEY_LOG_RECORD_LEN,
};
use ting_proto::ws::ServerEvent;
use ting_proto::{Base64, ErrorCode};
use ting_trust::{Entry, IdentityKind};

use crate::audit::{self, Event};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientAddr, Json};
use crate::hub::Delivery;
use crate::keylog::{api_kind, kind_of};
use crate::routes::devices::{announce_revocation, find_user};
use crate::state::AppState;

/// A query string, or `invalid_input` naming what is wrong.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(v)| v).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidInput,
            format!("invalid query: {}", e.body_text()),
        )
    })
}

/// Counts an unauthenticated request from `addr`; refuses when over the per-minute limit.
fn throttle(state: &AppState, addr: ClientAddr) -> ApiResult<()> {
    let Some(ip) = addr.0 else { return Ok(()) };
    let key = ip.to_string();
    let now = state.clock.now();
    if let Err(retry) = state.limiters.keylog_public.check(&key, now) {
        let mut e = ApiError::new(
            ErrorCode::RateLimited,
            "too many key log requests; try again later",
        );
        e.retry_after = Some(retry.as_secs().max(1));
        return Err(e);
    }
    state.limiters.keylog_public.record(&key, now);
    Ok(())
}

fn hashes(proof: Vec<ting_trust::Hash>) -> Vec<Base64> {
    proof.into_iter().map(|h| Base64(h.to_vec())).collect()
}

/// Appends a signed record about the caller's user: an identity statement (genesis once,
/// then resets), a certificate of one of the caller's active devices, or a revocation (which
/// also revokes the device on the server: its sessions end). The record must be signed by the
/// user's current master key as the log says. Contacts are told with `key_log_appended`.
#[utoipa::path(post, path = "/api/v1/keylog", tag = "keylog", security(("bearer" = [])),
    request_body = KeyLogAppendRequest,
    responses((status = 200, body = KeyLogAppendResponse),
        (status = 400, description = "`invalid_statement` (malformed or a bad signature), `certificate_mismatch` (names another device or key, or a master key that is not the current one)", body = ting_proto::ErrorBody),
        (status = 403, description = "`forbidden`: the record is about another user", body = ting_proto::ErrorBody),
        (status = 409, description = "`identity_exists` (a second genesis) or `identity_missing` (no genesis yet)", body = ting_proto::ErrorBody),
        (status = 401, body = ting_proto::ErrorBody)))]
pub async fn append(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<KeyLogAppendRequest>,
) -> ApiResult<axum::Json<KeyLogAppendResponse>> {
    let record = req.record.into_inner();
    if record.len() > MAX_KEY_LOG_RECORD_LEN {
        return Err(ApiError::new(
            ErrorCode::InvalidStatement,
            format!("a key log record has at most {MAX_KEY_LOG_RECORD_LEN} bytes"),
        ));
    }
    let now = state.clock.now_unix();
    let devices = state.store.devices_for_user(auth.user.id, true).await?;
    let appended = state
        .keylog
        .append(state.store.as_ref(), &auth.user, &devices, &record, now)
        .await?;
    let kind = kind_of(&appended.entry);
    let named = match &appended.entry {
        Entry::Identity(_) => None,
        Entry::Device(c) => Some(c.body.device_id.clone()),
        Entry::Revocation(r) => Some(r.device_id.clone()),
    };
    let device = named.and_then(|id| {
        devices
            .iter()
            .find(|d| d.id.to_string().as_bytes() == id.as_slice())
            .cloned()
    });
    let mut details = serde_json::json!({ "index": appended.index, "kind": kind.as_str() });
    if let Entry::Identity(s) = &appended.entry {
        details["identity"] = match s.kind {
            IdentityKind::Genesis => "genesis".into(),
            IdentityKind::Reset => "reset".into(),
        };
    }
    let mut entry = audit::Entry::new(Event::KeyLogAppended, now)
        .actor(auth.user.id, Some(auth.device.id))
        .target_user(auth.user.id)
        .details(details);
    if let Some(d) = &device {
        entry = entry.target(d.id);
    }
    audit::record(state.store.as_ref(), entry).await?;
    if let (Entry::Revocation(_), Some(d)) = (&appended.entry, &device)
        && state.store.revoke_device(d.id, now).await?
    {
        announce_revocation(&state, d);
        audit::record(
            state.store.as_ref(),
            audit::Entry::new(Event::DeviceRevoked, now)
                .actor(auth.user.id, Some(auth.device.id))
                .target_user(d.user_id)
                .target(d.id)
                .details(serde_json::json!({ "via": "keylog", "index": appended.index })),
        )
        .await?;
    }
    announce(&state, &auth.user, appended.index, kind).await?;
    tracing::info!(user = %auth.user.id, index = appended.index, kind = kind.as_str(), "key log record appended");
    Ok(axum::Json(KeyLogAppendResponse {
        index: appended.index,
        size: appended.size,
    }))
}

/// Sends `key_log_appended` to the user's devices and to every device that shares a room
/// with one of them.
async fn announce(
    state: &AppState,
    user: &ting_store::User,
    index: u64,
    kind: ting_store::KeyLogKind,
) -> ApiResult<()> {
    let mut contacts = HashSet::new();
    for device in state.store.devices_for_user(user.id, false).await? {
        for (room, _) in state.store.rooms_for_device(device.id).await? {
            for member in state.store.room_devices(room.id, false).await? {
                contacts.insert(member.device_id);
            }
        }
    }
    let event = ServerEvent::KeyLogAppended {
        username: user.username.clone(),
        index,
        kind: api_kind(kind),
    };
    state.hub.to_user(user.id, Delivery::Event(event.clone()));
    let own: HashSet<_> = state
        .store
        .devices_for_user(user.id, true)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    contacts.retain(|d| !own.contains(d));
    if !contacts.is_empty() {
        state.hub.to_devices(contacts, Delivery::Event(event));
    }
    Ok(())
}

/// Every record about a user, each with its inclusion proof against the signed checkpoint of
/// the current size (with the witness cosignatures collected for it).
#[utoipa::path(get, path = "/api/v1/keylog/users/{username}", tag = "keylog", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username")),
    responses((status = 200, body = KeyLogUserResponse), (status = 404, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn user(
    State(state): State<AppState>,
    _auth: Auth,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<KeyLogUserResponse>> {
    let user = find_user(&state, &username).await?;
    let view = state
        .keylog
        .user_view(state.store.as_ref(), user.id, state.clock.now_unix())
        .await?;
    let mut records = Vec::with_capacity(view.records.len());
    let mut proofs = Vec::with_capacity(view.records.len());
    for (index, record, proof) in view.records {
        records.push(KeyLogUserRecord {
            index,
            record: Base64(record),
        });
        proofs.push(hashes(proof));
    }
    Ok(axum::Json(KeyLogUserResponse {
        username: user.username,
        records,
        size: view.size,
        checkpoint: view.checkpoint,
        proofs,
    }))
}

/// The log's origin and verifier key (what clients and witnesses pin).
#[utoipa::path(get, path = "/api/v1/keylog/key", tag = "keylog",
    responses((status = 200, body = KeyLogInfo), (status = 429, body = ting_proto::ErrorBody)))]
pub async fn key(
    State(state): State<AppState>,
    addr: ClientAddr,
) -> ApiResult<axum::Json<KeyLogInfo>> {
    throttle(&state, addr)?;
    let verifier_key = state
        .keylog
        .verifier_key(state.store.as_ref(), state.clock.now_unix())
        .await?;
    Ok(axum::Json(KeyLogInfo {
        origin: state.keylog.origin().to_owned(),
        verifier_key,
    }))
}

/// The signed checkpoint (c2sp.org/tlog-checkpoint note) of the current size, with every
/// witness cosignature collected for that size. No account needed (witnesses have none).
#[utoipa::path(get, path = "/api/v1/keylog/checkpoint", tag = "keylog",
    responses((status = 200, content_type = "text/plain", body = String), (status = 429, body = ting_proto::ErrorBody)))]
pub async fn checkpoint(
    State(state): State<AppState>,
    addr: ClientAddr,
) -> ApiResult<impl IntoResponse> {
    throttle(&state, addr)?;
    let note = state
        .keylog
        .checkpoint(state.store.as_ref(), state.clock.now_unix())
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note))
}

/// A range of records.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EntriesQuery {
    /// First index.
    pub start: u64,
    /// One past the last index (at most `start + 1000`); records beyond the log's size are
    /// simply not there.
    pub end: u64,
}

/// The records with `start <= index < end`, at most 1000 per call. No account needed.
#[utoipa::path(get, path = "/api/v1/keylog/entries", tag = "keylog", params(EntriesQuery),
    responses((status = 200, body = KeyLogEntriesResponse), (status = 400, body = ting_proto::ErrorBody), (status = 429, body = ting_proto::ErrorBody)))]
pub async fn entries(
    State(state): State<AppState>,
    addr: ClientAddr,
    q: Result<Query<EntriesQuery>, QueryRejection>,
) -> ApiResult<axum::Json<KeyLogEntriesResponse>> {
    throttle(&state, addr)?;
    let q = query(q)?;
    if q.start > q.end || q.end - q.start > MAX_KEY_LOG_ENTRIES {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("need start <= end <= start + {MAX_KEY_LOG_ENTRIES}"),
        ));
    }
    let records = state.store.key_log_range(q.start, q.end).await?;
    Ok(axum::Json(KeyLogEntriesResponse {
        records: records.into_iter().map(|r| Base64(r.record)).collect(),
    }))
}

/// Which inclusion proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InclusionQuery {
    /// The record's index.
    pub index: u64,
    /// The tree size (index < size <= the log's size).
    pub size: u64,
}

/// The inclusion proof of one record in the tree of `size` records.
#[utoipa::path(get, path = "/api/v1/keylog/proof/inclusion", tag = "keylog", security(("bearer" = [])),
    params(InclusionQuery),
    responses((status = 200, body = KeyLogProofResponse), (status = 400, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn inclusion(
    State(state): State<AppState>,
    _auth: Auth,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> ApiResult<axum::Json<KeyLogProofResponse>> {
    let q = query(q)?;
    let proof = state
        .keylog
        .inclusion_proof(
            state.store.as_ref(),
            q.index,
            q.size,
            state.clock.now_unix(),
        )
        .await?;
    Ok(axum::Json(KeyLogProofResponse {
        proof: hashes(proof),
    }))
}

/// Which consistency proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConsistencyQuery {
    /// The older size.
    pub old: u64,
    /// The newer size (old <= new <= the log's size).
    pub new: u64,
}

/// The consistency proof between the trees of `old` and `new` records.
#[utoipa::path(get, path = "/api/v1/keylog/proof/consistency", tag = "keylog", security(("bearer" = [])),
    params(ConsistencyQuery),
    responses((status = 200, body = KeyLogProofResponse), (status = 400, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn consistency(
    State(state): State<AppState>,
    _auth: Auth,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> ApiResult<axum::Json<KeyLogProofResponse>> {
    let q = query(q)?;
    let proof = state
        .keylog
        .consistency_proof(state.store.as_ref(), q.old, q.new, state.clock.now_unix())
        .await?;
    Ok(axum::Json(KeyLogProofResponse {
        proof: hashes(proof),
    }))
}

/// A witness returns a checkpoint this server issued with its cosignature. Accepted only from
/// witnesses configured in `keylog.witnesses`; from then on the checkpoint of that size is
/// served with it. No account needed.
#[utoipa::path(post, path = "/api/v1/keylog/cosignatures", tag = "keylog",
    request_body = CosignatureRequest,
    responses((status = 204),
        (status = 400, description = "`invalid_cosignature`: malformed, not signed by this log, or not a checkpoint it issued", body = ting_proto::ErrorBody),
        (status = 403, description = "`unknown_witness`: no valid cosignature by a configured witness", body = ting_proto::ErrorBody),
        (status = 429, body = ting_proto::ErrorBody)))]
pub async fn cosign(
    State(state): State<AppState>,
    addr: ClientAddr,
    Json(req): Json<CosignatureRequest>,
) -> ApiResult<StatusCode> {
    throttle(&state, addr)?;
    let witnesses = state
        .keylog
        .add_cosignature(state.store.as_ref(), &req.note, state.clock.now_unix())
        .await?;
    tracing::info!(?witnesses, "key log checkpoint cosigned");
    Ok(StatusCode::NO_CONTENT)
}
