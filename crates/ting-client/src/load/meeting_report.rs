//! The report of a meeting run, derived figures, and a table comparing Ting with the reference
//! SFU measured in the same run.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::load::meeting::{Target, Topology};
use crate::load::stats::LatencySummary;

/// What one meeting run measured (the window is the measurement phase).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MeetingReport {
    /// The SFU measured.
    pub target: Target,
    /// Who sends to whom.
    pub topology: Topology,
    /// N.
    pub n: u32,
    /// Participants in the meeting.
    pub participants: u32,
    /// Frames per second of each track per sender.
    pub fps: f64,
    /// Filler bytes per video frame.
    pub video_filler: usize,
    /// Users, room, joins until every stream flowed, seconds.
    pub setup_secs: f64,
    /// Participants that did not get every stream when the window began.
    pub incomplete_at_start: u32,
    /// Length of the window, seconds.
    pub window_secs: f64,
    /// Frames the senders sent in the window.
    pub sent_frames: u64,
    /// `sent_frames` × receivers per sender.
    pub expected_deliveries: u64,
    /// Packets per second the configuration asks the SFU to forward.
    pub offered_pps: f64,
    /// Frames the receivers decrypted and verified in the window.
    pub delivered: u64,
    /// RTP payload bytes of those frames.
    pub payload_bytes: u64,
    /// Frames missing inside the sequence ranges the receivers saw.
    pub gaps: u64,
    /// Frames that failed verification.
    pub corrupt: u64,
    /// Frames without known keys.
    pub undecryptable: u64,
    /// Errors the SFU signaled.
    pub errors: u64,
    /// Send (inside the frame) to verified at the receiver.
    pub latency: LatencySummary,
    /// SFU CPU time (user + system) in the window, seconds.
    pub server_cpu_secs: f64,
    /// The load tool's own CPU time in the window, seconds.
    pub load_cpu_secs: f64,
    /// CPUs the load tool may run on.
    pub load_cores: u32,
}

impl MeetingReport {
    /// Forwarded (delivered and verified) packets per second, summed over receivers.
    pub fn forwarded_pps(&self) -> f64 {
        per_sec(self.delivered as f64, self.window_secs)
    }

    /// Forwarded RTP payload, Mbit/s.
    pub fn forwarded_mbps(&self) -> f64 {
        per_sec(self.payload_bytes as f64 * 8.0 / 1e6, self.window_secs)
    }

    /// SFU CPU as a share of one core (1.0 = 100 %).
    pub fn server_cores(&self) -> f64 {
        per_sec(self.server_cpu_secs, self.window_secs)
    }

    /// SFU CPU per forwarded Mbit/s: CPU-seconds per second per Mbit/s, i.e. the share of one
    /// core each forwarded Mbit/s costs.
    pub fn server_cores_per_mbps(&self) -> f64 {
        let m = self.forwarded_mbps();
        if m > 0.0 {
            self.server_cores() / m
        } else {
            0.0
        }
    }

    /// SFU CPU per forwarded packet, µs.
    pub fn server_us_per_packet(&self) -> f64 {
        if self.delivered == 0 {
            return 0.0;
        }
        self.server_cpu_secs * 1e6 / self.delivered as f64
    }

    /// The load tool's CPU as a share of the cores it may use.
    pub fn load_share(&self) -> f64 {
        per_sec(self.load_cpu_secs, self.window_secs) / f64::from(self.load_cores.max(1))
    }

    /// Whether the load generator rather than the SFU was the limit (over 85 % of its cores).
    pub fn generator_bound(&self) -> bool {
        self.load_share() > 0.85
    }

    /// Share of expected deliveries that did not arrive (negative when more arrived, from
    /// frames in flight at the window's edges).
    pub fn loss(&self) -> f64 {
        if self.expected_deliveries == 0 {
            return 0.0;
        }
        1.0 - self.delivered as f64 / self.expected_deliveries as f64
    }

    /// No corrupt or undecryptable frame and no signaled error.
    pub fn is_clean(&self) -> bool {
        self.corrupt == 0 && self.undecryptable == 0 && self.errors == 0
    }
}

fn per_sec(v: f64, secs: f64) -> f64 {
    if secs > 0.0 { v / secs } else { 0.0 }
}

impl fmt::Display for MeetingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "meeting on {}: {} N={} ({} participants), {} fps per track, video filler {} B",
            self.target, self.topology, self.n, self.participants, self.fps, self.video_filler
        )?;
        writeln!(
            f,
            "  setup {:.1} s; incomplete at start: {}; window {:.1} s",
            self.setup_secs, self.incomplete_at_start, self.window_secs
        )?;
        writeln!(
            f,
            "  forwarded {:.0} pkt/s (offered {:.0}), {:.2} Mbit/s payload; delivered {} of {} \
             expected (loss {:.2} %), gaps {}",
            self.forwarded_pps(),
            self.offered_pps,
            self.forwarded_mbps(),
            self.delivered,
            self.expected_deliveries,
            self.loss() * 100.0,
            self.gaps
        )?;
        writeln!(
            f,
            "  latency p50 {:.2} ms, p90 {:.2}, p99 {:.2}, max {:.2} ({} samples)",
            self.latency.p50_ms,
            self.latency.p90_ms,
            self.latency.p99_ms,
            self.latency.max_ms,
            self.latency.samples
        )?;
        writeln!(
            f,
            "  SFU CPU {:.1} % of a core = {:.2} %/Mbit/s = {:.1} µs/packet; load tool {:.0} % \
             of its {} core(s){}",
            self.server_cores() * 100.0,
            self.server_cores_per_mbps() * 100.0,
            self.server_us_per_packet(),
            self.load_share() * 100.0,
            self.load_cores,
            if self.generator_bound() {
                " — generator-bound"
            } else {
                ""
            }
        )?;
        write!(
            f,
            "  corrupt {}, undecryptable {}, errors {}",
            self.corrupt, self.undecryptable, self.errors
        )
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "–".into()
    }
}

/// A Markdown table: one row per topology and N, Ting beside str0m's example where both were
/// measured, with ratios Ting / reference.
pub fn comparison_table(reports: &[MeetingReport]) -> String {
    let mut keys: Vec<(Topology, u32)> = reports.iter().map(|r| (r.topology, r.n)).collect();
    keys.sort_by_key(|(t, n)| (*t == Topology::NByN, *n));
    keys.dedup();
    let find = |t: Topology, n: u32, target: Target| {
        reports
            .iter()
            .find(|r| r.topology == t && r.n == n && r.target == target)
    };
    let mut out = String::new();
    out.push_str(
        "| topology | N | offered pkt/s | forwarded pkt/s Ting / str0m (ratio) | latency p50 ms \
         Ting / str0m (ratio) | p99 ms Ting / str0m (ratio) | SFU % core per Mbit/s Ting / \
         str0m (ratio) | loss % Ting / str0m | load tool % Ting / str0m |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    let cell = |r: Option<&MeetingReport>, f: &dyn Fn(&MeetingReport) -> f64, prec: usize| {
        r.map_or("–".to_string(), |r| format!("{:.*}", prec, f(r)))
    };
    for (t, n) in keys {
        let (a, b) = (find(t, n, Target::Ting), find(t, n, Target::Str0mChat));
        let both = |f: &dyn Fn(&MeetingReport) -> f64, prec: usize, with_ratio: bool| {
            let mut s = format!("{} / {}", cell(a, f, prec), cell(b, f, prec));
            if with_ratio && let (Some(a), Some(b)) = (a, b) {
                let _ = write!(s, " ({})", ratio(f(a), f(b)));
            }
            s
        };
        let offered = a.or(b).map_or(0.0, |r| r.offered_pps);
        let mark = |r: Option<&MeetingReport>| {
            r.map_or("–".to_string(), |r| {
                let bound = if r.generator_bound() { "*" } else { "" };
                format!("{:.0}{bound}", r.load_share() * 100.0)
            })
        };
        let _ = writeln!(
            out,
            "| {t} | {n} | {offered:.0} | {} | {} | {} | {} | {} | {} / {} |",
            both(&|r| r.forwarded_pps(), 0, true),
            both(&|r| r.latency.p50_ms, 2, true),
            both(&|r| r.latency.p99_ms, 2, true),
            both(&|r| r.server_cores_per_mbps() * 100.0, 2, true),
            both(&|r| r.loss() * 100.0, 2, false),
            mark(a),
            mark(b),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(target: Target, n: u32, delivered: u64, cpu: f64, p50: f64) -> MeetingReport {
        MeetingReport {
            target,
            topology: Topology::OneToN,
            n,
            participants: n + 1,
            fps: 10.0,
            video_filler: 600,
            setup_secs: 1.0,
            incomplete_at_start: 0,
            window_secs: 10.0,
            sent_frames: 200,
            expected_deliveries: 200 * u64::from(n),
            offered_pps: 20.0 * f64::from(n),
            delivered,
            payload_bytes: delivered * 500,
            gaps: 0,
            corrupt: 0,
            undecryptable: 0,
            errors: 0,
            latency: LatencySummary {
                samples: delivered,
                p50_ms: p50,
                p90_ms: p50 * 2.0,
                p99_ms: p50 * 3.0,
                max_ms: p50 * 4.0,
            },
            server_cpu_secs: cpu,
            load_cpu_secs: 9.0,
            load_cores: 1,
        }
    }

    #[test]
    fn derived_figures() {
        let r = report(Target::Ting, 10, 2000, 0.5, 1.0);
        assert_eq!(r.forwarded_pps(), 200.0);
        assert!((r.forwarded_mbps() - 0.8).abs() < 1e-9);
        assert!((r.server_cores() - 0.05).abs() < 1e-9);
        assert!((r.server_cores_per_mbps() - 0.0625).abs() < 1e-9);
        assert!((r.server_us_per_packet() - 250.0).abs() < 1e-9);
        assert!(r.generator_bound());
        assert_eq!(r.loss(), 0.0);
        assert!(r.is_clean());
        let text = r.to_string();
        assert!(text.contains("forwarded 200 pkt/s"), "{text}");
        assert!(text.contains("generator-bound"), "{text}");
        let empty = MeetingReport {
            delivered: 0,
            payload_bytes: 0,
            window_secs: 0.0,
            ..r
        };
        assert_eq!(empty.server_cores_per_mbps(), 0.0);
        assert_eq!(empty.server_us_per_packet(), 0.0);
    }

    #[test]
    fn json_round_trip() {
        let r = report(Target::Str0mChat, 5, 900, 1.0, 2.0);
        let back: MeetingReport =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn table_pairs_targets_and_gives_ratios() {
        let rows = [
            report(Target::Str0mChat, 10, 2000, 1.0, 4.0),
            report(Target::Ting, 10, 2000, 0.5, 1.0),
            report(Target::Ting, 2, 400, 0.1, 1.0),
        ];
        let t = comparison_table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[2].starts_with("| one-to-n | 2 | 40 |"), "{t}");
        assert!(lines[2].contains("| 40 / – |"), "{t}");
        let row = lines[3];
        assert!(row.contains("| 200 / 200 (1.00) |"), "{row}");
        assert!(row.contains("| 1.00 / 4.00 (0.25) |"), "{row}");
        assert!(row.contains("| 6.25 / 12.50 (0.50) |"), "{row}");
        assert!(row.ends_with("| 90* / 90* |"), "{row}");
    }
}
