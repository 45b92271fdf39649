//! [`MessageStore::append_message`](crate::MessageStore::append_message) on SQLite: the one
//! transaction that orders a room's log.
//!
//! `BEGIN IMMEDIATE` takes the database's write lock before the first read, so appends (to any
//! room) are serialised: the membership, duplicate and epoch checks see every earlier append,
//! and `last_seq + 1` is never handed out twice.

use sqlx::{Sqlite, Transaction};
use ting_proto::DeviceId;

use super::SqliteStore;
use crate::delivery::plan;
use crate::rows::{self, db, write};
use crate::{AppendOutcome, CommitEffects, Error, MessageKind, NewMessage, Result};

type Tx = Transaction<'static, Sqlite>;

/// Appends `msg` (see the trait); stores nothing unless the outcome is `Appended`.
pub(super) async fn append(
    store: &SqliteStore,
    msg: NewMessage,
    effects: Option<CommitEffects>,
) -> Result<AppendOutcome> {
    let effects = plan(msg.kind, effects);
    let room = msg.room_id.to_string();
    let mut tx = store.begin_write().await?;
    let state: Option<(i64, i64, Option<i64>)> =
        sqlx::query_as("SELECT epoch, last_seq, retention_secs FROM rooms WHERE id = ?1")
            .bind(&room)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    let Some((epoch, last_seq, retention_secs)) = state else {
        return reject(tx, AppendOutcome::NotMember).await;
    };
    // An active membership of the sender's own (non-revoked) device.
    let member: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM room_devices m JOIN devices d ON d.id = m.device_id
         WHERE m.room_id = ?1 AND m.device_id = ?2 AND m.user_id = ?3
           AND m.removed_seq IS NULL AND d.revoked_at IS NULL",
    )
    .bind(&room)
    .bind(msg.sender_device.to_string())
    .bind(msg.sender_user.to_string())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    if member.is_none() {
        return reject(tx, AppendOutcome::NotMember).await;
    }
    // Before the epoch check: a resend of an accepted commit carries an old epoch by now.
    let original: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM messages WHERE room_id = ?1 AND id = ?2")
            .bind(&room)
            .bind(msg.id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    if let Some(seq) = original {
        let seq = rows::unsigned(seq, "seq")?;
        return reject(tx, AppendOutcome::Duplicate { seq }).await;
    }
    if i64::try_from(msg.epoch).ok() != Some(epoch) {
        let current_epoch = rows::unsigned(epoch, "epoch")?;
        return reject(tx, AppendOutcome::StaleEpoch { current_epoch }).await;
    }
    let Some(effects) = effects else {
        return reject(tx, AppendOutcome::InvalidEffects).await;
    };
    if !effects_valid(&mut tx, &room, &effects).await? {
        return reject(tx, AppendOutcome::InvalidEffects).await;
    }

    let seq = last_seq
        .checked_add(1)
        .ok_or_else(|| Error::Corrupt("sequence number overflow".into()))?;
    let new_epoch = match msg.kind {
        MessageKind::Application => epoch,
        MessageKind::Commit => epoch
            .checked_add(1)
            .ok_or_else(|| Error::Corrupt("epoch overflow".into()))?,
    };
    sqlx::query(
        "INSERT INTO messages (room_id, seq, id, sender_device, sender_user, kind, epoch,
                               payload, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(&room)
    .bind(seq)
    .bind(msg.id.to_string())
    .bind(msg.sender_device.to_string())
    .bind(msg.sender_user.to_string())
    .bind(msg.kind.as_str())
    .bind(epoch)
    .bind(&msg.payload)
    .bind(msg.created_at)
    .bind(rows::expiry(msg.created_at, retention_secs))
    .execute(&mut *tx)
    .await
    .map_err(|e| write(e, "device"))?;
    sqlx::query("UPDATE rooms SET epoch = ?2, last_seq = ?3 WHERE id = ?1")
        .bind(&room)
        .bind(new_epoch)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    apply_effects(&mut tx, &room, seq, msg.created_at, effects).await?;
    tx.commit().await.map_err(db)?;
    Ok(AppendOutcome::Appended {
        seq: rows::unsigned(seq, "seq")?,
        epoch: rows::unsigned(new_epoch, "epoch")?,
    })
}

/// Ends the transaction without storing anything.
async fn reject(tx: Tx, outcome: AppendOutcome) -> Result<AppendOutcome> {
    tx.rollback().await.map_err(db)?;
    Ok(outcome)
}

/// Whether every added device is an active device of the named user and not already an
/// active member, and every removed device is an active member.
async fn effects_valid(tx: &mut Tx, room: &str, effects: &CommitEffects) -> Result<bool> {
    for (device, user) in &effects.added {
        let active: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM devices WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
        )
        .bind(device.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
        if active.is_none() || is_member(tx, room, *device).await? {
            return Ok(false);
        }
    }
    for device in &effects.removed {
        if !is_member(tx, room, *device).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn is_member(tx: &mut Tx, room: &str, device: DeviceId) -> Result<bool> {
    let member: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM room_devices
         WHERE room_id = ?1 AND device_id = ?2 AND removed_seq IS NULL",
    )
    .bind(room)
    .bind(device.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?;
    Ok(member.is_some())
}

/// Applies validated commit effects at `seq`.
async fn apply_effects(
    tx: &mut Tx,
    room: &str,
    seq: i64,
    now: i64,
    effects: CommitEffects,
) -> Result<()> {
    for (device, user) in &effects.added {
        let device = device.to_string();
        // A removed device re-added is a member again, from this commit on.
        sqlx::query(
            "INSERT INTO room_devices (room_id, device_id, user_id, added_seq, removed_seq)
             VALUES (?1, ?2, ?3, ?4, NULL)
             ON CONFLICT (room_id, device_id) DO UPDATE
             SET user_id = excluded.user_id, added_seq = excluded.added_seq, removed_seq = NULL",
        )
        .bind(room)
        .bind(&device)
        .bind(user.to_string())
        .bind(seq)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        if let Some(welcome) = &effects.welcome {
            sqlx::query(
                "INSERT INTO welcomes (room_id, device_id, commit_seq, payload, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (device_id, room_id) DO UPDATE
                 SET commit_seq = excluded.commit_seq, payload = excluded.payload,
                     created_at = excluded.created_at",
            )
            .bind(room)
            .bind(&device)
            .bind(seq)
            .bind(welcome)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        }
    }
    for device in &effects.removed {
        sqlx::query(
            "UPDATE room_devices SET removed_seq = ?3 WHERE room_id = ?1 AND device_id = ?2",
        )
        .bind(room)
        .bind(device.to_string())
        .bind(seq)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}
