//! Incoming messages: Welcomes, then each room's log in `seq` order. Every application
//! message's MLS sender is checked against the device the server says sent it; a mismatch is
//! recorded as undecryptable with the reason, never shown as genuine. Nothing is acknowledged
//! before the state that reflects it is saved.

use ting_e2ee::{Body, Envelope, Received};
use ting_proto::ds::{Message, Welcome};
use ting_proto::{DeviceId, RoomId};

use crate::device::{Device, group_id, now_ms};
use crate::error::{Error, Result};
use crate::local::{HistoryEntry, HistoryItem, RoomLocal};

/// Page size when catching up.
const PAGE: u32 = 500;

/// Something the user should see.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A new history line in a room.
    Entry {
        /// Room.
        room: RoomId,
        /// The line.
        entry: Box<HistoryEntry>,
    },
    /// This device joined a room.
    Joined {
        /// Room.
        room: RoomId,
        /// Who added it.
        by: String,
    },
    /// This device was removed from a room.
    Removed {
        /// Room.
        room: RoomId,
    },
    /// An identity changed: a contact's master key (a reset, or someone presenting keys of
    /// their own), or this user's own identity was reset elsewhere.
    Identity {
        /// What changed.
        alert: ting_e2ee::IdentityAlert,
    },
    /// A new device of this user was linked (its certificate is in the key log) and added to
    /// this device's rooms.
    DeviceLinked {
        /// The device.
        device: DeviceId,
    },
    /// A device signed in to this user's account that no device of theirs linked (yet): it is
    /// not trusted and never added. Expected while the user links a new device; otherwise
    /// someone else — or someone with access to the server — logged in as this user.
    UnlinkedDevice {
        /// The device.
        device: DeviceId,
        /// Its name.
        name: String,
    },
    /// A member's message carried a key log position that does not fit the log this device
    /// saw: the server shows members different logs (a split view). Keys learned from the log
    /// must not be trusted until this is resolved.
    SplitView {
        /// Room.
        room: RoomId,
        /// The member whose view differs.
        sender: String,
        /// What did not fit.
        detail: String,
    },
    /// A member's device (added by someone else's commit, or found when joining) is certified
    /// but not shown by the key log: the server may be hiding it from auditors and witnesses.
    UnloggedMember {
        /// Room.
        room: RoomId,
        /// The member's user.
        user_id: String,
        /// The device id its certificate names.
        device_id: String,
        /// What the log says instead.
        detail: String,
    },
    /// Devices revoked by their user's master key were removed from a room.
    DevicesRevoked {
        /// Room.
        room: RoomId,
        /// The removed devices.
        removed: Vec<DeviceId>,
    },
}

/// Applies a decrypted envelope to a room's local state; returns the new history line, if any.
pub(crate) fn apply_envelope(
    local: &mut RoomLocal,
    seq: u64,
    sender: &str,
    device: DeviceId,
    at: i64,
    env: &Envelope,
) -> Option<HistoryEntry> {
    let id = env.id.to_hex();
    let item = match &env.body {
        Body::Text { body, reply_to } => HistoryItem::Text {
            id,
            body: body.clone(),
            reply_to: reply_to.as_ref().map(|r| r.to_hex()),
            edited: false,
            reactions: Default::default(),
        },
        Body::Edit { target, body } => {
            let target = target.to_hex();
            for e in local.history.iter_mut().filter(|e| e.sender == sender) {
                if let HistoryItem::Text {
                    id,
                    body: b,
                    edited,
                    ..
                } = &mut e.item
                    && *id == target
                {
                    *b = body.clone();
                    *edited = true;
                }
            }
            return None;
        }
        Body::Reaction {
            target,
            emoji,
            remove,
        } => {
            let target = target.to_hex();
            for e in local.history.iter_mut() {
                if let HistoryItem::Text { id, reactions, .. } = &mut e.item
                    && *id == target
                {
                    let who = reactions.entry(emoji.clone()).or_default();
                    if *remove {
                        who.remove(sender);
                    } else {
                        who.insert(sender.to_string());
                    }
                }
            }
            return None;
        }
        Body::Redaction { target, .. } => {
            let target = target.to_hex();
            for e in local.history.iter_mut().filter(|e| e.sender == sender) {
                if let HistoryItem::Text { id, body, .. } = &mut e.item
                    && *id == target
                {
                    *body = "(withdrawn)".into();
                }
            }
            return None;
        }
        Body::File(f) => HistoryItem::File {
            id,
            file: f.clone(),
        },
        Body::RoomName { name } => {
            local.name = Some(name.clone());
            HistoryItem::RoomName(name.clone())
        }
        Body::RoomTopic { topic } => {
            local.topic = Some(topic.clone());
            HistoryItem::RoomTopic(topic.clone())
        }
        Body::ReadReceipt { .. } => return None,
        _ => HistoryItem::Undecryptable {
            reason: "a message kind this client does not know (update the client)".into(),
        },
    };
    let entry = HistoryEntry {
        seq,
        sender: sender.to_string(),
        sender_device: device,
        at,
        item,
    };
    insert_ordered(local, entry.clone());
    Some(entry)
}

/// Inserts a history line at its `seq` position (own messages are recorded when sent, possibly
/// before earlier messages of others were fetched).
pub(crate) fn insert_ordered(local: &mut RoomLocal, entry: HistoryEntry) {
    let at = local.history.partition_point(|e| e.seq <= entry.seq);
    local.history.insert(at, entry);
}

impl Device {
    /// Catches up everything: pending Welcomes, then every room's new messages.
    pub async fn sync(&mut self) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        for w in self.api.welcomes().await?.welcomes {
            events.extend(self.handle_welcome(&w).await?);
        }
        let mut rooms: Vec<RoomId> = self
            .api
            .rooms()
            .await?
            .rooms
            .into_iter()
            .map(|r| r.id)
            .collect();
        // Rooms the server no longer lists for this device: fetch up to the removal.
        for r in self.rooms() {
            if !rooms.contains(&r) {
                rooms.push(r);
            }
        }
        for r in rooms {
            match self.sync_room(r).await {
                Ok(ev) => events.extend(ev),
                Err(Error::Api {
                    code: ting_proto::ErrorCode::UnknownRoom,
                    ..
                }) => {
                    if let Some(local) = self.app.rooms.get_mut(&r) {
                        local.removed = true;
                        events.push(Event::Removed { room: r });
                    }
                    self.save()?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(events)
    }

    /// Joins a room from a Welcome addressed to this device.
    pub async fn handle_welcome(&mut self, w: &Welcome) -> Result<Vec<Event>> {
        let gid = group_id(w.room_id);
        if self.e2ee.has_group(&gid) {
            self.api.delete_welcome(w.room_id).await.ok();
            return Ok(Vec::new());
        }
        let joined = self.e2ee.join(w.payload.as_slice())?;
        if joined.group_id != gid {
            self.e2ee.delete_group(&joined.group_id)?;
            return Err(Error::Verification(
                "a welcome for another group than its room".into(),
            ));
        }
        let local = self.app.rooms.entry(w.room_id).or_default();
        local.processed_seq = local.processed_seq.max(w.commit_seq);
        local.removed = false;
        self.save()?;
        self.api.delete_welcome(w.room_id).await?;
        self.replenish_key_packages().await?;
        let mut events = vec![Event::Joined {
            room: w.room_id,
            by: joined.added_by.user_id.clone(),
        }];
        for member in &joined.members {
            if let Err(detail) = self.check_member_in_log(member).await {
                events.push(Event::UnloggedMember {
                    room: w.room_id,
                    user_id: member.user_id.clone(),
                    device_id: member.device_id.clone(),
                    detail,
                });
            }
        }
        events.extend(
            joined
                .alerts
                .into_iter()
                .map(|alert| Event::Identity { alert }),
        );
        Ok(events)
    }

    /// Processes a room's messages after the local position, in order.
    pub async fn sync_room(&mut self, room: RoomId) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        loop {
            let after = self.app.rooms.get(&room).map_or(0, |r| r.processed_seq);
            let page = self.api.messages_after(room, after, PAGE).await?;
            let Some(last) = page.messages.last().map(|m| m.seq) else {
                break;
            };
            for m in &page.messages {
                events.extend(self.process_message(m).await?);
            }
            self.save()?;
            self.api.ack(room, last).await?;
            if !page.more {
                break;
            }
        }
        if self.pending_leaves.contains_key(&room) {
            Box::pin(self.commit_pending_leaves(room)).await?;
        }
        Ok(events)
    }

    /// Processes one delivered message (idempotent: already-processed seqs are skipped). The
    /// caller saves and acknowledges.
    pub async fn process_message(&mut self, m: &Message) -> Result<Vec<Event>> {
        let room = m.room_id;
        let gid = group_id(room);
        {
            let local = self.app.rooms.entry(room).or_default();
            if m.seq <= local.processed_seq {
                return Ok(Vec::new());
            }
            if local.own_seqs.remove(&m.seq) {
                local.processed_seq = m.seq;
                return Ok(Vec::new());
            }
        }
        let mut events = Vec::new();
        let outcome = if self.e2ee.has_group(&gid) {
            self.e2ee
                .handle_message(&gid, m.payload.as_slice(), now_ms())
                .map_err(Error::from)
        } else {
            Err(Error::Usage("not in this group".into()))
        };
        let undecryptable = |reason: String| HistoryEntry {
            seq: m.seq,
            sender: String::new(),
            sender_device: m.sender_device,
            at: m.created_at,
            item: HistoryItem::Undecryptable { reason },
        };
        match outcome {
            Ok(Received::Message(rm)) => match self
                .verify_sender(
                    room,
                    m.sender_device,
                    &rm.sender.user_id,
                    rm.sender.device_key.as_bytes(),
                )
                .await
            {
                Ok(()) => {
                    if let Some(position) = rm.log_position
                        && let Err(detail) = self.check_peer_position(position).await
                    {
                        events.push(Event::SplitView {
                            room,
                            sender: rm.sender.user_id.clone(),
                            detail,
                        });
                    }
                    let local = self.app.rooms.entry(room).or_default();
                    if let Some(entry) = apply_envelope(
                        local,
                        m.seq,
                        &rm.sender.user_id,
                        m.sender_device,
                        m.created_at,
                        &rm.envelope,
                    ) {
                        events.push(Event::Entry {
                            room,
                            entry: Box::new(entry),
                        });
                    }
                }
                Err(e) => {
                    let entry = undecryptable(e.to_string());
                    self.app
                        .rooms
                        .entry(room)
                        .or_default()
                        .history
                        .push(entry.clone());
                    events.push(Event::Entry {
                        room,
                        entry: Box::new(entry),
                    });
                }
            },
            Ok(Received::Commit(c)) => {
                let entry = HistoryEntry {
                    seq: m.seq,
                    sender: c.committer.user_id.clone(),
                    sender_device: m.sender_device,
                    at: m.created_at,
                    item: HistoryItem::Membership {
                        added: c.change.added.iter().map(|x| x.user_id.clone()).collect(),
                        removed: c.change.removed.iter().map(|x| x.user_id.clone()).collect(),
                    },
                };
                let local = self.app.rooms.entry(room).or_default();
                if !c.change.is_empty() {
                    insert_ordered(local, entry.clone());
                    events.push(Event::Entry {
                        room,
                        entry: Box::new(entry),
                    });
                }
                if c.removed_self {
                    local.removed = true;
                    events.push(Event::Removed { room });
                }
                events.extend(c.alerts.into_iter().map(|alert| Event::Identity { alert }));
                for member in &c.change.added {
                    if let Err(detail) = self.check_member_in_log(member).await {
                        events.push(Event::UnloggedMember {
                            room,
                            user_id: member.user_id.clone(),
                            device_id: member.device_id.clone(),
                            detail,
                        });
                    }
                }
            }
            Ok(Received::Proposal(p)) => {
                self.note_leave(room, &p.kind, p.sender.leaf_index, m.sender_device);
            }
            Ok(Received::OwnMessage { .. }) => {}
            Ok(_) => {}
            Err(e) => {
                let entry = undecryptable(e.to_string());
                self.app
                    .rooms
                    .entry(room)
                    .or_default()
                    .history
                    .push(entry.clone());
                events.push(Event::Entry {
                    room,
                    entry: Box::new(entry),
                });
            }
        }
        self.app.rooms.entry(room).or_default().processed_seq = m.seq;
        Ok(events)
    }

    /// Checks that the device the server names as sender is the one whose key signed the MLS
    /// message, and belongs to the user the MLS credential names.
    async fn verify_sender(
        &mut self,
        room: RoomId,
        device: DeviceId,
        mls_user: &str,
        mls_key: &[u8],
    ) -> Result<()> {
        if !self.device_keys.contains_key(&device)
            && let Ok(members) = self.api.members(room).await
        {
            for mm in members.members {
                self.device_keys
                    .insert(mm.device_id, (mm.username, mm.signature_key.into_inner()));
            }
        }
        if !self.device_keys.contains_key(&device)
            && let Ok(list) = self.api.user_devices(mls_user).await
        {
            for d in list.devices {
                self.device_keys
                    .insert(d.id, (mls_user.to_string(), d.signature_key.into_inner()));
            }
        }
        match self.device_keys.get(&device) {
            Some((user, key)) if user == mls_user && key.as_slice() == mls_key => Ok(()),
            Some(_) => Err(Error::Verification(
                "the server names a different sender than the one who signed this message".into(),
            )),
            None => Err(Error::Verification(
                "the sending device is unknown (revoked?); its message cannot be verified".into(),
            )),
        }
    }
}
