//! One file per HTTP resource.

pub mod auth;
pub mod blobs;
pub mod devices;
pub mod health;
pub mod key_packages;
pub mod messages;
pub mod openapi;
pub mod policy;
pub mod rooms;
pub mod setup;
pub mod welcomes;
pub mod ws;

use ting_proto::Base64;
use ting_proto::api::{DeviceInfo, UserInfo};
use ting_store::{Device, User};

/// The API view of a stored user.
pub fn user_info(u: &User) -> UserInfo {
    UserInfo {
        id: u.id,
        username: u.username.clone(),
        is_admin: u.is_admin,
        created_at: u.created_at,
    }
}

/// The API view of a stored device.
pub fn device_info(d: &Device) -> DeviceInfo {
    DeviceInfo {
        id: d.id,
        user_id: d.user_id,
        name: d.name.clone(),
        signature_key: Base64(d.signature_key.clone()),
        created_at: d.created_at,
        revoked_at: d.revoked_at,
    }
}
