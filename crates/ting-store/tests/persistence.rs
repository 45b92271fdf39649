//! A file-backed SQLite store keeps its data across close and reopen.

use std::path::PathBuf;

use sqlx::{Connection, SqliteConnection};
use ting_proto::{DeviceId, UserId};
use ting_store::{Backend, KeyPackageClaim, NewDevice, NewUser, Session};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn sqlite_file_survives_reopen() {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "ting-store-persistence-{}-{}",
        std::process::id(),
        UserId::random()
    )));
    let file = dir.0.join("nested").join("ting.db");
    let url = format!("sqlite://{}", file.display());

    let user = UserId::random();
    let device = DeviceId::random();
    {
        let store = ting_store::open(&url).await.expect("create");
        assert_eq!(store.backend(), Backend::Sqlite);
        store
            .create_user(NewUser {
                id: user,
                username: "una".into(),
                password_hash: "$argon2id$hash".into(),
                is_admin: true,
                created_at: 1,
            })
            .await
            .unwrap();
        store
            .create_device(NewDevice {
                id: device,
                user_id: user,
                name: "laptop".into(),
                signature_key: vec![7; 32],
                created_at: 2,
            })
            .await
            .unwrap();
        store
            .add_key_packages(device, vec![vec![1], vec![2]], Some(vec![3]), 3)
            .await
            .unwrap();
        store
            .create_session(Session {
                token_hash: vec![9; 32],
                user_id: user,
                device_id: device,
                created_at: 4,
                expires_at: 100,
            })
            .await
            .unwrap();
        // Consumed before the restart: must stay consumed.
        let claimed = store.claim_key_packages(user, None).await.unwrap();
        assert_eq!(claimed[0].key_package, Some(vec![1]));
        store.close().await;
    }
    assert!(
        file.exists(),
        "the database file and its directory were created"
    );

    // WAL is a persistent property of the file.
    let mut raw = SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    raw.close().await.unwrap();

    // Reopening runs the (already applied) migrations again: a no-op.
    let store = ting_store::open(&url).await.expect("reopen");
    let una = store
        .user_by_username("una")
        .await
        .unwrap()
        .expect("user kept");
    assert_eq!(una.id, user);
    assert!(una.is_admin);
    let devices = store.devices_for_user(user, false).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].signature_key, vec![7; 32]);
    assert_eq!(
        store
            .session_by_token_hash(&[9; 32])
            .await
            .unwrap()
            .map(|s| s.device_id),
        Some(device)
    );
    assert_eq!(store.count_key_packages(device).await.unwrap(), (1, true));
    assert_eq!(
        store.claim_key_packages(user, None).await.unwrap(),
        [KeyPackageClaim {
            device_id: device,
            key_package: Some(vec![2]),
            last_resort: false,
        }]
    );
    store.close().await;
}

#[tokio::test]
async fn in_memory_stores_are_separate() {
    let a = ting_store::open("sqlite::memory:").await.unwrap();
    let b = ting_store::open("sqlite::memory:").await.unwrap();
    a.create_user(NewUser {
        id: UserId::random(),
        username: "vera".into(),
        password_hash: "h".into(),
        is_admin: false,
        created_at: 0,
    })
    .await
    .unwrap();
    assert_eq!(a.count_users().await.unwrap(), 1);
    assert_eq!(b.count_users().await.unwrap(), 0);
    a.close().await;
    b.close().await;
}
