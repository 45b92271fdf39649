//! Typed calls of the `/api/v1` HTTP API. No crypto here: bytes in, bytes out.

use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use ting_proto::api::{
    ClaimedKeyPackages, DeviceList, KeyLogAppendRequest, KeyLogAppendResponse, KeyLogInfo,
    KeyLogProofResponse, KeyLogUserResponse, KeyPackageCount, KeyPackageUpload, LinkCreateRequest,
    LinkCreateResponse, LinkRequestInfo, LinkRespondRequest, LinkResponseBody, LoginRequest,
    LoginResponse, Me, RecoveryBackup,
};
use ting_proto::ds::{
    Ack, BlobInfo, CreateBlob, CreateRoom, MessageAccepted, MessagePage, RoomInfo, RoomKind,
    RoomList, RoomMembers, SendMessage, WelcomeList,
};
use ting_proto::{Base64, BlobId, DeviceId, ErrorBody, RoomId};

use crate::error::{Error, Result};

/// A connection to one Ting server, optionally authenticated.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    /// A client for `base` (e.g. `https://ting.example.org`). `ca_pem` adds a trusted root (for
    /// a server with a certificate from the organisation's own CA).
    pub fn new(base: &str, ca_pem: Option<&[u8]>) -> Result<Self> {
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("ting-client/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| Error::Usage(format!("CA certificate: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|e| Error::Transport(e.to_string()))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: None,
        })
    }

    /// The same connection, authenticated with `token`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The session token, if logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = check(req.send().await?).await?;
        resp.json()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))
    }

    async fn send_empty(&self, req: RequestBuilder) -> Result<()> {
        check(req.send().await?).await.map(|_| ())
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::GET, path)).await
    }

    /// Logs in, registering (or resuming) the device with this signature key.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device_name: &str,
        signature_key: &[u8],
    ) -> Result<LoginResponse> {
        let body = LoginRequest {
            username: username.into(),
            password: password.into(),
            device_name: device_name.into(),
            signature_key: Base64(signature_key.to_vec()),
        };
        self.post("/api/v1/auth/login", &body).await
    }

    /// Ends this session.
    pub async fn logout(&self) -> Result<()> {
        self.send_empty(self.request(Method::POST, "/api/v1/auth/logout"))
            .await
    }

    /// The session's user and device.
    pub async fn me(&self) -> Result<Me> {
        self.get("/api/v1/me").await
    }

    /// A user's active devices.
    pub async fn user_devices(&self, username: &str) -> Result<DeviceList> {
        self.get(&format!("/api/v1/users/{username}/devices")).await
    }

    /// Own devices (revoked ones too).
    pub async fn own_devices(&self) -> Result<DeviceList> {
        self.get("/api/v1/devices").await
    }

    /// Publishes KeyPackages.
    pub async fn upload_key_packages(
        &self,
        one_time: Vec<Vec<u8>>,
        last_resort: Option<Vec<u8>>,
    ) -> Result<KeyPackageCount> {
        let body = KeyPackageUpload {
            key_packages: one_time.into_iter().map(Base64).collect(),
            last_resort: last_resort.map(Base64),
        };
        self.post("/api/v1/key-packages", &body).await
    }

    /// This device's remaining KeyPackages.
    pub async fn key_package_count(&self) -> Result<KeyPackageCount> {
        self.get("/api/v1/key-packages").await
    }

    /// Claims one KeyPackage per active device of `username` (or only `device`).
    pub async fn claim_key_packages(
        &self,
        username: &str,
        device: Option<DeviceId>,
    ) -> Result<ClaimedKeyPackages> {
        let mut path = format!("/api/v1/users/{username}/key-packages/claim");
        if let Some(d) = device {
            path.push_str(&format!("?device_id={d}"));
        }
        self.send(self.request(Method::POST, &path)).await
    }

    /// Appends a signed record (an encoded `ting_trust::Entry`) about this user to the key log.
    pub async fn append_key_log(&self, record: Vec<u8>) -> Result<KeyLogAppendResponse> {
        let body = KeyLogAppendRequest {
            record: Base64(record),
        };
        self.post("/api/v1/keylog", &body).await
    }

    /// Every key log record about `username`, with inclusion proofs and a checkpoint.
    pub async fn key_log_user(&self, username: &str) -> Result<KeyLogUserResponse> {
        self.get(&format!("/api/v1/keylog/users/{username}")).await
    }

    /// The key log's origin and checkpoint verifier key.
    pub async fn key_log_info(&self) -> Result<KeyLogInfo> {
        self.get("/api/v1/keylog/key").await
    }

    /// The key log's newest signed checkpoint (with the cosignatures collected for it).
    pub async fn key_log_checkpoint(&self) -> Result<String> {
        let resp = check(
            self.request(Method::GET, "/api/v1/keylog/checkpoint")
                .send()
                .await?,
        )
        .await?;
        resp.text()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))
    }

    /// A consistency proof between two sizes of the key log.
    pub async fn key_log_consistency(&self, old: u64, new: u64) -> Result<KeyLogProofResponse> {
        self.get(&format!(
            "/api/v1/keylog/proof/consistency?old={old}&new={new}"
        ))
        .await
    }

    /// Stores (replaces) this user's recovery backup (certified devices only).
    pub async fn put_recovery_backup(&self, backup: Vec<u8>) -> Result<()> {
        let body = RecoveryBackup {
            backup: Base64(backup),
        };
        self.send_empty(self.request(Method::PUT, "/api/v1/recovery").json(&body))
            .await
    }

    /// This user's recovery backup.
    pub async fn recovery_backup(&self) -> Result<Vec<u8>> {
        let body: RecoveryBackup = self.get("/api/v1/recovery").await?;
        Ok(body.backup.into_inner())
    }

    /// Opens a device-link rendezvous (new device).
    pub async fn link_create(&self, request: Vec<u8>) -> Result<LinkCreateResponse> {
        let body = LinkCreateRequest {
            request: Base64(request),
        };
        self.post("/api/v1/link", &body).await
    }

    /// The request waiting at a rendezvous (existing device).
    pub async fn link_request(&self, rendezvous: &str) -> Result<LinkRequestInfo> {
        self.get(&format!("/api/v1/link/{rendezvous}")).await
    }

    /// Answers a rendezvous (existing device).
    pub async fn link_respond(&self, rendezvous: &str, response: Vec<u8>) -> Result<()> {
        let body = LinkRespondRequest {
            response: Base64(response),
        };
        self.send_empty(
            self.request(Method::POST, &format!("/api/v1/link/{rendezvous}/response"))
                .json(&body),
        )
        .await
    }

    /// The answer at this device's rendezvous: `None` while nobody answered.
    pub async fn link_response(&self, rendezvous: &str) -> Result<Option<Vec<u8>>> {
        let resp = check(
            self.request(Method::GET, &format!("/api/v1/link/{rendezvous}/response"))
                .send()
                .await?,
        )
        .await?;
        if resp.status() == reqwest::StatusCode::ACCEPTED {
            return Ok(None);
        }
        let body: LinkResponseBody = resp
            .json()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(Some(body.response.into_inner()))
    }

    /// Creates a room with this device as its only member.
    pub async fn create_room(
        &self,
        kind: RoomKind,
        retention_secs: Option<i64>,
    ) -> Result<RoomInfo> {
        self.post(
            "/api/v1/rooms",
            &CreateRoom {
                kind,
                retention_secs,
            },
        )
        .await
    }

    /// This device's rooms.
    pub async fn rooms(&self) -> Result<RoomList> {
        self.get("/api/v1/rooms").await
    }

    /// One room.
    pub async fn room(&self, room: RoomId) -> Result<RoomInfo> {
        self.get(&format!("/api/v1/rooms/{room}")).await
    }

    /// A room's member devices.
    pub async fn members(&self, room: RoomId) -> Result<RoomMembers> {
        self.get(&format!("/api/v1/rooms/{room}/members")).await
    }

    /// Appends an MLS message to a room.
    pub async fn send_message(&self, room: RoomId, msg: &SendMessage) -> Result<MessageAccepted> {
        self.post(&format!("/api/v1/rooms/{room}/messages"), msg)
            .await
    }

    /// Messages after `after` (ascending).
    pub async fn messages_after(
        &self,
        room: RoomId,
        after: u64,
        limit: u32,
    ) -> Result<MessagePage> {
        self.get(&format!(
            "/api/v1/rooms/{room}/messages?after={after}&limit={limit}"
        ))
        .await
    }

    /// Acknowledges up to `seq`.
    pub async fn ack(&self, room: RoomId, seq: u64) -> Result<()> {
        self.send_empty(
            self.request(Method::POST, &format!("/api/v1/rooms/{room}/ack"))
                .json(&Ack { seq }),
        )
        .await
    }

    /// Pending Welcomes for this device.
    pub async fn welcomes(&self) -> Result<WelcomeList> {
        self.get("/api/v1/welcomes").await
    }

    /// Acknowledges this device's Welcome for a room.
    pub async fn delete_welcome(&self, room: RoomId) -> Result<()> {
        self.send_empty(self.request(Method::DELETE, &format!("/api/v1/welcomes/{room}")))
            .await
    }

    /// Announces an encrypted upload.
    pub async fn create_blob(&self, room: RoomId, size: u64) -> Result<BlobInfo> {
        self.post(&format!("/api/v1/rooms/{room}/blobs"), &CreateBlob { size })
            .await
    }

    /// Upload state of a blob.
    pub async fn blob_status(&self, blob: BlobId) -> Result<BlobInfo> {
        self.get(&format!("/api/v1/blobs/{blob}/status")).await
    }

    /// Appends a chunk stream at `offset`.
    pub async fn upload_blob<S>(&self, blob: BlobId, offset: u64, body: S) -> Result<BlobInfo>
    where
        S: futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static,
    {
        let req = self
            .request(Method::PATCH, &format!("/api/v1/blobs/{blob}"))
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        self.send(req).await
    }

    /// Streams a complete blob.
    pub async fn download_blob(
        &self,
        blob: BlobId,
    ) -> Result<impl futures_util::Stream<Item = Result<Vec<u8>>>> {
        let resp = check(
            self.request(Method::GET, &format!("/api/v1/blobs/{blob}"))
                .send()
                .await?,
        )
        .await?;
        Ok(resp
            .bytes_stream()
            .map(|r| r.map(|b| b.to_vec()).map_err(Error::from)))
    }
}

async fn check(resp: Response) -> Result<Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => Err(Error::Api {
            status,
            code: body.code,
            message: body.message,
            current_epoch: body.current_epoch,
            position: body.position,
        }),
        Err(_) => Err(Error::Protocol(format!(
            "HTTP {status} without an error body"
        ))),
    }
}
