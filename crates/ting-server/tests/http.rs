//! HTTP API tests through `Router::oneshot`: login, sessions, devices, key packages and every
//! error path with its stable code.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Harness, b64, kp, kp_with, login_body};
use serde_json::json;
use ting_proto::mls_wire::build::Synthetic;

const PW: &str = "correct horse battery staple";

#[tokio::test]
async fn healthz_openapi_and_metrics() {
    let h = Harness::new().await;
    let r = h.call("GET", "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["store"], "sqlite");
    assert!(
        r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );

    let r = h.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/healthz",
        "/metrics",
        "/api/v1/setup",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/logout-all",
        "/api/v1/me",
        "/api/v1/devices",
        "/api/v1/devices/{id}",
        "/api/v1/users/{username}/devices",
        "/api/v1/users/{username}/key-packages/claim",
        "/api/v1/key-packages",
        "/api/v1/ws",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(r.body["components"]["schemas"]["ErrorBody"].is_object());

    h.user("alice", PW).await;
    h.login("alice", PW, [1; 32]).await;
    let r = h.call("GET", "/metrics", None, None).await;
    let text = r.body.as_str().unwrap();
    assert!(
        text.contains("ting_logins_total{outcome=\"success\"} 1"),
        "{text}"
    );
    assert!(text.contains("ting_http_requests_total"));
    assert!(
        !text.contains("alice") && !text.contains("127.0.0.1"),
        "metrics must hold no personal data"
    );
}

#[tokio::test]
async fn setup_creates_first_admin_once() {
    let h = Harness::new().await;
    let token = h.state.setup.arm();
    let body = |t: &str| json!({"setup_token": t, "username": "Admin", "password": PW});
    let r = h
        .call("POST", "/api/v1/setup", None, Some(body("ting_wrong")))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_setup_token")
    );
    let r = h
        .call(
            "POST",
            "/api/v1/setup",
            None,
            Some(json!({"setup_token": token, "username": "admin", "password": "short"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    assert_eq!(
        h.state.store.count_users().await.unwrap(),
        0,
        "nothing half-written"
    );
    let r = h
        .call("POST", "/api/v1/setup", None, Some(body(&token)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["username"], "admin");
    assert_eq!(r.body["is_admin"], true);
    let r = h
        .call("POST", "/api/v1/setup", None, Some(body(&token)))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "setup_already_done")
    );
    h.login("admin", PW, [9; 32]).await;
}

#[tokio::test]
async fn login_sessions_logout_and_expiry() {
    let h = Harness::new().await;
    h.user("alice", PW).await;
    let (t1, d1) = h.login("alice", PW, [1; 32]).await;
    let (t2, d2) = h.login("alice", PW, [1; 32]).await;
    assert_eq!(d1, d2, "same key resumes the same device");
    assert_ne!(t1, t2);
    let (t3, d3) = h.login("alice", PW, [2; 32]).await;
    assert_ne!(d1, d3, "a new key registers a new device");

    let r = h.call("GET", "/api/v1/me", Some(&t1), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["username"], "alice");
    assert_eq!(r.body["device"]["id"], d1.as_str());

    let r = h.call("GET", "/api/v1/me", None, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let r = h.call("GET", "/api/v1/me", Some("ting_forged"), None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let r = h
        .send(
            Request::get("/api/v1/me")
                .header(header::AUTHORIZATION, "Basic abc")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );

    let r = h.call("POST", "/api/v1/auth/logout", Some(&t1), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h.call("GET", "/api/v1/me", Some(&t1), None).await;
    assert_eq!(r.code(), "invalid_token", "logged-out token is dead");
    assert_eq!(
        h.call("GET", "/api/v1/me", Some(&t2), None).await.status,
        StatusCode::OK
    );

    let r = h
        .call("POST", "/api/v1/auth/logout-all", Some(&t2), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["revoked"], 2);
    for t in [&t2, &t3] {
        assert_eq!(
            h.call("GET", "/api/v1/me", Some(t), None).await.code(),
            "invalid_token"
        );
    }

    let (t4, _) = h.login("alice", PW, [1; 32]).await;
    h.clock.advance(Duration::from_secs(
        h.state.config.auth.session_ttl_hours * 3600 + 1,
    ));
    let r = h.call("GET", "/api/v1/me", Some(&t4), None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token"),
        "expired token refused"
    );
}

#[tokio::test]
async fn wrong_passwords_unknown_users_and_rate_limits() {
    let h = Harness::new().await;
    h.user("alice", PW).await;
    let r = h
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(login_body("alice", "wrong password!", [1; 32])),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let r = h
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(login_body("nobody", PW, [1; 32])),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        "unknown users look like wrong passwords"
    );
    // max_failures_per_account = 3 in tests: two more failures lock the account.
    for _ in 0..2 {
        h.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(login_body("alice", "wrong password!", [1; 32])),
        )
        .await;
    }
    let r = h
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(login_body("alice", PW, [1; 32])),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "even the right password waits"
    );
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(
        h.state
            .store
            .devices_for_user(
                h.state
                    .store
                    .user_by_username("alice")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                true
            )
            .await
            .unwrap()
            .len(),
        0
    );
    h.clock.advance(Duration::from_secs(
        h.state.config.auth.rate_window_secs + 1,
    ));
    h.login("alice", PW, [1; 32]).await;
}

#[tokio::test]
async fn per_address_rate_limit() {
    let mut config = common::test_config();
    config.auth.max_attempts_per_address = 2;
    let h = Harness::with_config(config).await;
    h.user("alice", PW).await;
    h.login("alice", PW, [1; 32]).await;
    h.call(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(login_body("bob", PW, [1; 32])),
    )
    .await;
    let r = h
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(login_body("alice", PW, [1; 32])),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let h = Harness::new().await;
    let post = |ct: Option<&str>, body: String| {
        let mut b = Request::post("/api/v1/auth/login");
        if let Some(ct) = ct {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(body)).unwrap()
    };
    let r = h
        .send(post(Some("application/json"), "{not json".into()))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let r = h
        .send(post(Some("application/json"), r#"{"username":"a"}"#.into()))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_json"),
        "missing fields"
    );
    let r = h
        .send(post(
            Some("application/json"),
            r#"{"username":"a","password":"b","device_name":"c","signature_key":"!!"}"#.into(),
        ))
        .await;
    assert_eq!(r.code(), "invalid_json", "bad base64");
    let r = h.send(post(Some("text/plain"), "{}".into())).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let r = h.send(post(None, "{}".into())).await;
    assert_eq!(r.code(), "unsupported_media_type");
    let big = format!("{{\"username\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let r = h.send(post(Some("application/json"), big)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let r = h.call("GET", "/api/v1/nope", None, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    // Outside the API, extensionless GETs are the web app's own routes (it shows its own "not
    // found"); missing files and other methods get the JSON error.
    let r = h.call("GET", "/definitely/not/here", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h.call("GET", "/definitely/not/here.js", None, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = h.call("POST", "/definitely/not/here", None, None).await;
    assert_eq!(r.code(), "not_found");
    let r = h.call("DELETE", "/api/v1/auth/login", None, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let r = h.call("POST", "/api/v1/auth/login", None, Some(json!({"username":"alice","password":PW,"device_name":"x","signature_key": b64(&[1;5])}))).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_signature_key")
    );
    let r = h.call("POST", "/api/v1/auth/login", None, Some(json!({"username":"alice","password":PW,"device_name":"  ","signature_key": b64(&[1;32])}))).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
}

#[tokio::test]
async fn devices_list_and_revoke() {
    let h = Harness::new().await;
    h.user("alice", PW).await;
    h.user("bob", PW).await;
    let (ta1, da1) = h.login("alice", PW, [1; 32]).await;
    let (ta2, da2) = h.login("alice", PW, [2; 32]).await;
    let (tb, db) = h.login("bob", PW, [3; 32]).await;

    let r = h
        .call("GET", "/api/v1/users/ALICE/devices", Some(&tb), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["devices"].as_array().unwrap().len(), 2);
    let keys: Vec<&str> = r.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["signature_key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&b64(&[1; 32]).as_str()) && keys.contains(&b64(&[2; 32]).as_str()));
    let r = h
        .call("GET", "/api/v1/users/nobody/devices", Some(&tb), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "unknown_user")
    );
    let r = h
        .call("GET", "/api/v1/users/alice/devices", None, None)
        .await;
    assert_eq!(r.code(), "unauthenticated");

    let r = h
        .call("DELETE", &format!("/api/v1/devices/{db}"), Some(&ta1), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "unknown_device"),
        "cannot revoke someone else's device"
    );
    let r = h
        .call("DELETE", "/api/v1/devices/not-a-uuid", Some(&ta1), None)
        .await;
    assert_eq!(r.code(), "unknown_device");
    assert_eq!(
        h.call("GET", "/api/v1/me", Some(&tb), None).await.status,
        StatusCode::OK
    );

    let r = h
        .call(
            "DELETE",
            &format!("/api/v1/devices/{da2}"),
            Some(&ta1),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.call("GET", "/api/v1/me", Some(&ta2), None).await.code(),
        "invalid_token",
        "revoked device's session ends"
    );
    let r = h.call("GET", "/api/v1/devices", Some(&ta1), None).await;
    let devices = r.body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "own list includes revoked");
    assert!(
        devices
            .iter()
            .any(|d| d["id"] == da2.as_str() && d["revoked_at"].is_i64())
    );
    let r = h
        .call("GET", "/api/v1/users/alice/devices", Some(&tb), None)
        .await;
    assert_eq!(
        r.body["devices"].as_array().unwrap().len(),
        1,
        "others see active devices only"
    );
    assert_eq!(r.body["devices"][0]["id"], da1.as_str());
    // Logging in again with the revoked key registers a fresh device.
    let (_, da2b) = h.login("alice", PW, [2; 32]).await;
    assert_ne!(da2, da2b);
}

#[tokio::test]
async fn key_packages_upload_count_and_claim() {
    let h = Harness::new().await;
    h.user("alice", PW).await;
    h.user("bob", PW).await;
    let (ta1, da1) = h.login("alice", PW, [1; 32]).await;
    let (ta2, da2) = h.login("alice", PW, [2; 32]).await;
    let (tb, _) = h.login("bob", PW, [3; 32]).await;
    let now = h.clock_unix();

    let pkgs = vec![kp([1; 32], now, false), kp([1; 32], now, false)];
    let r = h
        .call(
            "POST",
            "/api/v1/key-packages",
            Some(&ta1),
            Some(json!({"key_packages": pkgs, "last_resort": kp([1;32], now, true)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body, json!({"available": 2, "has_last_resort": true}));
    let r = h
        .call(
            "POST",
            "/api/v1/key-packages",
            Some(&ta2),
            Some(json!({"key_packages": [kp([2;32], now, false)]})),
        )
        .await;
    assert_eq!(r.body, json!({"available": 1, "has_last_resort": false}));

    // Bob claims Alice's devices three times.
    let claim = || {
        h.call(
            "POST",
            "/api/v1/users/alice/key-packages/claim",
            Some(&tb),
            None,
        )
    };
    let mut seen = std::collections::HashSet::new();
    let r = claim().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["key_packages"].as_array().unwrap().len(), 2);
    for c in r.body["key_packages"].as_array().unwrap() {
        assert_eq!(c["last_resort"], false);
        assert!(seen.insert(c["key_package"].as_str().unwrap().to_string()));
    }
    let r = claim().await;
    let by_dev = |r: &common::Resp, d: &str| {
        r.body["key_packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["device_id"] == d)
            .cloned()
    };
    let c1 = by_dev(&r, &da1).unwrap();
    assert_eq!(c1["last_resort"], false);
    assert!(
        seen.insert(c1["key_package"].as_str().unwrap().to_string()),
        "a one-time package is never handed out twice"
    );
    assert!(by_dev(&r, &da2).is_none());
    assert_eq!(r.body["devices_without_packages"], json!([da2]));
    let r = claim().await;
    assert_eq!(
        by_dev(&r, &da1).unwrap()["last_resort"],
        true,
        "last resort once one-time packages are gone"
    );
    let r2 = claim().await;
    assert_eq!(
        by_dev(&r2, &da1).unwrap()["key_package"],
        by_dev(&r, &da1).unwrap()["key_package"],
        "last resort is reusable"
    );
    let r = h
        .call("GET", "/api/v1/key-packages", Some(&ta1), None)
        .await;
    assert_eq!(r.body, json!({"available": 0, "has_last_resort": true}));

    let r = h
        .call(
            "POST",
            &format!("/api/v1/users/alice/key-packages/claim?device_id={da2}"),
            Some(&tb),
            None,
        )
        .await;
    assert_eq!(
        r.body["key_packages"],
        json!([]),
        "only the named device is claimed"
    );
    assert_eq!(r.body["devices_without_packages"], json!([da2]));
    let r = h
        .call(
            "POST",
            "/api/v1/users/alice/key-packages/claim?device_id=zzz",
            Some(&tb),
            None,
        )
        .await;
    assert_eq!(r.code(), "unknown_device");
    let r = h
        .call(
            "POST",
            "/api/v1/users/nobody/key-packages/claim",
            Some(&tb),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "unknown_user")
    );
    let r = h
        .call("POST", "/api/v1/users/alice/key-packages/claim", None, None)
        .await;
    assert_eq!(r.code(), "unauthenticated");
}

#[tokio::test]
async fn invalid_key_packages_are_refused_and_nothing_is_stored() {
    let h = Harness::new().await;
    h.user("alice", PW).await;
    let (t, _) = h.login("alice", PW, [1; 32]).await;
    let now = h.clock_unix();
    let good = kp([1; 32], now, false);
    let base = Synthetic {
        cipher_suite: 1,
        signature_key: vec![1; 32],
        identity: b"a".to_vec(),
        not_before: (now - 1) as u64,
        not_after: (now + 100) as u64,
        last_resort: false,
    };
    let bad_cases = vec![
        ("garbage", b64(b"definitely not a key package")),
        ("empty", b64(&[])),
        ("other key", kp([2; 32], now, false)),
        (
            "other suite",
            kp_with(Synthetic {
                cipher_suite: 3,
                ..base.clone()
            }),
        ),
        (
            "expired",
            kp_with(Synthetic {
                not_after: (now - 10) as u64,
                ..base.clone()
            }),
        ),
        ("last resort as one-time", kp([1; 32], now, true)),
        ("oversized", b64(&vec![0u8; 20_000])),
    ];
    for (what, bad) in bad_cases {
        let r = h
            .call(
                "POST",
                "/api/v1/key-packages",
                Some(&t),
                Some(json!({"key_packages": [good.clone(), bad]})),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_key_package"),
            "{what}: {:?}",
            r.body
        );
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("key_packages[1]"),
            "{what}: names the bad entry"
        );
    }
    let r = h
        .call(
            "POST",
            "/api/v1/key-packages",
            Some(&t),
            Some(json!({"key_packages": [], "last_resort": good.clone()})),
        )
        .await;
    assert_eq!(
        r.code(),
        "invalid_key_package",
        "a last-resort package needs the extension"
    );
    let r = h
        .call(
            "POST",
            "/api/v1/key-packages",
            Some(&t),
            Some(json!({"key_packages": []})),
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
    let many: Vec<String> = (0..101).map(|_| good.clone()).collect();
    let r = h
        .call(
            "POST",
            "/api/v1/key-packages",
            Some(&t),
            Some(json!({"key_packages": many})),
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
    let r = h.call("GET", "/api/v1/key-packages", Some(&t), None).await;
    assert_eq!(
        r.body,
        json!({"available": 0, "has_last_resort": false}),
        "nothing half-written"
    );
}
