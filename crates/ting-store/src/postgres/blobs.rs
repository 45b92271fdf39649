//! [`BlobStore`] on PostgreSQL.

use async_trait::async_trait;
use ting_proto::{BlobId, DeviceId, RoomId};

use super::PgStore;
use crate::rows::{self, BlobRow, db, write};
use crate::{Blob, BlobStore, Error, Result};

#[async_trait]
impl BlobStore for PgStore {
    async fn create_blob(
        &self,
        id: BlobId,
        room: RoomId,
        uploader: DeviceId,
        size: u64,
        now: i64,
    ) -> Result<Blob> {
        let stored_size = i64::try_from(size)
            .map_err(|_| Error::Database(format!("blob size {size} out of range")))?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The key-share lock keeps the room from being deleted before the insert.
        let retention: Option<Option<i64>> =
            sqlx::query_scalar("SELECT retention_secs FROM rooms WHERE id = $1 FOR KEY SHARE")
                .bind(room.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        let Some(retention_secs) = retention else {
            return Err(Error::NotFound("room"));
        };
        let blob = Blob {
            id,
            room_id: room,
            uploader_device: uploader,
            size,
            received: 0,
            complete: size == 0,
            created_at: now,
            expires_at: rows::expiry(now, retention_secs),
        };
        sqlx::query(
            "INSERT INTO blobs (id, room_id, uploader_device, size, received, complete,
                                created_at, expires_at)
             VALUES ($1, $2, $3, $4, 0, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(room.to_string())
        .bind(uploader.to_string())
        .bind(stored_size)
        .bind(blob.complete)
        .bind(now)
        .bind(blob.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| write(e, "device"))?;
        tx.commit().await.map_err(db)?;
        Ok(blob)
    }

    async fn blob(&self, id: BlobId) -> Result<Option<Blob>> {
        sqlx::query_as::<_, BlobRow>(
            "SELECT id, room_id, uploader_device, size, received, complete, created_at, expires_at
             FROM blobs WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::blob)
        .transpose()
    }

    async fn set_blob_received(&self, id: BlobId, received: u64) -> Result<()> {
        // One statement: `received` never shrinks and never passes `size` (a caller that got
        // more bytes than declared must reject the upload itself).
        let updated = sqlx::query(
            "UPDATE blobs
             SET received = GREATEST(received, LEAST($2, size)),
                 complete = GREATEST(received, LEAST($2, size)) = size
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(rows::saturating(received))
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        if updated == 0 {
            return Err(Error::NotFound("blob"));
        }
        Ok(())
    }

    async fn delete_expired_blobs(&self, now: i64, stale_before: i64) -> Result<Vec<BlobId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "DELETE FROM blobs
             WHERE expires_at <= $1 OR (NOT complete AND created_at < $2)
             RETURNING id",
        )
        .bind(now)
        .bind(stale_before)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        ids.iter().map(|id| rows::blob_id(id)).collect()
    }
}
