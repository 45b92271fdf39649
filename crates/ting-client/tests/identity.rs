//! The test plays the operator — someone with the server's database and admin CLI — against
//! real `ting serve` processes: registering devices for a user, publishing a reset, tampering
//! with device linking. Clients must refuse and say so.

mod support;

use std::time::Duration;

use support::{Server, follow_in_background, link, login, texts, wait_until};
use ting_client::{Device, Error, Event};
use ting_e2ee::IdentityAlert;

const OPERATOR_PW: &str = "the operator knows this one";

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The operator gives `user` the password hash of an account it controls, logs in as `user`
/// on a device of its own, and puts the user's hash back: no trace in the admin CLI, and the
/// user's sessions keep working.
async fn operator_login(server: &Server, dir: &std::path::Path, user: &str) -> Device {
    let mut db = server.sqlite().await;
    let hash = |name: &str| {
        sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE username = ?")
            .bind(name.to_owned())
    };
    let original = hash(user).fetch_one(&mut db).await.unwrap();
    let known = hash("operator").fetch_one(&mut db).await.unwrap();
    let set = |h: String| {
        sqlx::query("UPDATE users SET password_hash = ? WHERE username = ?")
            .bind(h)
            .bind(user.to_owned())
    };
    set(known).execute(&mut db).await.unwrap();
    let device = Device::login(
        &dir.join(format!("operator-as-{user}")),
        &server.url(),
        user,
        OPERATOR_PW,
        "operator",
        None,
    )
    .await
    .unwrap();
    set(original).execute(&mut db).await.unwrap();
    device
}

fn start(tmp: &tempfile::TempDir, users: &[&str]) -> Server {
    let server = Server::start(&tmp.path().join("data"), 0, None);
    for u in users {
        server.create_user(u);
    }
    server.admin_with_password(&["create-user", "operator"], &[], OPERATOR_PW);
    server
}

fn seen_any(seen: &std::sync::Mutex<Vec<Event>>, f: impl Fn(&Event) -> bool) -> bool {
    seen.lock().unwrap().iter().any(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_the_operator_registers_is_never_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp, &["alice", "bob"]);
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let laptop = a1.device_id().unwrap();
    let room = a1.create_room(Some("Board")).await.unwrap();
    a1.invite(room, "bob").await.unwrap();
    b1.sync().await.unwrap();
    let (task, seen, stop) = follow_in_background(a1);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // 1. Database-level injection: the operator logs in as alice.
    let mut evil = operator_login(&server, tmp.path(), "alice").await;
    let evil_id = evil.device_id().unwrap();
    assert!(!evil.is_certified(), "a password login never yields trust");
    // Without alice's master key it makes up an identity of its own; the server refuses its
    // KeyPackages, so it writes them into the database directly.
    evil.e2ee()
        .create_identity(evil_id.to_string().as_bytes(), now_ms())
        .unwrap();
    let kps = evil.e2ee().key_packages(3).unwrap();
    let refused = evil
        .api()
        .upload_key_packages(kps.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Some(ting_proto::ErrorCode::CertificateMismatch),
        "{refused}"
    );
    let mut db = server.sqlite().await;
    for kp in &kps {
        sqlx::query(
            "INSERT INTO key_packages (device_id, data, last_resort, created_at) VALUES (?, ?, 0, 0)",
        )
        .bind(evil_id.to_string())
        .bind(kp.clone())
        .execute(&mut db)
        .await
        .unwrap();
    }

    // alice's laptop is told, and adds nothing.
    wait_until("alice's laptop reports the unlinked device", || {
        seen_any(
            &seen,
            |e| matches!(e, Event::UnlinkedDevice { device, .. } if *device == evil_id),
        )
    })
    .await;
    stop.send(()).unwrap();
    let mut a1 = task.await.unwrap();
    assert_eq!(a1.add_own_devices(room).await.unwrap(), vec![]);

    // bob invites alice to a new room: only her laptop is added.
    let room2 = b1.create_room(None).await.unwrap();
    assert_eq!(b1.invite(room2, "alice").await.unwrap(), vec![laptop]);
    a1.sync().await.unwrap();
    for r in [room, room2] {
        let alice = b1
            .members(r)
            .unwrap()
            .into_iter()
            .find(|m| m.username == "alice")
            .unwrap();
        assert_eq!(alice.devices, 1, "only alice's own device is in {r}");
    }
    b1.send_text(room, "for alice only").await.unwrap();
    b1.send_text(room2, "also for alice only").await.unwrap();
    a1.sync().await.unwrap();
    assert_eq!(texts(&a1, room2), vec!["also for alice only"]);
    // No Welcome reached the operator's device, it is in no group, and the server does not
    // give it the rooms' ciphertext either.
    assert!(evil.api().welcomes().await.unwrap().welcomes.is_empty());
    let events = evil.sync().await.unwrap();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Joined { .. })),
        "{events:?}"
    );
    assert!(evil.rooms().is_empty());
    assert!(evil.api().messages_after(room, 0, 10).await.is_err());

    // 2. The admin CLI: reset alice's password and log in. Same result.
    server.admin_with_password(&["reset-password", "alice"], &[], "reset by the operator");
    let evil2 = Device::login(
        &tmp.path().join("operator-2"),
        &server.url(),
        "alice",
        "reset by the operator",
        "operator 2",
        None,
    )
    .await
    .unwrap();
    assert!(!evil2.is_certified());
    let mut b1 = b1;
    let room3 = b1.create_room(None).await.unwrap();
    assert_eq!(b1.invite(room3, "alice").await.unwrap(), vec![laptop]);
    assert_eq!(
        evil2.api().key_package_count().await.unwrap().available,
        0,
        "an unlinked device publishes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_published_by_the_operator_is_loud_and_re_adds_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp, &["alice", "bob", "carol"]);
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let mut c1 = login(&server, tmp.path(), "carol", "laptop").await;
    let room = a1.create_room(Some("Board")).await.unwrap();
    a1.invite(room, "bob").await.unwrap();
    a1.invite(room, "carol").await.unwrap();
    b1.sync().await.unwrap();
    c1.sync().await.unwrap();
    // bob compared safety numbers with alice; carol did not.
    let alices = b1.e2ee().pin("alice").unwrap().identity_key.clone();
    b1.e2ee().mark_verified("alice", &alices).unwrap();
    b1.save().unwrap();

    let (ta, seen_a, stop_a) = follow_in_background(a1);
    let (tb, seen_b, stop_b) = follow_in_background(b1);
    let (tc, seen_c, stop_c) = follow_in_background(c1);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 3. The operator logs in as alice and publishes a reset with a master key of its own.
    let mut evil = operator_login(&server, tmp.path(), "alice").await;
    evil.reset_identity().await.unwrap();

    wait_until("everyone is warned", || {
        seen_any(&seen_b, |e| {
            matches!(e, Event::Identity { alert: IdentityAlert::Changed { user_id, was_verified: true, .. } } if user_id == "alice")
        }) && seen_any(&seen_c, |e| {
            matches!(e, Event::Identity { alert: IdentityAlert::Changed { user_id, was_verified: false, .. } } if user_id == "alice")
        }) && seen_any(&seen_a, |e| {
            matches!(e, Event::Identity { alert: IdentityAlert::OwnIdentityReset { .. } })
        })
    })
    .await;
    for s in [stop_a, stop_b, stop_c] {
        s.send(()).unwrap();
    }
    let (_a1, mut b1, mut c1) = (ta.await.unwrap(), tb.await.unwrap(), tc.await.unwrap());

    // bob, who verified alice, cannot send until he acknowledges; carol is warned only.
    let err = b1.send_text(room, "blocked").await.unwrap_err();
    assert!(
        matches!(err, Error::Crypto(ting_e2ee::Error::IdentityChanged { ref user_id }) if user_id == "alice"),
        "{err}"
    );
    c1.send_text(room, "carol was warned").await.unwrap();
    // Nobody re-added the new identity's device.
    let events = evil.sync().await.unwrap();
    assert!(!events.iter().any(|e| matches!(e, Event::Joined { .. })));
    // Inviting alice again is refused until the change is acknowledged ...
    let err = b1.invite(room, "alice").await.unwrap_err();
    assert!(
        matches!(err, Error::Crypto(ting_e2ee::Error::IdentityChanged { .. })),
        "{err}"
    );
    // ... after which bob can send, and only an explicit invite brings the new device in.
    let keys = b1.user_keys("alice").await.unwrap();
    let new_key = ting_e2ee::IdentityKey::from_master(&keys.master_key.unwrap());
    assert_ne!(new_key, alices);
    b1.e2ee()
        .acknowledge_identity_change("alice", &new_key)
        .unwrap();
    b1.send_text(room, "after acknowledging").await.unwrap();
    assert_eq!(
        b1.invite(room, "alice").await.unwrap(),
        vec![evil.device_id().unwrap()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_refuses_swapped_replayed_and_raced_provisioning() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp, &["alice"]);
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let room = a1.create_room(Some("Notes")).await.unwrap();
    let mut a2 = link(&server, tmp.path(), &mut a1, "phone").await;
    a2.sync().await.unwrap();
    assert_eq!(
        a2.rooms(),
        vec![room],
        "the linked phone was added to the room"
    );

    // 6a. The operator swaps the request at the rendezvous for one of its own (its one-time
    // key, its device key): the approving device refuses, since the code commits to the
    // original request.
    let mut tablet = login(&server, tmp.path(), "alice", "tablet").await;
    let mut evil = operator_login(&server, tmp.path(), "alice").await;
    let evil_id = evil.device_id().unwrap().to_string();
    let evil_request = evil
        .e2ee()
        .link_request(evil_id.as_bytes(), now_ms(), 60_000)
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let waiting = tokio::spawn(async move {
        let r = tablet
            .link_show(
                move |code| tx.send(code.to_owned()).unwrap(),
                Duration::from_secs(20),
            )
            .await;
        (tablet, r)
    });
    let code = rx.await.unwrap();
    let rendezvous = ting_e2ee::rendezvous_of(&code).unwrap();
    let mut db = server.sqlite().await;
    sqlx::query("UPDATE link_rendezvous SET request = ? WHERE id = ?")
        .bind(evil_request)
        .bind(rendezvous.clone())
        .execute(&mut db)
        .await
        .unwrap();
    let err = a1.link_preview(&code).await.unwrap_err();
    assert!(
        matches!(err, Error::Crypto(ting_e2ee::Error::Link { .. })),
        "{err}"
    );
    assert!(a1.link_approve(&code, Duration::ZERO).await.is_err());

    // 6b. The honest request again, approved by two devices at once: the server takes one
    // answer; the tablet opens it once; a replay of it opens nothing.
    waiting.abort();
    let mut tablet = login(&server, tmp.path(), "alice", "tablet").await;
    assert!(!tablet.is_certified());
    let now = now_ms();
    let tablet_id = tablet.device_id().unwrap().to_string();
    let request = tablet
        .e2ee()
        .link_request(tablet_id.as_bytes(), now, 60_000)
        .unwrap();
    let created = tablet.api().link_create(request.clone()).await.unwrap();
    let code = tablet.e2ee().link_code(&created.rendezvous_id).unwrap();
    let r1 = a1.e2ee().link_approve(&code, &request, now_ms()).unwrap();
    let r2 = a2.e2ee().link_approve(&code, &request, now_ms()).unwrap();
    let (first, second) = tokio::join!(
        a1.api().link_respond(&created.rendezvous_id, r1.clone()),
        a2.api().link_respond(&created.rendezvous_id, r2.clone()),
    );
    let answers = [&first, &second];
    assert_eq!(
        answers.iter().filter(|r| r.is_ok()).count(),
        1,
        "one answer per rendezvous: {first:?} {second:?}"
    );
    let loser = answers.iter().find(|r| r.is_err()).unwrap();
    assert_eq!(
        loser.as_ref().unwrap_err().code(),
        Some(ting_proto::ErrorCode::LinkUsed)
    );
    let response = tablet
        .api()
        .link_response(&created.rendezvous_id)
        .await
        .unwrap()
        .expect("answered");
    assert!(
        tablet
            .api()
            .link_response(&created.rendezvous_id)
            .await
            .is_err(),
        "the answer is handed out once"
    );
    tablet.e2ee().link_complete(&response, now_ms()).unwrap();
    // A replayed answer (either of the two) opens nothing: the one-time key is gone.
    for replay in [&r1, &r2] {
        let err = tablet.e2ee().link_complete(replay, now_ms()).unwrap_err();
        assert!(matches!(err, ting_e2ee::Error::Link { .. }), "{err}");
    }
    // An answer meant for the tablet does not open on another new device.
    let mut other = login(&server, tmp.path(), "alice", "other").await;
    let other_id = other.device_id().unwrap().to_string();
    let req = other
        .e2ee()
        .link_request(other_id.as_bytes(), now_ms(), 60_000)
        .unwrap();
    let rv = other.api().link_create(req).await.unwrap();
    other.e2ee().link_code(&rv.rendezvous_id).unwrap();
    assert!(other.e2ee().link_complete(&response, now_ms()).is_err());
    assert!(!other.is_certified());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recovery_key_brings_the_identity_to_a_new_device_and_nothing_else_does() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp, &["alice", "bob"]);
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let key = a1.create_recovery().await.unwrap();
    let room = b1.create_room(None).await.unwrap();
    b1.invite(room, "alice").await.unwrap();
    let alices = b1.e2ee().pin("alice").unwrap().identity_key.clone();
    b1.e2ee().mark_verified("alice", &alices).unwrap();
    // alice loses her laptop (it stays on the shelf, forever offline).
    drop(a1);

    // The operator logs in as alice: its device may read the backup but cannot open it, and
    // may not replace it.
    let mut evil = operator_login(&server, tmp.path(), "alice").await;
    let backup = evil.api().recovery_backup().await.unwrap();
    assert!(!backup.is_empty());
    let err = evil
        .api()
        .put_recovery_backup(vec![1; 61])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ting_proto::ErrorCode::Forbidden), "{err}");
    let guess = "0".repeat(52);
    let err = evil.recover(&guess).await.unwrap_err();
    assert!(
        matches!(err, Error::Crypto(ting_e2ee::Error::Recovery { .. })),
        "{err}"
    );
    assert!(!evil.is_certified());

    // alice's new phone, with her recovery key: the same identity, so bob — who verified
    // her — is not warned and adds the phone like any of her devices.
    let mut phone = login(&server, tmp.path(), "alice", "phone").await;
    assert!(!phone.is_certified());
    phone.recover(&key).await.unwrap();
    assert!(phone.is_certified());
    assert_eq!(phone.e2ee().identity_key(), Some(alices.clone()));
    let added = b1.invite(room, "alice").await.unwrap();
    assert_eq!(added, vec![phone.device_id().unwrap()]);
    assert!(b1.e2ee().pin("alice").unwrap().verified, "still verified");
    b1.send_text(room, "welcome back").await.unwrap();
    phone.sync().await.unwrap();
    assert_eq!(texts(&phone, room), vec!["welcome back"]);
    // A recovered device may make a new recovery key (the old one then opens nothing).
    let new_key = phone.create_recovery().await.unwrap();
    assert_ne!(new_key.as_str(), key.as_str());
    let mut tablet = login(&server, tmp.path(), "alice", "tablet").await;
    assert!(
        tablet.recover(&key).await.is_err(),
        "the old key is replaced"
    );
    tablet.recover(&new_key).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_member_who_sees_a_revocation_removes_the_device() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp, &["alice", "bob"]);
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let mut a2 = link(&server, tmp.path(), &mut a1, "phone").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let room = b1.create_room(None).await.unwrap();
    assert_eq!(b1.invite(room, "alice").await.unwrap().len(), 2);
    a2.sync().await.unwrap();
    let phone = a2.device_id().unwrap();
    // alice publishes the revocation of her lost phone from her laptop, which is not in the
    // room: bob's device, following, removes the phone by commit.
    let (task, seen, stop) = follow_in_background(b1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let me = "alice".to_owned();
    let cert = a1.user_keys(&me).await.unwrap().devices[phone.to_string().as_bytes()].encode();
    let revocation = a1.e2ee().revoke_device(&cert, now_ms()).unwrap();
    a1.api()
        .append_key_log(ting_e2ee::ting_trust::Entry::Revocation(revocation).encode())
        .await
        .unwrap();
    wait_until("bob's device removes the revoked phone", || {
        seen_any(
            &seen,
            |e| matches!(e, Event::DevicesRevoked { removed, .. } if removed == &vec![phone]),
        )
    })
    .await;
    stop.send(()).unwrap();
    let mut b1 = task.await.unwrap();
    let alice = b1
        .members(room)
        .unwrap()
        .into_iter()
        .find(|m| m.username == "alice")
        .unwrap();
    assert_eq!(alice.devices, 1);
    b1.send_text(room, "after the revocation").await.unwrap();
    let events = a2.sync().await;
    assert!(
        events.is_err() || a2.room(room).is_some_and(|r| r.removed),
        "the revoked phone is out: {events:?}"
    );
    assert!(!texts(&a2, room).contains(&"after the revocation".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_added_by_someone_else_that_the_key_log_does_not_show_is_flagged() {
    use ting_proto::ds::{MessageKind, SendMessage};
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp, &["alice", "bob", "carol"]);
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let mut c1 = login(&server, tmp.path(), "carol", "laptop").await;
    let room = b1.create_room(None).await.unwrap();
    b1.invite(room, "carol").await.unwrap();
    c1.sync().await.unwrap();

    // alice's phone is certified by her laptop, but its certificate never reaches the key log
    // (the server dropped it): honest clients will not add it.
    let mut phone = login(&server, tmp.path(), "alice", "phone").await;
    let phone_id = phone.device_id().unwrap();
    let request = phone
        .e2ee()
        .link_request(phone_id.to_string().as_bytes(), now_ms(), 60_000)
        .unwrap();
    let rv = phone.api().link_create(request).await.unwrap();
    let code = phone.e2ee().link_code(&rv.rendezvous_id).unwrap();
    a1.link_approve(&code, Duration::ZERO).await.unwrap();
    let response = phone
        .api()
        .link_response(&rv.rendezvous_id)
        .await
        .unwrap()
        .unwrap();
    phone.e2ee().link_complete(&response, now_ms()).unwrap();
    phone.replenish_key_packages().await.unwrap();
    assert_eq!(
        b1.invite(room, "alice").await.unwrap(),
        vec![a1.device_id().unwrap()]
    );
    c1.sync().await.unwrap();

    // bob's device (or a client that does not check the log) adds the phone anyway.
    let gid = ting_e2ee::GroupId::new(room.as_bytes().to_vec()).unwrap();
    let claimed = b1
        .api()
        .claim_key_packages("alice", Some(phone_id))
        .await
        .unwrap();
    let kp = claimed.key_packages[0].key_package.clone().into_inner();
    let epoch = b1.e2ee().epoch(&gid).unwrap();
    let bundle = b1.e2ee().add_members(&gid, &[kp]).unwrap();
    let msg = SendMessage {
        id: ting_proto::MessageId::random(),
        kind: MessageKind::Commit,
        epoch,
        payload: ting_proto::Base64(bundle.commit.clone()),
        welcome: bundle.welcome.clone().map(ting_proto::Base64),
        added_devices: vec![phone_id],
        removed_devices: vec![],
    };
    b1.api().send_message(room, &msg).await.unwrap();
    b1.e2ee().merge_pending_commit(&gid, now_ms()).unwrap();
    b1.save().unwrap();

    // carol processes the commit: the phone's certificate is valid, but the log does not show
    // it, and carol says so.
    let events = c1.sync().await.unwrap();
    assert!(
        events.iter().any(|e| matches!(e,
            Event::UnloggedMember { user_id, device_id, .. }
                if user_id == "alice" && *device_id == phone_id.to_string())),
        "{events:?}"
    );
    // The phone, joining, finds itself alone in the log's silence too.
    let events = phone.sync().await.unwrap();
    assert!(
        events.iter().any(|e| matches!(e, Event::Joined { .. })),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(e,
            Event::UnloggedMember { device_id, .. } if *device_id == phone_id.to_string())),
        "{events:?}"
    );
    // Members in the log raise nothing.
    assert!(
        !events.iter().any(|e| matches!(e,
            Event::UnloggedMember { user_id, .. } if user_id == "bob" || user_id == "carol")),
        "{events:?}"
    );
}

/// An administrator — here the operator with an administrator account — resets alice's
/// password through the administration API and signs in as her. A password opens a session,
/// never keys: the new device is unlinked, nobody adds it, and it reads nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrators_password_reset_opens_a_session_but_no_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp, &["alice", "bob"]);
    server.admin_with_password(&["create-user", "root"], &["--admin"], OPERATOR_PW);
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let laptop = a1.device_id().unwrap();
    let room = a1.create_room(Some("Board")).await.unwrap();
    a1.invite(room, "bob").await.unwrap();
    b1.sync().await.unwrap();

    let http = reqwest::Client::new();
    let url = server.url();
    let login_body = serde_json::json!({
        "username": "root", "password": OPERATOR_PW, "device_name": "console",
        "signature_key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
    });
    let session: serde_json::Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&login_body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin_token = session["token"].as_str().unwrap();
    let link: serde_json::Value = http
        .post(format!("{url}/api/v1/admin/users/alice/password-reset"))
        .bearer_auth(admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = link["token"].as_str().unwrap();
    let used = http
        .post(format!("{url}/api/v1/invitations/{token}"))
        .json(&serde_json::json!({ "password": OPERATOR_PW }))
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), 201);

    let mut evil = Device::login(
        &tmp.path().join("admin-as-alice"),
        &url,
        "alice",
        OPERATOR_PW,
        "console",
        None,
    )
    .await
    .unwrap();
    assert!(!evil.is_certified(), "a reset password never yields trust");
    // bob invites alice to a new room: only her laptop, whose certificate the key log holds.
    let room2 = b1.create_room(None).await.unwrap();
    assert_eq!(b1.invite(room2, "alice").await.unwrap(), vec![laptop]);
    b1.send_text(room, "board only").await.unwrap();
    b1.send_text(room2, "alice only").await.unwrap();
    assert!(evil.api().welcomes().await.unwrap().welcomes.is_empty());
    let events = evil.sync().await.unwrap();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Joined { .. })),
        "{events:?}"
    );
    assert!(texts(&evil, room).is_empty() && texts(&evil, room2).is_empty());
    // The reset ended alice's sessions; her laptop's keys are untouched, and signing in
    // again with the new password it reads both rooms.
    assert!(a1.sync().await.is_err(), "the laptop's session ended");
    let mut a1 = Device::login(
        &tmp.path().join("alice-laptop"),
        &url,
        "alice",
        OPERATOR_PW,
        "laptop",
        None,
    )
    .await
    .unwrap();
    assert_eq!(a1.device_id().unwrap(), laptop, "the same device, resumed");
    assert!(a1.is_certified());
    a1.sync().await.unwrap();
    assert_eq!(texts(&a1, room2), vec!["alice only"]);
    assert!(texts(&a1, room).contains(&"board only".to_owned()));
}
