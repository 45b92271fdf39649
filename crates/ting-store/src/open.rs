//! Opening a store from a database URL.

use std::sync::Arc;

use crate::{Error, Result, Store};

/// Which database a [`Store`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Embedded SQLite (one machine).
    Sqlite,
    /// PostgreSQL (one or several server nodes).
    Postgres,
}

impl Backend {
    /// `"sqlite"` or `"postgres"` (for logs and metrics).
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens the store at `url`, applies pending migrations and returns it.
///
/// - `sqlite://path/to/ting.db` (relative to the working directory) or `sqlite:///abs/ting.db`:
///   a file, created with its parent directory if missing. WAL journal, foreign keys on, a
///   10 s busy timeout and `synchronous=FULL` (a committed claim of a one-time KeyPackage must
///   survive a power cut, or the package could be handed out twice).
/// - `sqlite::memory:`: a private in-memory database (tests), gone when the store closes.
/// - `postgres://…` or `postgresql://…`: a PostgreSQL database (no TLS: use a unix socket,
///   loopback, or a private network).
///
/// Any other scheme is [`Error::UnsupportedUrl`]. Error messages never contain the URL, which
/// may hold a password.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    match scheme(url) {
        Some("sqlite") => Ok(Arc::new(crate::sqlite::SqliteStore::open(url).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(crate::postgres::PgStore::open(url).await?)),
        Some(other) => Err(Error::UnsupportedUrl(format!("scheme {other:?}"))),
        None => Err(Error::UnsupportedUrl("no scheme".into())),
    }
}

/// Whether the PostgreSQL database at `url` has no tables yet (a restore target), without
/// migrating it.
pub async fn postgres_is_empty(url: &str) -> Result<bool> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .map_err(crate::rows::db)?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(crate::rows::db)?;
    conn.close().await.map_err(crate::rows::db)?;
    Ok(tables == 0)
}

/// The URL's scheme (before the first `:`), if it looks like one.
fn scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::{Backend, open, scheme};
    use crate::Error;

    #[test]
    fn schemes() {
        assert_eq!(scheme("sqlite::memory:"), Some("sqlite"));
        assert_eq!(scheme("postgres://u:p@h/db"), Some("postgres"));
        assert_eq!(scheme("mysql://h/db"), Some("mysql"));
        assert_eq!(scheme("/var/lib/ting.db"), None);
        assert_eq!(scheme("a b:c"), None);
        assert_eq!(Backend::Sqlite.as_str(), "sqlite");
        assert_eq!(Backend::Postgres.as_str(), "postgres");
    }

    #[tokio::test]
    async fn unknown_schemes_are_rejected_without_echoing_the_url() {
        for url in ["mysql://root:secret@h/db", "ting.db", ""] {
            match open(url).await {
                Err(Error::UnsupportedUrl(message)) => assert!(!message.contains("secret")),
                Err(other) => panic!("{url}: unexpected error {other}"),
                Ok(_) => panic!("{url}: accepted"),
            }
        }
    }
}
