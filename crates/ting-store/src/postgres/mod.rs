//! The PostgreSQL backend (one or several server nodes sharing a database).
//!
//! Concurrency (at the default READ COMMITTED isolation): writes that depend on a device being
//! active (KeyPackage uploads and claims, logins) lock its row `FOR KEY SHARE`, revocation
//! locks it `FOR UPDATE`, so the two are serialised while `touch_device` (a plain `UPDATE`)
//! blocks neither; claims take one-time KeyPackages with `FOR UPDATE SKIP LOCKED` and delete
//! them in the same transaction, so concurrent claimers never get the same package and never
//! wait for each other; `create_first_user` takes a table lock. Appending to a room's log locks
//! the room's row `FOR NO KEY UPDATE`, serialising appends per room (see `append.rs`); room
//! creation and blob creation lock the device or room they reference `FOR KEY SHARE`.

mod accounts;
mod append;
mod blobs;
mod devices;
mod governance;
mod key_packages;
mod messages;
mod rooms;
mod sessions;
mod trust;
mod users;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::rows::db;
use crate::snapshot::{self, Snapshot};
use crate::{Backend, Error, Result, Store, migrations};

/// Connections per server process.
const MAX_CONNECTIONS: u32 = 10;

/// How long a query waits for a free connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Store`] on PostgreSQL.
pub(crate) struct PgStore {
    pool: PgPool,
    /// The URL it was opened with (for `pg_dump`, which connects by itself).
    url: String,
}

impl PgStore {
    /// Connects to and migrates the database at `url`.
    pub(crate) async fn open(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| Error::UnsupportedUrl("invalid postgres url".into()))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(db)?;
        // Takes an advisory lock, so several nodes starting at once migrate only once.
        migrations::postgres()
            .run(&pool)
            .await
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.to_owned(),
        })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns
             WHERE table_schema = current_schema() ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(db)
    }

    async fn snapshot(&self, dir: &std::path::Path) -> Result<Snapshot> {
        let file = snapshot::target(dir, Backend::Postgres);
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let blobs = snapshot::rows(
            sqlx::query_as("SELECT id, received FROM blobs ORDER BY id")
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?,
        )?;
        let schema_version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        // The snapshot lives as long as the transaction: dump while holding it open.
        let out = tokio::process::Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--no-owner")
            .arg(format!("--snapshot={id}"))
            .arg(format!("--file={}", file.display()))
            .arg(format!("--dbname={}", self.url))
            .output()
            .await
            .map_err(|e| Error::Database(format!("running pg_dump: {e}")))?;
        tx.rollback().await.map_err(db)?;
        if !out.status.success() {
            return Err(Error::Database(format!(
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(Snapshot {
            file,
            blobs,
            schema_version,
        })
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
