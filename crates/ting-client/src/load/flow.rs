//! The load phase of one device: send numbered, timestamped messages on a fixed schedule while
//! receiving, decrypting, checking and acknowledging everyone else's.
//!
//! Each message's text is `"<sender>:<n>:<sent unix µs>:"` padded with `x` to the configured
//! length. In [`Mode::E2ee`] it travels as an MLS application message (the real path: encrypt,
//! POST, fan-out, decrypt); in [`Mode::Plain`] the same text goes unencrypted, zero-padded to
//! the size of the MLS ciphertext, so the server and the network see the same bytes per message
//! but nobody does cryptography — the baseline that isolates the server's share.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use ting_e2ee::{Body, Envelope, Received};
use ting_proto::ds::{Message, MessageAccepted, MessageKind, SendMessage};
use ting_proto::ws::{ClientMessage, ServerEvent};
use ting_proto::{Base64, MessageId, RoomId};
use tokio::time::{Instant, sleep_until};

use crate::error::{Error, Result};
use crate::load::setup::{LoadDevice, Ws, group_id, next_event, now_ms, send_frame};
use crate::load::stats::{Delivery, Integrity, Latencies, OrderCheck};

/// What travels in a load message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Unencrypted text of the ciphertext's size: the server-and-transport baseline.
    Plain,
    /// MLS-encrypted envelopes, decrypted by every receiver.
    E2ee,
}

/// When a receiver acknowledges deliveries over its WebSocket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AckMode {
    /// After every message, as the SDK's follow mode does.
    Each,
    /// Once the stream has nothing more ready: one ack covers everything processed so far.
    Coalesce,
}

/// The schedule all devices share in one phase.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) mode: Mode,
    pub(crate) ack: AckMode,
    /// Messages each device sends.
    pub(crate) messages: u64,
    /// Time between two sends of one device.
    pub(crate) interval: Duration,
    /// Number of devices (to spread first sends over one interval).
    pub(crate) devices: u32,
    /// Length of each message's text.
    pub(crate) text_bytes: usize,
    /// Payload length in plain mode (the size of an MLS ciphertext of such a text).
    pub(crate) plain_len: usize,
    pub(crate) start: Instant,
    pub(crate) deadline: Instant,
}

/// What one device measured.
#[derive(Debug, Default)]
pub(crate) struct DeviceOutcome {
    pub(crate) latencies: Latencies,
    pub(crate) integrity: Integrity,
    pub(crate) sent: u64,
    pub(crate) send_errors: u64,
    pub(crate) decrypt_errors: u64,
    /// Room deliveries whose `seq` was not the previous one plus one.
    pub(crate) seq_anomalies: u64,
    /// Time from the phase start until this device had sent and received everything.
    pub(crate) finished_after: Duration,
    pub(crate) timed_out: bool,
    pub(crate) error: Option<String>,
}

type Pending = Pin<Box<dyn Future<Output = Result<MessageAccepted>> + Send>>;

/// The text of message `n` of `sender`.
pub(crate) fn marker_text(sender: u32, n: u64, sent_us: u64, len: usize) -> String {
    let mut t = format!("{sender}:{n}:{sent_us}:");
    if t.len() < len {
        t.extend(std::iter::repeat_n('x', len - t.len()));
    }
    t
}

/// Sender, number and send time (µs) from a message text.
pub(crate) fn parse_marker(text: &str) -> Option<(u32, u64, u64)> {
    let mut it = text.splitn(4, ':');
    let sender = it.next()?.parse().ok()?;
    let n = it.next()?.parse().ok()?;
    let sent_us = it.next()?.parse().ok()?;
    it.next()?;
    Some((sender, n, sent_us))
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Runs one device through the phase; gives the device back with what it measured.
pub(crate) async fn run_device(
    mut dev: LoadDevice,
    plan: Arc<Plan>,
) -> (LoadDevice, DeviceOutcome) {
    let me = dev.index;
    let mut out = DeviceOutcome::default();
    let mut rx = Receiver {
        check: OrderCheck::new(
            dev.peers.iter().map(|(_, i)| *i).filter(|i| *i != me),
            plan.messages,
        ),
        own_echoes: 0,
    };
    // Whatever happens, everything expected and not delivered counts as missing.
    if let Err(e) = drive(&mut dev, &plan, &mut rx, &mut out).await {
        out.error = Some(e.to_string());
    }
    out.integrity = rx.check.finish();
    out.finished_after = plan.start.elapsed();
    (dev, out)
}

struct Receiver {
    check: OrderCheck,
    own_echoes: u64,
}

async fn drive(
    dev: &mut LoadDevice,
    plan: &Plan,
    rx: &mut Receiver,
    out: &mut DeviceOutcome,
) -> Result<()> {
    let room = dev
        .room
        .ok_or_else(|| Error::Usage("device has no room".into()))?;
    let me = dev.index;
    let offset = plan
        .interval
        .mul_f64(f64::from(me % plan.devices.max(1)) / f64::from(plan.devices.max(1)));
    let mut next_send = plan.start + offset;
    let mut pending: Option<Pending> = None;
    let mut ack_due: Option<(RoomId, u64)> = None;
    loop {
        let Some(ws) = dev.ws.as_mut() else {
            return Err(Error::Usage("not connected".into()));
        };
        if out.sent == plan.messages
            && pending.is_none()
            && rx.check.complete()
            && rx.own_echoes >= plan.messages
        {
            return flush_ack(ws, &mut ack_due).await;
        }
        let can_send = out.sent < plan.messages && pending.is_none();
        tokio::select! {
            biased;
            _ = sleep_until(plan.deadline) => {
                out.timed_out = true;
                return flush_ack(ws, &mut ack_due).await;
            }
            res = async {
                match pending.as_mut() {
                    Some(p) => p.await,
                    None => std::future::pending().await,
                }
            }, if pending.is_some() => {
                pending = None;
                if let Err(e) = res {
                    out.send_errors += 1;
                    out.error.get_or_insert_with(|| e.to_string());
                }
            }
            _ = sleep_until(next_send), if can_send => {
                let msg = build(dev, plan, room, out.sent)?;
                let api = dev.api.clone();
                pending = Some(Box::pin(async move { api.send_message(room, &msg).await }));
                out.sent += 1;
                next_send += plan.interval;
            }
            ev = next_event(ws) => {
                if let ServerEvent::Message { message } = ev? {
                    receive(dev, plan, &message, rx, out);
                    ack_due = Some((message.room_id, message.seq));
                    if plan.ack == AckMode::Each
                        && let Some(ws) = dev.ws.as_mut()
                    {
                        flush_ack(ws, &mut ack_due).await?;
                    }
                }
            }
            _ = std::future::ready(()), if ack_due.is_some() => {
                flush_ack(ws, &mut ack_due).await?;
            }
        }
    }
}

/// Sends the due acknowledgement, if any.
async fn flush_ack(ws: &mut Ws, due: &mut Option<(RoomId, u64)>) -> Result<()> {
    match due.take() {
        Some((room_id, seq)) => send_frame(ws, &ClientMessage::Ack { room_id, seq }).await,
        None => Ok(()),
    }
}

/// Builds message `n` of this device.
fn build(dev: &mut LoadDevice, plan: &Plan, room: RoomId, n: u64) -> Result<SendMessage> {
    let text = marker_text(dev.index, n, now_us(), plan.text_bytes);
    let (epoch, payload) = match plan.mode {
        Mode::E2ee => {
            let gid = group_id(room)?;
            let payload = dev.e2ee.encrypt_message(&gid, &Envelope::text(text)?)?;
            (dev.e2ee.epoch(&gid)?, payload)
        }
        Mode::Plain => {
            let mut payload = text.into_bytes();
            payload.resize(plan.plain_len.max(payload.len()), 0);
            (dev.e2ee.epoch(&group_id(room)?)?, payload)
        }
    };
    Ok(SendMessage {
        id: MessageId::random(),
        kind: MessageKind::Application,
        epoch,
        payload: Base64(payload),
        welcome: None,
        added_devices: Vec::new(),
        removed_devices: Vec::new(),
    })
}

/// Checks, decrypts and records one delivered message.
fn receive(
    dev: &mut LoadDevice,
    plan: &Plan,
    m: &Message,
    rx: &mut Receiver,
    out: &mut DeviceOutcome,
) {
    if dev.room == Some(m.room_id) {
        if m.seq != dev.room_seq + 1 {
            out.seq_anomalies += 1;
        }
        dev.room_seq = dev.room_seq.max(m.seq);
    } else {
        rx.check.record_unexpected();
        return;
    }
    if m.sender_device == dev.device_id {
        // Our own message (or the room's creating commit) echoed back.
        if m.kind == MessageKind::Application {
            rx.own_echoes += 1;
        }
        return;
    }
    if m.kind != MessageKind::Application {
        rx.check.record_unexpected();
        return;
    }
    let text = match plan.mode {
        Mode::Plain => {
            let bytes = m.payload.as_slice();
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            std::str::from_utf8(&bytes[..end]).ok().map(str::to_string)
        }
        Mode::E2ee => decrypt(dev, m),
    };
    let Some(text) = text else {
        out.decrypt_errors += 1;
        rx.check.record_unexpected();
        return;
    };
    let received_us = now_us();
    let Some((sender, n, sent_us)) = parse_marker(&text) else {
        rx.check.record_unexpected();
        return;
    };
    // The number in the (authenticated) text must belong to the device the server names.
    if !dev
        .peers
        .iter()
        .any(|(d, i)| *d == m.sender_device && *i == sender)
    {
        rx.check.record_unexpected();
        return;
    }
    match rx.check.record(sender, n) {
        Delivery::InOrder | Delivery::OutOfOrder => {
            out.latencies.record(received_us.saturating_sub(sent_us))
        }
        Delivery::Duplicate | Delivery::Unexpected => {}
    }
}

fn decrypt(dev: &mut LoadDevice, m: &Message) -> Option<String> {
    let gid = group_id(m.room_id).ok()?;
    match dev
        .e2ee
        .handle_message(&gid, m.payload.as_slice(), now_ms())
    {
        Ok(Received::Message(rm)) => match rm.envelope.body {
            Body::Text { body, .. } => Some(body),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trip() {
        let t = marker_text(17, 42, 1_764_115_200_000_000, 64);
        assert_eq!(t.len(), 64);
        assert_eq!(parse_marker(&t), Some((17, 42, 1_764_115_200_000_000)));
        let short = marker_text(1, 2, 3, 0);
        assert_eq!(short, "1:2:3:");
        assert_eq!(parse_marker(&short), Some((1, 2, 3)));
        assert_eq!(parse_marker("1:2:3"), None);
        assert_eq!(parse_marker("a:2:3:"), None);
        assert_eq!(parse_marker(""), None);
    }
}
