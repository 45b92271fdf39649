//! Server time per page of the administration console's account list with 10,000 accounts,
//! beside baselines measured in the same run: the same page with 100 accounts, and `GET
//! /api/v1/me` (the cheapest authenticated request). Requests go through the full router
//! (`Router::oneshot`: authentication, JSON) against SQLite in a file, as deployed.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use ting_proto::{DeviceId, UserId};
use ting_server::config::Config;
use ting_server::state::{AppState, ManualClock};
use ting_store::{NewDevice, NewUser};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct Server {
    router: Router,
    token: String,
    _dir: tempfile::TempDir,
}

async fn server(accounts: usize) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.server.data_dir = dir.path().to_path_buf();
    config.auth.argon2_memory_kib = 256;
    config.auth.argon2_iterations = 1;
    config.keylog.require_certificates = false;
    let url = format!("sqlite://{}", dir.path().join("ting.db").display());
    let store = ting_store::open(&url).await.expect("store");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(_tx);
    let state = AppState::new(config, store, Arc::new(ManualClock::new()), rx);
    let hash = ting_server::auth::password::hash(PASSWORD, state.password_cost()).expect("hash");
    state
        .store
        .create_user(NewUser {
            id: UserId::random(),
            username: "admin".into(),
            password_hash: hash,
            is_admin: true,
            created_at: 1,
        })
        .await
        .expect("admin");
    for i in 0..accounts.saturating_sub(1) {
        let user = state
            .store
            .create_user(NewUser {
                id: UserId::random(),
                username: format!("user{i:05}"),
                password_hash: "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$x".into(),
                is_admin: false,
                created_at: 1,
            })
            .await
            .expect("user");
        // Every account has a device, so the page's device counts and last-seen are real work.
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&(i as u64).to_le_bytes());
        state
            .store
            .create_device(NewDevice {
                id: DeviceId::random(),
                user_id: user.id,
                name: "laptop".into(),
                signature_key: key.to_vec(),
                created_at: 1,
            })
            .await
            .expect("device");
    }
    let router = ting_server::app::router(state.clone());
    let login = serde_json::json!({
        "username": "admin", "password": PASSWORD, "device_name": "bench",
        "signature_key": base64_key(),
    });
    let (status, body) = call(&router, "POST", "/api/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    Server {
        router,
        token,
        _dir: dir,
    }
}

fn base64_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let mut req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 1))));
    let resp = router.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let small = rt.block_on(server(100));
    let large = rt.block_on(server(10_000));
    let mut g = c.benchmark_group("admin_accounts");
    let mut case = |name: &str, s: &Server, uri: &'static str, expect_users: Option<usize>| {
        let (status, body) = rt.block_on(call(&s.router, "GET", uri, Some(&s.token), None));
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        if let Some(n) = expect_users {
            assert_eq!(body["users"].as_array().map(Vec::len), Some(n), "{uri}");
        }
        g.bench_function(name, |b| {
            b.iter(|| rt.block_on(call(&s.router, "GET", uri, Some(&s.token), None)))
        });
    };
    case("me_baseline", &large, "/api/v1/me", None);
    case(
        "page_100_accounts",
        &small,
        "/api/v1/admin/users?limit=50",
        Some(50),
    );
    case(
        "page_10000_accounts_first",
        &large,
        "/api/v1/admin/users?limit=50",
        Some(50),
    );
    case(
        "page_10000_accounts_middle",
        &large,
        "/api/v1/admin/users?limit=50&after=user05000",
        Some(50),
    );
    case(
        "search_10000_accounts",
        &large,
        "/api/v1/admin/users?limit=50&q=user012",
        Some(50),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
