//! One-time links an administrator hands over: an invitation creates an account whose holder
//! chooses the password (`POST /api/v1/admin/invitations`); a password-reset link sets a new
//! password and ends the account's sessions (`POST /api/v1/admin/users/{username}/password-reset`).
//! Their holder opens `/invite#<token>` and calls `GET`/`POST /api/v1/invitations/{token}`
//! without a session. The server stores only the token's hash.
//!
//! A link opens an account, never keys: a new password does not give access to anything
//! encrypted; a new device still has to be linked or recovered (see `docs/security.md`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use ting_proto::admin::{
    AcceptInvitation, CreateInvitation, InvitationInfo, InvitationKind as Kind, InvitationList,
    IssuedInvitation, PendingInvitation,
};
use ting_proto::api::UserInfo;
use ting_proto::ws::close_code;
use ting_proto::{ErrorCode, UserId};
use ting_store::{Invitation, InvitationKind, NewUser};

use super::{Names, require_admin};
use crate::audit::{self, Entry, Event};
use crate::auth::{check_password, normalise_username, password, token};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientAddr, Json};
use crate::hub::Delivery;
use crate::routes::devices::find_user;
use crate::routes::user_info;
use crate::state::AppState;

fn kind(k: InvitationKind) -> Kind {
    match k {
        InvitationKind::Invite => Kind::Invite,
        InvitationKind::PasswordReset => Kind::PasswordReset,
    }
}

/// Stores a new link and returns it with its token (shown once).
async fn issue(
    state: &AppState,
    auth: &Auth,
    addr: ClientAddr,
    username: String,
    k: InvitationKind,
    is_admin: bool,
) -> ApiResult<(StatusCode, axum::Json<IssuedInvitation>)> {
    let now = state.clock.now_unix();
    let secret = token::generate();
    let id = audit::hex(&rand::random::<[u8; 12]>());
    let expires_at = now + (state.config.auth.invitation_ttl_hours * 3600) as i64;
    state
        .store
        .create_invitation(Invitation {
            id: id.clone(),
            token_hash: token::hash(&secret),
            username: username.clone(),
            kind: k,
            is_admin,
            created_by: Some(auth.user.id),
            created_at: now,
            expires_at,
            used_at: None,
        })
        .await?;
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::InvitationIssued, now)
            .actor(auth.user.id, Some(auth.device.id))
            .target(&id)
            .client(addr.0)
            .details(serde_json::json!({
                "kind": k.as_str(), "username": username, "admin": is_admin, "expires_at": expires_at,
            })),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedInvitation {
            id,
            username,
            kind: kind(k),
            link: format!("/invite#{secret}"),
            token: secret,
            expires_at,
        }),
    ))
}

/// Invites someone: a one-time link that creates the account `username` (reserved until the
/// link is used or ends) with the password its holder chooses.
#[utoipa::path(post, path = "/api/v1/admin/invitations", tag = "admin", security(("bearer" = [])), request_body = CreateInvitation,
    responses((status = 201, body = IssuedInvitation), (status = 400, body = ting_proto::ErrorBody), (status = 403, body = ting_proto::ErrorBody),
              (status = 409, body = ting_proto::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Json(req): Json<CreateInvitation>,
) -> ApiResult<(StatusCode, axum::Json<IssuedInvitation>)> {
    require_admin(&auth)?;
    let username =
        normalise_username(&req.username).map_err(|m| ApiError::new(ErrorCode::InvalidInput, m))?;
    if state.store.user_by_username(&username).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::UsernameTaken,
            format!("an account called {username} exists"),
        ));
    }
    let now = state.clock.now_unix();
    if state
        .store
        .pending_invitations(now)
        .await?
        .iter()
        .any(|i| i.kind == InvitationKind::Invite && i.username == username)
    {
        return Err(ApiError::new(
            ErrorCode::UsernameTaken,
            format!("an invitation for {username} is pending; withdraw it first"),
        ));
    }
    issue(
        &state,
        &auth,
        addr,
        username,
        InvitationKind::Invite,
        req.admin,
    )
    .await
}

/// A one-time link that sets a new password on the account and ends its sessions. It gives
/// no access to encrypted content.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/password-reset", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "Login name")),
    responses((status = 201, body = IssuedInvitation), (status = 403, body = ting_proto::ErrorBody), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn password_reset(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Path(username): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<IssuedInvitation>)> {
    require_admin(&auth)?;
    let user = find_user(&state, &username).await?;
    issue(
        &state,
        &auth,
        addr,
        user.username,
        InvitationKind::PasswordReset,
        false,
    )
    .await
}

/// Links neither used nor expired, newest first (never their tokens).
#[utoipa::path(get, path = "/api/v1/admin/invitations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = InvitationList), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<InvitationList>> {
    require_admin(&auth)?;
    let pending = state
        .store
        .pending_invitations(state.clock.now_unix())
        .await?;
    let mut names = Names::default();
    let mut invitations = Vec::with_capacity(pending.len());
    for i in pending {
        let created_by = match i.created_by {
            Some(id) => names.of_id(&state, id).await?,
            None => None,
        };
        invitations.push(PendingInvitation {
            id: i.id,
            username: i.username,
            kind: kind(i.kind),
            admin: i.is_admin,
            created_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
        });
    }
    Ok(axum::Json(InvitationList { invitations }))
}

/// Withdraws a link: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/admin/invitations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    responses((status = 204), (status = 403, body = ting_proto::ErrorBody), (status = 404, body = ting_proto::ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&auth)?;
    if !state.store.delete_invitation(&id).await? {
        return Err(unknown());
    }
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::InvitationWithdrawn, state.clock.now_unix())
            .actor(auth.user.id, Some(auth.device.id))
            .target(&id)
            .client(addr.0),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn unknown() -> ApiError {
    ApiError::new(
        ErrorCode::UnknownInvitation,
        "this link is not valid (mistyped, or withdrawn by an administrator)",
    )
}

/// The link behind `token`, refused when unknown, used or expired.
async fn usable(state: &AppState, secret: &str) -> ApiResult<Invitation> {
    let i = state
        .store
        .invitation_by_token_hash(&token::hash(secret))
        .await?
        .ok_or_else(unknown)?;
    if i.used_at.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvitationUsed,
            "this link has already been used; sign in, or ask an administrator for a new one",
        ));
    }
    if i.expires_at <= state.clock.now_unix() {
        return Err(ApiError::new(
            ErrorCode::InvitationExpired,
            "this link has expired; ask an administrator for a new one",
        ));
    }
    Ok(i)
}

/// What a link is for (no session: the token is the credential).
#[utoipa::path(get, path = "/api/v1/invitations/{token}", tag = "auth",
    params(("token" = String, Path, description = "The link's token")),
    responses((status = 200, body = InvitationInfo), (status = 404, body = ting_proto::ErrorBody),
              (status = 409, body = ting_proto::ErrorBody), (status = 410, body = ting_proto::ErrorBody)))]
pub async fn info(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> ApiResult<axum::Json<InvitationInfo>> {
    let i = usable(&state, &secret).await?;
    Ok(axum::Json(InvitationInfo {
        username: i.username,
        kind: kind(i.kind),
        expires_at: i.expires_at,
    }))
}

/// Uses a link: creates the account, or sets the new password and ends the account's
/// sessions. Sign in next. Works once.
#[utoipa::path(post, path = "/api/v1/invitations/{token}", tag = "auth", request_body = AcceptInvitation,
    params(("token" = String, Path, description = "The link's token")),
    responses((status = 201, body = UserInfo), (status = 400, body = ting_proto::ErrorBody), (status = 404, body = ting_proto::ErrorBody),
              (status = 409, body = ting_proto::ErrorBody), (status = 410, body = ting_proto::ErrorBody), (status = 429, body = ting_proto::ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(secret): Path<String>,
    Json(req): Json<AcceptInvitation>,
) -> ApiResult<(StatusCode, axum::Json<UserInfo>)> {
    crate::routes::auth::throttle_address(&state, addr)?;
    let i = usable(&state, &secret).await?;
    check_password(&req.password, state.config.auth.min_password_len)
        .map_err(|m| ApiError::new(ErrorCode::InvalidInput, m))?;
    let existing = match i.kind {
        InvitationKind::Invite => {
            if state.store.user_by_username(&i.username).await?.is_some() {
                return Err(ApiError::new(
                    ErrorCode::UsernameTaken,
                    format!("an account called {} exists meanwhile", i.username),
                ));
            }
            None
        }
        InvitationKind::PasswordReset => Some(
            state
                .store
                .user_by_username(&i.username)
                .await?
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::UnknownUser, "the account no longer exists")
                })?,
        ),
    };
    let hash = password::hash_async(req.password, state.password_cost())
        .await
        .map_err(ApiError::internal)?;
    let now = state.clock.now_unix();
    // Taken in one statement: of two racing requests, one wins and the other is refused.
    if !state.store.use_invitation(&i.id, now).await? {
        return Err(usable(&state, &secret).await.err().unwrap_or_else(unknown));
    }
    let user = match existing {
        None => {
            let created = state
                .store
                .create_user(NewUser {
                    id: UserId::random(),
                    username: i.username.clone(),
                    password_hash: hash,
                    is_admin: i.is_admin,
                    created_at: now,
                })
                .await?;
            let mut entry = Entry::new(Event::UserCreated, now)
                .target_user(created.id)
                .target(&i.id)
                .client(addr.0)
                .details(serde_json::json!({ "via": "invitation", "admin": i.is_admin }));
            if let Some(by) = i.created_by {
                entry = entry.actor(by, None);
            }
            audit::record(state.store.as_ref(), entry).await?;
            tracing::info!(user = %created.id, "account created from an invitation");
            created
        }
        Some(user) => {
            state.store.set_password_hash(user.id, &hash).await?;
            let sessions = state.store.delete_sessions_for_user(user.id).await?;
            state.hub.to_user(
                user.id,
                Delivery::Close(close_code::SESSION_ENDED, "password reset"),
            );
            let mut entry = Entry::new(Event::PasswordReset, now)
                .target_user(user.id)
                .target(&i.id)
                .client(addr.0)
                .details(serde_json::json!({ "via": "link", "sessions_ended": sessions }));
            if let Some(by) = i.created_by {
                entry = entry.actor(by, None);
            }
            audit::record(state.store.as_ref(), entry).await?;
            user
        }
    };
    Ok((StatusCode::CREATED, axum::Json(user_info(&user))))
}
