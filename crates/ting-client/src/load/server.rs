//! The server under load: spawning `ting serve` on loopback, creating users with the admin
//! CLI, and reading the process's CPU time and resident memory from `/proc`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::error::{Error, Result};

/// Environment that makes password hashing and login throttling cheap enough to log in
/// thousands of devices; the server must run with it (set automatically when spawned).
pub const CHEAP_AUTH_ENV: [(&str, &str); 3] = [
    ("TING_AUTH_ARGON2_MEMORY_KIB", "256"),
    ("TING_AUTH_ARGON2_ITERATIONS", "1"),
    ("TING_AUTH_MAX_ATTEMPTS_PER_ADDRESS", "100000"),
];

/// Seconds to wait for a spawned server's first line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Seconds one admin command may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(60);

/// The server being measured: spawned by us (and killed on drop) or given by URL and pid.
#[derive(Debug)]
pub struct ServerUnderTest {
    /// Base URL, always loopback.
    pub url: String,
    /// Process id, for `/proc` sampling.
    pub pid: u32,
    /// The `ting` binary, for admin commands.
    pub ting_bin: PathBuf,
    /// The server's data directory.
    pub data_dir: PathBuf,
    child: Option<Child>,
}

impl ServerUnderTest {
    /// Spawns `ting serve --listen 127.0.0.1:0` with data in `data_dir`; its log (stderr) goes
    /// next to it, to `<data_dir>.log`.
    pub async fn spawn(ting_bin: &Path, data_dir: &Path, log_level: &str) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(io("creating the data directory"))?;
        let log = std::fs::File::create(data_dir.with_extension("log"))
            .map_err(io("creating the server log"))?;
        let mut cmd = Command::new(ting_bin);
        cmd.arg("serve")
            .env_remove("TING_CONFIG")
            .envs(CHEAP_AUTH_ENV)
            .env("TING_LOG_LEVEL", log_level)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(io("starting the server"))?;
        let pid = child
            .id()
            .ok_or_else(|| Error::Usage("the server exited at once".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::Usage("no server stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(START_TIMEOUT, lines.next_line())
            .await
            .map_err(|_| Error::Usage("the server did not start within 30 s".into()))?
            .map_err(io("reading the server's first line"))?
            .unwrap_or_default();
        let url = first
            .trim()
            .strip_prefix("Ting listening on ")
            .map(str::to_string)
            .ok_or_else(|| Error::Usage(format!("the server did not start: {first:?}")))?;
        check_loopback(&url)?;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            url,
            pid,
            ting_bin: ting_bin.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            child: Some(child),
        })
    }

    /// A server started by someone else (with [`CHEAP_AUTH_ENV`]).
    pub fn existing(url: &str, pid: u32, ting_bin: &Path, data_dir: &Path) -> Result<Self> {
        check_loopback(url)?;
        if proc_stat(pid).is_none() {
            return Err(Error::Usage(format!("no process {pid} in /proc")));
        }
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            pid,
            ting_bin: ting_bin.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            child: None,
        })
    }

    /// Creates `user` with `password` through `ting admin create-user --password-stdin`.
    pub async fn create_user(&self, user: &str, password: &str) -> Result<()> {
        let mut child = Command::new(&self.ting_bin)
            .env_remove("TING_CONFIG")
            .envs(CHEAP_AUTH_ENV)
            .env("TING_LOG_LEVEL", "warn")
            .args(["admin", "--data-dir"])
            .arg(&self.data_dir)
            .args(["create-user", user, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(io("running the admin CLI"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(format!("{password}\n").as_bytes())
                .await
                .map_err(io("writing the password"))?;
        }
        let out = tokio::time::timeout(ADMIN_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| Error::Usage(format!("creating {user} took over 60 s")))?
            .map_err(io("running the admin CLI"))?;
        if !out.status.success() {
            return Err(Error::Usage(format!(
                "creating {user} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// A sample of the server's CPU time and memory.
    pub fn sample(&self) -> ProcSample {
        ProcSample::of(self.pid)
    }

    /// Stops a server this tool spawned (SIGKILL; the data directory is thrown away anyway).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// Refuses anything but a loopback URL: load never leaves this machine.
pub fn check_loopback(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| Error::Usage(format!("{url}: expected http://127.0.0.1:PORT")))?;
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    match host {
        "127.0.0.1" | "localhost" | "[::1]" => Ok(()),
        _ => Err(Error::Usage(format!(
            "{url}: the load tool only talks to a server on 127.0.0.1"
        ))),
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::Usage(format!("{what}: {e}"))
}

/// CPU time and resident memory of a process at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcSample {
    /// User + system CPU time in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size in KiB.
    pub rss_kib: u64,
}

impl ProcSample {
    /// Samples process `pid` (zeros if it cannot be read).
    pub fn of(pid: u32) -> Self {
        Self {
            cpu_ticks: proc_stat(pid).unwrap_or(0),
            rss_kib: proc_rss_kib(pid).unwrap_or(0),
        }
    }

    /// Samples this process.
    pub fn this_process() -> Self {
        Self::of(std::process::id())
    }
}

/// `utime + stime` of a process, in clock ticks, from `/proc/PID/stat`.
pub fn proc_stat(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu_ticks(&text)
}

/// `utime + stime` from the text of `/proc/PID/stat` (fields 14 and 15; the command name in
/// parentheses may contain spaces, so fields are counted after its closing parenthesis).
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // After the name: state is field 3, so utime (14) is the 12th and stime the 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` of a process in KiB, from `/proc/PID/status`.
pub fn proc_rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_rss_kib(&text)
}

/// `VmRSS` in KiB from the text of `/proc/PID/status`.
pub fn parse_status_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 if that fails).
pub fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let stat = "4242 (ting serve) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(325));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
        let status = "Name:\tting\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_status_rss_kib(status), Some(12345));
        assert_eq!(parse_status_rss_kib("Name: x\n"), None);
        assert!(ProcSample::this_process().rss_kib > 0);
    }

    #[test]
    fn only_loopback() {
        assert!(check_loopback("http://127.0.0.1:8080").is_ok());
        assert!(check_loopback("http://localhost:1/").is_ok());
        assert!(check_loopback("http://[::1]:80").is_ok());
        assert!(check_loopback("http://10.0.0.1:8080").is_err());
        assert!(check_loopback("https://ting.example.org").is_err());
        assert!(check_loopback("ftp://127.0.0.1").is_err());
    }
}
