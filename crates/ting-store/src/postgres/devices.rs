//! [`DeviceStore`] on PostgreSQL.

use async_trait::async_trait;
use ting_proto::{DeviceId, UserId};

use super::PgStore;
use crate::rows::{self, DeviceRow, db, write};
use crate::{Device, DeviceStore, Error, NewDevice, Result};

#[async_trait]
impl DeviceStore for PgStore {
    async fn create_device(&self, device: NewDevice) -> Result<Device> {
        sqlx::query(
            "INSERT INTO devices (id, user_id, name, signature_key, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(device.id.to_string())
        .bind(device.user_id.to_string())
        .bind(&device.name)
        .bind(&device.signature_key)
        .bind(device.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| write(e, "user"))?;
        Ok(Device {
            id: device.id,
            user_id: device.user_id,
            name: device.name,
            signature_key: device.signature_key,
            created_at: device.created_at,
            last_seen_at: None,
            revoked_at: None,
        })
    }

    async fn device_by_id(&self, id: DeviceId) -> Result<Option<Device>> {
        sqlx::query_as::<_, DeviceRow>(
            "SELECT id, user_id, name, signature_key, created_at, last_seen_at, revoked_at
             FROM devices WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::device)
        .transpose()
    }

    async fn active_device_by_key(
        &self,
        user: UserId,
        signature_key: &[u8],
    ) -> Result<Option<Device>> {
        sqlx::query_as::<_, DeviceRow>(
            "SELECT id, user_id, name, signature_key, created_at, last_seen_at, revoked_at
             FROM devices
             WHERE user_id = $1 AND signature_key = $2 AND revoked_at IS NULL",
        )
        .bind(user.to_string())
        .bind(signature_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::device)
        .transpose()
    }

    async fn devices_for_user(&self, user: UserId, include_revoked: bool) -> Result<Vec<Device>> {
        sqlx::query_as::<_, DeviceRow>(
            "SELECT id, user_id, name, signature_key, created_at, last_seen_at, revoked_at
             FROM devices
             WHERE user_id = $1 AND ($2 OR revoked_at IS NULL)
             ORDER BY created_at, id COLLATE \"C\"",
        )
        .bind(user.to_string())
        .bind(include_revoked)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::device)
        .collect()
    }

    async fn revoke_device(&self, id: DeviceId, now: i64) -> Result<bool> {
        let id = id.to_string();
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Waits for (and then blocks) KeyPackage uploads, claims and logins on this device.
        let revoked_at: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM devices WHERE id = $1 FOR UPDATE")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        match revoked_at {
            None => return Err(Error::NotFound("device")),
            Some(Some(_)) => return Ok(false),
            Some(None) => {}
        }
        sqlx::query("UPDATE devices SET revoked_at = $2 WHERE id = $1")
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM sessions WHERE device_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM key_packages WHERE device_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn touch_device(&self, id: DeviceId, now: i64) -> Result<()> {
        let updated = sqlx::query("UPDATE devices SET last_seen_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        if updated == 0 {
            return Err(Error::NotFound("device"));
        }
        Ok(())
    }
}
