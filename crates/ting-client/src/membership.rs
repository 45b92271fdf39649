//! Membership: inviting users (all their devices), removing users or devices, adding one's own
//! new devices to one's rooms, and listing members with safety numbers. A device is added only
//! if its KeyPackage carries a certificate from its user's master identity key — the key this
//! device pinned for that user — and that certificate is in the key log (checked against a
//! consistent checkpoint). A device the server registers on its own (a reset password, a
//! database edit) has no such certificate and is never added (R6).

use std::collections::HashSet;

use ting_e2ee::{Body, Envelope};
use ting_proto::{DeviceId, RoomId};

use crate::device::{Device, group_id};
use crate::error::{Error, Result};

/// A member of a room as this device sees it.
#[derive(Clone, Debug)]
pub struct MemberView {
    /// Username (MLS identity).
    pub username: String,
    /// Number of devices in the group.
    pub devices: usize,
    /// Safety number to compare with that user (absent for oneself).
    pub safety_number: Option<String>,
    /// Own fingerprint digits of that user.
    pub fingerprint: String,
    /// Whether this device marked that user's identity key verified (`verify`).
    pub verified: bool,
}

impl Device {
    /// Adds every active device of `username` that is not yet in the room. Returns the devices
    /// added. The room's name and topic are re-sent so new members see them.
    pub async fn invite(&mut self, room: RoomId, username: &str) -> Result<Vec<DeviceId>> {
        self.add_devices(room, username, None).await
    }

    /// Adds this user's own devices that are missing from the room (a new phone, say).
    pub async fn add_own_devices(&mut self, room: RoomId) -> Result<Vec<DeviceId>> {
        let me = self.app.username.clone();
        self.add_devices(room, &me, None).await
    }

    async fn add_devices(
        &mut self,
        room: RoomId,
        username: &str,
        only: Option<DeviceId>,
    ) -> Result<Vec<DeviceId>> {
        self.sync_room(room).await?;
        let listed = self.api.user_devices(username).await?;
        let in_room: HashSet<DeviceId> = self
            .api
            .members(room)
            .await?
            .members
            .into_iter()
            .map(|m| m.device_id)
            .collect();
        let wanted: Vec<_> = listed
            .devices
            .iter()
            .filter(|d| !in_room.contains(&d.id) && only.is_none_or(|o| o == d.id))
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.user_keys(username).await?;
        for rev in keys.revoked.values() {
            self.e2ee.note_revocation(&rev.encode())?;
        }
        if let Some(master) = &keys.master_key
            && let Some(alert) = self.e2ee.observe_identity(username, master)
        {
            tracing::warn!(?alert, "identity change seen in the key log");
        }
        let mut kps = Vec::new();
        let mut ids = Vec::new();
        let mut refused = Vec::new();
        for d in &wanted {
            let claimed = self.api.claim_key_packages(username, Some(d.id)).await?;
            let Some(c) = claimed
                .key_packages
                .into_iter()
                .find(|c| c.device_id == d.id)
            else {
                continue;
            };
            let info = match self.e2ee.inspect_key_package(c.key_package.as_slice()) {
                Ok(info) => info,
                // The user's key in the log changed and nobody acknowledged it: say so.
                Err(e @ ting_e2ee::Error::IdentityChanged { .. })
                    if self.e2ee.pin(username).is_some_and(|p| p.change.is_some()) =>
                {
                    return Err(e.into());
                }
                Err(e) => {
                    refused.push(format!("{}: {e}", d.id));
                    continue;
                }
            };
            let cert_id = Self::cert_device_id(d.id);
            if info.user_id != username
                || info.device_id != d.id.to_string()
                || info.device_key.as_bytes() != d.signature_key.as_slice()
                || !keys.is_device_valid(&cert_id, info.device_key.as_bytes())
            {
                refused.push(format!(
                    "{}: its key package is not vouched for by a certificate in the key log",
                    d.id
                ));
                continue;
            }
            kps.push(c.key_package.into_inner());
            ids.push(d.id);
        }
        for why in &refused {
            tracing::warn!(user = username, "device not added: {why}");
        }
        if kps.is_empty() && username == self.app.username {
            return Ok(Vec::new()); // no new trusted device of this user
        }
        if kps.is_empty() && !refused.is_empty() {
            return Err(Error::Verification(format!(
                "none of {username}'s devices is certified by their identity key: {}",
                refused.join("; ")
            )));
        }
        if kps.is_empty() {
            return Err(Error::Usage(format!(
                "none of {username}'s devices has a key package available; they must come online once"
            )));
        }
        let added = ids.clone();
        self.commit(
            room,
            |e2ee, gid| Ok(e2ee.add_members(gid, &kps)?),
            |_| (added.clone(), Vec::new()),
        )
        .await?;
        let local = self.app.rooms.get(&room).cloned().unwrap_or_default();
        if let Some(name) = local.name {
            self.send_envelope(room, Envelope::new(Body::RoomName { name })?)
                .await?;
        }
        if let Some(topic) = local.topic {
            self.send_envelope(room, Envelope::new(Body::RoomTopic { topic })?)
                .await?;
        }
        Ok(ids)
    }

    /// Removes every device of `username` from the room; they cannot read anything sent later.
    pub async fn remove_user(&mut self, room: RoomId, username: &str) -> Result<Vec<DeviceId>> {
        self.sync_room(room).await?;
        let members = self.api.members(room).await?.members;
        let gid = group_id(room);
        let removed: Vec<DeviceId> = members
            .iter()
            .filter(|m| m.username == username)
            .map(|m| m.device_id)
            .collect();
        if removed.is_empty()
            && !self
                .e2ee
                .members(&gid)?
                .iter()
                .any(|m| m.user_id == username)
        {
            return Err(Error::Usage(format!("{username} is not in this room")));
        }
        let user = username.to_string();
        let ids = removed.clone();
        self.commit(
            room,
            |e2ee, gid| Ok(e2ee.remove_user(gid, &user)?),
            |_| (Vec::new(), ids.clone()),
        )
        .await?;
        Ok(removed)
    }

    /// Removes one device from the room.
    pub async fn remove_device(&mut self, room: RoomId, device: DeviceId) -> Result<()> {
        self.sync_room(room).await?;
        let members = self.api.members(room).await?.members;
        let member = members
            .iter()
            .find(|m| m.device_id == device)
            .ok_or_else(|| Error::Usage("that device is not in this room".into()))?;
        let gid = group_id(room);
        let leaf = self
            .e2ee
            .members(&gid)?
            .into_iter()
            .find(|m| m.device_key.as_bytes() == member.signature_key.as_slice())
            .ok_or_else(|| {
                Error::Verification("the server lists a device the group does not contain".into())
            })?
            .leaf_index;
        self.commit(
            room,
            |e2ee, gid| Ok(e2ee.remove_members(gid, &[leaf])?),
            |_| (Vec::new(), vec![device]),
        )
        .await?;
        Ok(())
    }

    /// Members as the MLS group proves them, with safety numbers.
    pub fn members(&self, room: RoomId) -> Result<Vec<MemberView>> {
        let gid = group_id(room);
        let mut users: Vec<String> = self
            .e2ee
            .members(&gid)?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        users.sort();
        users.dedup();
        let all = self.e2ee.members(&gid)?;
        users
            .into_iter()
            .map(|u| {
                let fingerprint = self.e2ee.user_fingerprint(&gid, &u)?.digits();
                let safety_number = if u == self.app.username {
                    None
                } else {
                    Some(self.e2ee.safety_number(&gid, &u)?.display())
                };
                Ok(MemberView {
                    verified: self.e2ee.pin(&u).is_some_and(|p| p.verified),
                    devices: all.iter().filter(|m| m.user_id == u).count(),
                    username: u,
                    safety_number,
                    fingerprint,
                })
            })
            .collect()
    }
}
