//! [`KeyPackageStore`] on SQLite.

use async_trait::async_trait;
use ting_proto::{DeviceId, UserId};

use super::SqliteStore;
use crate::rows::{self, db};
use crate::{Error, KeyPackageClaim, KeyPackageStore, Result};

#[async_trait]
impl KeyPackageStore for SqliteStore {
    async fn add_key_packages(
        &self,
        device: DeviceId,
        one_time: Vec<Vec<u8>>,
        last_resort: Option<Vec<u8>>,
        now: i64,
    ) -> Result<u64> {
        let device = device.to_string();
        let mut tx = self.begin_write().await?;
        let active: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM devices WHERE id = ?1 AND revoked_at IS NULL")
                .bind(&device)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        if active.is_none() {
            return Err(Error::NotFound("device"));
        }
        for data in &one_time {
            sqlx::query(
                "INSERT INTO key_packages (device_id, data, last_resort, created_at)
                 VALUES (?1, ?2, 0, ?3)",
            )
            .bind(&device)
            .bind(data)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        if let Some(data) = &last_resort {
            sqlx::query(
                "INSERT INTO key_packages (device_id, data, last_resort, created_at)
                 VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT (device_id) WHERE last_resort = 1
                 DO UPDATE SET data = excluded.data, created_at = excluded.created_at",
            )
            .bind(&device)
            .bind(data)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let available: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM key_packages WHERE device_id = ?1 AND last_resort = 0",
        )
        .bind(&device)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        rows::count(available)
    }

    async fn count_key_packages(&self, device: DeviceId) -> Result<(u64, bool)> {
        let (one_time, last_resort): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(last_resort = 0), 0), COALESCE(SUM(last_resort = 1), 0)
             FROM key_packages WHERE device_id = ?1",
        )
        .bind(device.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok((rows::count(one_time)?, last_resort > 0))
    }

    async fn claim_key_packages(
        &self,
        user: UserId,
        only: Option<DeviceId>,
    ) -> Result<Vec<KeyPackageClaim>> {
        // The write lock is held from the start, so concurrent claims are serialised and each
        // one-time package is deleted (hence returned) exactly once.
        let mut tx = self.begin_write().await?;
        let devices: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM devices WHERE user_id = ?1 AND revoked_at IS NULL
               AND (?2 IS NULL OR id = ?2)
             ORDER BY created_at, id",
        )
        .bind(user.to_string())
        .bind(only.map(|d| d.to_string()))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut claims = Vec::with_capacity(devices.len());
        for device in devices {
            let one_time: Option<Vec<u8>> = sqlx::query_scalar(
                "DELETE FROM key_packages WHERE id =
                   (SELECT id FROM key_packages WHERE device_id = ?1 AND last_resort = 0
                    ORDER BY id LIMIT 1)
                 RETURNING data",
            )
            .bind(&device)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            let (key_package, last_resort) = match one_time {
                Some(data) => (Some(data), false),
                None => {
                    let data: Option<Vec<u8>> = sqlx::query_scalar(
                        "SELECT data FROM key_packages WHERE device_id = ?1 AND last_resort = 1",
                    )
                    .bind(&device)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                    let found = data.is_some();
                    (data, found)
                }
            };
            claims.push(KeyPackageClaim {
                device_id: rows::device_id(&device)?,
                key_package,
                last_resort,
            });
        }
        tx.commit().await.map_err(db)?;
        Ok(claims)
    }
}
