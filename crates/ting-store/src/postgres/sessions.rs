//! [`SessionStore`] on PostgreSQL.

use async_trait::async_trait;
use ting_proto::UserId;

use super::PgStore;
use crate::rows::{self, SessionRow, db, write};
use crate::{Error, Result, Session, SessionStore};

#[async_trait]
impl SessionStore for PgStore {
    async fn create_session(&self, session: Session) -> Result<()> {
        // Inserts only for an active device of that user, holding a key-share lock on the device
        // row: a concurrent revocation either waits for this session (and deletes it) or has
        // already committed (and the re-checked row no longer matches).
        let inserted = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at)
             SELECT $1, $2, $3, $4, $5 FROM devices
             WHERE id = $3 AND user_id = $2 AND revoked_at IS NULL
             FOR KEY SHARE",
        )
        .bind(&session.token_hash)
        .bind(session.user_id.to_string())
        .bind(session.device_id.to_string())
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| write(e, "device"))?
        .rows_affected();
        if inserted == 0 {
            return Err(Error::NotFound("device"));
        }
        Ok(())
    }

    async fn session_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Session>> {
        sqlx::query_as::<_, SessionRow>(
            "SELECT token_hash, user_id, device_id, created_at, expires_at
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::session)
        .transpose()
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn delete_sessions_for_user(&self, user: UserId) -> Result<u64> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(db)
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(db)
    }
}
