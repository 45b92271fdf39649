//! The hub owns the set of live WebSocket connections and routes events to them. It is one task
//! fed through a channel: handlers and connections only hold a cheap [`Hub`] handle.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ting_proto::ws::ServerEvent;
use ting_proto::{DeviceId, UserId};
use ting_store::{PendingWelcome, StoredMessage};
use tokio::sync::mpsc;

/// What a connection receives from the hub.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// Send this event to the client.
    Event(ServerEvent),
    /// Close the connection with this WebSocket close code and reason.
    Close(u16, &'static str),
    /// A new message in a room the device may read; the connection sends it in order.
    Message(Arc<StoredMessage>),
    /// A Welcome for this device.
    Welcome(Arc<PendingWelcome>),
}

/// Identifies one connection.
pub type ConnId = u64;

/// Per-connection queue length; a client that falls this far behind is disconnected.
pub const CONNECTION_QUEUE: usize = 256;

enum Command {
    Register {
        conn: ConnId,
        user: UserId,
        device: DeviceId,
        session: Vec<u8>,
        tx: mpsc::Sender<Delivery>,
    },
    Unregister {
        conn: ConnId,
    },
    ToUser {
        user: UserId,
        delivery: Delivery,
    },
    ToDevice {
        device: DeviceId,
        delivery: Delivery,
    },
    ToDevices {
        devices: HashSet<DeviceId>,
        delivery: Delivery,
    },
    ToSession {
        session: Vec<u8>,
        delivery: Delivery,
    },
    Count {
        reply: tokio::sync::oneshot::Sender<(usize, usize)>,
    },
}

struct Conn {
    user: UserId,
    device: DeviceId,
    session: Vec<u8>,
    tx: mpsc::Sender<Delivery>,
}

/// Handle to the hub task.
#[derive(Clone, Debug)]
pub struct Hub {
    tx: mpsc::UnboundedSender<Command>,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Hub {
    /// Starts the hub task.
    pub fn spawn() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx));
        Self {
            tx,
            next: Default::default(),
        }
    }

    /// Registers a connection; returns its id and the receiving end of its queue.
    pub fn register(
        &self,
        user: UserId,
        device: DeviceId,
        session: Vec<u8>,
    ) -> (ConnId, mpsc::Receiver<Delivery>) {
        let conn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(CONNECTION_QUEUE);
        let _ = self.tx.send(Command::Register {
            conn,
            user,
            device,
            session,
            tx,
        });
        (conn, rx)
    }

    /// Removes a connection.
    pub fn unregister(&self, conn: ConnId) {
        let _ = self.tx.send(Command::Unregister { conn });
    }

    /// Delivers to every connection of a user.
    pub fn to_user(&self, user: UserId, delivery: Delivery) {
        let _ = self.tx.send(Command::ToUser { user, delivery });
    }

    /// Delivers to every connection of a device.
    pub fn to_device(&self, device: DeviceId, delivery: Delivery) {
        let _ = self.tx.send(Command::ToDevice { device, delivery });
    }

    /// Delivers to every connection of any of these devices.
    pub fn to_devices(&self, devices: HashSet<DeviceId>, delivery: Delivery) {
        let _ = self.tx.send(Command::ToDevices { devices, delivery });
    }

    /// Delivers to every connection authenticated with this session (token hash).
    pub fn to_session(&self, session: Vec<u8>, delivery: Delivery) {
        let _ = self.tx.send(Command::ToSession { session, delivery });
    }

    /// Number of live connections.
    pub async fn connection_count(&self) -> usize {
        self.counts().await.0
    }

    /// Live connections, and distinct devices among them.
    pub async fn counts(&self) -> (usize, usize) {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let _ = self.tx.send(Command::Count { reply });
        rx.await.unwrap_or((0, 0))
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Command>) {
    let mut conns: HashMap<ConnId, Conn> = HashMap::new();
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Register {
                conn,
                user,
                device,
                session,
                tx,
            } => {
                conns.insert(
                    conn,
                    Conn {
                        user,
                        device,
                        session,
                        tx,
                    },
                );
            }
            Command::Unregister { conn } => {
                conns.remove(&conn);
            }
            Command::ToDevices { devices, delivery } => {
                deliver(&mut conns, |c| devices.contains(&c.device), &delivery)
            }
            Command::ToUser { user, delivery } => {
                deliver(&mut conns, |c| c.user == user, &delivery)
            }
            Command::ToDevice { device, delivery } => {
                deliver(&mut conns, |c| c.device == device, &delivery)
            }
            Command::ToSession { session, delivery } => {
                deliver(&mut conns, |c| c.session == session, &delivery)
            }
            Command::Count { reply } => {
                let devices: HashSet<DeviceId> = conns.values().map(|c| c.device).collect();
                let _ = reply.send((conns.len(), devices.len()));
            }
        }
    }
}

fn deliver(conns: &mut HashMap<ConnId, Conn>, select: impl Fn(&Conn) -> bool, delivery: &Delivery) {
    let mut dead = Vec::new();
    for (id, c) in conns.iter().filter(|(_, c)| select(c)) {
        if c.tx.try_send(delivery.clone()).is_err() {
            // Full (slow consumer) or closed: drop it; the client reconnects and catches up.
            dead.push(*id);
        }
    }
    for id in dead {
        conns.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn routes_by_user_device_and_session() {
        let hub = Hub::spawn();
        let (u1, u2) = (UserId::random(), UserId::random());
        let (d1, d2, d3) = (DeviceId::random(), DeviceId::random(), DeviceId::random());
        let (_, mut a) = hub.register(u1, d1, vec![1]);
        let (_, mut b) = hub.register(u1, d2, vec![2]);
        let (c3, mut c) = hub.register(u2, d3, vec![3]);
        hub.to_user(u1, Delivery::Event(ServerEvent::Pong));
        assert_eq!(a.recv().await, Some(Delivery::Event(ServerEvent::Pong)));
        assert_eq!(b.recv().await, Some(Delivery::Event(ServerEvent::Pong)));
        hub.to_device(d2, Delivery::Close(1000, "bye"));
        assert_eq!(b.recv().await, Some(Delivery::Close(1000, "bye")));
        hub.to_session(vec![3], Delivery::Close(4003, "ended"));
        assert_eq!(c.recv().await, Some(Delivery::Close(4003, "ended")));
        assert_eq!(hub.connection_count().await, 3);
        hub.unregister(c3);
        assert_eq!(hub.connection_count().await, 2);
        assert!(a.try_recv().is_err());
    }
}
