//! Delivery Service tests through `Router::oneshot`: rooms, ordering, epochs, authorization,
//! Welcomes, blobs and retention. Payloads are opaque bytes to the server.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Dev, Harness, PW, b64, dev};
use serde_json::{Value, json};

async fn setup() -> (Harness, Dev, Dev, Dev) {
    let h = Harness::new().await;
    for u in ["alice", "bob", "eve"] {
        h.user(u, PW).await;
    }
    let a = dev(&h, "alice", 1).await;
    let b = dev(&h, "bob", 2).await;
    let e = dev(&h, "eve", 3).await;
    (h, a, b, e)
}

fn mid() -> String {
    ting_proto::MessageId::random().to_string()
}

async fn create_room(h: &Harness, d: &Dev) -> String {
    let r = h
        .call(
            "POST",
            "/api/v1/rooms",
            Some(&d.token),
            Some(json!({"kind": "room"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["epoch"], 0);
    r.body["id"].as_str().unwrap().to_string()
}

async fn send(h: &Harness, d: &Dev, room: &str, body: Value) -> common::Resp {
    h.call(
        "POST",
        &format!("/api/v1/rooms/{room}/messages"),
        Some(&d.token),
        Some(body),
    )
    .await
}

fn app(epoch: u64, payload: &[u8]) -> Value {
    json!({"id": mid(), "kind": "application", "epoch": epoch, "payload": b64(payload)})
}

async fn add(h: &Harness, by: &Dev, room: &str, epoch: u64, who: &Dev) -> common::Resp {
    send(
        h,
        by,
        room,
        json!({"id": mid(), "kind": "commit", "epoch": epoch, "payload": b64(b"commit"),
        "welcome": b64(format!("welcome for {}", who.id).as_bytes()), "added_devices": [who.id]}),
    )
    .await
}

async fn history(h: &Harness, d: &Dev, room: &str, query: &str) -> common::Resp {
    h.call(
        "GET",
        &format!("/api/v1/rooms/{room}/messages{query}"),
        Some(&d.token),
        None,
    )
    .await
}

fn seqs(r: &common::Resp) -> Vec<u64> {
    r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn ordering_epochs_and_membership() {
    let (h, a, b, e) = setup().await;
    let room = create_room(&h, &a).await;
    let r = send(&h, &a, &room, app(0, b"m1")).await;
    assert_eq!(
        (r.status, r.body["seq"].as_u64()),
        (StatusCode::CREATED, Some(1))
    );

    // Bob is not a member yet: he cannot read, send, or even see the room.
    for r in [
        h.call(
            "GET",
            &format!("/api/v1/rooms/{room}"),
            Some(&b.token),
            None,
        )
        .await,
        h.call(
            "GET",
            &format!("/api/v1/rooms/{room}/members"),
            Some(&b.token),
            None,
        )
        .await,
        history(&h, &b, &room, "").await,
        send(&h, &b, &room, app(0, b"intrude")).await,
    ] {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "unknown_room")
        );
    }

    // Two concurrent commits for epoch 0: the first wins, the second is stale.
    let r = add(&h, &a, &room, 0, &b).await;
    assert_eq!(r.body, json!({"seq": 2, "epoch": 1}));
    let r = add(&h, &a, &room, 0, &e).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "stale_epoch"));
    assert_eq!(r.body["current_epoch"], 1);
    let r = send(&h, &a, &room, app(0, b"old epoch")).await;
    assert_eq!(
        r.code(),
        "stale_epoch",
        "application messages must use the current epoch too"
    );

    // Bob got a Welcome addressed to his device only.
    let r = h
        .call("GET", "/api/v1/welcomes", Some(&b.token), None)
        .await;
    assert_eq!(r.body["welcomes"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["welcomes"][0]["commit_seq"], 2);
    assert_eq!(
        h.call("GET", "/api/v1/welcomes", Some(&e.token), None)
            .await
            .body["welcomes"],
        json!([])
    );
    let r = h
        .call(
            "DELETE",
            &format!("/api/v1/welcomes/{room}"),
            Some(&b.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.call(
            "DELETE",
            &format!("/api/v1/welcomes/{room}"),
            Some(&b.token),
            None
        )
        .await
        .code(),
        "not_found"
    );

    for i in 0..3 {
        let sender = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            send(&h, sender, &room, app(1, b"hello")).await.status,
            StatusCode::CREATED
        );
    }
    // Bob reads only what came after the commit that added him.
    assert_eq!(seqs(&history(&h, &b, &room, "").await), vec![3, 4, 5]);
    assert_eq!(seqs(&history(&h, &a, &room, "").await), vec![1, 2, 3, 4, 5]);
    let r = history(&h, &a, &room, "?after=1&limit=2").await;
    assert_eq!(
        (seqs(&r), r.body["more"].as_bool()),
        (vec![2, 3], Some(true))
    );
    let r = history(&h, &a, &room, "?before=5&limit=2").await;
    assert_eq!(
        (seqs(&r), r.body["more"].as_bool()),
        (vec![3, 4], Some(true))
    );
    assert_eq!(
        history(&h, &a, &room, "?before=3&after=1").await.code(),
        "invalid_input"
    );

    let r = h
        .call(
            "GET",
            &format!("/api/v1/rooms/{room}/members"),
            Some(&b.token),
            None,
        )
        .await;
    let names: Vec<&str> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"alice") && names.contains(&"bob"));

    // Removing Bob: he sees the commit that removes him, then nothing.
    let r = send(&h, &a, &room, json!({"id": mid(), "kind": "commit", "epoch": 1, "payload": b64(b"remove"), "removed_devices": [b.id]})).await;
    assert_eq!(r.body, json!({"seq": 6, "epoch": 2}));
    send(&h, &a, &room, app(2, b"secret after removal")).await;
    let r = history(&h, &b, &room, "").await;
    assert_eq!(
        seqs(&r),
        vec![3, 4, 5, 6],
        "a removed device reads up to its removal, no further"
    );
    assert_eq!(
        seqs(&history(&h, &b, &room, "?after=6").await),
        Vec::<u64>::new()
    );
    let r = h.call("GET", "/api/v1/rooms", Some(&b.token), None).await;
    assert_eq!(r.body["rooms"], json!([]));
    assert_eq!(
        send(&h, &b, &room, app(2, b"still here?")).await.code(),
        "unknown_room"
    );
    let bob_id: ting_proto::DeviceId = b.id.parse().unwrap();
    let room_id: ting_proto::RoomId = room.parse().unwrap();
    let visible = h
        .state
        .store
        .messages_after(room_id, bob_id, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        visible.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![3, 4, 5, 6]
    );
}

#[tokio::test]
async fn bad_messages_are_refused_and_nothing_is_stored() {
    let (h, a, b, e) = setup().await;
    let room = create_room(&h, &a).await;
    let dup = app(0, b"once");
    assert_eq!(
        send(&h, &a, &room, dup.clone()).await.status,
        StatusCode::CREATED
    );
    let r = send(&h, &a, &room, dup).await;
    assert_eq!(
        (r.status, r.code(), r.body["position"].as_u64()),
        (StatusCode::CONFLICT, "duplicate_message", Some(1))
    );

    let cases = vec![
        (
            "empty payload",
            json!({"id": mid(), "kind": "application", "epoch": 0, "payload": ""}),
            "invalid_input",
        ),
        (
            "welcome on application",
            json!({"id": mid(), "kind": "application", "epoch": 0, "payload": b64(b"x"), "welcome": b64(b"w")}),
            "invalid_input",
        ),
        (
            "adds without welcome",
            json!({"id": mid(), "kind": "commit", "epoch": 0, "payload": b64(b"c"), "added_devices": [b.id]}),
            "invalid_commit",
        ),
        (
            "welcome without adds",
            json!({"id": mid(), "kind": "commit", "epoch": 0, "payload": b64(b"c"), "welcome": b64(b"w")}),
            "invalid_commit",
        ),
        (
            "unknown device",
            json!({"id": mid(), "kind": "commit", "epoch": 0, "payload": b64(b"c"), "welcome": b64(b"w"), "added_devices": [ting_proto::DeviceId::random()]}),
            "invalid_commit",
        ),
        (
            "remove non-member",
            json!({"id": mid(), "kind": "commit", "epoch": 0, "payload": b64(b"c"), "removed_devices": [e.id]}),
            "invalid_commit",
        ),
        (
            "same device twice",
            json!({"id": mid(), "kind": "commit", "epoch": 0, "payload": b64(b"c"), "welcome": b64(b"w"), "added_devices": [b.id, b.id]}),
            "invalid_commit",
        ),
        (
            "wrong kind",
            json!({"id": mid(), "kind": "shout", "epoch": 0, "payload": b64(b"x")}),
            "invalid_json",
        ),
        (
            "sender field",
            json!({"id": mid(), "kind": "application", "epoch": 0, "payload": b64(b"x"), "sender_device": b.id}),
            "invalid_json",
        ),
    ];
    for (what, body, code) in cases {
        let r = send(&h, &a, &room, body).await;
        assert_eq!(r.code(), code, "{what}: {:?}", r.body);
    }
    let big = vec![0u8; h.state.config.delivery.max_message_bytes + 1];
    let r = send(&h, &a, &room, app(0, &big)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let r = h
        .call(
            "GET",
            &format!("/api/v1/rooms/{room}"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(
        (r.body["last_seq"].as_u64(), r.body["epoch"].as_u64()),
        (Some(1), Some(0)),
        "nothing stored"
    );
    let r = send(&h, &a, "not-a-room", app(0, b"x")).await;
    assert_eq!(r.code(), "unknown_room");
    let r = send(
        &h,
        &a,
        &ting_proto::RoomId::random().to_string(),
        app(0, b"x"),
    )
    .await;
    assert_eq!(r.code(), "unknown_room");

    // The server names the sender from the session; a revoked device is out.
    let r = history(&h, &a, &room, "").await;
    assert_eq!(r.body["messages"][0]["sender_device"], a.id.as_str());
    h.call(
        "DELETE",
        &format!("/api/v1/devices/{}", a.id),
        Some(&a.token),
        None,
    )
    .await;
    assert_eq!(
        send(&h, &a, &room, app(0, b"ghost")).await.code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn cursors_and_room_list() {
    let (h, a, _, _) = setup().await;
    let room = create_room(&h, &a).await;
    for _ in 0..3 {
        send(&h, &a, &room, app(0, b"x")).await;
    }
    let r = h
        .call(
            "POST",
            &format!("/api/v1/rooms/{room}/ack"),
            Some(&a.token),
            Some(json!({"seq": 2})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    h.call(
        "POST",
        &format!("/api/v1/rooms/{room}/ack"),
        Some(&a.token),
        Some(json!({"seq": 1})),
    )
    .await;
    let r = h.call("GET", "/api/v1/rooms", Some(&a.token), None).await;
    assert_eq!(r.body["rooms"][0]["cursor"], 2, "cursor never moves back");
    assert_eq!(r.body["rooms"][0]["last_seq"], 3);
}

async fn put(h: &Harness, d: &Dev, blob: &str, offset: u64, bytes: Vec<u8>) -> common::Resp {
    h.send(
        Request::patch(format!("/api/v1/blobs/{blob}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", d.token))
            .header("upload-offset", offset.to_string())
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn blobs_resume_limits_and_authorization() {
    let (h, a, b, e) = setup().await;
    let room = create_room(&h, &a).await;
    add(&h, &a, &room, 0, &b).await;
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let r = h
        .call(
            "POST",
            &format!("/api/v1/rooms/{room}/blobs"),
            Some(&a.token),
            Some(json!({"size": data.len()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let blob = r.body["id"].as_str().unwrap().to_string();

    let r = put(&h, &a, &blob, 0, data[..40_000].to_vec()).await;
    assert_eq!(
        (r.body["received"].as_u64(), r.body["complete"].as_bool()),
        (Some(40_000), Some(false))
    );
    let r = h
        .call(
            "GET",
            &format!("/api/v1/blobs/{blob}"),
            Some(&b.token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "blob_incomplete"),
        "truncated blob is not served"
    );
    let r = put(&h, &a, &blob, 10, data[10..20].to_vec()).await;
    assert_eq!(
        (r.code(), r.body["position"].as_u64()),
        ("offset_mismatch", Some(40_000))
    );
    let r = put(&h, &b, &blob, 40_000, data[40_000..].to_vec()).await;
    assert_eq!(r.code(), "forbidden", "only the uploader appends");
    let mut too_much = data[40_000..].to_vec();
    too_much.push(0);
    let r = put(&h, &a, &blob, 40_000, too_much).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let r = h
        .call(
            "GET",
            &format!("/api/v1/blobs/{blob}/status"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(
        r.body["received"], 40_000,
        "the refused chunk left nothing behind"
    );
    let r = put(&h, &a, &blob, 40_000, data[40_000..].to_vec()).await;
    assert_eq!(r.body["complete"], true);

    let r = h
        .send(
            Request::get(format!("/api/v1/blobs/{blob}"))
                .header(header::AUTHORIZATION, format!("Bearer {}", b.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let got = raw(&h, &b, &format!("/api/v1/blobs/{blob}")).await;
    assert_eq!(got, data, "round trip");

    let r = h
        .call(
            "GET",
            &format!("/api/v1/blobs/{blob}"),
            Some(&e.token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "unknown_blob"),
        "non-members cannot fetch"
    );
    let r = h
        .call(
            "GET",
            &format!("/api/v1/blobs/{blob}/status"),
            Some(&e.token),
            None,
        )
        .await;
    assert_eq!(r.code(), "unknown_blob");
    let r = h
        .call(
            "POST",
            &format!("/api/v1/rooms/{room}/blobs"),
            Some(&e.token),
            Some(json!({"size": 10})),
        )
        .await;
    assert_eq!(r.code(), "unknown_room");
    let r = h
        .call(
            "POST",
            &format!("/api/v1/rooms/{room}/blobs"),
            Some(&a.token),
            Some(json!({"size": h.state.config.files.max_blob_bytes + 1})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    assert_eq!(
        h.call("GET", "/api/v1/blobs/nope", Some(&a.token), None)
            .await
            .code(),
        "unknown_blob"
    );
}

async fn raw(h: &Harness, d: &Dev, uri: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", d.token))
        .body(Body::empty())
        .unwrap();
    let resp = h.router.clone().oneshot(req).await.unwrap();
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[tokio::test]
async fn retention_deletes_expired_messages_and_blobs() {
    let (h, a, _, _) = setup().await;
    let r = h
        .call(
            "POST",
            "/api/v1/rooms",
            Some(&a.token),
            Some(json!({"kind": "room", "retention_secs": 3600})),
        )
        .await;
    let short = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["retention_secs"], 3600);
    let keep = create_room(&h, &a).await;
    assert_eq!(
        h.call(
            "POST",
            "/api/v1/rooms",
            Some(&a.token),
            Some(json!({"kind": "room", "retention_secs": 5}))
        )
        .await
        .code(),
        "invalid_input"
    );
    send(&h, &a, &short, app(0, b"ephemeral")).await;
    send(&h, &a, &keep, app(0, b"durable")).await;
    let r = h
        .call(
            "POST",
            &format!("/api/v1/rooms/{short}/blobs"),
            Some(&a.token),
            Some(json!({"size": 3})),
        )
        .await;
    let blob = r.body["id"].as_str().unwrap().to_string();
    put(&h, &a, &blob, 0, vec![1, 2, 3]).await;
    let file = h.state.config.blob_dir().join(&blob);
    assert!(file.exists());

    h.clock.advance(Duration::from_secs(3601));
    let (m, b) = ting_server::serve::sweep_retention(&h.state).await.unwrap();
    assert_eq!((m, b), (1, 1));
    assert_eq!(seqs(&history(&h, &a, &short, "").await), Vec::<u64>::new());
    assert_eq!(seqs(&history(&h, &a, &keep, "").await), vec![1]);
    assert!(!file.exists(), "blob file deleted");
    assert_eq!(
        h.call(
            "GET",
            &format!("/api/v1/blobs/{blob}/status"),
            Some(&a.token),
            None
        )
        .await
        .code(),
        "unknown_blob"
    );
    let r = h
        .call(
            "PATCH",
            &format!("/api/v1/rooms/{keep}"),
            Some(&a.token),
            Some(json!({"retention_secs": 600})),
        )
        .await;
    assert_eq!(r.body["retention_secs"], 600);
}
