//! [`UserStore`] on PostgreSQL.

use async_trait::async_trait;
use ting_proto::UserId;

use super::PgStore;
use crate::rows::{self, UserRow, db, write};
use crate::{Error, NewUser, Result, User, UserStore};

fn created(user: NewUser) -> User {
    User {
        id: user.id,
        username: user.username,
        password_hash: user.password_hash,
        is_admin: user.is_admin,
        created_at: user.created_at,
        deactivated_at: None,
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, is_admin, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id.to_string())
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(user.is_admin)
        .bind(user.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| write(e, "user"))?;
        Ok(created(user))
    }

    async fn create_first_user(&self, user: NewUser) -> Result<Option<User>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Conflicts with itself and with plain INSERTs: whoever gets it second sees the first
        // user (each READ COMMITTED statement takes a fresh snapshot).
        sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, password_hash, is_admin, created_at)
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(user.id.to_string())
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(user.is_admin)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| write(e, "user"))?
        .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok((inserted == 1).then(|| created(user)))
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        sqlx::query_as::<_, UserRow>(
            "SELECT id, username, password_hash, is_admin, created_at, deactivated_at FROM users WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::user)
        .transpose()
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        sqlx::query_as::<_, UserRow>(
            "SELECT id, username, password_hash, is_admin, created_at, deactivated_at
             FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(rows::user)
        .transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        // `username` has the "C" collation: byte order, as in SQLite.
        sqlx::query_as::<_, UserRow>(
            "SELECT id, username, password_hash, is_admin, created_at, deactivated_at
             FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(rows::user)
        .collect()
    }

    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        rows::count(n)
    }

    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<()> {
        let updated = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(password_hash)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        if updated == 0 {
            return Err(Error::NotFound("user"));
        }
        Ok(())
    }
}
