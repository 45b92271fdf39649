//! [`AccountStore`] on SQLite.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use ting_proto::UserId;

use super::SqliteStore;
use crate::accounts::{
    self, AccountStore, AuditQuery, INVITATION_COLUMNS, Invitation, InvitationRow, UserQuery,
    UserSummary, UserSummaryRow,
};
use crate::governance::{self, AuditRow};
use crate::rows::{count, db, saturating, write};
use crate::{AuditRecord, Error, Result};

/// No other active administrator than `?1` exists.
const OTHER_ADMIN: &str = "EXISTS (SELECT 1 FROM users o WHERE o.is_admin = 1 AND o.deactivated_at IS NULL AND o.id <> ?1)";

impl SqliteStore {
    /// After an update that changed nothing: the account is missing, or the last admin.
    async fn missing_or_last_admin(&self, user: UserId) -> Error {
        match sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE id = ?1")
            .bind(user.to_string())
            .fetch_one(&self.pool)
            .await
        {
            Ok(0) => Error::NotFound("user"),
            Ok(_) => Error::Conflict("last_admin"),
            Err(e) => db(e),
        }
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn user_page(&self, q: &UserQuery) -> Result<(Vec<UserSummary>, u64)> {
        let pattern = q.search.as_deref().map(accounts::like_pattern);
        let rows: Vec<UserSummaryRow> = sqlx::query_as(
            "SELECT u.id, u.username, u.password_hash, u.is_admin, u.created_at, u.deactivated_at,
                    (SELECT COUNT(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL),
                    (SELECT MAX(d.last_seen_at) FROM devices d WHERE d.user_id = u.id)
             FROM users u
             WHERE (?1 IS NULL OR u.username LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR u.username > ?2)
             ORDER BY u.username LIMIT ?3",
        )
        .bind(&pattern)
        .bind(&q.after)
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE (?1 IS NULL OR username LIKE ?1 ESCAPE '\\')",
        )
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let users = rows
            .into_iter()
            .map(accounts::user_summary)
            .collect::<Result<_>>()?;
        Ok((users, count(total)?))
    }

    async fn set_deactivated(&self, user: UserId, at: Option<i64>) -> Result<()> {
        let n = sqlx::query("UPDATE users SET deactivated_at = ?2 WHERE id = ?1")
            .bind(user.to_string())
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("user"));
        }
        Ok(())
    }

    async fn set_admin(&self, user: UserId, admin: bool) -> Result<()> {
        let sql = if admin {
            "UPDATE users SET is_admin = 1 WHERE id = ?1".to_owned()
        } else {
            format!("UPDATE users SET is_admin = 0 WHERE id = ?1 AND {OTHER_ADMIN}")
        };
        let n = sqlx::query(AssertSqlSafe(sql))
            .bind(user.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        if n == 0 {
            return Err(self.missing_or_last_admin(user).await);
        }
        Ok(())
    }

    async fn deactivate(&self, user: UserId, at: i64) -> Result<()> {
        let sql = format!(
            "UPDATE users SET deactivated_at = COALESCE(deactivated_at, ?2)
             WHERE id = ?1 AND (is_admin = 0 OR {OTHER_ADMIN})"
        );
        let n = sqlx::query(AssertSqlSafe(sql))
            .bind(user.to_string())
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        if n == 0 {
            return Err(self.missing_or_last_admin(user).await);
        }
        Ok(())
    }

    async fn create_invitation(&self, i: Invitation) -> Result<()> {
        sqlx::query(
            "INSERT INTO invitations (id, token_hash, username, kind, is_admin, created_by, created_at, expires_at, used_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(&i.id)
        .bind(&i.token_hash)
        .bind(&i.username)
        .bind(i.kind.as_str())
        .bind(i.is_admin)
        .bind(i.created_by.map(|u| u.to_string()))
        .bind(i.created_at)
        .bind(i.expires_at)
        .bind(i.used_at)
        .execute(&self.pool)
        .await
        .map_err(|e| write(e, "user"))?;
        Ok(())
    }

    async fn invitation_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Invitation>> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = ?1");
        sqlx::query_as::<_, InvitationRow>(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(accounts::invitation)
            .transpose()
    }

    async fn pending_invitations(&self, now: i64) -> Result<Vec<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations
             WHERE used_at IS NULL AND expires_at > ?1 ORDER BY created_at DESC, id"
        );
        sqlx::query_as::<_, InvitationRow>(AssertSqlSafe(sql))
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .into_iter()
            .map(accounts::invitation)
            .collect()
    }

    async fn delete_invitation(&self, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM invitations WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(n > 0)
    }

    async fn use_invitation(&self, id: &str, now: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE invitations SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(n > 0)
    }

    async fn delete_expired_invitations(&self, now: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM invitations WHERE expires_at < ?1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected())
    }

    async fn audit_search(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        sqlx::query_as::<_, AuditRow>(
            "SELECT seq, at, event, actor_user, actor_device, target_user, target, client_net, details, hash
             FROM audit_log
             WHERE (?1 IS NULL OR event = ?1) AND (?2 IS NULL OR actor_user = ?2)
               AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at <= ?4)
               AND (?5 IS NULL OR seq < ?5)
             ORDER BY seq DESC LIMIT ?6",
        )
        .bind(&q.event)
        .bind(q.actor.map(|u| u.to_string()))
        .bind(q.since)
        .bind(q.until)
        .bind(q.before_seq.map(saturating))
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(governance::audit_record)
        .collect()
    }
}
