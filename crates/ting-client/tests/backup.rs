//! `ting backup` while people chat and `ting restore` on a second server: everything
//! acknowledged before the backup started is there and decrypts for the clients; the backup
//! holds only ciphertext; damaged backups and non-empty targets are refused.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use support::{Server, login, texts, ting_cmd};
use ting_client::local::HistoryItem;

const CANARY: &str = "CANARY-7f3a-backup-plaintext";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_chat_restores_everything_acknowledged_before_it() {
    backup_during_chat(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_during_chat_restores_into_an_empty_database() {
    let Ok(base) = std::env::var("TING_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TING_REQUIRE_POSTGRES").is_err(),
            "TING_REQUIRE_POSTGRES is set but TING_TEST_POSTGRES_URL is not"
        );
        eprintln!("skipping: TING_TEST_POSTGRES_URL is not set");
        return;
    };
    let mut urls = Vec::new();
    for role in ["source", "target"] {
        let db = format!("ting_backup_{role}_{}", std::process::id());
        let st = std::process::Command::new("psql")
            .arg(&base)
            .args(["-q", "-c", &format!("CREATE DATABASE {db}")])
            .status()
            .unwrap();
        assert!(st.success());
        urls.push(format!("{}/{db}", base.rsplit_once('/').unwrap().0));
    }
    backup_during_chat(Some((&urls[0], &urls[1]))).await;
}

/// Chat, back up while chatting, restore on a second server (SQLite, or from one PostgreSQL
/// database into another), and read everything from the first server on the second.
async fn backup_during_chat(postgres: Option<(&str, &str)>) {
    let (source, target) = match postgres {
        Some((s, t)) => (Some(s), Some(t)),
        None => (None, None),
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("data"), 0, source);
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let mut b = login(&server, tmp.path(), "bob", "laptop").await;
    let room = a.create_room(Some(CANARY)).await.unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();

    // Acknowledged before the backup: 30 messages and a file, none yet fetched by bob.
    let src = tmp.path().join(format!("{CANARY}.txt"));
    let content: Vec<u8> = format!("{CANARY} in a file\n").repeat(20_000).into_bytes();
    std::fs::write(&src, &content).unwrap();
    a.send_file(room, &src, "text/plain", |_, _| {})
        .await
        .unwrap();
    let before: Vec<String> = (0..30).map(|i| format!("{CANARY} before {i}")).collect();
    for t in &before {
        a.send_text(room, t).await.unwrap();
    }

    // alice keeps chatting while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let chatter = tokio::spawn(async move {
        let mut sent = 0;
        while !flag.load(Ordering::Relaxed) {
            a.send_text(room, &format!("{CANARY} during {sent}"))
                .await
                .unwrap();
            sent += 1;
        }
        (a, sent)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let backup = tmp.path().join("ting-backup.tar");
    let out = backup.to_str().unwrap().to_owned();
    let source_url = source.map(str::to_owned);
    let (ok, stdout, stderr) = tokio::task::spawn_blocking({
        let data = server.data.clone();
        move || ting_cmd(&data, source_url.as_deref(), &["backup", "--out", &out])
    })
    .await
    .unwrap();
    assert!(ok, "backup failed: {stderr}");
    assert!(stdout.contains("1 blob(s)"), "{stdout}");
    stop.store(true, Ordering::Relaxed);
    let (_a, during) = chatter.await.unwrap();
    assert!(during > 0, "messages were sent while the backup ran");

    // The backup holds ciphertext only: no message, room name, file name or file content.
    let bytes = std::fs::read(&backup).unwrap();
    assert!(
        !contains(&bytes, CANARY.as_bytes()),
        "plaintext in the backup"
    );

    // A second server from the backup, on the first one's address.
    let port = server.port;
    server.kill9();
    let restored = tmp.path().join("restored");
    let from = backup.to_str().unwrap();
    let (ok, stdout, stderr) = ting_cmd(&restored, target, &["restore", "--from", from]);
    assert!(ok, "restore failed: {stderr}");
    assert!(stdout.contains("audit chain verified"), "{stdout}");
    let (ok, stdout, stderr) = ting_cmd(&restored, target, &["audit", "verify"]);
    assert!(ok && stdout.contains("ok:"), "{stdout}{stderr}");
    let (ok, _, stderr) = ting_cmd(&restored, target, &["restore", "--from", from]);
    assert!(!ok, "a second restore over the first is refused");
    let expected = if target.is_some() {
        "restore into an empty database"
    } else {
        "restore into an empty data directory"
    };
    assert!(stderr.contains(expected), "{stderr}");
    let _second = Server::start(&restored, port, target);

    b.sync().await.unwrap();
    let got = texts(&b, room);
    assert_eq!(
        got[..before.len()],
        before[..],
        "every message acknowledged before the backup, in order"
    );
    for (i, t) in got[before.len()..].iter().enumerate() {
        assert_eq!(
            *t,
            format!("{CANARY} during {i}"),
            "then a prefix of the rest"
        );
    }
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
    let out = tmp.path().join("restored-file.txt");
    b.download_file(&file, &out, |_, _| {}).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), content, "the file decrypts");
    assert_eq!(b.room(room).unwrap().name.as_deref(), Some(CANARY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_foreign_backup_is_refused_and_nothing_is_placed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    server.create_user("alice");
    let mut a = login(&server, tmp.path(), "alice", "laptop").await;
    let room = a.create_room(None).await.unwrap();
    let src = tmp.path().join("f.bin");
    std::fs::write(&src, vec![7u8; 300_000]).unwrap();
    a.send_file(room, &src, "application/octet-stream", |_, _| {})
        .await
        .unwrap();
    let backup = tmp.path().join("b.tar");
    let (ok, _, stderr) = server.ting(&["backup", "--out", backup.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    // One flipped byte in the middle (inside the blob) is caught by the manifest.
    let mut bytes = std::fs::read(&backup).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    let damaged = tmp.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();
    let target = tmp.path().join("target");
    let (ok, _, stderr) = ting_cmd(
        &target,
        None,
        &["restore", "--from", damaged.to_str().unwrap()],
    );
    assert!(!ok && stderr.contains("do not match"), "{stderr}");
    assert!(!target.join("ting.db").exists(), "nothing placed");
    // A truncated file has no manifest.
    let cut = tmp.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..mid]).unwrap();
    let (ok, _, stderr) = ting_cmd(&target, None, &["restore", "--from", cut.to_str().unwrap()]);
    assert!(!ok, "{stderr}");
    assert!(!target.join("ting.db").exists(), "nothing placed");
    // The intact one restores.
    let (ok, _, stderr) = ting_cmd(
        &target,
        None,
        &["restore", "--from", backup.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
}
