//! The reference SFU for meeting benchmarks: str0m's own example SFU (its `chat` example),
//! built by whoever runs the benchmark from str0m's published source, spawned here on
//! loopback. Also pinning a process to a CPU with `taskset`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::error::{Error, Result};

/// How long the example may take to accept HTTPS connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running str0m `chat` example.
#[derive(Debug)]
pub struct Str0mChat {
    /// Where it takes SDP offers by POST, e.g. `https://127.0.0.1:41234/`.
    pub url: String,
    /// Its process id, for CPU figures.
    pub pid: u32,
    child: Child,
}

impl Str0mChat {
    /// Spawns `bin` with `CHAT_ADDR=127.0.0.1:<free port>` (the one local change that makes it
    /// listen there) and `RUST_LOG=warn` (the log level the Ting server runs with); its log goes
    /// to `log`. Waits until the port accepts connections.
    pub async fn spawn(bin: &Path, log: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Error::Usage(format!("finding a free port: {e}")))?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(log)
            .map_err(|e| Error::Usage(format!("creating {}: {e}", log.display())))?;
        let log2 = log
            .try_clone()
            .map_err(|e| Error::Usage(format!("log file: {e}")))?;
        let child = Command::new(bin)
            .env("CHAT_ADDR", &addr)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Usage(format!("starting {}: {e}", bin.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| Error::Usage("the reference SFU exited at once".into()))?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::net::TcpStream::connect(&addr).await.is_err() {
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Usage(format!(
                    "{} did not listen on {addr}",
                    bin.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            url: format!("https://{addr}/"),
            pid,
            child,
        })
    }

    /// Stops it.
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// Pins every thread of process `pid` to `cpu` (`taskset -a -p -c`).
pub async fn pin(pid: u32, cpu: u32) -> Result<()> {
    let out = Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &pid.to_string()])
        .output()
        .await
        .map_err(|e| Error::Usage(format!("running taskset: {e}")))?;
    if !out.status.success() {
        return Err(Error::Usage(format!(
            "taskset failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}
