//! The operator shows clients another key log than the one they saw: it restores an old
//! database to hide a revocation (a rollback), grows a different history from there (a fork),
//! or serves checkpoints no witness cosigned. Clients refuse, against real servers.

mod support;

use std::path::Path;

use support::{PW, Server, link, login};
use ting_client::local::KeyLogTrust;
use ting_client::witness::{KeyLogApi, open_witness, run_round};
use ting_client::{Device, Event};
use ting_e2ee::ting_trust::WitnessSigner;

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The SQLite database files of a stopped server.
fn db_files(data: &Path) -> Vec<std::path::PathBuf> {
    ["ting.db", "ting.db-wal", "ting.db-shm"]
        .iter()
        .map(|f| data.join(f))
        .collect()
}

fn copy_db(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for (src, dst) in db_files(from).into_iter().zip(db_files(to)) {
        let _ = std::fs::remove_file(&dst);
        if src.exists() {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_database_cannot_hide_a_revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, 0, None);
    for u in ["alice", "bob", "carol"] {
        server.create_user(u);
    }
    let mut a1 = login(&server, tmp.path(), "alice", "laptop").await;
    let a2 = link(&server, tmp.path(), &mut a1, "phone").await;
    let phone = a2.device_id().unwrap();
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    assert_eq!(b1.user_keys("alice").await.unwrap().devices.len(), 2);

    // The operator keeps a copy of the database ...
    server.kill9();
    let backup = tmp.path().join("backup");
    copy_db(&data, &backup);
    server.restart();

    // ... alice loses her phone and revokes it; bob's device sees the revocation ...
    a1.revoke_own_device(phone).await.unwrap();
    let keys = b1.user_keys("alice").await.unwrap();
    assert_eq!(keys.devices.len(), 1);
    assert_eq!(keys.revoked.len(), 1);

    // ... and the operator restores the old database, where the phone is still valid.
    server.kill9();
    copy_db(&backup, &data);
    server.restart();
    let err = b1.user_keys("alice").await.unwrap_err();
    assert!(err.to_string().contains("rollback"), "{err}");

    // It grows another history from there (carol's first device): a fork.
    let _c1 = login(&server, tmp.path(), "carol", "laptop").await;
    let err = b1.user_keys("alice").await.unwrap_err();
    assert!(err.to_string().contains("fork"), "{err}");
    // Nothing bob's device does with alice's keys goes through meanwhile.
    let room = b1.create_room(None).await.unwrap();
    assert!(b1.invite(room, "alice").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_requiring_a_witness_refuse_checkpoints_it_did_not_cosign() {
    let tmp = tempfile::tempdir().unwrap();
    let signer = || WitnessSigner::new("customer-witness", &[42; 32]).unwrap();
    let vkey = signer().verifier_key();
    let env = [("TING_KEYLOG_WITNESSES", vkey.as_str())];
    let server = Server::start_with_env(&tmp.path().join("data"), 0, None, &env);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let _b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let api = KeyLogApi::new(&server.url(), None).unwrap();
    let info: serde_json::Value = reqwest::get(format!("{}/api/v1/keylog/key", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log_key = info["verifier_key"].as_str().unwrap().to_owned();
    // The organisation gives alice's device the log key and its witness, out of band.
    let trust = KeyLogTrust::pinned(Some(log_key.clone()), vec![vkey.clone()], 1);
    let dir = tmp.path().join("alice-laptop");
    let url = server.url();
    let login_alice =
        || Device::login_with_trust(&dir, &url, "alice", PW, "laptop", None, Some(trust.clone()));
    // No witness has cosigned yet: the device refuses to trust the log, and creates nothing.
    let err = login_alice().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("0 valid witness cosignature(s), 1 required"),
        "{err}"
    );
    // The customer's witness checks the log and cosigns; now the device accepts it.
    let state = tmp.path().join("witness.state");
    let mut witness = open_witness(&state, signer(), Some(&log_key)).unwrap();
    run_round(&api, &mut witness, &state, now_unix())
        .await
        .unwrap();
    let mut a1 = login_alice().await.unwrap();
    assert!(a1.is_certified());
    // alice's own records made the log grow past what the witness saw: refused again until
    // it cosigns the new size.
    let err = a1.user_keys("bob").await.unwrap_err();
    assert!(err.to_string().contains("witness"), "{err}");
    run_round(&api, &mut witness, &state, now_unix())
        .await
        .unwrap();
    assert_eq!(a1.user_keys("bob").await.unwrap().devices.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_shown_different_logs_notice_it_from_each_others_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, 0, None);
    for u in ["bob", "carol", "dave", "erin"] {
        server.create_user(u);
    }
    let mut b1 = login(&server, tmp.path(), "bob", "laptop").await;
    let mut c1 = login(&server, tmp.path(), "carol", "laptop").await;
    let room = b1.create_room(None).await.unwrap();
    b1.invite(room, "carol").await.unwrap();
    c1.sync().await.unwrap();
    // Same view: messages carry the same position and nothing is reported.
    b1.send_text(room, "same log").await.unwrap();
    let events = c1.sync().await.unwrap();
    assert!(
        !events.iter().any(|e| matches!(e, Event::SplitView { .. })),
        "{events:?}"
    );

    // The operator keeps a copy of the database; dave joins; bob's device sees the log grow.
    server.kill9();
    let backup = tmp.path().join("backup");
    copy_db(&data, &backup);
    server.restart();
    let _d1 = login(&server, tmp.path(), "dave", "laptop").await;
    b1.user_keys("dave").await.unwrap();
    // The operator restores the copy and grows another history of the same length (erin
    // instead of dave), which carol's device — that never saw dave — accepts.
    server.kill9();
    copy_db(&backup, &data);
    server.restart();
    let _e1 = login(&server, tmp.path(), "erin", "laptop").await;
    c1.user_keys("erin").await.unwrap();

    // Each one's next message shows the other that their logs differ.
    c1.send_text(room, "from the forked view").await.unwrap();
    let events = b1.sync().await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SplitView { sender, .. } if sender == "carol")),
        "{events:?}"
    );
    b1.send_text(room, "from the honest view").await.unwrap();
    let events = c1.sync().await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SplitView { sender, .. } if sender == "bob")),
        "{events:?}"
    );
}
