//! `/api/v1/admin/…`: what the administration console (and any other administrator's tool)
//! calls. Every route refuses callers who are not administrators with `admin_only`; none
//! returns content or key material.

pub mod accounts;
pub mod audit;
pub mod invitations;
pub mod ops;

use std::collections::HashMap;

use ting_proto::admin::AdminUser;
use ting_proto::{ErrorCode, UserId};
use ting_store::UserSummary;

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// Refuses callers who are not administrators.
pub fn require_admin(auth: &Auth) -> ApiResult<()> {
    if auth.user.is_admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::AdminOnly,
            "only administrators may use the administration API",
        ))
    }
}

/// The console's view of an account.
pub fn admin_user(s: &UserSummary) -> AdminUser {
    AdminUser {
        id: s.user.id,
        username: s.user.username.clone(),
        is_admin: s.user.is_admin,
        created_at: s.user.created_at,
        deactivated_at: s.user.deactivated_at,
        active_devices: s.active_devices,
        last_seen_at: s.last_seen_at,
    }
}

/// Login names of user ids, each looked up once (records name accounts by id).
#[derive(Default)]
pub struct Names(HashMap<UserId, Option<String>>);

impl Names {
    /// The login name of `id`, if the account exists.
    pub async fn of_id(&mut self, state: &AppState, id: UserId) -> ApiResult<Option<String>> {
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let name = state.store.user_by_id(id).await?.map(|u| u.username);
        self.0.insert(id, name.clone());
        Ok(name)
    }

    /// [`Names::of_id`] of an id in text form; `None` for no id or one that does not parse.
    pub async fn of(&mut self, state: &AppState, id: Option<&str>) -> ApiResult<Option<String>> {
        match id.and_then(|i| i.parse::<UserId>().ok()) {
            Some(uid) => self.of_id(state, uid).await,
            None => Ok(None),
        }
    }
}
