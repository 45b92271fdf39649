//! Policy and audit over HTTP: admin-only policy API, validation before effect, enforcement at
//! room creation, retention, blob creation and KeyPackage upload, and the audit trail.

mod common;

use axum::http::StatusCode;
use common::{Harness, kp_with};
use serde_json::json;
use ting_proto::mls_wire::build::Synthetic;

const PW: &str = "correct horse battery";

async fn admin(h: &Harness, name: &str) {
    let hash = ting_server::auth::password::hash(PW, h.state.password_cost()).unwrap();
    h.state
        .store
        .create_user(ting_store::NewUser {
            id: ting_proto::UserId::random(),
            username: name.into(),
            password_hash: hash,
            is_admin: true,
            created_at: h.clock_unix(),
        })
        .await
        .unwrap();
}

async fn put(h: &Harness, token: &str, doc: &str) -> common::Resp {
    h.call(
        "PUT",
        "/api/v1/admin/policy",
        Some(token),
        Some(json!({ "document": doc })),
    )
    .await
}

#[tokio::test]
async fn policy_is_validated_enforced_published_and_audited() {
    let h = Harness::new().await;
    admin(&h, "ada").await;
    h.user("bob", PW).await;
    let (ada, _) = h.login("ada", PW, [1; 32]).await;
    let (bob, _) = h.login("bob", PW, [2; 32]).await;

    // Defaults from the configuration; guests and federation off.
    let r = h.call("GET", "/api/v1/policy", Some(&bob), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["revision"], 0);
    assert_eq!(r.body["guest_access"], false);
    assert_eq!(r.body["federation"], false);
    assert_eq!(r.body["may_create_rooms"], true);

    // Only administrators read or set the policy.
    assert_eq!(
        h.call("GET", "/api/v1/admin/policy", Some(&bob), None)
            .await
            .code(),
        "admin_only"
    );
    assert_eq!(
        put(&h, &bob, "policy_version = 1").await.code(),
        "admin_only"
    );

    // Bad documents are refused with the reason; nothing is stored.
    for (doc, reason) in [
        ("policy_version = 1\ne2ee = false", "end-to-end encryption"),
        (
            "policy_version = 1\n[features]\nrecording = true",
            "recording",
        ),
        (
            "policy_version = 1\n[mls]\nallowed_ciphersuites = [2]",
            "not supported",
        ),
    ] {
        let r = put(&h, &ada, doc).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.code(), "invalid_policy");
        assert!(
            r.body["message"].as_str().unwrap().contains(reason),
            "{:?}",
            r.body
        );
    }
    assert!(h.state.store.current_policy().await.unwrap().is_none());

    let doc = "policy_version = 1\n[features]\nfile_sharing = false\n[retention.room]\ndefault_secs = 3600\nmax_secs = 86400\n[permissions]\ncreate_rooms = \"admins\"\n";
    let r = put(&h, &ada, doc).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["revision"], 1);
    let r = h.call("GET", "/api/v1/policy", Some(&bob), None).await;
    assert_eq!(r.body["may_create_rooms"], false);
    assert_eq!(r.body["file_sharing"], false);
    assert_eq!(r.body["room_max_retention_secs"], 86400);

    // Room creation: admins only; retention within bounds, default from the policy.
    let r = h
        .call(
            "POST",
            "/api/v1/rooms",
            Some(&bob),
            Some(json!({"kind": "room"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "policy_forbids")
    );
    let r = h
        .call(
            "POST",
            "/api/v1/rooms",
            Some(&ada),
            Some(json!({"kind": "room", "retention_secs": 90000})),
        )
        .await;
    assert_eq!(r.code(), "policy_forbids");
    let r = h
        .call(
            "POST",
            "/api/v1/rooms",
            Some(&ada),
            Some(json!({"kind": "room"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["retention_secs"], 3600);
    let room = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .call(
            "PATCH",
            &format!("/api/v1/rooms/{room}"),
            Some(&ada),
            Some(json!({"retention_secs": null})),
        )
        .await;
    assert_eq!(r.code(), "policy_forbids");

    // File sharing off.
    let r = h
        .call(
            "POST",
            &format!("/api/v1/rooms/{room}/blobs"),
            Some(&ada),
            Some(json!({"size": 10})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "feature_disabled")
    );

    // Everything above is in the audit log, and the chain verifies.
    let records = h.state.store.audit_page(0, 100).await.unwrap();
    let events: Vec<&str> = records.iter().map(|r| r.record.event.as_str()).collect();
    for e in [
        "device_added",
        "login_succeeded",
        "policy_changed",
        "room_created",
    ] {
        assert!(events.contains(&e), "{e} missing from {events:?}");
    }
    assert!(
        records
            .iter()
            .all(|r| r.record.client_net.as_deref() != Some("127.0.0.1"))
    );
    assert!(
        ting_store::verify_audit(&*h.state.store)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn failed_logins_are_audited_without_the_password() {
    let h = Harness::new().await;
    h.user("bob", PW).await;
    let body = common::login_body("bob", "wrong password here", [3; 32]);
    let r = h.call("POST", "/api/v1/auth/login", None, Some(body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let body = common::login_body("nobody", "another secret pw", [3; 32]);
    h.call("POST", "/api/v1/auth/login", None, Some(body)).await;
    let records = h.state.store.audit_page(0, 10).await.unwrap();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.record.event, "login_failed");
        assert_eq!(r.record.client_net.as_deref(), Some("127.0.0.0/24"));
        let text = format!("{:?}", r.record);
        assert!(
            !text.contains("wrong password")
                && !text.contains("nobody")
                && !text.contains("another secret")
        );
    }
    assert!(records[0].record.target_user.is_some());
    assert!(records[1].record.target_user.is_none());
}

/// R4: a KeyPackage with a ciphersuite outside the allow-list is refused with a clear error.
#[tokio::test]
async fn key_packages_outside_the_allow_list_are_refused() {
    let h = Harness::new().await;
    h.user("bob", PW).await;
    let (bob, _) = h.login("bob", PW, [4; 32]).await;
    let now = h.clock_unix();
    let other = kp_with(Synthetic {
        cipher_suite: 3,
        signature_key: vec![4; 32],
        identity: ting_proto::UserId::random().as_bytes().to_vec(),
        not_before: (now - 60) as u64,
        not_after: (now + 86_400) as u64,
        last_resort: false,
    });
    let r = h
        .call(
            "POST",
            "/api/v1/key-packages",
            Some(&bob),
            Some(json!({"key_packages": [other]})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_key_package")
    );
    assert!(
        r.body["message"].as_str().unwrap().contains("0x0003"),
        "{:?}",
        r.body
    );
}
