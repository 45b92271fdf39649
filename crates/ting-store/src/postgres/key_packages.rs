//! [`KeyPackageStore`] on PostgreSQL.

use async_trait::async_trait;
use ting_proto::{DeviceId, UserId};

use super::PgStore;
use crate::rows::{self, db};
use crate::{Error, KeyPackageClaim, KeyPackageStore, Result};

#[async_trait]
impl KeyPackageStore for PgStore {
    async fn add_key_packages(
        &self,
        device: DeviceId,
        one_time: Vec<Vec<u8>>,
        last_resort: Option<Vec<u8>>,
        now: i64,
    ) -> Result<u64> {
        let device = device.to_string();
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The key-share lock makes a concurrent revocation (`FOR UPDATE`) wait for this upload
        // (and then delete it); `touch_device` is not blocked.
        let active: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM devices WHERE id = $1 AND revoked_at IS NULL FOR KEY SHARE",
        )
        .bind(&device)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if active.is_none() {
            return Err(Error::NotFound("device"));
        }
        if !one_time.is_empty() {
            // Ids are assigned in array order, so claims take them in upload order.
            sqlx::query(
                "INSERT INTO key_packages (device_id, data, last_resort, created_at)
                 SELECT $1, t.data, FALSE, $3
                 FROM UNNEST($2::bytea[]) WITH ORDINALITY AS t (data, n)
                 ORDER BY t.n",
            )
            .bind(&device)
            .bind(&one_time)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        if let Some(data) = &last_resort {
            sqlx::query(
                "INSERT INTO key_packages (device_id, data, last_resort, created_at)
                 VALUES ($1, $2, TRUE, $3)
                 ON CONFLICT (device_id) WHERE last_resort
                 DO UPDATE SET data = EXCLUDED.data, created_at = EXCLUDED.created_at",
            )
            .bind(&device)
            .bind(data)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let available: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM key_packages WHERE device_id = $1 AND NOT last_resort",
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
            "SELECT COUNT(*) FILTER (WHERE NOT last_resort), COUNT(*) FILTER (WHERE last_resort)
             FROM key_packages WHERE device_id = $1",
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        let devices: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM devices WHERE user_id = $1 AND revoked_at IS NULL
               AND ($2::text IS NULL OR id = $2)
             ORDER BY created_at, id COLLATE \"C\"
             FOR KEY SHARE",
        )
        .bind(user.to_string())
        .bind(only.map(|d| d.to_string()))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut claims = Vec::with_capacity(devices.len());
        for device in devices {
            // A package locked by a concurrent claimer is skipped (that claimer deletes it),
            // so no package is returned twice and nobody waits.
            let one_time: Option<Vec<u8>> = sqlx::query_scalar(
                "DELETE FROM key_packages WHERE id =
                   (SELECT id FROM key_packages WHERE device_id = $1 AND NOT last_resort
                    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
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
                        "SELECT data FROM key_packages WHERE device_id = $1 AND last_resort",
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
