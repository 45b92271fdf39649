//! R25: the audit chain detects a changed byte, a deleted record and reordered records, made
//! directly in the database (as an attacker with database access would).

use sqlx::{Connection, SqliteConnection};
use ting_store::{NewAuditRecord, verify_audit};

async fn chain_of_five() -> (
    tempfile_dir::Dir,
    String,
    std::sync::Arc<dyn ting_store::Store>,
) {
    let dir = tempfile_dir::Dir::new();
    let url = format!("sqlite://{}/ting.db", dir.0.display());
    let store = ting_store::open(&url).await.expect("open");
    for i in 0..5 {
        store
            .append_audit(NewAuditRecord {
                at: 1_700_000_000 + i,
                event: "login_succeeded".into(),
                actor_user: Some(format!("user-{i}")),
                details: format!("{{\"i\":{i}}}"),
                ..Default::default()
            })
            .await
            .expect("append");
    }
    assert_eq!(verify_audit(&*store).await.unwrap().unwrap().checked, 5);
    (dir, url, store)
}

async fn tamper(url: &str, sql: &str) {
    let mut c = SqliteConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut c)
        .await
        .expect("tamper");
    c.close().await.expect("close");
}

#[tokio::test]
async fn one_changed_byte_is_named() {
    let (_dir, url, store) = chain_of_five().await;
    tamper(
        &url,
        "UPDATE audit_log SET details = '{\"i\":7}' WHERE seq = 3",
    )
    .await;
    let broken = verify_audit(&*store).await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3, "{broken}");
}

#[tokio::test]
async fn a_deleted_middle_record_is_found() {
    let (_dir, url, store) = chain_of_five().await;
    tamper(&url, "DELETE FROM audit_log WHERE seq = 2").await;
    let broken = verify_audit(&*store).await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3, "{broken}");
}

#[tokio::test]
async fn reordered_records_are_found() {
    let (_dir, url, store) = chain_of_five().await;
    tamper(
        &url,
        "UPDATE audit_log SET seq = 100 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = 100;",
    )
    .await;
    let broken = verify_audit(&*store).await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 2, "{broken}");
}

#[tokio::test]
async fn an_inserted_record_is_found() {
    let (_dir, url, store) = chain_of_five().await;
    tamper(
        &url,
        "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3;
         UPDATE audit_log SET seq = seq - 99 WHERE seq >= 100;
         INSERT INTO audit_log (seq, at, event, details, hash)
         VALUES (3, 1700000002, 'login_succeeded', '{}', x'00');",
    )
    .await;
    let broken = verify_audit(&*store).await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3, "{broken}");
}

/// A temporary directory, removed on drop.
mod tempfile_dir {
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);
    impl Dir {
        pub(crate) fn new() -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            Self(std::env::temp_dir().join(format!(
                "ting-audit-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            )))
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
