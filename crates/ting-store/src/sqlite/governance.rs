//! [`PolicyStore`], [`AuditStore`] and [`SubjectStore`] on SQLite. Audit appends and pruning
//! run in `BEGIN IMMEDIATE` transactions, so they are serialised and the chain stays linear.

use async_trait::async_trait;
use ting_proto::UserId;

use super::SqliteStore;
use crate::governance::{
    self, AuditAnchor, AuditRecord, AuditRow, AuditStore, NewAuditRecord, PolicyRow, PolicyStore,
    SentMessage, StoredPolicy, SubjectStore,
};
use crate::rows::{self, BlobRow, RoomDeviceRow, SessionRow, db, saturating, unsigned, write};
use crate::{Blob, Result, RoomDevice, Session};

/// `room_id, seq, sender_device, kind, epoch, created_at, expires_at, size, payload`.
type SentRow = (
    String,
    i64,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
    Option<Vec<u8>>,
);

pub(crate) fn sent(row: SentRow) -> Result<SentMessage> {
    let (room_id, seq, sender_device, kind, epoch, created_at, expires_at, size, payload) = row;
    Ok(SentMessage {
        room_id,
        seq: unsigned(seq, "seq")?,
        sender_device,
        kind,
        epoch: unsigned(epoch, "epoch")?,
        created_at,
        expires_at,
        size: unsigned(size, "size")?,
        payload,
    })
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn set_policy(
        &self,
        document: String,
        set_by: Option<UserId>,
        now: i64,
    ) -> Result<StoredPolicy> {
        // One statement takes the write lock, so the next revision is computed atomically.
        let row: PolicyRow = sqlx::query_as(
            "INSERT INTO policies (revision, document, set_by, set_at)
             SELECT COALESCE(MAX(revision), 0) + 1, ?1, ?2, ?3 FROM policies
             RETURNING revision, document, set_by, set_at",
        )
        .bind(document)
        .bind(set_by.map(|u| u.to_string()))
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| write(e, "policy"))?;
        governance::policy(row)
    }

    async fn current_policy(&self) -> Result<Option<StoredPolicy>> {
        sqlx::query_as::<_, PolicyRow>(
            "SELECT revision, document, set_by, set_at FROM policies
             ORDER BY revision DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(governance::policy)
        .transpose()
    }

    async fn policy_history(&self) -> Result<Vec<StoredPolicy>> {
        sqlx::query_as::<_, PolicyRow>(
            "SELECT revision, document, set_by, set_at FROM policies ORDER BY revision",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(governance::policy)
        .collect()
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, record: NewAuditRecord) -> Result<AuditRecord> {
        let mut tx = self.begin_write().await?;
        let mut prev: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        if prev.is_none() {
            prev = sqlx::query_as("SELECT seq, hash FROM audit_anchor WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        }
        let next = governance::next_record(prev, record);
        let r = &next.record;
        sqlx::query(
            "INSERT INTO audit_log
             (seq, at, event, actor_user, actor_device, target_user, target, client_net, details, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .bind(saturating(next.seq))
        .bind(r.at)
        .bind(&r.event)
        .bind(&r.actor_user)
        .bind(&r.actor_device)
        .bind(&r.target_user)
        .bind(&r.target)
        .bind(&r.client_net)
        .bind(&r.details)
        .bind(&next.hash)
        .execute(&mut *tx)
        .await
        .map_err(|e| write(e, "audit"))?;
        tx.commit().await.map_err(db)?;
        Ok(next)
    }

    async fn audit_page(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditRecord>> {
        sqlx::query_as::<_, AuditRow>(
            "SELECT seq, at, event, actor_user, actor_device, target_user, target, client_net, details, hash FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .bind(saturating(after_seq))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(governance::audit_record)
        .collect()
    }

    async fn audit_anchor(&self) -> Result<Option<AuditAnchor>> {
        let row: Option<(i64, Vec<u8>, i64)> =
            sqlx::query_as("SELECT seq, hash, pruned_at FROM audit_anchor WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        row.map(|(seq, hash, pruned_at)| {
            Ok(AuditAnchor {
                seq: unsigned(seq, "audit seq")?,
                hash,
                pruned_at,
            })
        })
        .transpose()
    }

    async fn prune_audit(&self, before: i64, now: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let first_young: Option<i64> =
            sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE at >= ?1")
                .bind(before)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        let last: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_log WHERE ?1 IS NULL OR seq < ?1
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(first_young)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some((seq, hash)) = last else {
            return Ok(0);
        };
        let deleted = sqlx::query("DELETE FROM audit_log WHERE seq <= ?1")
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        sqlx::query(
            "INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
                                            pruned_at = excluded.pruned_at",
        )
        .bind(seq)
        .bind(hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn audit_for_user(&self, user: UserId) -> Result<Vec<AuditRecord>> {
        sqlx::query_as::<_, AuditRow>(
            "SELECT seq, at, event, actor_user, actor_device, target_user, target, client_net, details, hash FROM audit_log
             WHERE actor_user = ?1 OR target_user = ?1 ORDER BY seq",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(governance::audit_record)
        .collect()
    }
}

#[async_trait]
impl SubjectStore for SqliteStore {
    async fn sessions_for_user(&self, user: UserId) -> Result<Vec<Session>> {
        sqlx::query_as::<_, SessionRow>(
            "SELECT token_hash, user_id, device_id, created_at, expires_at
             FROM sessions WHERE user_id = ?1 ORDER BY created_at, token_hash",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::session)
        .collect()
    }

    async fn memberships_of_user(&self, user: UserId) -> Result<Vec<RoomDevice>> {
        sqlx::query_as::<_, RoomDeviceRow>(
            "SELECT room_id, device_id, user_id, added_seq, removed_seq
             FROM room_devices WHERE user_id = ?1 ORDER BY room_id, device_id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::room_device)
        .collect()
    }

    async fn messages_sent_by(&self, user: UserId, with_payload: bool) -> Result<Vec<SentMessage>> {
        sqlx::query_as::<_, SentRow>(
            "SELECT room_id, seq, sender_device, kind, epoch, created_at, expires_at,
                    length(payload), CASE WHEN ?2 THEN payload ELSE NULL END
             FROM messages WHERE sender_user = ?1 ORDER BY created_at, room_id, seq",
        )
        .bind(user.to_string())
        .bind(with_payload)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(sent)
        .collect()
    }

    async fn blobs_uploaded_by(&self, user: UserId) -> Result<Vec<Blob>> {
        sqlx::query_as::<_, BlobRow>(
            "SELECT b.id, b.room_id, b.uploader_device, b.size, b.received, b.complete,
                    b.created_at, b.expires_at
             FROM blobs b JOIN devices d ON d.id = b.uploader_device
             WHERE d.user_id = ?1 ORDER BY b.created_at, b.id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::blob)
        .collect()
    }
}
