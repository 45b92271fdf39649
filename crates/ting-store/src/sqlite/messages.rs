//! [`MessageStore`] on SQLite (appending is in `append.rs`).

use async_trait::async_trait;
use ting_proto::{DeviceId, RoomId};

use super::SqliteStore;
use crate::delivery::page;
use crate::rows::{self, MessageRow, WelcomeRow, db, write};
use crate::{
    AppendOutcome, CommitEffects, Error, MessageStore, NewMessage, PendingWelcome, Result,
    StoredMessage,
};

/// The columns of a [`MessageRow`], from `messages m` joined with the reader's membership `d`,
/// restricted to the reader's visibility window (`added_seq < seq <= removed_seq`).
macro_rules! visible {
    () => {
        "SELECT m.room_id, m.seq, m.id, m.sender_device, m.sender_user, m.kind,
                              m.epoch, m.payload, m.created_at
                       FROM messages m
                       JOIN room_devices d ON d.room_id = m.room_id AND d.device_id = ?2
                       WHERE m.room_id = ?1 AND m.seq > d.added_seq
                         AND (d.removed_seq IS NULL OR m.seq <= d.removed_seq)"
    };
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append_message(
        &self,
        msg: NewMessage,
        effects: Option<CommitEffects>,
    ) -> Result<AppendOutcome> {
        super::append::append(self, msg, effects).await
    }

    async fn messages_after(
        &self,
        room: RoomId,
        device: DeviceId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>> {
        sqlx::query_as::<_, MessageRow>(concat!(
            visible!(),
            " AND m.seq > ?3 ORDER BY m.seq LIMIT ?4"
        ))
        .bind(room.to_string())
        .bind(device.to_string())
        .bind(rows::saturating(after))
        .bind(page(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::message)
        .collect()
    }

    async fn messages_before(
        &self,
        room: RoomId,
        device: DeviceId,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>> {
        sqlx::query_as::<_, MessageRow>(concat!(
            visible!(),
            " AND m.seq < ?3 ORDER BY m.seq DESC LIMIT ?4"
        ))
        .bind(room.to_string())
        .bind(device.to_string())
        .bind(rows::saturating(before))
        .bind(page(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::message)
        .collect()
    }

    async fn cursor(&self, device: DeviceId, room: RoomId) -> Result<u64> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM cursors WHERE device_id = ?1 AND room_id = ?2")
                .bind(device.to_string())
                .bind(room.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        seq.map_or(Ok(0), |seq| rows::unsigned(seq, "seq"))
    }

    async fn advance_cursor(&self, device: DeviceId, room: RoomId, seq: u64) -> Result<()> {
        // One statement: capped at the room's last seq as of now, and never moved backward.
        let written = sqlx::query(
            "INSERT INTO cursors (device_id, room_id, seq)
             SELECT ?1, id, MIN(?3, last_seq) FROM rooms WHERE id = ?2
             ON CONFLICT (device_id, room_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
        )
        .bind(device.to_string())
        .bind(room.to_string())
        .bind(rows::saturating(seq))
        .execute(&self.pool)
        .await
        .map_err(|e| write(e, "device"))?
        .rows_affected();
        if written == 0 {
            return Err(Error::NotFound("room"));
        }
        Ok(())
    }

    async fn pending_welcomes(&self, device: DeviceId) -> Result<Vec<PendingWelcome>> {
        sqlx::query_as::<_, WelcomeRow>(
            "SELECT room_id, device_id, commit_seq, payload, created_at
             FROM welcomes WHERE device_id = ?1
             ORDER BY created_at, room_id",
        )
        .bind(device.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::welcome)
        .collect()
    }

    async fn delete_welcome(&self, device: DeviceId, room: RoomId) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM welcomes WHERE device_id = ?1 AND room_id = ?2")
            .bind(device.to_string())
            .bind(room.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn delete_expired_messages(&self, now: i64) -> Result<u64> {
        sqlx::query("DELETE FROM messages WHERE expires_at <= ?1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(db)
    }
}
