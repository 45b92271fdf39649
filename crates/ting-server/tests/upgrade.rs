//! Upgrades keep every byte: databases written by the server at schema version 5 (fixtures made
//! by that version, `fixtures/make-schema5.sh`) open under this version on both backends, with
//! every account, device, message, blob row, key log record, policy revision and audit record
//! intact and the audit chain still verifying; a migration that fails is rolled back and the
//! server refuses to start, saying why.

mod common;

use std::process::Command;

use axum::http::StatusCode;
use common::{Harness, login_body, test_config};
use ting_store::{Store, UserQuery, verify_audit};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema5.sqlite");
const FIXTURE_PG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema5.pgsql");

/// Everything the fixture's story wrote, read back through this version's store.
async fn check_story(store: &dyn Store) {
    let alice = store
        .user_by_username("alice")
        .await
        .unwrap()
        .expect("alice");
    let bob = store.user_by_username("bob").await.unwrap().expect("bob");
    assert!(alice.is_admin && !bob.is_admin);
    assert_eq!(alice.deactivated_at, None, "the new column starts empty");
    let (page, total) = store
        .user_page(&UserQuery {
            search: None,
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert!(page.iter().all(|s| s.active_devices == 1));
    let device = store.devices_for_user(alice.id, false).await.unwrap()[0].clone();
    let rooms = store.rooms_for_device(device.id).await.unwrap();
    assert_eq!(rooms.len(), 1, "alice's room");
    let room = rooms[0].0.id;
    let messages = store.messages_after(room, device.id, 0, 100).await.unwrap();
    // Commits (creation, invitation) and application messages (3 texts, the file, bob's text).
    assert!(messages.len() >= 6, "{} messages", messages.len());
    assert!(
        messages.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "gap-free"
    );
    let blobs = store.blobs_uploaded_by(alice.id).await.unwrap();
    assert_eq!(blobs.len(), 1);
    assert!(blobs[0].complete);
    let log = store.key_log_range(0, 100).await.unwrap();
    assert!(
        log.len() >= 4,
        "two identities and two certificates: {}",
        log.len()
    );
    assert_eq!(store.policy_history().await.unwrap().len(), 1);
    let report = verify_audit(store)
        .await
        .unwrap()
        .expect("the audit chain verifies");
    assert!(report.checked >= 5);
}

#[tokio::test]
async fn a_schema_5_sqlite_database_upgrades_with_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(FIXTURE, dir.path().join("ting.db")).unwrap();
    let url = format!("sqlite://{}", dir.path().join("ting.db").display());
    let store = ting_store::open(&url).await.unwrap();
    check_story(store.as_ref()).await;
    store.close().await;
    // And the server runs on it: alice signs in with her password from before.
    let mut config = test_config();
    config.server.data_dir = dir.path().to_path_buf();
    let h = Harness::on_data_dir(config).await;
    let r = h
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(login_body("alice", "fixture password alice", [9; 32])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn a_schema_5_postgres_database_upgrades_with_everything_in_it() {
    let Ok(base) = std::env::var("TING_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TING_REQUIRE_POSTGRES").is_err(),
            "TING_REQUIRE_POSTGRES is set but TING_TEST_POSTGRES_URL is not"
        );
        eprintln!("skipping: TING_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = format!("ting_upgrade_{}", std::process::id());
    let psql = |url: &str, args: &[&str]| {
        let st = Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", url])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "psql {args:?}");
    };
    psql(&base, &["-c", &format!("CREATE DATABASE {db}")]);
    let url = format!("{}/{db}", base.rsplit_once('/').unwrap().0);
    psql(&url, &["-f", FIXTURE_PG]);
    let store = ting_store::open(&url).await.unwrap();
    check_story(store.as_ref()).await;
    store.close().await;
}

#[tokio::test]
async fn a_failed_migration_is_rolled_back_and_the_server_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ting.db");
    std::fs::copy(FIXTURE, &db).unwrap();
    // Something in the way of migration 6: a table it means to create.
    let st = Command::new("sqlite3")
        .arg(&db)
        .arg("CREATE TABLE invitations (x INTEGER);")
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new(env!("CARGO_BIN_EXE_ting"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("TING_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server must not start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("migration"), "{stderr}");
    // Nothing half-written: the users table did not get its new column, version 6 is not
    // recorded, and opening again fails the same way.
    let columns = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT name FROM pragma_table_info('users'); SELECT MAX(version) FROM _sqlx_migrations;")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&columns.stdout);
    assert!(!text.contains("deactivated_at"), "{text}");
    assert!(text.trim_end().ends_with('5'), "{text}");
    let url = format!("sqlite://{}", db.display());
    assert!(matches!(
        ting_store::open(&url).await,
        Err(ting_store::Error::Migration(_))
    ));
}
