//! Follow mode: a WebSocket to the server's event stream. Messages are processed in order as
//! they arrive, saved, then acknowledged; Welcomes are joined; a low KeyPackage stock is
//! replenished; when another of this user's devices is linked (its certificate appears in the
//! key log), this device adds it to its rooms; devices the server registers without a
//! certificate, identity resets and revocations are reported (see `trust_events`).
//! After a disconnect the caller reconnects and the server replays what was not acknowledged.

use futures_util::{SinkExt, StreamExt};
use ting_proto::ws::{ClientMessage, ServerEvent};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::device::Device;
use crate::error::{Error, Result};
use crate::sync::Event;

/// Why following stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// `stop` resolved.
    Requested,
    /// The server closed the stream with this code and reason.
    Closed(u16, String),
}

impl Device {
    /// Follows the event stream until `stop` resolves or the server closes it, calling
    /// `on_event` for everything the user should see.
    pub async fn follow<F, S>(&mut self, mut on_event: F, stop: S) -> Result<Stopped>
    where
        F: FnMut(&Event),
        S: std::future::Future<Output = ()>,
    {
        let ws_url = format!("{}/api/v1/ws", self.api.base().replacen("http", "ws", 1));
        let mut req = ws_url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let token = self
            .api
            .token()
            .ok_or_else(|| Error::Usage("not logged in".into()))?
            .to_string();
        req.headers_mut().insert(
            "Authorization",
            format!("Bearer {token}")
                .parse()
                .map_err(|_| Error::Usage("bad token".into()))?,
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| Error::Transport(e.to_string()))?;
        tokio::pin!(stop);
        loop {
            let frame = tokio::select! {
                _ = &mut stop => {
                    let _ = ws.close(None).await;
                    return Ok(Stopped::Requested);
                }
                f = ws.next() => f,
            };
            let text = match frame {
                Some(Ok(WsMessage::Text(t))) => t,
                Some(Ok(WsMessage::Close(f))) => {
                    let (code, reason) = f
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Ok(Stopped::Closed(code, reason));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Error::Transport(e.to_string())),
                None => return Ok(Stopped::Closed(1006, "connection lost".into())),
            };
            let event: ServerEvent =
                serde_json::from_str(&text).map_err(|e| Error::Protocol(e.to_string()))?;
            match event {
                ServerEvent::Message { message } => {
                    let room = message.room_id;
                    let seq = message.seq;
                    for ev in self.process_message(&message).await? {
                        on_event(&ev);
                    }
                    self.save()?;
                    if self.pending_leaves.contains_key(&room) {
                        Box::pin(self.commit_pending_leaves(room)).await?;
                    }
                    let ack = ClientMessage::Ack { room_id: room, seq };
                    ws.send(WsMessage::text(
                        serde_json::to_string(&ack).map_err(|e| Error::Protocol(e.to_string()))?,
                    ))
                    .await
                    .map_err(|e| Error::Transport(e.to_string()))?;
                }
                ServerEvent::Welcome { welcome } => {
                    for ev in self.handle_welcome(&welcome).await? {
                        on_event(&ev);
                    }
                }
                ServerEvent::KeyPackagesLow { .. } => self.replenish_key_packages().await?,
                ServerEvent::DeviceAdded { device } => {
                    for ev in self.on_device_added(&device).await? {
                        on_event(&ev);
                    }
                }
                ServerEvent::KeyLogAppended {
                    username,
                    index,
                    kind,
                } => match self.on_key_log_appended(&username, index, kind).await {
                    Ok(events) => events.iter().for_each(&mut on_event),
                    // A log that does not verify is shown, never acted on.
                    Err(e @ (Error::Verification(_) | Error::LogConflict(_))) => {
                        tracing::warn!(error = %e, "key log refused");
                    }
                    Err(e) => return Err(e),
                },
                _ => {}
            }
        }
    }
}
