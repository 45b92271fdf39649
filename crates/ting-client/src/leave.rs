//! Leaving a room. MLS does not let a member commit its own removal: the leaving device sends a
//! self-remove proposal and forgets the group at once; the remaining member with the lowest
//! leaf index commits the proposal, which rotates the keys so the leaver cannot read on.

use ting_e2ee::ProposalKind;
use ting_proto::ds::{MessageKind, SendMessage};
use ting_proto::{Base64, DeviceId, MessageId, RoomId};

use crate::device::{Device, group_id};
use crate::error::{Error, Result};

impl Device {
    /// Leaves the room: sends a self-remove proposal and deletes the group locally.
    pub async fn leave(&mut self, room: RoomId) -> Result<()> {
        self.sync_room(room).await?;
        let gid = group_id(room);
        let proposal = self.e2ee.leave_group(&gid)?;
        let epoch = self.e2ee.epoch(&gid)?;
        let msg = SendMessage {
            id: MessageId::random(),
            kind: MessageKind::Application,
            epoch,
            payload: Base64(proposal),
            welcome: None,
            added_devices: vec![],
            removed_devices: vec![],
        };
        self.api.send_message(room, &msg).await?;
        self.e2ee.delete_group(&gid)?;
        if let Some(local) = self.app.rooms.get_mut(&room) {
            local.removed = true;
        }
        self.save()
    }

    /// Notes a member's self-remove proposal; returns whether this device should commit it.
    pub(crate) fn note_leave(
        &mut self,
        room: RoomId,
        kind: &ProposalKind,
        sender_leaf: u32,
        sender_device: DeviceId,
    ) -> bool {
        let ProposalKind::Remove { member } = kind else {
            return false;
        };
        if member.leaf_index != sender_leaf {
            return false;
        }
        let Ok(members) = self.e2ee.members(&group_id(room)) else {
            return false;
        };
        let committer = members
            .iter()
            .filter(|m| m.leaf_index != sender_leaf)
            .map(|m| m.leaf_index)
            .min();
        let me = self.e2ee.own_leaf_index(&group_id(room)).ok();
        if committer.is_some() && committer == me {
            self.pending_leaves
                .entry(room)
                .or_default()
                .push(sender_device);
            return true;
        }
        false
    }

    /// Commits queued self-remove proposals of the room, if this device is the one to do it.
    pub(crate) async fn commit_pending_leaves(&mut self, room: RoomId) -> Result<()> {
        let Some(devices) = self.pending_leaves.remove(&room) else {
            return Ok(());
        };
        let removed = devices.clone();
        match self
            .commit(
                room,
                |e2ee, gid| Ok(e2ee.commit_pending_proposals(gid)?),
                |_| (Vec::new(), removed.clone()),
            )
            .await
        {
            Ok(_) => Ok(()),
            // Someone else committed it first, or it was already applied: nothing left to do.
            Err(Error::Api {
                code: ting_proto::ErrorCode::InvalidCommit,
                ..
            })
            | Err(Error::Crypto(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
