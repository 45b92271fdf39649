//! The chat load report: what was run, setup times, and per phase the delivery rate, latency,
//! integrity counters and the CPU and memory the server (and this tool) used.

use std::fmt;

use serde::Serialize;

use crate::load::flow::{AckMode, Mode};
use crate::load::stats::{Integrity, LatencySummary};

/// A whole `ting-load chat` run.
#[derive(Clone, Debug, Serialize)]
pub struct ChatReport {
    /// What was simulated.
    pub config: RunConfig,
    /// Wall-clock seconds of the setup steps.
    pub setup: SetupTimes,
    /// `GET /healthz` round trips on the idle server, one at a time: the floor of any latency.
    pub idle_http_rtt: LatencySummary,
    /// Resident memory.
    pub memory: Memory,
    /// The load phases in the order they ran (the plaintext baseline first, if any).
    pub phases: Vec<PhaseReport>,
    /// End-to-end encrypted phase relative to the plaintext baseline.
    pub e2ee_vs_plain: Option<Ratios>,
}

/// Parameters of the run.
#[derive(Clone, Debug, Serialize)]
pub struct RunConfig {
    /// Simulated devices (one user each).
    pub devices: u32,
    /// Devices per room (the last room may have one more).
    pub room_size: u32,
    /// Rooms formed.
    pub rooms: u32,
    /// Messages each device sends per phase.
    pub messages_per_device: u64,
    /// Target send rate over all devices, messages/s.
    pub target_rate: f64,
    /// Length of each message text, bytes.
    pub text_bytes: usize,
    /// Size of one MLS application message carrying such a text (the plain baseline sends this
    /// many bytes too).
    pub payload_bytes: usize,
    /// When receivers acknowledge.
    pub ack: AckMode,
    /// Server process id.
    pub server_pid: u32,
    /// Clock ticks per second used to convert `/proc` CPU times.
    pub clock_ticks_per_sec: u64,
}

/// Setup durations, seconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct SetupTimes {
    /// Creating the users with the admin CLI.
    pub users_secs: f64,
    /// Logging every device in and publishing its KeyPackages.
    pub login_secs: f64,
    /// Opening every device's WebSocket.
    pub connect_secs: f64,
    /// Creating the rooms, adding members by commit and joining from Welcomes.
    pub rooms_secs: f64,
}

/// Resident set sizes, KiB.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Memory {
    /// Server before any device logged in.
    pub server_idle_kib: u64,
    /// Server with every device logged in and connected.
    pub server_connected_kib: u64,
    /// Server after the rooms were formed.
    pub server_rooms_kib: u64,
    /// Server at the end.
    pub server_end_kib: u64,
    /// (connected − idle) / devices.
    pub server_per_connected_device_kib: f64,
    /// This tool at the end (all devices' MLS state in memory).
    pub client_end_kib: u64,
}

/// One load phase.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseReport {
    /// Plain baseline or end-to-end encrypted.
    pub mode: Mode,
    /// Messages sent (accepted or not).
    pub sent: u64,
    /// Sends the server refused or that failed.
    pub send_errors: u64,
    /// Deliveries expected: every message to every other member of its room.
    pub expected_deliveries: u64,
    /// Delivery integrity, summed over receivers.
    pub integrity: Integrity,
    /// Deliveries that could not be decrypted (or decoded).
    pub decrypt_errors: u64,
    /// Deliveries whose room `seq` did not follow the previous one.
    pub seq_anomalies: u64,
    /// Devices that hit the time cap before everything arrived.
    pub timed_out_devices: u64,
    /// First error a device reported, if any.
    pub first_error: Option<String>,
    /// From the first scheduled send until the last device had everything, seconds.
    pub elapsed_secs: f64,
    /// Messages sent per second.
    pub sent_per_sec: f64,
    /// Deliveries (decrypted at a receiver) per second.
    pub delivered_per_sec: f64,
    /// End-to-end latency: text created at the sender → decrypted at the receiver.
    pub latency: LatencySummary,
    /// Server CPU (user + system) during the phase, seconds.
    pub server_cpu_secs: f64,
    /// This tool's CPU during the phase, seconds (it shares the machine with the server).
    pub client_cpu_secs: f64,
    /// Server CPU per delivery, µs.
    pub server_cpu_us_per_delivery: f64,
    /// Server CPU per sent message, µs.
    pub server_cpu_us_per_message: f64,
    /// Client CPU per delivery, µs (includes sending its share of messages).
    pub client_cpu_us_per_delivery: f64,
}

impl PhaseReport {
    /// Whether every expected message arrived exactly once, in order, without errors.
    pub fn is_clean(&self) -> bool {
        self.integrity.is_clean()
            && self.send_errors == 0
            && self.decrypt_errors == 0
            && self.seq_anomalies == 0
            && self.timed_out_devices == 0
            && self.first_error.is_none()
            && self.integrity.delivered == self.expected_deliveries
    }
}

/// E2EE phase ÷ plain phase.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Ratios {
    /// Server CPU per delivery.
    pub server_cpu_per_delivery: f64,
    /// Client CPU per delivery.
    pub client_cpu_per_delivery: f64,
    /// Median latency.
    pub p50_latency: f64,
    /// 99th-percentile latency.
    pub p99_latency: f64,
}

impl Ratios {
    /// `e2ee ÷ plain`.
    pub fn of(e2ee: &PhaseReport, plain: &PhaseReport) -> Self {
        let r = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        Self {
            server_cpu_per_delivery: r(
                e2ee.server_cpu_us_per_delivery,
                plain.server_cpu_us_per_delivery,
            ),
            client_cpu_per_delivery: r(
                e2ee.client_cpu_us_per_delivery,
                plain.client_cpu_us_per_delivery,
            ),
            p50_latency: r(e2ee.latency.p50_ms, plain.latency.p50_ms),
            p99_latency: r(e2ee.latency.p99_ms, plain.latency.p99_ms),
        }
    }
}

impl ChatReport {
    /// Whether every phase was clean.
    pub fn is_clean(&self) -> bool {
        self.phases.iter().all(PhaseReport::is_clean)
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl fmt::Display for ChatReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "ting-load chat: {} devices in {} rooms of {}, {} messages per device per phase at {} msg/s in total",
            c.devices, c.rooms, c.room_size, c.messages_per_device, c.target_rate
        )?;
        writeln!(
            f,
            "  message: {} B text, {} B MLS ciphertext on the wire (before base64/JSON); acks: {}",
            c.text_bytes,
            c.payload_bytes,
            match c.ack {
                AckMode::Each => "one per message",
                AckMode::Coalesce => "coalesced",
            }
        )?;
        let s = &self.setup;
        writeln!(
            f,
            "setup: users {:.1} s (admin CLI), login + KeyPackages {:.1} s, WebSockets {:.1} s, rooms {:.1} s",
            s.users_secs, s.login_secs, s.connect_secs, s.rooms_secs
        )?;
        writeln!(
            f,
            "idle HTTP round trip (GET /healthz, sequential): p50 {:.3} ms, p99 {:.3} ms",
            self.idle_http_rtt.p50_ms, self.idle_http_rtt.p99_ms
        )?;
        let m = &self.memory;
        writeln!(
            f,
            "server RSS: idle {:.1} MiB, all connected {:.1} MiB ({:.1} KiB per device), rooms formed {:.1} MiB, end {:.1} MiB; load tool RSS at end {:.1} MiB",
            mib(m.server_idle_kib),
            mib(m.server_connected_kib),
            m.server_per_connected_device_kib,
            mib(m.server_rooms_kib),
            mib(m.server_end_kib),
            mib(m.client_end_kib)
        )?;
        for p in &self.phases {
            write!(f, "{p}")?;
        }
        if let Some(r) = &self.e2ee_vs_plain {
            writeln!(
                f,
                "e2ee ÷ plain: server CPU/delivery ×{:.2}, client CPU/delivery ×{:.2}, p50 latency ×{:.2}, p99 latency ×{:.2}",
                r.server_cpu_per_delivery, r.client_cpu_per_delivery, r.p50_latency, r.p99_latency
            )?;
        }
        writeln!(
            f,
            "result: {}",
            if self.is_clean() {
                "OK — every message delivered exactly once, in order"
            } else {
                "FAILED — see the counters above"
            }
        )
    }
}

impl fmt::Display for PhaseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.mode {
            Mode::Plain => "plain baseline (same bytes, no encryption)",
            Mode::E2ee => "end-to-end encrypted (MLS)",
        };
        let i = &self.integrity;
        writeln!(f, "phase {name}:")?;
        writeln!(
            f,
            "  sent {} ({:.1}/s), delivered {} of {} expected in {:.1} s: {:.0} deliveries/s",
            self.sent,
            self.sent_per_sec,
            i.delivered,
            self.expected_deliveries,
            self.elapsed_secs,
            self.delivered_per_sec
        )?;
        writeln!(
            f,
            "  latency send → decrypted: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.latency.p50_ms, self.latency.p90_ms, self.latency.p99_ms, self.latency.max_ms
        )?;
        writeln!(
            f,
            "  missing {}, duplicated {}, out of order {}, unexpected {}, undecryptable {}, seq gaps {}, send errors {}, timed out {}",
            i.missing,
            i.duplicated,
            i.out_of_order,
            i.unexpected,
            self.decrypt_errors,
            self.seq_anomalies,
            self.send_errors,
            self.timed_out_devices
        )?;
        if let Some(e) = &self.first_error {
            writeln!(f, "  first error: {e}")?;
        }
        writeln!(
            f,
            "  server CPU {:.2} s = {:.1} µs per delivery ({:.1} µs per message); load tool CPU {:.2} s = {:.1} µs per delivery",
            self.server_cpu_secs,
            self.server_cpu_us_per_delivery,
            self.server_cpu_us_per_message,
            self.client_cpu_secs,
            self.client_cpu_us_per_delivery
        )
    }
}
