//! A connected device's delivery queue: per room, messages go out in `seq` order, at least
//! once. On connect the queue replays everything after the device's acknowledged cursor; live
//! messages from the hub are sent directly when they are the next expected one, and a gap (a
//! message fanned out while an earlier one was still on its way, or missed while the queue was
//! full) is filled from the store first. Clients acknowledge; unacknowledged messages are sent
//! again after a reconnect.

use std::collections::HashMap;
use std::sync::Arc;

use ting_proto::ws::ServerEvent;
use ting_proto::{DeviceId, RoomId};
use ting_store::{PendingWelcome, Store, StoredMessage};

use crate::routes::messages::message_view;
use crate::routes::welcomes::welcome_view;

/// Messages fetched per store round trip while catching up.
const PAGE: u32 = 500;

/// Delivery state of one connection.
#[derive(Debug)]
pub struct DeviceQueue {
    device: DeviceId,
    /// Highest seq sent per room.
    sent: HashMap<RoomId, u64>,
}

impl DeviceQueue {
    /// An empty queue for `device`.
    pub fn new(device: DeviceId) -> Self {
        Self {
            device,
            sent: HashMap::new(),
        }
    }

    /// Everything the device has not acknowledged: pending Welcomes, then each room's messages
    /// after its cursor.
    pub async fn backlog(&mut self, store: &dyn Store) -> ting_store::Result<Vec<ServerEvent>> {
        let mut out: Vec<ServerEvent> = store
            .pending_welcomes(self.device)
            .await?
            .iter()
            .map(|w| ServerEvent::Welcome {
                welcome: welcome_view(w),
            })
            .collect();
        for (room, membership) in store.rooms_for_device(self.device).await? {
            let cursor = store
                .cursor(self.device, room.id)
                .await?
                .max(membership.added_seq);
            self.sent.insert(room.id, cursor);
            self.catch_up(store, room.id, u64::MAX, &mut out).await?;
        }
        Ok(out)
    }

    /// Events to send for a live message: nothing if already sent, the message if it is next,
    /// or the gap before it from the store plus the message.
    pub async fn on_message(
        &mut self,
        store: &dyn Store,
        msg: &Arc<StoredMessage>,
    ) -> ting_store::Result<Vec<ServerEvent>> {
        let room = msg.room_id;
        let sent = match self.sent.get(&room) {
            Some(s) => *s,
            None => {
                // A room joined while connected: start where the membership starts.
                let Some(m) = store.membership(room, self.device).await? else {
                    return Ok(Vec::new());
                };
                let start = store.cursor(self.device, room).await?.max(m.added_seq);
                self.sent.insert(room, start);
                start
            }
        };
        let mut out = Vec::new();
        if msg.seq <= sent {
            return Ok(out);
        }
        if msg.seq == sent + 1 {
            self.sent.insert(room, msg.seq);
            out.push(ServerEvent::Message {
                message: message_view(msg),
            });
            return Ok(out);
        }
        self.catch_up(store, room, msg.seq, &mut out).await?;
        Ok(out)
    }

    /// The event for a Welcome; messages of that room start after the adding commit.
    pub fn on_welcome(&mut self, w: &PendingWelcome) -> ServerEvent {
        let entry = self.sent.entry(w.room_id).or_insert(w.commit_seq);
        *entry = (*entry).max(w.commit_seq);
        ServerEvent::Welcome {
            welcome: welcome_view(w),
        }
    }

    /// Whether the device has (had) the room in this connection.
    pub fn knows(&self, room: RoomId) -> bool {
        self.sent.contains_key(&room)
    }

    async fn catch_up(
        &mut self,
        store: &dyn Store,
        room: RoomId,
        upto: u64,
        out: &mut Vec<ServerEvent>,
    ) -> ting_store::Result<()> {
        loop {
            let after = self.sent.get(&room).copied().unwrap_or(0);
            if after >= upto {
                return Ok(());
            }
            let page = store.messages_after(room, self.device, after, PAGE).await?;
            let Some(last) = page.last().map(|m| m.seq) else {
                return Ok(());
            };
            for m in page.iter().filter(|m| m.seq <= upto) {
                out.push(ServerEvent::Message {
                    message: message_view(m),
                });
            }
            self.sent.insert(room, last.min(upto));
            if page.len() < PAGE as usize {
                return Ok(());
            }
        }
    }
}
