//! Shared harness for HTTP tests driven through `Router::oneshot`.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use ting_proto::mls_wire::build::{Synthetic, key_package_message};
use ting_server::config::Config;
use ting_server::state::{AppState, ManualClock};
use tower::ServiceExt;

pub struct Harness {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub router: Router,
    pub addr: SocketAddr,
    _dir: Arc<tempfile::TempDir>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

pub fn test_config() -> Config {
    let mut c = Config::default();
    c.auth.argon2_memory_kib = 256;
    c.auth.argon2_iterations = 1;
    c.auth.max_failures_per_account = 3;
    c.auth.max_attempts_per_address = 1000;
    // Most tests here exercise the Delivery Service with synthetic KeyPackages (basic
    // credentials, keys without private halves); certificate enforcement, on by default, is
    // tested in keylog_http.rs.
    c.keylog.require_certificates = false;
    c
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_config(test_config()).await
    }

    pub async fn with_config(mut config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        config.server.data_dir = dir.path().to_path_buf();
        Self::serve(config, dir).await
    }

    /// A server on the existing database in `config.server.data_dir` (kept by the caller).
    pub async fn on_data_dir(config: Config) -> Self {
        Self::serve(config, tempfile::tempdir().unwrap()).await
    }

    /// A server on the SQLite database in `config.server.data_dir`, keeping `dir` alive.
    async fn serve(config: Config, dir: tempfile::TempDir) -> Self {
        let url = format!(
            "sqlite://{}",
            config.server.data_dir.join("ting.db").display()
        );
        let store = ting_store::open(&url).await.unwrap();
        let clock = Arc::new(ManualClock::new());
        let (_tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(_tx);
        let state = AppState::new(config, store, clock.clone(), rx);
        let router = ting_server::app::router(state.clone());
        Self {
            state,
            clock,
            router,
            addr: "127.0.0.1:40000".parse().unwrap(),
            _dir: Arc::new(dir),
        }
    }

    /// The same database, configuration and clock behind a freshly started server (new
    /// in-memory state), as after a restart.
    pub fn restart(&self) -> Self {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(_tx);
        let state = AppState::new(
            (*self.state.config).clone(),
            self.state.store.clone(),
            self.clock.clone(),
            rx,
        );
        let router = ting_server::app::router(state.clone());
        Self {
            state,
            clock: self.clock.clone(),
            router,
            addr: self.addr,
            _dir: self._dir.clone(),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let mut req = req;
        req.extensions_mut().insert(ConnectInfo(self.addr));
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// Creates a user directly in the store.
    pub async fn user(&self, name: &str, password: &str) {
        let hash = ting_server::auth::password::hash(password, self.state.password_cost()).unwrap();
        self.state
            .store
            .create_user(ting_store::NewUser {
                id: ting_proto::UserId::random(),
                username: name.into(),
                password_hash: hash,
                is_admin: false,
                created_at: self.clock_unix(),
            })
            .await
            .unwrap();
    }

    pub fn clock_unix(&self) -> i64 {
        use ting_server::state::Clock;
        self.clock.now_unix()
    }

    /// Logs in with a device key; returns (token, device id).
    pub async fn login(&self, name: &str, password: &str, key: [u8; 32]) -> (String, String) {
        let r = self
            .call(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(login_body(name, password, key)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        (
            r.body["token"].as_str().unwrap().to_string(),
            r.body["device"]["id"].as_str().unwrap().to_string(),
        )
    }
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn login_body(name: &str, password: &str, key: [u8; 32]) -> Value {
    json!({"username": name, "password": password, "device_name": "test device", "signature_key": b64(&key)})
}

/// A structurally valid KeyPackage for `key`, valid for a day from `now`.
pub fn kp(key: [u8; 32], now: i64, last_resort: bool) -> String {
    kp_with(Synthetic {
        cipher_suite: 1,
        signature_key: key.to_vec(),
        identity: ting_proto::UserId::random().as_bytes().to_vec(),
        not_before: (now - 60) as u64,
        not_after: (now + 86_400) as u64,
        last_resort,
    })
}

pub fn kp_with(s: Synthetic) -> String {
    b64(&key_package_message(&s))
}

/// The password every test account uses.
pub const PW: &str = "correct horse battery staple";

/// A logged-in device: its bearer token and device id.
pub struct Dev {
    pub token: String,
    pub id: String,
}

/// Logs `user` in with the device key `[key; 32]`.
pub async fn dev(h: &Harness, user: &str, key: u8) -> Dev {
    let (token, id) = h.login(user, PW, [key; 32]).await;
    Dev { token, id }
}
