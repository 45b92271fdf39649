//! The embedded SQLite backend (the single-machine default).
//!
//! Concurrency: every multi-statement write runs in a `BEGIN IMMEDIATE` transaction, which takes
//! SQLite's single write lock up front (waiting up to the busy timeout), so writers are
//! serialised and a deferred transaction can never fail halfway when upgrading its read
//! snapshot. Readers run in parallel thanks to WAL. Single-statement writes take the write lock
//! at their start, so they are atomic on their own. Appending to a room's log is such a
//! transaction (see `append.rs`), so appends are serialised (across all rooms: SQLite has one
//! writer).

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
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Sqlite, Transaction};
use tokio::sync::Mutex;

use crate::rows::db;
use crate::snapshot::{self, Snapshot};
use crate::{Backend, Error, Result, Store, migrations};

/// How long a connection waits for another one's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections to a database file: WAL lets readers run beside the one writer.
const FILE_CONNECTIONS: u32 = 4;

/// A [`Store`] on SQLite.
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    /// For `sqlite::memory:` only: a connection that is never used but keeps the (shared-cache)
    /// in-memory database alive even if the pool replaces its connection.
    keepalive: Mutex<Option<SqliteConnection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub(crate) async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|_| Error::UnsupportedUrl("invalid sqlite url".into()))?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let (pool, keepalive) = if is_memory(url) {
            // Every connection of an in-memory database sees the same data only through the
            // shared cache, whose table locks SQLite does not wait on: use one connection.
            let keepalive = options.connect().await.map_err(db)?;
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(db)?;
            (pool, Some(keepalive))
        } else {
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full);
            create_parent_dir(options.get_filename())?;
            let pool = SqlitePoolOptions::new()
                .max_connections(FILE_CONNECTIONS)
                .connect_with(options)
                .await
                .map_err(db)?;
            (pool, None)
        };
        migrations::sqlite()
            .run(&pool)
            .await
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(Self {
            pool,
            keepalive: Mutex::new(keepalive),
        })
    }

    /// A write transaction holding the database's write lock from its start.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}

/// Whether a `sqlite:` URL names an in-memory database (`sqlite::memory:`,
/// `sqlite://:memory:`, or `mode=memory`).
fn is_memory(url: &str) -> bool {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    path == ":memory:" || query.split('&').any(|pair| pair == "mode=memory")
}

fn create_parent_dir(file: &std::path::Path) -> Result<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| Error::Database(format!("creating the database directory: {e}"))),
        _ => Ok(()),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2",
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
        let file = snapshot::target(dir, Backend::Sqlite);
        let path = file
            .to_str()
            .ok_or_else(|| Error::Database("the backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO ?1")
            .bind(path)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        let mut copy = SqliteConnectOptions::new()
            .filename(&file)
            .read_only(true)
            .connect()
            .await
            .map_err(db)?;
        let blobs = snapshot::rows(
            sqlx::query_as("SELECT id, received FROM blobs ORDER BY id")
                .fetch_all(&mut copy)
                .await
                .map_err(db)?,
        )?;
        let schema_version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&mut copy)
            .await
            .map_err(db)?;
        copy.close().await.map_err(db)?;
        Ok(Snapshot {
            file,
            blobs,
            schema_version,
        })
    }

    async fn close(&self) {
        self.pool.close().await;
        if let Some(connection) = self.keepalive.lock().await.take() {
            // The database is going away; a failure to close cleanly changes nothing.
            let _ = connection.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_memory;

    #[test]
    fn memory_urls() {
        assert!(is_memory("sqlite::memory:"));
        assert!(is_memory("sqlite://:memory:"));
        assert!(is_memory("sqlite://ting?mode=memory"));
        assert!(!is_memory("sqlite://ting.db"));
        assert!(!is_memory("sqlite:///var/lib/ting/ting.db?mode=rwc"));
    }
}
