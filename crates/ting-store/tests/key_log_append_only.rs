//! The key log is append-only in the database itself: changing or deleting a record directly
//! (as someone with database access would) is refused by the schema's triggers, on SQLite and
//! on PostgreSQL (when `TING_TEST_POSTGRES_URL` is set; see tests/conformance.rs).

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, SqliteConnection};
use ting_proto::{DeviceId, UserId};
use ting_store::{KeyLogKind, NewDevice, NewUser, Store};

/// A user, a device and one key log record.
async fn one_record(store: &dyn Store) {
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
}

#[tokio::test]
async fn records_cannot_be_changed_or_deleted() {
    let dir = std::env::temp_dir().join(format!(
        "ting-key-log-{}-{}",
        std::process::id(),
        UserId::random()
    ));
    let url = format!("sqlite://{}/ting.db", dir.display());
    let store = ting_store::open(&url).await.expect("open");
    one_record(&*store).await;
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

#[tokio::test]
async fn postgres_records_cannot_be_changed_deleted_or_truncated() {
    let base = match std::env::var("TING_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert_ne!(
                std::env::var("TING_REQUIRE_POSTGRES").as_deref(),
                Ok("1"),
                "TING_REQUIRE_POSTGRES=1 but TING_TEST_POSTGRES_URL is not set"
            );
            return;
        }
    };
    let database = format!("ting_key_log_{}", std::process::id());
    let mut admin = PgConnection::connect(&base).await.expect("connect");
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .await
        .expect("create the test database");
    let (head, query) = base.split_once('?').unwrap_or((&base, ""));
    let authority = head.find("://").map_or(0, |i| i + 3);
    let path = head[authority..]
        .find('/')
        .map_or(head.len(), |i| authority + i);
    let mut url = format!("{}/{database}", &head[..path]);
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    let store = ting_store::open(&url).await.expect("open");
    one_record(&*store).await;
    let mut c = PgConnection::connect(&url).await.expect("connect");
    for sql in [
        "UPDATE key_log SET record = '\\x00' WHERE idx = 0",
        "DELETE FROM key_log WHERE idx = 0",
        "TRUNCATE key_log",
    ] {
        let err = sqlx::query(sql).execute(&mut c).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    c.close().await.unwrap();
    assert_eq!(
        store.key_log_range(0, 10).await.unwrap()[0].record,
        b"genesis"
    );
    store.close().await;
    admin
        .execute(AssertSqlSafe(format!(
            "DROP DATABASE {database} WITH (FORCE)"
        )))
        .await
        .expect("drop the test database");
}
