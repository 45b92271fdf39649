//! Consistent copies of the database for backups, taken while the server runs.
//!
//! SQLite: `VACUUM INTO` writes a transaction-consistent copy of the whole database to a new
//! file. PostgreSQL: a read-only repeatable-read transaction exports its snapshot, the blob
//! list is read in it, and `pg_dump --snapshot` dumps exactly that state (custom format, for
//! `pg_restore`). Either way the blob list belongs to the same instant as the copy, so a
//! backup pairs every blob row with the bytes it had then.

use std::path::{Path, PathBuf};

use ting_proto::BlobId;

/// What [`crate::Store::snapshot`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The database copy (`ting.db` for SQLite, `ting.pgdump` for PostgreSQL).
    pub file: PathBuf,
    /// Every blob row at that instant and the bytes it had received.
    pub blobs: Vec<(BlobId, u64)>,
    /// The newest migration applied to the copied database.
    pub schema_version: i64,
}

/// The file name of a database copy.
pub fn file_name(backend: crate::Backend) -> &'static str {
    match backend {
        crate::Backend::Sqlite => "ting.db",
        crate::Backend::Postgres => "ting.pgdump",
    }
}

pub(crate) fn rows(rows: Vec<(String, i64)>) -> crate::Result<Vec<(BlobId, u64)>> {
    rows.into_iter()
        .map(|(id, received)| {
            let id = id
                .parse()
                .map_err(|_| crate::Error::Corrupt(format!("blob id {id}")))?;
            Ok((id, crate::rows::unsigned(received, "blob received")?))
        })
        .collect()
}

pub(crate) fn target(dir: &Path, backend: crate::Backend) -> PathBuf {
    dir.join(file_name(backend))
}
