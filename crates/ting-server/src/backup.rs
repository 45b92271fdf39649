//! `ting backup --out FILE` and `ting restore --from FILE`.
//!
//! A backup is one tar file: the database copy (SQLite `VACUUM INTO`, or a `pg_dump` of an
//! exported snapshot — taken while the server runs, see `ting_store::snapshot`), every blob
//! as it stood at that instant (a blob still uploading is cut at the bytes the copy says were
//! received, so the upload resumes where the copy expects it), and `MANIFEST.json` last, with
//! the SHA-256 and size of every other entry. Everything in it is what the server stores:
//! ciphertext and metadata, never a key that opens the content.
//!
//! A restore goes into an empty data directory (and, for PostgreSQL, an empty database),
//! checks every entry against the manifest before anything is put in place, migrates the
//! database to this version's schema and verifies the audit chain.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ting_store::Backend;

use crate::config::Config;

/// The backup format this build writes and reads.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "MANIFEST.json";

/// One file in the backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the tar file.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 (hex).
    pub sha256: String,
}

/// `MANIFEST.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The server version that wrote it.
    pub ting_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Newest migration in the copied database.
    pub schema_version: i64,
    /// Unix seconds when the copy was taken.
    pub created_at: i64,
    /// The database copy.
    pub database: FileEntry,
    /// Blobs, by id.
    pub blobs: Vec<FileEntry>,
    /// Blobs the copy lists whose file was gone when it was read (deleted by retention in
    /// between); restored without bytes, as after their expiry.
    pub missing_blobs: Vec<String>,
}

/// What a backup or restore did.
#[derive(Clone, Debug)]
pub struct Report {
    /// Bytes in the backup file.
    pub bytes: u64,
    /// Blobs in it.
    pub blobs: usize,
    /// Seconds it took.
    pub secs: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mb = self.bytes as f64 / 1e6;
        write!(
            f,
            "{mb:.1} MB, {} blob(s) in {:.2} s ({:.1} MB/s)",
            self.blobs,
            self.secs,
            mb / self.secs.max(1e-9)
        )
    }
}

/// Reads through to `inner` while hashing and counting.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    crate::audit::hex(bytes)
}

fn header(size: u64, mtime: i64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(mtime.max(0) as u64);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Appends the first `len` bytes of `file` as `path`.
fn append(
    tar: &mut tar::Builder<File>,
    file: &Path,
    path: &str,
    len: u64,
    mtime: i64,
) -> anyhow::Result<FileEntry> {
    let f = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let available = f.metadata()?.len();
    if available < len {
        bail!(
            "{} has {available} bytes, the database says {len}",
            file.display()
        );
    }
    let mut reader = Hashing {
        inner: f.take(len),
        hash: Sha256::new(),
        bytes: 0,
    };
    let mut h = header(len, mtime);
    tar.append_data(&mut h, path, &mut reader)
        .with_context(|| format!("writing {path}"))?;
    Ok(FileEntry {
        path: path.to_owned(),
        bytes: reader.bytes,
        sha256: hex(&reader.hash.finalize()),
    })
}

/// Writes a backup of the server configured by `config` to `out` while it keeps running.
pub async fn backup(config: &Config, out: &Path, now: i64) -> anyhow::Result<Report> {
    let started = Instant::now();
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".ting-backup-")
        .tempdir_in(parent)
        .context("creating a working directory beside the output")?;
    let store = crate::admin::open_store(config).await?;
    let backend = store.backend();
    let snapshot = store.snapshot(tmp.path()).await;
    store.close().await;
    let snapshot = snapshot.context("copying the database")?;

    let partial = out.with_extension("partial");
    let file = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut tar = tar::Builder::new(file);
    let db_name = ting_store::snapshot::file_name(backend);
    let db_len = std::fs::metadata(&snapshot.file)?.len();
    let database = append(&mut tar, &snapshot.file, db_name, db_len, now)?;
    let blob_dir = config.blob_dir();
    let mut blobs = Vec::with_capacity(snapshot.blobs.len());
    let mut missing_blobs = Vec::new();
    for (id, received) in &snapshot.blobs {
        let path = blob_dir.join(id.to_string());
        if !path.exists() {
            missing_blobs.push(id.to_string());
            continue;
        }
        blobs.push(append(
            &mut tar,
            &path,
            &format!("blobs/{id}"),
            *received,
            now,
        )?);
    }
    let manifest = Manifest {
        format: FORMAT,
        ting_version: env!("CARGO_PKG_VERSION").into(),
        backend: backend.as_str().into(),
        schema_version: snapshot.schema_version,
        created_at: now,
        database,
        blobs,
        missing_blobs,
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    let mut h = header(json.len() as u64, now);
    tar.append_data(&mut h, MANIFEST, json.as_slice())?;
    let file = tar.into_inner()?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(Report {
        bytes: std::fs::metadata(out)?.len(),
        blobs: manifest.blobs.len(),
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Unpacks `from` into `dir`, returning the manifest after checking every entry against it.
fn unpack(from: &Path, dir: &Path) -> anyhow::Result<Manifest> {
    let file = File::open(from).with_context(|| format!("opening {}", from.display()))?;
    let mut archive = tar::Archive::new(file);
    let mut seen: Vec<FileEntry> = Vec::new();
    let mut manifest: Option<Manifest> = None;
    for entry in archive.entries().context("reading the backup")? {
        let mut entry = entry.context("reading the backup")?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if path == MANIFEST {
            let mut text = Vec::new();
            entry.read_to_end(&mut text)?;
            manifest = Some(serde_json::from_slice(&text).context("reading MANIFEST.json")?);
            continue;
        }
        let safe = path == "ting.db"
            || path == "ting.pgdump"
            || path
                .strip_prefix("blobs/")
                .is_some_and(|id| id.parse::<ting_proto::BlobId>().is_ok());
        if !safe {
            bail!("the backup holds an unexpected entry {path:?}");
        }
        let target = dir.join(&path);
        if let Some(p) = target.parent() {
            std::fs::create_dir_all(p)?;
        }
        let mut reader = Hashing {
            inner: &mut entry,
            hash: Sha256::new(),
            bytes: 0,
        };
        let mut out = File::create(&target)?;
        std::io::copy(&mut reader, &mut out)?;
        out.sync_all()?;
        seen.push(FileEntry {
            path,
            bytes: reader.bytes,
            sha256: hex(&reader.hash.finalize()),
        });
    }
    let manifest = manifest.context("the backup has no MANIFEST.json (incomplete file?)")?;
    if manifest.format != FORMAT {
        bail!(
            "backup format {} is not one this version reads ({FORMAT})",
            manifest.format
        );
    }
    let mut expected: Vec<&FileEntry> = std::iter::once(&manifest.database)
        .chain(&manifest.blobs)
        .collect();
    expected.sort_by(|a, b| a.path.cmp(&b.path));
    seen.sort_by(|a, b| a.path.cmp(&b.path));
    if expected.len() != seen.len() || expected.iter().zip(&seen).any(|(e, s)| **e != *s) {
        bail!("the backup's contents do not match its manifest (damaged or altered)");
    }
    Ok(manifest)
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct Restored {
    /// The manifest of the backup.
    pub manifest: Manifest,
    /// Audit records verified after the restore.
    pub audit_records: u64,
    /// The audit chain's head hash (hex), to compare with one kept elsewhere.
    pub audit_head: String,
}

/// Restores `from` into the empty data directory (and database) of `config`.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<Restored> {
    let url = config.database_url();
    let backend = if url.starts_with("postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    if backend == Backend::Postgres
        && !ting_store::postgres_is_empty(&url)
            .await
            .context("connecting to the database")?
    {
        bail!("the database is not empty; restore into an empty database");
    }
    let data = &config.server.data_dir;
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let blob_dir = config.blob_dir();
    let db_file: Option<PathBuf> = (backend == Backend::Sqlite).then(|| data.join("ting.db"));
    if db_file.as_ref().is_some_and(|f| f.exists())
        || std::fs::read_dir(&blob_dir).is_ok_and(|mut d| d.next().is_some())
    {
        bail!(
            "{} already holds a Ting database or files; restore into an empty data directory",
            data.display()
        );
    }
    let staging = tempfile::Builder::new()
        .prefix(".ting-restore-")
        .tempdir_in(data)?;
    let manifest = unpack(from, staging.path())?;
    if manifest.backend != backend.as_str() {
        bail!(
            "this is a backup of a {} database; configure a {} database to restore it",
            manifest.backend,
            manifest.backend
        );
    }
    match backend {
        Backend::Sqlite => {
            let target = db_file.expect("invariant: sqlite has a database file");
            std::fs::rename(staging.path().join("ting.db"), &target)?;
        }
        Backend::Postgres => {
            let out = tokio::process::Command::new("pg_restore")
                .arg("--no-owner")
                .arg("--exit-on-error")
                .arg("--single-transaction")
                .arg(format!("--dbname={url}"))
                .arg(staging.path().join("ting.pgdump"))
                .output()
                .await
                .context("running pg_restore")?;
            if !out.status.success() {
                bail!(
                    "pg_restore failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
    }
    std::fs::create_dir_all(&blob_dir)?;
    for b in &manifest.blobs {
        std::fs::rename(staging.path().join(&b.path), data.join(&b.path))
            .with_context(|| format!("placing {}", b.path))?;
    }
    let store = crate::admin::open_store(config)
        .await
        .context("opening the restored database")?;
    let verified = ting_store::verify_audit(store.as_ref()).await;
    store.close().await;
    let report = match verified? {
        Ok(r) => r,
        Err(broken) => bail!("restored, but the audit chain does not verify: {broken}"),
    };
    Ok(Restored {
        manifest,
        audit_records: report.checked,
        audit_head: hex(&report.head),
    })
}

/// Writes `report` of a finished command.
pub fn print_restored(r: &Restored, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "restored a {} backup taken at {} (schema {}, Ting {}): {} blob(s); audit chain verified, {} record(s), head {}",
        r.manifest.backend,
        r.manifest.created_at,
        r.manifest.schema_version,
        r.manifest.ting_version,
        r.manifest.blobs.len(),
        r.audit_records,
        r.audit_head
    )
}
