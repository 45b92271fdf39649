//! `/api/v1/rooms`: create rooms (MLS groups), list the caller device's rooms, read members,
//! set retention. A non-member gets `unknown_room` for everything, so it cannot even learn
//! whether a room exists.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use ting_proto::ds::{
    CreateRoom, RoomInfo, RoomKind, RoomList, RoomMember, RoomMembers, UpdateRoom,
};
use ting_proto::{Base64, ErrorCode, RoomId};
use ting_store::{NewRoom, Room, RoomDevice};

use crate::audit::{self, Entry, Event};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json};
use crate::policy::RetentionBounds;
use crate::state::AppState;

/// Longest retention a room may ask for (ten years).
const MAX_RETENTION_SECS: i64 = 10 * 366 * 24 * 3600;

/// The API view of a room for a device at `cursor`.
pub fn room_info(r: &Room, cursor: u64) -> RoomInfo {
    RoomInfo {
        id: r.id,
        kind: match r.kind {
            ting_store::RoomKind::Room => RoomKind::Room,
            ting_store::RoomKind::Direct => RoomKind::Direct,
        },
        epoch: r.epoch,
        last_seq: r.last_seq,
        cursor,
        created_at: r.created_at,
        retention_secs: r.retention_secs,
    }
}

/// The room and the caller device's membership, current or ended: a removed device may still
/// read its own window of the log (up to and including the commit that removed it), so it
/// learns of its removal.
pub async fn require_past_member(
    state: &AppState,
    room: &str,
    auth: &Auth,
) -> ApiResult<(Room, RoomDevice)> {
    let id: RoomId = room.parse().map_err(|_| unknown_room())?;
    let membership = state
        .store
        .membership(id, auth.device.id)
        .await?
        .ok_or_else(unknown_room)?;
    let room = state.store.room(id).await?.ok_or_else(unknown_room)?;
    Ok((room, membership))
}

/// The room and the caller device's active membership, or `unknown_room`.
pub async fn require_member(
    state: &AppState,
    room: &str,
    auth: &Auth,
) -> ApiResult<(Room, RoomDevice)> {
    match require_past_member(state, room, auth).await? {
        (room, m) if m.removed_seq.is_none() => Ok((room, m)),
        _ => Err(unknown_room()),
    }
}

fn unknown_room() -> ApiError {
    ApiError::new(
        ErrorCode::UnknownRoom,
        "no such room, or you are not a member",
    )
}

fn check_retention(r: Option<i64>) -> ApiResult<()> {
    match r {
        Some(s) if !(60..=MAX_RETENTION_SECS).contains(&s) => Err(ApiError::new(
            ErrorCode::InvalidInput,
            "retention_secs must be between 60 seconds and ten years, or null for no limit",
        )),
        _ => Ok(()),
    }
}

/// Refuses a retention beyond the policy's maximum for the room type (`None` = forever).
fn check_policy_retention(bounds: RetentionBounds, r: Option<i64>) -> ApiResult<()> {
    let max = bounds.max_secs;
    if max > 0 && r.is_none_or(|s| s > max) {
        return Err(ApiError::new(
            ErrorCode::PolicyForbids,
            format!("the policy limits this room type's retention to at most {max} seconds"),
        ));
    }
    Ok(())
}

fn store_kind(kind: RoomKind) -> ting_store::RoomKind {
    match kind {
        RoomKind::Room => ting_store::RoomKind::Room,
        RoomKind::Direct => ting_store::RoomKind::Direct,
    }
}

/// Creates a room with the calling device as its only member at epoch 0. The client then
/// creates the MLS group with the returned id and adds others by commits.
#[utoipa::path(post, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])), request_body = CreateRoom,
    responses((status = 201, body = RoomInfo), (status = 400, body = ting_proto::ErrorBody), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<CreateRoom>,
) -> ApiResult<(StatusCode, axum::Json<RoomInfo>)> {
    check_retention(req.retention_secs)?;
    let policy = crate::routes::policy::effective(&state).await?.policy;
    if !policy.permissions.create_rooms.allows(auth.user.is_admin) {
        return Err(ApiError::new(
            ErrorCode::PolicyForbids,
            "the policy lets only administrators create rooms",
        ));
    }
    let bounds = policy.retention_for(store_kind(req.kind));
    let default = bounds.default_secs;
    let retention_secs = req.retention_secs.or((default > 0).then_some(default));
    check_policy_retention(bounds, retention_secs)?;
    let now = state.clock.now_unix();
    let room = state
        .store
        .create_room(NewRoom {
            id: RoomId::random(),
            kind: store_kind(req.kind),
            created_by: auth.user.id,
            creator_device: auth.device.id,
            created_at: now,
            retention_secs,
        })
        .await?;
    tracing::info!(room = %room.id, user = %auth.user.id, "room created");
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::RoomCreated, now)
            .actor(auth.user.id, Some(auth.device.id))
            .target(room.id),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(room_info(&room, 0))))
}

/// Rooms the calling device is a member of, with its cursor in each.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])),
    responses((status = 200, body = RoomList), (status = 401, body = ting_proto::ErrorBody)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<RoomList>> {
    let mut rooms = Vec::new();
    for (room, _) in state.store.rooms_for_device(auth.device.id).await? {
        let cursor = state.store.cursor(auth.device.id, room.id).await?;
        rooms.push(room_info(&room, cursor));
    }
    Ok(axum::Json(RoomList { rooms }))
}

/// One room.
#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", security(("bearer" = [])),
    params(("id" = String, Path, description = "Room id")),
    responses((status = 200, body = RoomInfo), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RoomInfo>> {
    let (room, _) = require_member(&state, &id, &auth).await?;
    let cursor = state.store.cursor(auth.device.id, room.id).await?;
    Ok(axum::Json(room_info(&room, cursor)))
}

/// Changes the room's retention (members only).
#[utoipa::path(patch, path = "/api/v1/rooms/{id}", tag = "rooms", security(("bearer" = [])), request_body = UpdateRoom,
    params(("id" = String, Path, description = "Room id")),
    responses((status = 200, body = RoomInfo), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(req): Json<UpdateRoom>,
) -> ApiResult<axum::Json<RoomInfo>> {
    check_retention(req.retention_secs)?;
    let (room, _) = require_member(&state, &id, &auth).await?;
    let policy = crate::routes::policy::effective(&state).await?.policy;
    check_policy_retention(policy.retention_for(room.kind), req.retention_secs)?;
    state
        .store
        .set_retention(room.id, req.retention_secs)
        .await?;
    let room = state
        .store
        .room(room.id)
        .await?
        .ok_or_else(|| ApiError::internal("room vanished"))?;
    let cursor = state.store.cursor(auth.device.id, room.id).await?;
    Ok(axum::Json(room_info(&room, cursor)))
}

/// The room's active member devices with their signature keys (members only).
#[utoipa::path(get, path = "/api/v1/rooms/{id}/members", tag = "rooms", security(("bearer" = [])),
    params(("id" = String, Path, description = "Room id")),
    responses((status = 200, body = RoomMembers), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RoomMembers>> {
    let (room, _) = require_member(&state, &id, &auth).await?;
    let mut members = Vec::new();
    let mut names = std::collections::HashMap::new();
    for m in state.store.room_devices(room.id, false).await? {
        let Some(device) = state.store.device_by_id(m.device_id).await? else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(m.user_id) {
            let name = state
                .store
                .user_by_id(m.user_id)
                .await?
                .map(|u| u.username)
                .unwrap_or_default();
            slot.insert(name);
        }
        members.push(RoomMember {
            user_id: m.user_id,
            username: names[&m.user_id].clone(),
            device_id: m.device_id,
            signature_key: Base64(device.signature_key),
            added_seq: m.added_seq,
        });
    }
    Ok(axum::Json(RoomMembers { members }))
}
