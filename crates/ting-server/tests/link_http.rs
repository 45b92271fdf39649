//! Device-link rendezvous through `Router::oneshot`: a new device opens one, another device of
//! the same user reads and answers it once, the new device takes the answer once; every
//! refusal with its stable code.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Dev, Harness, PW, b64, dev};
use serde_json::json;
use ting_proto::ws::ServerEvent;
use ting_proto::{DeviceId, UserId};
use ting_server::hub::Delivery;

/// Alice's phone (existing), alice's laptop (new), bob's device.
async fn setup() -> (Harness, Dev, Dev, Dev) {
    let h = Harness::new().await;
    for u in ["alice", "bob"] {
        h.user(u, PW).await;
    }
    let phone = dev(&h, "alice", 1).await;
    let laptop = dev(&h, "alice", 2).await;
    let bob = dev(&h, "bob", 3).await;
    (h, phone, laptop, bob)
}

async fn open(h: &Harness, d: &Dev) -> String {
    let r = h
        .call(
            "POST",
            "/api/v1/link",
            Some(&d.token),
            Some(json!({ "request": b64(b"new device keys") })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["expires_at"].as_i64().unwrap(), h.clock_unix() + 600);
    let id = r.body["rendezvous_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    id
}

async fn read(h: &Harness, d: &Dev, id: &str) -> common::Resp {
    h.call("GET", &format!("/api/v1/link/{id}"), Some(&d.token), None)
        .await
}

async fn respond(h: &Harness, d: &Dev, id: &str, response: &[u8]) -> common::Resp {
    h.call(
        "POST",
        &format!("/api/v1/link/{id}/response"),
        Some(&d.token),
        Some(json!({ "response": b64(response) })),
    )
    .await
}

async fn take(h: &Harness, d: &Dev, id: &str) -> common::Resp {
    h.call(
        "GET",
        &format!("/api/v1/link/{id}/response"),
        Some(&d.token),
        None,
    )
    .await
}

fn is(r: &common::Resp, status: StatusCode, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
}

#[tokio::test]
async fn a_new_device_gets_the_answer_once() {
    let (h, phone, laptop, _) = setup().await;
    let me = h.call("GET", "/api/v1/me", Some(&laptop.token), None).await;
    let user: UserId = me.body["user"]["id"].as_str().unwrap().parse().unwrap();
    let (_, mut at_laptop) =
        h.state
            .hub
            .register(user, laptop.id.parse::<DeviceId>().unwrap(), vec![1]);
    let id = open(&h, &laptop).await;
    let r = take(&h, &laptop, &id).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "waiting");

    let r = read(&h, &phone, &id).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["request"], b64(b"new device keys"));
    assert_eq!(r.body["device_id"], laptop.id.as_str());
    assert_eq!(r.body["device_name"], "test device");
    assert_eq!(r.body["expires_at"].as_i64().unwrap(), h.clock_unix() + 600);

    let r = respond(&h, &phone, &id, b"sealed master key").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(
        at_laptop.recv().await,
        Some(Delivery::Event(ServerEvent::LinkResponded {
            rendezvous_id: id.clone()
        }))
    );
    is(
        &respond(&h, &phone, &id, b"again").await,
        StatusCode::CONFLICT,
        "link_used",
    );
    is(
        &read(&h, &phone, &id).await,
        StatusCode::CONFLICT,
        "link_used",
    );

    let r = take(&h, &laptop, &id).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["response"], b64(b"sealed master key"));
    is(
        &take(&h, &laptop, &id).await,
        StatusCode::NOT_FOUND,
        "unknown_link",
    );
    assert!(
        h.state.store.link(&id).await.unwrap().is_none(),
        "gone once taken"
    );

    let audit = h.state.store.audit_page(0, 100).await.unwrap();
    let answered: Vec<_> = audit
        .iter()
        .filter(|r| r.record.event == "device_link_answered")
        .collect();
    assert_eq!(answered.len(), 1);
    assert_eq!(
        answered[0].record.target.as_deref(),
        Some(laptop.id.as_str())
    );
    assert!(!answered[0].record.details.contains("sealed"));
}

#[tokio::test]
async fn only_the_right_devices_may_use_a_rendezvous() {
    let (h, phone, laptop, bob) = setup().await;
    let id = open(&h, &laptop).await;
    // The creator can neither read nor answer its own request.
    is(
        &read(&h, &laptop, &id).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    is(
        &respond(&h, &laptop, &id, b"self").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // Another user sees nothing.
    is(
        &read(&h, &bob, &id).await,
        StatusCode::NOT_FOUND,
        "unknown_link",
    );
    is(
        &respond(&h, &bob, &id, b"evil").await,
        StatusCode::NOT_FOUND,
        "unknown_link",
    );
    is(
        &take(&h, &bob, &id).await,
        StatusCode::NOT_FOUND,
        "unknown_link",
    );
    // Only the creator takes the answer.
    assert_eq!(
        respond(&h, &phone, &id, b"ok").await.status,
        StatusCode::NO_CONTENT
    );
    is(
        &take(&h, &phone, &id).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(take(&h, &laptop, &id).await.status, StatusCode::OK);
    // Unknown and malformed ids.
    for bad in [
        "00000000000000000000000000000000",
        "nope",
        "ABCDEF0123456789ABCDEF0123456789",
    ] {
        is(
            &read(&h, &phone, bad).await,
            StatusCode::NOT_FOUND,
            "unknown_link",
        );
    }
    let r = h
        .call("GET", &format!("/api/v1/link/{id}"), None, None)
        .await;
    is(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn expired_rendezvous_are_refused_and_purged() {
    let (h, phone, laptop, _) = setup().await;
    let id = open(&h, &laptop).await;
    let answered = open(&h, &laptop).await;
    assert_eq!(
        respond(&h, &phone, &answered, b"late").await.status,
        StatusCode::NO_CONTENT
    );
    h.clock.advance(Duration::from_secs(600));
    is(
        &read(&h, &phone, &id).await,
        StatusCode::GONE,
        "link_expired",
    );
    is(
        &respond(&h, &phone, &id, b"x").await,
        StatusCode::GONE,
        "link_expired",
    );
    is(
        &take(&h, &laptop, &id).await,
        StatusCode::GONE,
        "link_expired",
    );
    is(
        &take(&h, &laptop, &answered).await,
        StatusCode::GONE,
        "link_expired",
    );
    ting_server::serve::sweep_retention(&h.state).await.unwrap();
    assert!(h.state.store.link(&id).await.unwrap().is_none(), "purged");
    is(
        &read(&h, &phone, &id).await,
        StatusCode::NOT_FOUND,
        "unknown_link",
    );
}

#[tokio::test]
async fn sizes_are_bounded() {
    let (h, phone, laptop, _) = setup().await;
    for request in [vec![], vec![0u8; 4097]] {
        let r = h
            .call(
                "POST",
                "/api/v1/link",
                Some(&laptop.token),
                Some(json!({ "request": b64(&request) })),
            )
            .await;
        is(&r, StatusCode::BAD_REQUEST, "invalid_input");
    }
    let id = open(&h, &laptop).await;
    is(
        &respond(&h, &phone, &id, &[0u8; 16 * 1024 + 1]).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    is(
        &respond(&h, &phone, &id, b"").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    assert!(
        !h.state.store.link(&id).await.unwrap().unwrap().responded,
        "nothing stored"
    );
    assert_eq!(
        respond(&h, &phone, &id, &[7u8; 16 * 1024]).await.status,
        StatusCode::NO_CONTENT
    );
}
