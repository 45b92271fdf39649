//! One file per HTTP resource.

pub mod admin;
pub mod auth;
pub mod blobs;
pub mod devices;
pub mod health;
pub mod key_packages;
pub mod keylog;
pub mod link;
pub mod messages;
pub mod openapi;
pub mod policy;
pub mod recovery;
pub mod rooms;
pub mod setup;
pub mod welcomes;
pub mod ws;

use ting_proto::Base64;
use ting_proto::api::{DeviceInfo, UserInfo};
use ting_store::{Device, User};

use crate::error::ApiResult;
use crate::state::AppState;

/// The API view of a stored user.
pub fn user_info(u: &User) -> UserInfo {
    UserInfo {
        id: u.id,
        username: u.username.clone(),
        is_admin: u.is_admin,
        created_at: u.created_at,
    }
}

/// The API view of a stored device; `certified` as the key log says (see [`device_infos`]).
pub fn device_info(d: &Device, certified: bool) -> DeviceInfo {
    DeviceInfo {
        id: d.id,
        user_id: d.user_id,
        name: d.name.clone(),
        signature_key: Base64(d.signature_key.clone()),
        created_at: d.created_at,
        revoked_at: d.revoked_at,
        certified,
    }
}

/// The API views of devices of the user `username`, each marked certified when the key log
/// holds an unrevoked certificate for it under the user's current master key.
pub async fn device_infos(
    state: &AppState,
    username: &str,
    devices: &[Device],
) -> ApiResult<Vec<DeviceInfo>> {
    let certified = state
        .keylog
        .certified(
            state.store.as_ref(),
            username,
            devices,
            state.clock.now_unix(),
        )
        .await?;
    Ok(devices
        .iter()
        .zip(certified)
        .map(|(d, c)| device_info(d, c && d.revoked_at.is_none()))
        .collect())
}

/// The API view of one device of the user `username` (see [`device_infos`]).
pub async fn device_info_of(state: &AppState, username: &str, d: &Device) -> ApiResult<DeviceInfo> {
    let mut infos = device_infos(state, username, std::slice::from_ref(d)).await?;
    Ok(infos.pop().expect("invariant: one device in, one info out"))
}
