//! Setting up the simulated devices: log in, publish KeyPackages, open the event stream, and
//! form rooms (the creator adds everyone in one commit; the others join from their Welcome).
//!
//! A load device is a `ting-e2ee` [`Client`] held in memory with an [`Api`] connection and a
//! WebSocket — the same protocol steps as [`crate::Device`], without its disk persistence.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ting_e2ee::ting_trust::Entry;
use ting_e2ee::{Client, ClientConfig, GroupId};
use ting_proto::ds::{MessageKind, RoomKind, SendMessage};
use ting_proto::ws::{ClientMessage, ServerEvent};
use ting_proto::{Base64, DeviceId, MessageId, RoomId};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::api::Api;
use crate::error::{Error, Result};

/// A device's event stream.
pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a member waits for its Welcome, or a new connection for its Hello.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// One simulated device.
pub(crate) struct LoadDevice {
    /// Position in the run (also the sender number inside message texts).
    pub(crate) index: u32,
    pub(crate) username: String,
    pub(crate) device_id: DeviceId,
    pub(crate) api: Api,
    pub(crate) e2ee: Client,
    pub(crate) ws: Option<Ws>,
    /// The device's room and every member device with its index (itself included).
    pub(crate) room: Option<RoomId>,
    pub(crate) peers: Vec<(DeviceId, u32)>,
    /// Highest room `seq` delivered so far.
    pub(crate) room_seq: u64,
}

pub(crate) fn group_id(room: RoomId) -> Result<GroupId> {
    Ok(GroupId::new(room.as_bytes().to_vec())?)
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Creates a device for `username`, logs it in and publishes `key_packages` one-time
/// KeyPackages plus a last-resort one. `base` is an unauthenticated connection whose HTTP pool
/// all devices share.
pub(crate) async fn login(
    base: &Api,
    index: u32,
    username: String,
    password: &str,
    key_packages: usize,
) -> Result<LoadDevice> {
    let mut e2ee = Client::new(&username, ClientConfig::default())?;
    let login = base
        .login(&username, password, "load", e2ee.device_key().as_bytes())
        .await?;
    let api = base.clone().with_token(login.token);
    // Each load user has one device: it creates the user's identity and publishes it.
    let identity = e2ee.create_identity(login.device.id.to_string().as_bytes(), now_ms())?;
    for entry in [
        Entry::Identity(identity.statement),
        Entry::Device(identity.certificate),
    ] {
        api.append_key_log(entry.encode()).await?;
    }
    let one_time = e2ee.key_packages(key_packages)?;
    let last_resort = e2ee.last_resort_key_package()?;
    api.upload_key_packages(one_time, Some(last_resort)).await?;
    Ok(LoadDevice {
        index,
        username,
        device_id: login.device.id,
        api,
        e2ee,
        ws: None,
        room: None,
        peers: Vec::new(),
        room_seq: 0,
    })
}

/// Opens the device's event stream (bearer token on the upgrade) and waits for `hello`.
pub(crate) async fn connect(dev: &mut LoadDevice) -> Result<()> {
    let url = format!("{}/api/v1/ws", dev.api.base().replacen("http", "ws", 1));
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::Transport(e.to_string()))?;
    let token = dev
        .api
        .token()
        .ok_or_else(|| Error::Usage("not logged in".into()))?;
    req.headers_mut().insert(
        "Authorization",
        format!("Bearer {token}")
            .parse()
            .map_err(|_| Error::Usage("bad token".into()))?,
    );
    let (mut ws, _) = tokio::time::timeout(EVENT_TIMEOUT, tokio_tungstenite::connect_async(req))
        .await
        .map_err(|_| Error::Transport("WebSocket connect timed out".into()))?
        .map_err(|e| Error::Transport(e.to_string()))?;
    loop {
        let ev = tokio::time::timeout(EVENT_TIMEOUT, next_event(&mut ws))
            .await
            .map_err(|_| Error::Transport("no hello within 30 s".into()))??;
        if let ServerEvent::Hello { device_id, .. } = ev {
            if device_id != dev.device_id {
                return Err(Error::Protocol("hello for another device".into()));
            }
            break;
        }
    }
    dev.ws = Some(ws);
    Ok(())
}

/// The next server event on `ws`, skipping control frames and events this tool does not know.
/// Cancel-safe: it returns as soon as it has taken a text frame off the stream.
pub(crate) async fn next_event(ws: &mut Ws) -> Result<ServerEvent> {
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Text(t))) => {
                if let Ok(ev) = serde_json::from_str::<ServerEvent>(&t) {
                    return Ok(ev);
                }
            }
            Some(Ok(WsMessage::Close(f))) => {
                return Err(Error::Transport(format!(
                    "the server closed the event stream: {}",
                    f.map(|f| format!("{} {}", u16::from(f.code), f.reason))
                        .unwrap_or_default()
                )));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(Error::Transport(e.to_string())),
            None => return Err(Error::Transport("event stream ended".into())),
        }
    }
}

/// Sends a client frame on the device's event stream.
pub(crate) async fn send_frame(ws: &mut Ws, msg: &ClientMessage) -> Result<()> {
    let text = serde_json::to_string(msg).map_err(|e| Error::Protocol(e.to_string()))?;
    ws.send(WsMessage::text(text))
        .await
        .map_err(|e| Error::Transport(e.to_string()))
}

/// Tells the server the device is alive (it closes streams silent for 60 s); the `pong` is
/// skipped by whoever reads next.
pub(crate) async fn keepalive(dev: &mut LoadDevice) -> Result<()> {
    match dev.ws.as_mut() {
        Some(ws) => send_frame(ws, &ClientMessage::Ping).await,
        None => Err(Error::Usage("not connected".into())),
    }
}

/// Forms one room of `members`: the first creates it and adds all others in one commit, the
/// others join from the Welcome their event stream delivers. Returns the members.
pub(crate) async fn form_room(mut members: Vec<LoadDevice>) -> Result<Vec<LoadDevice>> {
    let peers: Vec<(DeviceId, u32)> = members.iter().map(|d| (d.device_id, d.index)).collect();
    let (creator, others) = members
        .split_first_mut()
        .ok_or_else(|| Error::Usage("an empty room".into()))?;
    let room = creator.api.create_room(RoomKind::Room, None).await?.id;
    let gid = group_id(room)?;
    creator.e2ee.create_group(&gid)?;
    let mut kps = Vec::with_capacity(others.len());
    let mut added = Vec::with_capacity(others.len());
    for o in others.iter() {
        let claimed = creator
            .api
            .claim_key_packages(&o.username, Some(o.device_id))
            .await?;
        let kp = claimed
            .key_packages
            .into_iter()
            .find(|c| c.device_id == o.device_id)
            .ok_or_else(|| Error::Protocol(format!("no key package for {}", o.username)))?;
        // The same check the SDK makes: the package is signed by the device the server lists.
        let info = creator
            .e2ee
            .inspect_key_package(kp.key_package.as_slice())?;
        if info.user_id != o.username || info.device_key != o.e2ee.device_key() {
            return Err(Error::Verification(format!(
                "key package of {} is not signed by its device",
                o.username
            )));
        }
        kps.push(kp.key_package.into_inner());
        added.push(o.device_id);
    }
    let epoch = creator.e2ee.epoch(&gid)?;
    let bundle = creator.e2ee.add_members(&gid, &kps)?;
    let msg = SendMessage {
        id: MessageId::random(),
        kind: MessageKind::Commit,
        epoch,
        payload: Base64(bundle.commit),
        welcome: bundle.welcome.map(Base64),
        added_devices: added,
        removed_devices: Vec::new(),
    };
    if let Err(e) = creator.api.send_message(room, &msg).await {
        creator.e2ee.clear_pending_commit(&gid)?;
        return Err(e);
    }
    creator.e2ee.merge_pending_commit(&gid, now_ms())?;
    creator.room = Some(room);
    futures_util::future::try_join_all(others.iter_mut().map(|o| join(o, room))).await?;
    for m in members.iter_mut() {
        m.peers = peers.clone();
    }
    Ok(members)
}

/// Waits for the Welcome to `room` on the event stream and joins.
async fn join(dev: &mut LoadDevice, room: RoomId) -> Result<()> {
    let ws = dev
        .ws
        .as_mut()
        .ok_or_else(|| Error::Usage("not connected".into()))?;
    let welcome = tokio::time::timeout(EVENT_TIMEOUT, async {
        loop {
            if let ServerEvent::Welcome { welcome } = next_event(ws).await?
                && welcome.room_id == room
            {
                return Ok::<_, Error>(welcome);
            }
        }
    })
    .await
    .map_err(|_| Error::Transport(format!("{}: no welcome within 30 s", dev.username)))??;
    let joined = dev.e2ee.join(welcome.payload.as_slice())?;
    if joined.group_id != group_id(room)? {
        return Err(Error::Verification("a welcome for another group".into()));
    }
    dev.api.delete_welcome(room).await?;
    dev.room = Some(room);
    dev.room_seq = welcome.commit_seq;
    Ok(())
}
