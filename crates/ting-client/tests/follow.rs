//! Follow mode over the WebSocket, adversarial input, and a user's new device joining rooms.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{Server, follow_in_background, link_with, login, texts};
use ting_client::Event;
use ting_client::local::HistoryItem;
use ting_proto::ds::{MessageKind, SendMessage};
use ting_proto::{Base64, ErrorCode, MessageId};

fn texts_of(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Entry { entry, .. } => match &entry.item {
                HistoryItem::Text { body, .. } => Some(body.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

async fn wait_for(seen: &Arc<Mutex<Vec<Event>>>, n: usize) {
    for _ in 0..400 {
        if texts_of(&seen.lock().unwrap()).len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("only {:?} arrived", texts_of(&seen.lock().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_delivers_live_in_order_and_replays_only_unacknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();

    let (task, seen, stop) = follow_in_background(b);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent: Vec<String> = (0..10).map(|i| format!("live {i}")).collect();
    for t in &sent {
        a.send_text(room, t).await.unwrap();
    }
    wait_for(&seen, 10).await;
    stop.send(()).unwrap();
    let b = task.await.unwrap();
    assert_eq!(
        texts_of(&seen.lock().unwrap()),
        sent,
        "live, in order, once"
    );
    assert_eq!(texts(&b, room), sent);

    // Offline: two more. On reconnect the server replays exactly what was not acknowledged.
    a.send_text(room, "while away 1").await.unwrap();
    a.send_text(room, "while away 2").await.unwrap();
    let (task, seen, stop) = follow_in_background(b);
    wait_for(&seen, 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    let b = task.await.unwrap();
    assert_eq!(
        texts_of(&seen.lock().unwrap()),
        vec!["while away 1", "while away 2"]
    );
    assert_eq!(texts(&b, room).len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_is_added_to_its_users_rooms() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    // bob's tablet is linked before the room exists and leaves rooms to his other devices.
    let mut tablet = link_with(&server, tmp.path(), &mut b, "tablet", Duration::ZERO).await;
    let room = a.create_room(Some("Ops")).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();
    let (task, seen, stop) = follow_in_background(b);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Bob's new phone, approved on his tablet: his following laptop sees the phone's
    // certificate appear in the key log and adds it to his rooms.
    let mut phone = link_with(&server, tmp.path(), &mut tablet, "phone", Duration::ZERO).await;
    let mut joined = false;
    for _ in 0..100 {
        if phone
            .sync()
            .await
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::Joined { .. }))
        {
            joined = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(joined, "the new device was added to bob's room");
    stop.send(()).unwrap();
    task.await.unwrap();
    let phone_id = phone.device_id().unwrap();
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::DeviceLinked { device } if *device == phone_id)),
        "the laptop shows that a new device was linked"
    );
    a.send_text(room, "welcome, phone").await.unwrap();
    phone.sync().await.unwrap();
    assert_eq!(texts(&phone, room), vec!["welcome, phone"]);
    assert_eq!(
        phone.room(room).unwrap().name.as_deref(),
        Some("Ops"),
        "the name is re-sent to new devices"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_senders_and_replays_are_rejected_visibly() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob", "mallory"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let mut m = login(&server, tmp.path(), "mallory", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    a.invite(room, "mallory").await.unwrap();
    b.sync().await.unwrap();
    m.sync().await.unwrap();
    let gid = ting_e2ee::GroupId::new(room.as_bytes().to_vec()).unwrap();

    // Mallory (a member) uploads a message that bob's device encrypted, as if it were hers.
    let forged = b
        .e2ee()
        .encrypt_message(&gid, &ting_e2ee::Envelope::text("I, bob, resign").unwrap())
        .unwrap();
    let epoch = m.e2ee().epoch(&gid).unwrap();
    let send = |payload: Vec<u8>, id: MessageId| SendMessage {
        id,
        kind: MessageKind::Application,
        epoch,
        payload: Base64(payload),
        welcome: None,
        added_devices: vec![],
        removed_devices: vec![],
    };
    m.api()
        .send_message(room, &send(forged, MessageId::random()))
        .await
        .unwrap();
    a.sync().await.unwrap();
    let last = a.room(room).unwrap().history.last().unwrap().clone();
    match &last.item {
        HistoryItem::Undecryptable { reason } => {
            assert!(reason.contains("different sender"), "{reason}")
        }
        other => panic!("a forged sender was accepted: {other:?}"),
    }
    assert!(!texts(&a, room).contains(&"I, bob, resign".to_string()));

    // Replays: the same message id is refused by the server; the same ciphertext under a new
    // id is stored but refused by every client (MLS deleted the key after first use).
    let id = MessageId::random();
    let payload = a
        .e2ee()
        .encrypt_message(&gid, &ting_e2ee::Envelope::text("pay 100").unwrap())
        .unwrap();
    a.api()
        .send_message(room, &send(payload.clone(), id))
        .await
        .unwrap();
    let err = a
        .api()
        .send_message(room, &send(payload.clone(), id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::DuplicateMessage));
    a.api()
        .send_message(room, &send(payload, MessageId::random()))
        .await
        .unwrap();
    b.sync().await.unwrap();
    assert_eq!(
        texts(&b, room).iter().filter(|t| *t == "pay 100").count(),
        1,
        "delivered once"
    );
    let last = b.room(room).unwrap().history.last().unwrap().clone();
    assert!(
        matches!(last.item, HistoryItem::Undecryptable { .. }),
        "the replay is shown as undecryptable: {last:?}"
    );

    // A commit for an old epoch is refused and nothing changes.
    let before = a.api().room(room).await.unwrap();
    let stale = SendMessage {
        kind: MessageKind::Commit,
        epoch: 0,
        ..send(vec![1, 2, 3], MessageId::random())
    };
    assert_eq!(
        a.api().send_message(room, &stale).await.unwrap_err().code(),
        Some(ErrorCode::StaleEpoch)
    );
    let after = a.api().room(room).await.unwrap();
    assert_eq!(
        (before.epoch, before.last_seq),
        (after.epoch, after.last_seq)
    );
}
