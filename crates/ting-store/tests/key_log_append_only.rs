//! The key log is append-only in the database itself: changing or deleting a record directly
//! in SQLite (as someone with database access would) is refused by the schema's triggers.

use sqlx::{Connection, SqliteConnection};
use ting_proto::{DeviceId, UserId};
use ting_store::{KeyLogKind, NewDevice, NewUser};

#[tokio::test]
async fn records_cannot_be_changed_or_deleted() {
    let dir = std::env::temp_dir().join(format!(
        "ting-key-log-{}-{}",
        std::process::id(),
        UserId::random()
    ));
    let url = format!("sqlite://{}/ting.db", dir.display());
    let store = ting_store::open(&url).await.expect("open");
    let user = UserId::random();
    store
        .create_user(NewUser {
            id: user,
            username: "mo".into(),
            password_hash: "$argon2id$hash".into(),
            is_admin: false,
            created_at: 1,
        })
        .await
        .unwrap();
    store
        .create_device(NewDevice {
            id: DeviceId::random(),
            user_id: user,
            name: "phone".into(),
            signature_key: vec![1; 32],
            created_at: 1,
        })
        .await
        .unwrap();
    store
        .append_key_log(user, KeyLogKind::Identity, None, b"genesis", 2)
        .await
        .unwrap();
    let mut c = SqliteConnection::connect(&url).await.expect("connect");
    for sql in [
        "UPDATE key_log SET record = x'00' WHERE idx = 0",
        "DELETE FROM key_log WHERE idx = 0",
    ] {
        let err = sqlx::query(sql).execute(&mut c).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    c.close().await.unwrap();
    let records = store.key_log_range(0, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].record, b"genesis");
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
