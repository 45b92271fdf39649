//! The chat scenario: set everything up, run the load phases, measure, report.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use ting_e2ee::{Client, ClientConfig, Envelope};
use ting_proto::RoomId;
use tokio::time::Instant;

use crate::api::Api;
use crate::error::{Error, Result};
use crate::load::flow::{AckMode, DeviceOutcome, Mode, Plan, marker_text, run_device};
use crate::load::report::{ChatReport, Memory, PhaseReport, Ratios, RunConfig, SetupTimes};
use crate::load::server::{ProcSample, ServerUnderTest, clock_ticks_per_sec};
use crate::load::setup::{self, LoadDevice, group_id};
use crate::load::stats::{Integrity, Latencies};

/// Password of every load user.
const PASSWORD: &str = "ting-load password, not a secret";
/// Sequential `GET /healthz` round trips for the idle latency floor.
const HEALTHZ_PROBES: usize = 200;
/// Idle time before a phase's first send, so every device task is running.
const LEAD: Duration = Duration::from_millis(300);

/// Parameters of a chat run.
#[derive(Clone, Debug)]
pub struct ChatOptions {
    /// Simulated devices, one user each.
    pub devices: u32,
    /// Devices per room.
    pub room_size: u32,
    /// Messages each device sends per phase.
    pub messages: u64,
    /// Send rate of all devices together, messages/s.
    pub rate: f64,
    /// Length of each message text.
    pub text_bytes: usize,
    /// One-time KeyPackages each device publishes.
    pub key_packages: usize,
    /// When receivers acknowledge.
    pub ack: AckMode,
    /// Run the plaintext baseline phase before the encrypted one.
    pub baseline: bool,
    /// Time cap of each load phase, seconds.
    pub phase_timeout_secs: u64,
    /// Time cap of the whole setup, seconds.
    pub setup_timeout_secs: u64,
    /// Admin CLI processes run at once when creating users.
    pub admin_jobs: usize,
    /// Logins, connections and room formations in flight at once.
    pub setup_concurrency: usize,
}

impl Default for ChatOptions {
    fn default() -> Self {
        Self {
            devices: 100,
            room_size: 10,
            messages: 20,
            rate: 100.0,
            text_bytes: 100,
            key_packages: 2,
            ack: AckMode::Each,
            baseline: true,
            phase_timeout_secs: 120,
            setup_timeout_secs: 600,
            admin_jobs: 2,
            setup_concurrency: 32,
        }
    }
}

impl ChatOptions {
    /// Refuses parameters that cannot form rooms or would be unbounded.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Usage(m.to_string()));
        if !(2..=100_000).contains(&self.devices) {
            return bad("--devices must be 2 to 100000");
        }
        if self.room_size < 2 || self.room_size > self.devices {
            return bad("--room-size must be at least 2 and at most --devices");
        }
        if !(1..=100_000).contains(&self.messages) {
            return bad("--messages must be 1 to 100000");
        }
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 1_000_000.0) {
            return bad("--rate must be a positive number of messages per second");
        }
        if !(16..=8192).contains(&self.text_bytes) {
            return bad("--text-bytes must be 16 to 8192");
        }
        if !(1..=100).contains(&self.key_packages) {
            return bad("--key-packages must be 1 to 100");
        }
        if self.phase_timeout_secs == 0 || self.setup_timeout_secs == 0 {
            return bad("time caps must be positive");
        }
        if self.admin_jobs == 0 || self.setup_concurrency == 0 {
            return bad("concurrency must be positive");
        }
        Ok(())
    }
}

/// Device indices per room: chunks of `room_size`; a last chunk of one joins the room before.
pub fn room_layout(devices: u32, room_size: u32) -> Vec<Vec<u32>> {
    let size = room_size.max(2);
    let mut rooms: Vec<Vec<u32>> = Vec::new();
    for i in 0..devices {
        match rooms.last_mut() {
            Some(r) if (r.len() as u32) < size => r.push(i),
            _ => rooms.push(vec![i]),
        }
    }
    if rooms.len() > 1
        && rooms.last().is_some_and(|r| r.len() < 2)
        && let Some(last) = rooms.pop()
        && let Some(prev) = rooms.last_mut()
    {
        prev.extend(last);
    }
    rooms
}

async fn capped<T>(secs: u64, what: &str, f: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .map_err(|_| Error::Usage(format!("{what} did not finish within {secs} s")))?
}

/// Runs the chat scenario against `server`, reporting progress through `progress`.
pub async fn run_chat(
    opts: &ChatOptions,
    server: &ServerUnderTest,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ChatReport> {
    opts.validate()?;
    let setup_started = Instant::now();
    let remaining = || {
        opts.setup_timeout_secs
            .saturating_sub(setup_started.elapsed().as_secs())
            .max(1)
    };
    let n = opts.devices;
    let layout = room_layout(n, opts.room_size);
    let mut memory = Memory {
        server_idle_kib: server.sample().rss_kib,
        ..Memory::default()
    };
    let idle_http_rtt = healthz_rtt(&server.url).await?;
    let payload_bytes = ciphertext_len(opts.text_bytes)?;
    let mut setup_times = SetupTimes::default();

    let tag: u32 = rand::random::<u32>() % 1_000_000;
    let names: Vec<String> = (0..n).map(|i| format!("load-{tag:06}-{i:05}")).collect();
    progress(&format!("creating {n} users with the admin CLI"));
    let t = Instant::now();
    capped(remaining(), "creating users", async {
        futures_util::stream::iter(names.iter())
            .map(|name| server.create_user(name, PASSWORD))
            .buffer_unordered(opts.admin_jobs)
            .try_collect::<Vec<()>>()
            .await
    })
    .await?;
    setup_times.users_secs = t.elapsed().as_secs_f64();

    progress("logging in and publishing KeyPackages");
    let base = Api::new(&server.url, None)?;
    let t = Instant::now();
    let mut devices: Vec<LoadDevice> = capped(remaining(), "logging in", async {
        futures_util::stream::iter(names.iter().enumerate())
            .map(|(i, name)| {
                setup::login(&base, i as u32, name.clone(), PASSWORD, opts.key_packages)
            })
            .buffer_unordered(opts.setup_concurrency)
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    devices.sort_by_key(|d| d.index);
    setup_times.login_secs = t.elapsed().as_secs_f64();

    progress("opening WebSockets");
    let t = Instant::now();
    capped(remaining(), "connecting", async {
        futures_util::stream::iter(devices.iter_mut())
            .map(setup::connect)
            .buffer_unordered(opts.setup_concurrency)
            .try_collect::<Vec<()>>()
            .await
    })
    .await?;
    setup_times.connect_secs = t.elapsed().as_secs_f64();
    memory.server_connected_kib = server.sample().rss_kib;
    memory.server_per_connected_device_kib = memory
        .server_connected_kib
        .saturating_sub(memory.server_idle_kib) as f64
        / f64::from(n);

    progress(&format!("forming {} rooms", layout.len()));
    let t = Instant::now();
    let mut slots: Vec<Option<LoadDevice>> = devices.into_iter().map(Some).collect();
    let mut groups = Vec::with_capacity(layout.len());
    for room in &layout {
        let members: Vec<LoadDevice> = room
            .iter()
            .filter_map(|&i| slots.get_mut(i as usize).and_then(Option::take))
            .collect();
        groups.push(members);
    }
    let formed: Vec<Vec<LoadDevice>> = capped(remaining(), "forming rooms", async {
        futures_util::stream::iter(groups)
            .map(|members| tokio::spawn(setup::form_room(members)))
            .buffer_unordered(opts.setup_concurrency)
            .map(|joined| joined.map_err(|e| Error::Usage(format!("room task failed: {e}")))?)
            .try_collect()
            .await
    })
    .await?;
    let mut devices: Vec<LoadDevice> = formed.into_iter().flatten().collect();
    devices.sort_by_key(|d| d.index);
    setup_times.rooms_secs = t.elapsed().as_secs_f64();
    memory.server_rooms_kib = server.sample().rss_kib;

    let mut phases = Vec::new();
    let modes: &[Mode] = if opts.baseline {
        &[Mode::Plain, Mode::E2ee]
    } else {
        &[Mode::E2ee]
    };
    let ticks = clock_ticks_per_sec();
    for &mode in modes {
        keepalive_all(&mut devices).await?;
        progress(&format!("load phase: {mode:?}"));
        let (back, report) = run_phase(devices, opts, mode, payload_bytes, server, ticks).await?;
        devices = back;
        phases.push(report);
    }
    memory.server_end_kib = server.sample().rss_kib;
    memory.client_end_kib = ProcSample::this_process().rss_kib;
    let e2ee_vs_plain = match (
        phases.iter().find(|p| p.mode == Mode::E2ee),
        phases.iter().find(|p| p.mode == Mode::Plain),
    ) {
        (Some(e), Some(p)) => Some(Ratios::of(e, p)),
        _ => None,
    };
    Ok(ChatReport {
        config: RunConfig {
            devices: n,
            room_size: opts.room_size,
            rooms: layout.len() as u32,
            messages_per_device: opts.messages,
            target_rate: opts.rate,
            text_bytes: opts.text_bytes,
            payload_bytes,
            ack: opts.ack,
            server_pid: server.pid,
            clock_ticks_per_sec: ticks,
        },
        setup: setup_times,
        idle_http_rtt,
        memory,
        phases,
        e2ee_vs_plain,
    })
}

async fn keepalive_all(devices: &mut [LoadDevice]) -> Result<()> {
    for d in devices.iter_mut() {
        setup::keepalive(d).await?;
    }
    Ok(())
}

/// Runs one load phase with every device in its own task.
async fn run_phase(
    devices: Vec<LoadDevice>,
    opts: &ChatOptions,
    mode: Mode,
    plain_len: usize,
    server: &ServerUnderTest,
    ticks: u64,
) -> Result<(Vec<LoadDevice>, PhaseReport)> {
    let n = devices.len();
    let expected: u64 = devices
        .iter()
        .map(|d| d.peers.len().saturating_sub(1) as u64 * opts.messages)
        .sum();
    let start = Instant::now() + LEAD;
    let plan = Arc::new(Plan {
        mode,
        ack: opts.ack,
        messages: opts.messages,
        interval: Duration::from_secs_f64(n as f64 / opts.rate),
        devices: n as u32,
        text_bytes: opts.text_bytes,
        plain_len,
        start,
        deadline: start + Duration::from_secs(opts.phase_timeout_secs),
    });
    let server0 = server.sample();
    let client0 = ProcSample::this_process();
    let handles: Vec<_> = devices
        .into_iter()
        .map(|d| tokio::spawn(run_device(d, plan.clone())))
        .collect();
    let mut back = Vec::with_capacity(n);
    let mut outcomes: Vec<DeviceOutcome> = Vec::with_capacity(n);
    for h in handles {
        let (d, o) = h
            .await
            .map_err(|e| Error::Usage(format!("device task failed: {e}")))?;
        back.push(d);
        outcomes.push(o);
    }
    let server1 = server.sample();
    let client1 = ProcSample::this_process();
    let secs = |a: ProcSample, b: ProcSample| {
        b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64 / ticks.max(1) as f64
    };
    let mut latencies = Latencies::default();
    let mut integrity = Integrity::default();
    let mut report = PhaseReport {
        mode,
        sent: 0,
        send_errors: 0,
        expected_deliveries: expected,
        integrity: Integrity::default(),
        decrypt_errors: 0,
        seq_anomalies: 0,
        timed_out_devices: 0,
        first_error: None,
        elapsed_secs: 0.0,
        sent_per_sec: 0.0,
        delivered_per_sec: 0.0,
        latency: Default::default(),
        server_cpu_secs: secs(server0, server1),
        client_cpu_secs: secs(client0, client1),
        server_cpu_us_per_delivery: 0.0,
        server_cpu_us_per_message: 0.0,
        client_cpu_us_per_delivery: 0.0,
    };
    let mut elapsed = Duration::ZERO;
    for o in outcomes {
        latencies.merge(o.latencies);
        integrity.add(&o.integrity);
        report.sent += o.sent;
        report.send_errors += o.send_errors;
        report.decrypt_errors += o.decrypt_errors;
        report.seq_anomalies += o.seq_anomalies;
        report.timed_out_devices += u64::from(o.timed_out);
        if report.first_error.is_none() {
            report.first_error = o.error;
        }
        elapsed = elapsed.max(o.finished_after);
    }
    let per = |total: f64, count: u64| {
        if count > 0 {
            total * 1e6 / count as f64
        } else {
            0.0
        }
    };
    let wall = elapsed.as_secs_f64().max(1e-9);
    report.elapsed_secs = elapsed.as_secs_f64();
    report.sent_per_sec = report.sent as f64 / wall;
    report.delivered_per_sec = integrity.delivered as f64 / wall;
    report.latency = latencies.summary();
    report.server_cpu_us_per_delivery = per(report.server_cpu_secs, integrity.delivered);
    report.server_cpu_us_per_message = per(report.server_cpu_secs, report.sent);
    report.client_cpu_us_per_delivery = per(report.client_cpu_secs, integrity.delivered);
    report.integrity = integrity;
    back.sort_by_key(|d| d.index);
    Ok((back, report))
}

/// Sequential `GET /healthz` on the idle server.
async fn healthz_rtt(base: &str) -> Result<crate::load::stats::LatencySummary> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| Error::Transport(e.to_string()))?;
    let url = format!("{base}/healthz");
    let mut l = Latencies::default();
    for _ in 0..HEALTHZ_PROBES {
        let t = std::time::Instant::now();
        let resp = http.get(&url).send().await?;
        resp.bytes().await?;
        l.record(t.elapsed().as_micros() as u64);
    }
    Ok(l.summary())
}

/// Size of the MLS application message that carries a text of `text_bytes`, from a throwaway
/// group (the size does not depend on the group's members).
fn ciphertext_len(text_bytes: usize) -> Result<usize> {
    let mut probe = Client::new("load-probe", ClientConfig::default())?;
    probe.create_identity(b"probe", 0)?;
    let gid = group_id(RoomId::random())?;
    probe.create_group(&gid)?;
    let text = marker_text(u32::MAX, u64::from(u32::MAX), u64::MAX / 2, text_bytes);
    Ok(probe.encrypt_message(&gid, &Envelope::text(text)?)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_cover_every_device_once() {
        assert_eq!(room_layout(4, 2), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(room_layout(5, 2), vec![vec![0, 1], vec![2, 3, 4]]);
        assert_eq!(room_layout(7, 3), vec![vec![0, 1, 2], vec![3, 4, 5, 6]]);
        assert_eq!(
            room_layout(8, 3),
            vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7]]
        );
        let r = room_layout(1000, 10);
        assert_eq!(r.len(), 100);
        assert!(r.iter().all(|room| room.len() == 10));
    }

    #[test]
    fn options_are_bounded() {
        assert!(ChatOptions::default().validate().is_ok());
        let bad = [
            ChatOptions {
                devices: 1,
                ..Default::default()
            },
            ChatOptions {
                room_size: 101,
                ..Default::default()
            },
            ChatOptions {
                messages: 0,
                ..Default::default()
            },
            ChatOptions {
                rate: f64::NAN,
                ..Default::default()
            },
            ChatOptions {
                phase_timeout_secs: 0,
                ..Default::default()
            },
        ];
        for o in bad {
            assert!(o.validate().is_err(), "{o:?}");
        }
    }
}
