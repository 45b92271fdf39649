//! [`RoomStore`] on PostgreSQL.

use async_trait::async_trait;
use ting_proto::{DeviceId, RoomId};

use super::PgStore;
use crate::rows::{self, MembershipRow, RoomDeviceRow, RoomRow, db, write};
use crate::{Error, NewRoom, Result, Room, RoomDevice, RoomStore};

#[async_trait]
impl RoomStore for PgStore {
    async fn create_room(&self, room: NewRoom) -> Result<Room> {
        let id = room.id.to_string();
        let device = room.creator_device.to_string();
        let user = room.created_by.to_string();
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The key-share lock makes a concurrent revocation wait for the new membership.
        let active: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM devices WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
             FOR KEY SHARE",
        )
        .bind(&device)
        .bind(&user)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if active.is_none() {
            return Err(Error::NotFound("device"));
        }
        sqlx::query(
            "INSERT INTO rooms (id, kind, created_by, created_at, epoch, last_seq, retention_secs)
             VALUES ($1, $2, $3, $4, 0, 0, $5)",
        )
        .bind(&id)
        .bind(room.kind.as_str())
        .bind(&user)
        .bind(room.created_at)
        .bind(room.retention_secs)
        .execute(&mut *tx)
        .await
        .map_err(|e| write(e, "user"))?;
        sqlx::query(
            "INSERT INTO room_devices (room_id, device_id, user_id, added_seq, removed_seq)
             VALUES ($1, $2, $3, 0, NULL)",
        )
        .bind(&id)
        .bind(&device)
        .bind(&user)
        .execute(&mut *tx)
        .await
        .map_err(|e| write(e, "device"))?;
        tx.commit().await.map_err(db)?;
        Ok(Room {
            id: room.id,
            kind: room.kind,
            created_by: room.created_by,
            created_at: room.created_at,
            epoch: 0,
            last_seq: 0,
            retention_secs: room.retention_secs,
        })
    }

    async fn room(&self, id: RoomId) -> Result<Option<Room>> {
        sqlx::query_as::<_, RoomRow>(
            "SELECT id, kind, created_by, created_at, epoch, last_seq, retention_secs
             FROM rooms WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::room)
        .transpose()
    }

    async fn membership(&self, room: RoomId, device: DeviceId) -> Result<Option<RoomDevice>> {
        sqlx::query_as::<_, RoomDeviceRow>(
            "SELECT room_id, device_id, user_id, added_seq, removed_seq
             FROM room_devices WHERE room_id = $1 AND device_id = $2",
        )
        .bind(room.to_string())
        .bind(device.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::room_device)
        .transpose()
    }

    async fn room_devices(&self, room: RoomId, include_removed: bool) -> Result<Vec<RoomDevice>> {
        sqlx::query_as::<_, RoomDeviceRow>(
            "SELECT room_id, device_id, user_id, added_seq, removed_seq
             FROM room_devices
             WHERE room_id = $1 AND ($2 OR removed_seq IS NULL)
             ORDER BY added_seq, device_id COLLATE \"C\"",
        )
        .bind(room.to_string())
        .bind(include_removed)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::room_device)
        .collect()
    }

    async fn rooms_for_device(&self, device: DeviceId) -> Result<Vec<(Room, RoomDevice)>> {
        sqlx::query_as::<_, MembershipRow>(
            "SELECT r.id, r.kind, r.created_by, r.created_at, r.epoch, r.last_seq,
                    r.retention_secs, d.device_id, d.user_id, d.added_seq, d.removed_seq
             FROM room_devices d JOIN rooms r ON r.id = d.room_id
             WHERE d.device_id = $1 AND d.removed_seq IS NULL
             ORDER BY r.created_at, r.id COLLATE \"C\"",
        )
        .bind(device.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::membership)
        .collect()
    }

    async fn set_retention(&self, room: RoomId, retention_secs: Option<i64>) -> Result<()> {
        let updated = sqlx::query("UPDATE rooms SET retention_secs = $2 WHERE id = $1")
            .bind(room.to_string())
            .bind(retention_secs)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        if updated == 0 {
            return Err(Error::NotFound("room"));
        }
        Ok(())
    }
}
