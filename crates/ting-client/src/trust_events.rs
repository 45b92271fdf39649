//! What this device does when the key log or the device list changes: own new devices are
//! added to rooms only once their certificate is in the log; a device the server registers
//! without one is reported; identity changes of contacts and of the user are alerts;
//! revoked devices are removed from every room by commit.

use std::collections::BTreeSet;

use ting_e2ee::ting_trust::Entry;
use ting_proto::api::{DeviceInfo, KeyLogKind};
use ting_proto::{DeviceId, RoomId};

use crate::device::{Device, group_id};
use crate::error::{Error, Result};
use crate::sync::Event;

impl Device {
    /// A device was registered for this user. It is trusted only once a certificate for it is
    /// in the key log; until then the user is told, since an unexpected one means someone with
    /// access to the server logged in as them.
    pub(crate) async fn on_device_added(&mut self, device: &DeviceInfo) -> Result<Vec<Event>> {
        if Some(device.id) == self.app.device_id {
            return Ok(Vec::new());
        }
        let me = self.app.username.clone();
        let keys = self.user_keys(&me).await?;
        if keys.is_device_valid(
            &Self::cert_device_id(device.id),
            device.signature_key.as_slice(),
        ) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::UnlinkedDevice {
            device: device.id,
            name: device.name.clone(),
        }])
    }

    /// A record about `username` was appended to the key log at `index`.
    pub(crate) async fn on_key_log_appended(
        &mut self,
        username: &str,
        index: u64,
        kind: KeyLogKind,
    ) -> Result<Vec<Event>> {
        let (keys, records) = self.user_log(username).await?;
        let mut events = Vec::new();
        let me = self.app.username.clone();
        if let Some(master) = &keys.master_key
            && (username == me || self.e2ee.pin(username).is_some())
            && let Some(alert) = self.e2ee.observe_identity(username, master)
        {
            events.push(Event::Identity { alert });
        }
        match kind {
            KeyLogKind::Device if username == me && events.is_empty() => {
                let Some((_, record)) = records.iter().find(|(i, _)| *i == index) else {
                    return Ok(events);
                };
                let Ok(Entry::Device(cert)) = Entry::decode(record) else {
                    return Ok(events);
                };
                let device: DeviceId = std::str::from_utf8(&cert.body.device_id)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| Error::Verification("a certificate's device id".into()))?;
                if Some(device) != self.app.device_id {
                    for room in self.rooms() {
                        if let Err(e) = self.add_own_devices(room).await {
                            tracing::warn!(error = %e, "could not add the linked device to a room");
                        }
                    }
                    events.push(Event::DeviceLinked { device });
                }
            }
            KeyLogKind::Revocation => {
                for rev in keys.revoked.values() {
                    self.e2ee.note_revocation(&rev.encode())?;
                }
                for room in self.rooms() {
                    match self.remove_revoked(room).await {
                        Ok(removed) if !removed.is_empty() => {
                            events.push(Event::DevicesRevoked { room, removed })
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "could not remove a revoked device"),
                    }
                }
            }
            _ => {}
        }
        Ok(events)
    }

    /// Removes every member of the room whose device was revoked by its user's master key.
    pub async fn remove_revoked(&mut self, room: RoomId) -> Result<Vec<DeviceId>> {
        self.sync_room(room).await?;
        let gid = group_id(room);
        let revoked = self.e2ee.revoked_members(&gid)?;
        if revoked.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<DeviceId> = revoked
            .iter()
            .filter_map(|m| m.device_id.parse().ok())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let effects = ids.clone();
        self.commit(
            room,
            |e2ee, gid| {
                let leaves: Vec<u32> = e2ee
                    .revoked_members(gid)?
                    .iter()
                    .map(|m| m.leaf_index)
                    .collect();
                Ok(e2ee.remove_members(gid, &leaves)?)
            },
            |_| (Vec::new(), effects.clone()),
        )
        .await?;
        Ok(ids)
    }

    /// Revokes one of this user's own devices: publishes the master-key-signed revocation in
    /// the key log and removes the device from every room. Needs the master key.
    pub async fn revoke_own_device(&mut self, device: DeviceId) -> Result<usize> {
        let me = self.app.username.clone();
        let keys = self.user_keys(&me).await?;
        let cert = keys
            .devices
            .get(&Self::cert_device_id(device))
            .ok_or_else(|| Error::Usage(format!("{device} is not a certified device of {me}")))?;
        let rev = self
            .e2ee
            .revoke_device(&cert.encode(), crate::device::now_ms())?;
        self.save()?;
        self.api
            .append_key_log(Entry::Revocation(rev).encode())
            .await?;
        let mut rooms = 0;
        for room in self.rooms() {
            if !self.remove_revoked(room).await?.is_empty() {
                rooms += 1;
            }
        }
        Ok(rooms)
    }
}
