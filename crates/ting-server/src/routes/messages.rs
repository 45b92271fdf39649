//! `/api/v1/rooms/{id}/messages`: the ordered log of a room's MLS messages.
//!
//! The Delivery Service accepts exactly one commit per epoch (the first); any message built for
//! another epoch is refused with `stale_epoch` and the current epoch, so the sender can process
//! the winning commit and retry. Accepted messages are fanned out to every member device's
//! connection; offline devices catch up from their cursor.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use ting_proto::ds::{
    Ack, MAX_PAGE, Message, MessageAccepted, MessageKind, MessagePage, SendMessage,
};
use ting_proto::{Base64, ErrorCode};
use ting_store::{AppendOutcome, CommitEffects, NewMessage, PendingWelcome, StoredMessage};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json};
use crate::hub::Delivery;
use crate::routes::rooms::{require_member, require_past_member};
use crate::state::AppState;

/// The API view of a stored message.
pub fn message_view(m: &StoredMessage) -> Message {
    Message {
        room_id: m.room_id,
        seq: m.seq,
        id: m.id,
        sender_device: m.sender_device,
        sender_user: m.sender_user,
        kind: match m.kind {
            ting_store::MessageKind::Application => MessageKind::Application,
            ting_store::MessageKind::Commit => MessageKind::Commit,
        },
        epoch: m.epoch,
        payload: Base64(m.payload.clone()),
        created_at: m.created_at,
    }
}

/// Appends an MLS message (application message or commit) to the room.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/messages", tag = "messages", security(("bearer" = [])), request_body = SendMessage,
    params(("id" = String, Path, description = "Room id")),
    responses((status = 201, body = MessageAccepted), (status = 409, description = "stale_epoch or duplicate_message", body = ting_proto::ErrorBody),
              (status = 404, body = ting_proto::ErrorBody), (status = 400, body = ting_proto::ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(req): Json<SendMessage>,
) -> ApiResult<(StatusCode, axum::Json<MessageAccepted>)> {
    let (room, _) = require_member(&state, &id, &auth).await?;
    let max = state.config.delivery.max_message_bytes;
    if req.payload.as_slice().is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidInput, "payload is empty"));
    }
    if req.payload.as_slice().len() > max
        || req
            .welcome
            .as_ref()
            .is_some_and(|w| w.as_slice().len() > max)
    {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("MLS messages are limited to {max} bytes"),
        ));
    }
    let effects = match req.kind {
        MessageKind::Application => {
            if req.welcome.is_some()
                || !req.added_devices.is_empty()
                || !req.removed_devices.is_empty()
            {
                return Err(ApiError::new(
                    ErrorCode::InvalidInput,
                    "only commits carry a welcome or membership changes",
                ));
            }
            None
        }
        MessageKind::Commit => Some(commit_effects(&state, &req).await?),
    };
    let kind = match req.kind {
        MessageKind::Application => ting_store::MessageKind::Application,
        MessageKind::Commit => ting_store::MessageKind::Commit,
    };
    let msg = NewMessage {
        room_id: room.id,
        id: req.id,
        sender_device: auth.device.id,
        sender_user: auth.user.id,
        kind,
        epoch: req.epoch,
        payload: req.payload.into_inner(),
        created_at: state.clock.now_unix(),
    };
    match state
        .store
        .append_message(msg.clone(), effects.clone())
        .await?
    {
        AppendOutcome::Appended { seq, epoch } => {
            fan_out(&state, msg, seq, effects.as_ref()).await?;
            Ok((
                StatusCode::CREATED,
                axum::Json(MessageAccepted { seq, epoch }),
            ))
        }
        AppendOutcome::StaleEpoch { current_epoch } => {
            let mut e = ApiError::new(
                ErrorCode::StaleEpoch,
                format!(
                    "the room is at epoch {current_epoch}; process the newer commits and retry"
                ),
            );
            e.current_epoch = Some(current_epoch);
            Err(e)
        }
        AppendOutcome::Duplicate { seq } => {
            let mut e = ApiError::new(
                ErrorCode::DuplicateMessage,
                format!("a message with this id is already stored at seq {seq}"),
            );
            e.position = Some(seq);
            Err(e)
        }
        AppendOutcome::NotMember => Err(ApiError::new(
            ErrorCode::UnknownRoom,
            "no such room, or you are not a member",
        )),
        AppendOutcome::InvalidEffects => Err(ApiError::new(
            ErrorCode::InvalidCommit,
            "the commit adds a device that is not an active device of its user, or removes a device that is not a member",
        )),
    }
}

async fn commit_effects(state: &AppState, req: &SendMessage) -> ApiResult<CommitEffects> {
    let invalid = |m: &str| ApiError::new(ErrorCode::InvalidCommit, m.to_string());
    if req.added_devices.is_empty() != req.welcome.is_none() {
        return Err(invalid(
            "a commit that adds devices needs a welcome, and a welcome needs added devices",
        ));
    }
    let mut added = Vec::new();
    for d in &req.added_devices {
        let device = state
            .store
            .device_by_id(*d)
            .await?
            .filter(|d| d.revoked_at.is_none())
            .ok_or_else(|| invalid("an added device does not exist or is revoked"))?;
        added.push((device.id, device.user_id));
    }
    let unique: HashSet<_> = req
        .added_devices
        .iter()
        .chain(&req.removed_devices)
        .collect();
    if unique.len() != req.added_devices.len() + req.removed_devices.len() {
        return Err(invalid("a device is named twice"));
    }
    Ok(CommitEffects {
        added,
        removed: req.removed_devices.clone(),
        welcome: req.welcome.as_ref().map(|w| w.as_slice().to_vec()),
    })
}

/// Sends an accepted message to every device that may read it, and Welcomes to added devices.
async fn fan_out(
    state: &AppState,
    msg: NewMessage,
    seq: u64,
    effects: Option<&CommitEffects>,
) -> ApiResult<()> {
    let devices: HashSet<_> = state
        .store
        .room_devices(msg.room_id, true)
        .await?
        .into_iter()
        .filter(|m| m.can_read(seq))
        .map(|m| m.device_id)
        .collect();
    let stored = StoredMessage {
        room_id: msg.room_id,
        seq,
        id: msg.id,
        sender_device: msg.sender_device,
        sender_user: msg.sender_user,
        kind: msg.kind,
        epoch: msg.epoch,
        payload: msg.payload,
        created_at: msg.created_at,
    };
    if let Some((effects, payload)) = effects.and_then(|e| e.welcome.as_ref().map(|w| (e, w))) {
        for (device, _) in &effects.added {
            let welcome = PendingWelcome {
                room_id: stored.room_id,
                device_id: *device,
                commit_seq: seq,
                payload: payload.clone(),
                created_at: stored.created_at,
            };
            state
                .hub
                .to_device(*device, Delivery::Welcome(Arc::new(welcome)));
        }
    }
    if let Some(effects) = effects.filter(|e| !e.removed.is_empty()) {
        // Removed devices lose their media session in the room's meeting at once.
        state
            .media
            .remove_devices(stored.room_id, effects.removed.clone());
    }
    state
        .hub
        .to_devices(devices, Delivery::Message(Arc::new(stored)));
    Ok(())
}

/// History query: `after` (ascending) or `before` (descending from there, returned ascending).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Return messages with seq greater than this.
    pub after: Option<u64>,
    /// Return messages with seq less than this (the page just before it).
    pub before: Option<u64>,
    /// Page size (1–500, default 100).
    pub limit: Option<u32>,
}

/// A page of the room's history that this device may read.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, description = "Room id"), PageQuery),
    responses((status = 200, body = MessagePage), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<MessagePage>> {
    let (room, _) = require_past_member(&state, &id, &auth).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let (mut msgs, more) = match (q.after, q.before) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                "give either after or before, not both",
            ));
        }
        (after, None) => {
            let mut m = state
                .store
                .messages_after(room.id, auth.device.id, after.unwrap_or(0), limit + 1)
                .await?;
            let more = m.len() > limit as usize;
            m.truncate(limit as usize);
            (m, more)
        }
        (None, Some(before)) => {
            let mut m = state
                .store
                .messages_before(room.id, auth.device.id, before, limit + 1)
                .await?;
            let more = m.len() > limit as usize;
            m.truncate(limit as usize);
            m.reverse();
            (m, more)
        }
    };
    msgs.sort_by_key(|m| m.seq);
    Ok(axum::Json(MessagePage {
        messages: msgs.iter().map(message_view).collect(),
        more,
    }))
}

/// Acknowledges processing up to `seq`; the cursor never moves backwards.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/ack", tag = "messages", security(("bearer" = [])), request_body = Ack,
    params(("id" = String, Path, description = "Room id")),
    responses((status = 204), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(req): Json<Ack>,
) -> ApiResult<StatusCode> {
    let (room, _) = require_past_member(&state, &id, &auth).await?;
    state
        .store
        .advance_cursor(auth.device.id, room.id, req.seq)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
