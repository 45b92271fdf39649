//! Runs the store conformance suite against SQLite (in memory and in a file) and PostgreSQL.
//!
//! PostgreSQL: set `TING_TEST_POSTGRES_URL` to a maintenance URL of a throwaway cluster (e.g.
//! from `eval "$(scripts/pg-test-cluster.sh start)"`); every test creates and drops its own
//! database, so tests run in parallel. Without it the PostgreSQL tests are skipped with a
//! notice, or fail if `TING_REQUIRE_POSTGRES=1` (as in CI).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use ting_store::Store;
use ting_store::conformance::Case;

/// A name no other test (in this or a concurrent process) uses.
fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn run_case(case: Case, store: &Arc<dyn Store>) {
    if let Err(error) = case.run(Arc::clone(store)).await {
        panic!("{}: store error: {error:?}", case.name());
    }
}

async fn run_sqlite_memory(case: Case) {
    let store = ting_store::open("sqlite::memory:")
        .await
        .expect("open sqlite::memory:");
    run_case(case, &store).await;
    store.close().await;
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(unique_name("ting-store-test")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn run_sqlite_file(case: Case) {
    let dir = TempDir::new();
    // The directory does not exist yet: `open` creates it.
    let url = format!("sqlite://{}/data/ting.db", dir.0.display());
    let store = ting_store::open(&url).await.expect("open sqlite file");
    run_case(case, &store).await;
    store.close().await;
}

/// The PostgreSQL maintenance URL, or `None` (after a notice) to skip.
fn postgres_base() -> Option<String> {
    match std::env::var("TING_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("TING_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!(
            "TING_REQUIRE_POSTGRES=1 but TING_TEST_POSTGRES_URL is not set; start a cluster \
             with: eval \"$(scripts/pg-test-cluster.sh start)\""
        ),
        _ => {
            // Written to the real stderr, past the test harness's capture, so it is seen.
            let _ = writeln!(
                std::io::stderr(),
                "note: skipping a PostgreSQL conformance test: TING_TEST_POSTGRES_URL is not set"
            );
            None
        }
    }
}

/// `base` with its database (path) replaced by `database`, query string kept.
fn with_database(base: &str, database: &str) -> String {
    let (head, query) = base.split_once('?').unwrap_or((base, ""));
    let authority = head.find("://").map_or(0, |i| i + 3);
    let path = head[authority..]
        .find('/')
        .map_or(head.len(), |i| authority + i);
    let mut url = format!("{}/{database}", &head[..path]);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

async fn run_postgres(case: Case) {
    let Some(base) = postgres_base() else { return };
    let database = unique_name("ting_test");
    let mut admin = PgConnection::connect(&base)
        .await
        .expect("connect to TING_TEST_POSTGRES_URL");
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .await
        .expect("create the test database");
    let store = ting_store::open(&with_database(&base, &database))
        .await
        .expect("open the test database");
    run_case(case, &store).await;
    store.close().await;
    // Only on success: a failed test leaves its database for inspection.
    admin
        .execute(AssertSqlSafe(format!(
            "DROP DATABASE {database} WITH (FORCE)"
        )))
        .await
        .expect("drop the test database");
    let _ = admin.close().await;
}

#[test]
fn database_urls() {
    assert_eq!(
        with_database("postgres://u@127.0.0.1:5432/postgres", "t1"),
        "postgres://u@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/postgres?sslmode=disable", "t2"),
        "postgresql://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "t3"), "postgres://h:1/t3");
}

/// One test per case and backend.
macro_rules! conformance {
    ($($name:ident => $case:ident,)*) => {
        mod sqlite_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::run_sqlite_memory(ting_store::conformance::Case::$case).await;
                }
            )*
        }

        mod sqlite_file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::run_sqlite_file(ting_store::conformance::Case::$case).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::run_postgres(ting_store::conformance::Case::$case).await;
                }
            )*
        }

        #[test]
        fn every_case_has_a_test() {
            let listed = [$(Case::$case),*];
            for case in Case::ALL {
                assert!(listed.contains(case), "no test for {}", case.name());
            }
            $(assert_eq!(stringify!($name), Case::$case.name());)*
        }
    };
}

conformance! {
    users_round_trip => UsersRoundTrip,
    username_conflict => UsernameConflict,
    set_password_hash => SetPasswordHash,
    first_user => FirstUser,
    first_user_concurrent => FirstUserConcurrent,
    devices_round_trip => DevicesRoundTrip,
    active_key_unique => ActiveKeyUnique,
    revoke_device => RevokeDevice,
    revoke_concurrent => RevokeConcurrent,
    revoke_races_writes => RevokeRacesWrites,
    sessions => Sessions,
    session_deletion_counts => SessionDeletionCounts,
    key_packages_add_and_count => KeyPackagesAddAndCount,
    key_packages_need_active_device => KeyPackagesNeedActiveDevice,
    last_resort_replaced => LastResortReplaced,
    claim_order => ClaimOrder,
    claim_concurrent => ClaimConcurrent,
    rooms_round_trip => RoomsRoundTrip,
    room_membership_changes => RoomMembershipChanges,
    append_gap_free => AppendGapFree,
    append_rejections => AppendRejections,
    commit_effects => CommitEffects,
    invalid_effects => InvalidEffects,
    commit_concurrent => CommitConcurrent,
    append_concurrent => AppendConcurrent,
    cursors => Cursors,
    message_retention => MessageRetention,
    blobs_round_trip => BlobsRoundTrip,
    blob_expiry => BlobExpiry,
    policies => Policies,
    audit_chain => AuditChain,
    audit_prune => AuditPrune,
    audit_concurrent => AuditConcurrent,
    subject_export => SubjectExport,
    key_log_round_trip => KeyLogRoundTrip,
    key_log_concurrent => KeyLogConcurrent,
    key_log_cosignatures => KeyLogCosignatures,
    link_round_trip => LinkRoundTrip,
    link_expiry => LinkExpiry,
    link_response_concurrent => LinkResponseConcurrent,
    server_secret => ServerSecret,
    recovery_backup => RecoveryBackup,
    user_pages => UserPages,
    deactivation_and_admins => DeactivationAndAdmins,
    invitations => Invitations,
    audit_search => AuditSearch,
    inventory_matches_schema => InventoryMatchesSchema,
    ping => Ping,
}

/// `run_all` (what another crate would call) works end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_all_on_sqlite_memory() {
    ting_store::conformance::run_all(|| ting_store::open("sqlite::memory:"))
        .await
        .expect("conformance suite");
}
