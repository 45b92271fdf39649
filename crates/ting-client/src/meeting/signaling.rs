//! Meeting signaling over the server's WebSocket event stream.

use futures_util::{SinkExt, StreamExt};
use ting_proto::ws::{ClientMessage, ServerEvent};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Result};

/// An authenticated WebSocket used for meeting signaling. Events that are not about meetings
/// (chat messages, Welcomes) are skipped: the device's own event stream handles those.
#[derive(Debug)]
pub struct Signaling {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Whether an event belongs to meeting signaling (including errors).
pub fn is_meeting_event(ev: &ServerEvent) -> bool {
    matches!(
        ev,
        ServerEvent::MeetingJoined { .. }
            | ServerEvent::MeetingOffer { .. }
            | ServerEvent::MeetingAnswer { .. }
            | ServerEvent::MeetingParticipantJoined { .. }
            | ServerEvent::MeetingParticipantLeft { .. }
            | ServerEvent::MeetingTrackPublished { .. }
            | ServerEvent::MeetingTrackUnpublished { .. }
            | ServerEvent::MeetingMuted { .. }
            | ServerEvent::MeetingHand { .. }
            | ServerEvent::MeetingEnded { .. }
            | ServerEvent::Error { .. }
    )
}

impl Signaling {
    /// Connects to `base` (e.g. `http://127.0.0.1:8080`) with a session token.
    pub async fn connect(base: &str, token: &str) -> Result<Signaling> {
        let url = format!("{}/api/v1/ws", base.replacen("http", "ws", 1));
        let mut req = url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::Transport(e.to_string()))?;
        req.headers_mut().insert(
            "Authorization",
            format!("Bearer {token}")
                .parse()
                .map_err(|_| Error::Usage("bad token".into()))?,
        );
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| Error::Transport(e.to_string()))?;
        Ok(Signaling { ws })
    }

    /// Sends a message.
    pub async fn send(&mut self, msg: &ClientMessage) -> Result<()> {
        let text = serde_json::to_string(msg).map_err(|e| Error::Protocol(e.to_string()))?;
        self.ws
            .send(WsMessage::Text(text.into()))
            .await
            .map_err(|e| Error::Transport(e.to_string()))
    }

    /// The next meeting event; `None` when the connection closed.
    pub async fn next(&mut self) -> Result<Option<ServerEvent>> {
        loop {
            match self.ws.next().await {
                Some(Ok(WsMessage::Text(t))) => {
                    let ev: ServerEvent =
                        serde_json::from_str(&t).map_err(|e| Error::Protocol(e.to_string()))?;
                    if is_meeting_event(&ev) {
                        return Ok(Some(ev));
                    }
                }
                Some(Ok(WsMessage::Close(_))) | None => return Ok(None),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(Error::Transport(e.to_string())),
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
