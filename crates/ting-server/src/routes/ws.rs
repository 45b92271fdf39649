//! `GET /api/v1/ws`: the authenticated event stream.
//!
//! Authentication is by `Authorization: Bearer` on the upgrade or, for browsers, by a first
//! `{"type":"auth","token":…}` frame within [`AUTH_TIMEOUT_SECS`]. The server pings every
//! [`HEARTBEAT_INTERVAL_SECS`] and closes a connection silent for [`IDLE_TIMEOUT_SECS`]; it
//! re-checks the session on every heartbeat, so an expired session is closed promptly.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use ting_proto::ws::{
    AUTH_TIMEOUT_SECS, ClientMessage, HEARTBEAT_INTERVAL_SECS, IDLE_TIMEOUT_SECS, ServerEvent,
    close_code,
};
use tokio::time::{Instant, interval_at, timeout};

use crate::extract::{Auth, authenticate};
use crate::hub::Delivery;
use crate::queue::DeviceQueue;
use crate::state::AppState;

/// Upgrades to a WebSocket.
#[utoipa::path(get, path = "/api/v1/ws", tag = "events",
    responses((status = 101, description = "Switching to the event stream; see ting_proto::ws")))]
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    ws.max_message_size(ting_proto::ws::MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(state, socket, bearer))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

fn text(event: &ServerEvent) -> Message {
    Message::Text(
        serde_json::to_string(event)
            .expect("invariant: events serialise")
            .into(),
    )
}

async fn run(state: AppState, mut socket: WebSocket, bearer: Option<String>) {
    let token = match bearer {
        Some(t) => Some(t),
        None => first_frame_token(&mut socket).await,
    };
    let auth = match token {
        Some(t) => authenticate(&state, &t).await.ok(),
        None => None,
    };
    let Some(auth) = auth else {
        close(
            &mut socket,
            close_code::UNAUTHENTICATED,
            "authentication required",
        )
        .await;
        return;
    };
    let _ = state
        .store
        .touch_device(auth.device.id, state.clock.now_unix())
        .await;
    let (conn, rx) = state.hub.register(
        auth.user.id,
        auth.device.id,
        auth.session.token_hash.clone(),
    );
    state.metrics.ws_connections.inc();
    let span = tracing::info_span!("ws", user = %auth.user.id, device = %auth.device.id);
    // Instrumented, not entered: a guard held across `.await` would leak the span into
    // whatever else runs on this thread (e.g. the media task).
    let reason = tracing::Instrument::instrument(
        async {
            tracing::debug!("connected");
            let reason = serve(&state, &mut socket, &auth, rx).await;
            tracing::debug!(code = reason.0, "disconnected");
            reason
        },
        span,
    )
    .await;
    state.hub.unregister(conn);
    state.metrics.ws_connections.dec();
    close(&mut socket, reason.0, reason.1).await;
}

async fn first_frame_token(socket: &mut WebSocket) -> Option<String> {
    let msg = timeout(Duration::from_secs(AUTH_TIMEOUT_SECS), socket.recv())
        .await
        .ok()??
        .ok()?;
    let Message::Text(t) = msg else { return None };
    match serde_json::from_str::<ClientMessage>(&t).ok()? {
        ClientMessage::Auth { token } => Some(token),
        _ => None,
    }
}

async fn serve(
    state: &AppState,
    socket: &mut WebSocket,
    auth: &Auth,
    mut rx: tokio::sync::mpsc::Receiver<Delivery>,
) -> (u16, &'static str) {
    let hello = ServerEvent::Hello {
        device_id: auth.device.id,
        heartbeat_interval_secs: HEARTBEAT_INTERVAL_SECS,
    };
    if socket.send(text(&hello)).await.is_err() {
        return (close_code::GOING_AWAY, "send failed");
    }
    let mut queue = DeviceQueue::new(auth.device.id);
    match queue.backlog(state.store.as_ref()).await {
        Ok(events) => {
            for ev in &events {
                if socket.send(text(ev)).await.is_err() {
                    return (close_code::GOING_AWAY, "send failed");
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "backlog failed");
            return (close_code::GOING_AWAY, "temporarily unavailable; reconnect");
        }
    }
    let period = Duration::from_secs(HEARTBEAT_INTERVAL_SECS);
    let mut heartbeat = interval_at(Instant::now() + period, period);
    let mut last_heard = Instant::now();
    let shutdown = wait_for_shutdown(state.shutdown.clone());
    tokio::pin!(shutdown);
    let mut meetings =
        crate::media::Connection::new(&state.media, auth.device.id, auth.user.is_admin);
    loop {
        tokio::select! {
            _ = &mut shutdown => return (close_code::GOING_AWAY, "server shutting down"),
            Some(ev) = meetings.recv() => {
                if socket.send(text(&ev)).await.is_err() { return (close_code::GOING_AWAY, "send failed") }
            }
            delivery = rx.recv() => match delivery {
                Some(Delivery::Event(ev)) => {
                    if socket.send(text(&ev)).await.is_err() { return (close_code::GOING_AWAY, "send failed") }
                }
                Some(Delivery::Close(code, reason)) => return (code, reason),
                Some(Delivery::Message(msg)) => match queue.on_message(state.store.as_ref(), &msg).await {
                    Ok(events) => for ev in &events {
                        if socket.send(text(ev)).await.is_err() { return (close_code::GOING_AWAY, "send failed") }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "delivery failed");
                        return (close_code::GOING_AWAY, "temporarily unavailable; reconnect");
                    }
                },
                Some(Delivery::Welcome(w)) => {
                    let ev = queue.on_welcome(&w);
                    if socket.send(text(&ev)).await.is_err() { return (close_code::GOING_AWAY, "send failed") }
                }
                None => return (close_code::GOING_AWAY, "too far behind; reconnect"),
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > Duration::from_secs(IDLE_TIMEOUT_SECS) {
                    return (close_code::IDLE, "no heartbeat");
                }
                match state.store.session_by_token_hash(&auth.session.token_hash).await {
                    Ok(Some(s)) if s.expires_at > state.clock.now_unix() => {}
                    Ok(_) => return (close_code::SESSION_ENDED, "session ended"),
                    Err(e) => tracing::warn!(error = %e, "session re-check failed"),
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return (close_code::GOING_AWAY, "send failed");
                }
            }
            msg = socket.recv() => {
                let msg = match msg {
                    Some(Ok(msg)) => msg,
                    Some(Err(e)) if is_too_big(&e) => {
                        return (close_code::MESSAGE_TOO_BIG, "message too big");
                    }
                    _ => return (close_code::GOING_AWAY, "connection lost"),
                };
                last_heard = Instant::now();
                match msg {
                    Message::Text(t) => match serde_json::from_str::<ClientMessage>(&t) {
                        Ok(ClientMessage::Ping) => {
                            if socket.send(text(&ServerEvent::Pong)).await.is_err() { return (close_code::GOING_AWAY, "send failed") }
                        }
                        Ok(ClientMessage::Ack { room_id, seq }) => {
                            if queue.knows(room_id) {
                                if let Err(e) = state.store.advance_cursor(auth.device.id, room_id, seq).await {
                                    tracing::warn!(error = %e, "ack failed");
                                }
                            } else {
                                let ev = ServerEvent::Error { code: ting_proto::ErrorCode::UnknownRoom, message: "ack for a room this device is not in".into() };
                                if socket.send(text(&ev)).await.is_err() { return (close_code::GOING_AWAY, "send failed") }
                            }
                        }
                        Ok(ClientMessage::Auth { .. }) | Err(_) => return (close_code::PROTOCOL_ERROR, "unexpected message"),
                        Ok(meeting) => {
                            if let Some(ev) = meetings.handle(state, meeting).await
                                && socket.send(text(&ev)).await.is_err()
                            {
                                return (close_code::GOING_AWAY, "send failed");
                            }
                        }
                    },
                    Message::Binary(_) => return (close_code::PROTOCOL_ERROR, "binary frames are not accepted"),
                    Message::Close(_) => return (close_code::NORMAL, "bye"),
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
        }
    }
}

/// Whether a receive error is a frame over the size limit. axum does not expose the
/// WebSocket library's error type, so this reads its message ("Space limit exceeded: Message
/// too long: N > MAX"); anything else is treated as a lost connection.
fn is_too_big(e: &axum::Error) -> bool {
    e.to_string().contains("Message too long")
}

async fn wait_for_shutdown(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
