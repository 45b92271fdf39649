//! End-to-end chat through a real `ting serve` process and real sockets.

mod support;

use std::collections::HashSet;

use support::{Server, link, login, texts};
use ting_client::Device;
use ting_client::local::HistoryItem;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_users_five_devices_exactly_once_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let mut a2 = link(&server, tmp.path(), &mut a1, "phone").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let mut b2 = link(&server, tmp.path(), &mut b1, "tablet").await; // stays offline during the sends
    let mut c1 = login(&server, tmp.path(), "carol", "laptop").await;

    let room = a1.create_room(Some("Budget 2027")).await.unwrap();
    assert_eq!(
        a1.invite(room, "bob").await.unwrap().len(),
        2,
        "all of bob's devices"
    );
    assert_eq!(a1.invite(room, "carol").await.unwrap().len(), 1);
    assert_eq!(
        a1.add_own_devices(room).await.unwrap().len(),
        1,
        "alice's phone"
    );
    for d in [&mut a2, &mut b1, &mut c1] {
        let events = d.sync().await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ting_client::Event::Joined { .. })),
            "{events:?}"
        );
        assert_eq!(
            d.room(room).unwrap().name.as_deref(),
            Some("Budget 2027"),
            "room name arrives encrypted"
        );
    }

    let mut expected = Vec::new();
    for i in 0..6 {
        let (sender, label) = match i % 3 {
            0 => (&mut a1, "a1"),
            1 => (&mut b1, "b1"),
            _ => (&mut c1, "c1"),
        };
        let text = format!("message {i} from {label}");
        sender.sync().await.unwrap();
        sender.send_text(room, &text).await.unwrap();
        expected.push(text);
    }
    // Concurrent senders: the server orders them; everyone sees the same order.
    let (ra, rc) = tokio::join!(
        a2.send_text(room, "together A"),
        c1.send_text(room, "together C")
    );
    let (sa, sc) = (ra.unwrap(), rc.unwrap());
    if sa < sc {
        expected.extend(["together A".to_string(), "together C".to_string()]);
    } else {
        expected.extend(["together C".to_string(), "together A".to_string()]);
    }

    for d in [&mut a1, &mut a2, &mut b1, &mut b2, &mut c1] {
        d.sync().await.unwrap();
        d.sync().await.unwrap(); // a second sync delivers nothing twice
        assert_eq!(texts(d, room), expected, "device of {}", d.username());
    }
    // History survives a restart of the client (state reloaded from disk).
    let dir = tmp.path().join("bob-tablet");
    drop(b2);
    let b2 = Device::open(&dir, None).unwrap();
    assert_eq!(texts(&b2, room), expected);
    // Members and safety numbers agree between alice and bob.
    let am = a1.members(room).unwrap();
    let bm = b1.members(room).unwrap();
    let sn = |v: &[ting_client::MemberView], u: &str| {
        v.iter()
            .find(|m| m.username == u)
            .and_then(|m| m.safety_number.clone())
    };
    assert_eq!(
        sn(&am, "bob"),
        sn(&bm, "alice"),
        "both sides compute the same safety number"
    );
    assert_eq!(am.iter().find(|m| m.username == "bob").unwrap().devices, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_device_cannot_decrypt_later_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let mut b2 = link(&server, tmp.path(), &mut b1, "old-phone").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b1.sync().await.unwrap();
    b2.sync().await.unwrap();
    a.send_text(room, "before removal").await.unwrap();
    b2.sync().await.unwrap();
    assert_eq!(texts(&b2, room), vec!["before removal"]);

    let old_phone = b2.device_id().unwrap();
    a.remove_device(room, old_phone).await.unwrap();
    a.send_text(room, "after removal").await.unwrap();
    b1.sync().await.unwrap();
    assert_eq!(texts(&b1, room), vec!["before removal", "after removal"]);
    let events = b2.sync().await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ting_client::Event::Removed { .. })),
        "{events:?}"
    );
    assert_eq!(
        texts(&b2, room),
        vec!["before removal"],
        "nothing after removal"
    );
    // Even handed the ciphertext, the removed device cannot decrypt it.
    let page = a.api().messages_after(room, 0, 100).await.unwrap();
    let later = page.messages.last().unwrap();
    let gid = ting_e2ee::GroupId::new(room.as_bytes().to_vec()).unwrap();
    assert!(
        b2.e2ee()
            .handle_message(&gid, later.payload.as_slice(), 0)
            .is_err()
    );
    // And the server delivers nothing after the removal to it.
    let removal = b2.room(room).unwrap().processed_seq;
    assert!(
        b2.api()
            .messages_after(room, removal, 100)
            .await
            .unwrap()
            .messages
            .is_empty()
    );
    assert!(
        b2.api()
            .send_message(
                room,
                &ting_proto::ds::SendMessage {
                    id: ting_proto::MessageId::random(),
                    kind: ting_proto::ds::MessageKind::Application,
                    epoch: 2,
                    payload: ting_proto::Base64(vec![1]),
                    welcome: None,
                    added_devices: vec![],
                    removed_devices: vec![]
                }
            )
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_conversation_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();

    // Alice keeps talking while the server is killed and restarted under her.
    let sender = tokio::spawn(async move {
        let mut sent = Vec::new();
        for i in 0..40 {
            let text = format!("line {i}");
            a.send_text(room, &text)
                .await
                .expect("send survives a restart by retrying");
            sent.push(text);
        }
        (a, sent)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.restart();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.restart();
    let (_a, sent) = sender.await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(texts(&b, room), sent, "every line exactly once, in order");
    let seqs: Vec<u64> = b
        .room(room)
        .unwrap()
        .history
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs.len(), seqs.iter().collect::<HashSet<_>>().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_round_trip_with_progress() {
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
    let src = tmp.path().join("report.bin");
    let data: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 253) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let mut calls = 0;
    a.send_file(room, &src, "application/pdf", |_, _| calls += 1)
        .await
        .unwrap();
    assert!(calls > 1, "progress reported");
    b.sync().await.unwrap();
    let file = b
        .room(room)
        .unwrap()
        .history
        .iter()
        .find_map(|e| match &e.item {
            HistoryItem::File { file, .. } => Some(file.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (file.name.as_str(), file.media_type.as_str(), file.size),
        ("report.bin", "application/pdf", data.len() as u64)
    );
    let out = tmp.path().join("got.bin");
    b.download_file(&file, &out, |_, _| {}).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), data);
    // A tampered key fails verification and leaves no output behind.
    let mut bad = file.clone();
    bad.key[0] ^= 1;
    let out2 = tmp.path().join("bad.bin");
    assert!(b.download_file(&bad, &out2, |_, _| {}).await.is_err());
    assert!(!out2.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_rotates_keys_via_the_remaining_members() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let mut c = login(&server, tmp.path(), "carol", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    a.invite(room, "carol").await.unwrap();
    b.sync().await.unwrap();
    c.sync().await.unwrap();
    c.leave(room).await.unwrap();
    assert!(c.rooms().is_empty(), "carol forgot the room");
    // Alice (lowest leaf among the others) commits carol's proposal while syncing.
    a.sync().await.unwrap();
    let members: Vec<String> = a
        .members(room)
        .unwrap()
        .into_iter()
        .map(|m| m.username)
        .collect();
    assert_eq!(members, vec!["alice", "bob"]);
    let on_server: Vec<String> = a
        .api()
        .members(room)
        .await
        .unwrap()
        .members
        .into_iter()
        .map(|m| m.username)
        .collect();
    assert!(!on_server.contains(&"carol".to_string()), "{on_server:?}");
    let after = a.send_text(room, "after carol left").await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(texts(&b, room), vec!["after carol left"]);
    let visible = c.api().messages_after(room, 0, 100).await.unwrap().messages;
    assert!(
        visible.iter().all(|m| m.seq < after),
        "carol's window ends at the commit removing her"
    );
    let page = a.api().messages_after(room, 0, 100).await.unwrap();
    let gid = ting_e2ee::GroupId::new(room.as_bytes().to_vec()).unwrap();
    assert!(
        c.e2ee()
            .handle_message(&gid, page.messages.last().unwrap().payload.as_slice(), 0)
            .is_err()
    );
}
