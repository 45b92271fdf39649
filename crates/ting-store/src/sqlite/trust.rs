//! [`KeyLogStore`], [`LinkStore`] and [`SecretStore`] on SQLite. An append is one
//! `INSERT … SELECT MAX(idx) + 1` statement, which holds SQLite's single write lock from start
//! to end, so concurrent appends get dense, distinct indexes.

use async_trait::async_trait;
use ting_proto::{DeviceId, UserId};

use super::SqliteStore;
use crate::rows::{db, saturating, write};
use crate::trust::{
    self, KeyLogKind, KeyLogRecord, KeyLogRow, KeyLogStore, Link, LinkRow, LinkStore, NewLink,
    RecoveryStore, SecretStore,
};
use crate::{Result, rows};

#[async_trait]
impl KeyLogStore for SqliteStore {
    async fn append_key_log(
        &self,
        user: UserId,
        kind: KeyLogKind,
        device: Option<DeviceId>,
        record: &[u8],
        now: i64,
    ) -> Result<u64> {
        let idx: i64 = sqlx::query_scalar(
            "INSERT INTO key_log (idx, user_id, kind, device_id, record, created_at)
             SELECT COALESCE(MAX(idx) + 1, 0), ?1, ?2, ?3, ?4, ?5 FROM key_log
             RETURNING idx",
        )
        .bind(user.to_string())
        .bind(kind.as_str())
        .bind(device.map(|d| d.to_string()))
        .bind(record)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| write(e, "user"))?;
        rows::unsigned(idx, "key log index")
    }

    async fn key_log_range(&self, start: u64, end: u64) -> Result<Vec<KeyLogRecord>> {
        sqlx::query_as::<_, KeyLogRow>(
            "SELECT idx, user_id, kind, device_id, record, created_at FROM key_log
             WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )
        .bind(saturating(start))
        .bind(saturating(end))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(trust::key_log_record)
        .collect()
    }

    async fn key_log_for_user(&self, user: UserId) -> Result<Vec<KeyLogRecord>> {
        sqlx::query_as::<_, KeyLogRow>(
            "SELECT idx, user_id, kind, device_id, record, created_at FROM key_log
             WHERE user_id = ?1 ORDER BY idx",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(trust::key_log_record)
        .collect()
    }

    async fn key_log_size(&self) -> Result<u64> {
        // Indexes are dense from 0, so this is the count, read from the primary key's index.
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM key_log")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        rows::count(n)
    }

    async fn put_key_log_cosignature(
        &self,
        witness: &str,
        size: u64,
        note: &str,
        now: i64,
    ) -> Result<bool> {
        let stored = sqlx::query(
            "INSERT INTO key_log_cosignatures (witness, size, note, received_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (witness) DO UPDATE
             SET size = excluded.size, note = excluded.note, received_at = excluded.received_at
             WHERE excluded.size >= key_log_cosignatures.size",
        )
        .bind(witness)
        .bind(saturating(size))
        .bind(note)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(stored == 1)
    }

    async fn key_log_cosignatures(&self, size: u64) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT note FROM key_log_cosignatures WHERE size = ?1 ORDER BY witness")
            .bind(saturating(size))
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }
}

#[async_trait]
impl LinkStore for SqliteStore {
    async fn create_link(&self, link: NewLink) -> Result<()> {
        sqlx::query(
            "INSERT INTO link_rendezvous
             (id, user_id, device_id, request, response, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
        )
        .bind(&link.id)
        .bind(link.user_id.to_string())
        .bind(link.device_id.to_string())
        .bind(&link.request)
        .bind(link.created_at)
        .bind(link.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| write(e, "device"))?;
        Ok(())
    }

    async fn link(&self, id: &str) -> Result<Option<Link>> {
        sqlx::query_as::<_, LinkRow>(
            "SELECT id, user_id, device_id, request, response IS NOT NULL, created_at, expires_at
             FROM link_rendezvous WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(trust::link)
        .transpose()
    }

    async fn set_link_response(&self, id: &str, response: &[u8], now: i64) -> Result<bool> {
        let set = sqlx::query(
            "UPDATE link_rendezvous SET response = ?2
             WHERE id = ?1 AND response IS NULL AND expires_at > ?3",
        )
        .bind(id)
        .bind(response)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(set == 1)
    }

    async fn take_link_response(&self, id: &str, now: i64) -> Result<Option<Vec<u8>>> {
        let taken: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "DELETE FROM link_rendezvous
             WHERE id = ?1 AND response IS NOT NULL AND expires_at > ?2
             RETURNING response",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(taken.flatten())
    }

    async fn purge_expired_links(&self, now: i64) -> Result<u64> {
        sqlx::query("DELETE FROM link_rendezvous WHERE expires_at <= ?1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db)
    }
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn server_secret(&self, name: &str, candidate: &[u8], now: i64) -> Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }
}

#[async_trait]
impl RecoveryStore for SqliteStore {
    async fn put_recovery_backup(&self, user: UserId, data: &[u8], now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO recovery_backups (user_id, data, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        )
        .bind(user.to_string())
        .bind(data)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| write(e, "user"))?;
        Ok(())
    }

    async fn recovery_backup(&self, user: UserId) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT data FROM recovery_backups WHERE user_id = ?1")
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }
}
