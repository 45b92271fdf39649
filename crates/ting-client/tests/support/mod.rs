//! Starts real `ting serve` processes for end-to-end tests.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const PW: &str = "correct horse battery staple";

/// The `ting` server binary next to this test binary, (re)built once per test process so it is
/// never stale.
pub fn ting_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TING_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("ting");
    // Under `cargo nextest run --workspace` the server binary was built with the workspace's
    // feature set just before; building `-p ting-server` alone would resolve features
    // differently and rebuild dependencies. Elsewhere (`cargo test -p ting-client`), build it
    // once so it is never stale.
    if std::env::var_os("NEXTEST").is_some() && bin.exists() {
        return bin;
    }
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "ting-server", "--bin", "ting"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "building the server failed");
    });
    assert!(bin.exists(), "no ting binary at {}", bin.display());
    bin
}

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data: PathBuf,
    pub log: PathBuf,
    pub db_url: Option<String>,
}

fn base_cmd(data: &Path, db_url: Option<&str>) -> Command {
    let mut c = Command::new(ting_bin());
    c.env_remove("TING_CONFIG")
        .env("TING_AUTH_ARGON2_MEMORY_KIB", "256")
        .env("TING_AUTH_ARGON2_ITERATIONS", "1")
        .env("TING_AUTH_MAX_ATTEMPTS_PER_ADDRESS", "100000")
        .env("TING_LOG_LEVEL", "debug");
    c.args(["admin", "--data-dir"]).arg(data);
    if let Some(u) = db_url {
        c.args(["--database-url", u]);
    }
    c
}

/// Runs `ting <command> --data-dir <data> [--database-url …] <rest>` with the test settings.
pub fn ting_cmd(data: &Path, db_url: Option<&str>, args: &[&str]) -> (bool, String, String) {
    let mut c = Command::new(ting_bin());
    c.env_remove("TING_CONFIG")
        .env("TING_AUTH_ARGON2_MEMORY_KIB", "256")
        .env("TING_AUTH_ARGON2_ITERATIONS", "1")
        .args(&args[..1])
        .arg("--data-dir")
        .arg(data);
    if let Some(u) = db_url {
        c.args(["--database-url", u]);
    }
    let out = c.args(&args[1..]).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Server {
    /// Starts a server on `port` (0 = any) with data in `data`.
    pub fn start(data: &Path, port: u16, db_url: Option<&str>) -> Server {
        Self::start_with_env(data, port, db_url, &[])
    }

    /// Starts a server with extra environment settings (`TING_<SECTION>_<KEY>`).
    pub fn start_with_env(
        data: &Path,
        port: u16,
        db_url: Option<&str>,
        env: &[(&str, &str)],
    ) -> Server {
        std::fs::create_dir_all(data).unwrap();
        let log = data.with_extension("log");
        let mut cmd = Command::new(ting_bin());
        cmd.arg("serve")
            .env_remove("TING_CONFIG")
            .env("TING_AUTH_ARGON2_MEMORY_KIB", "256")
            .env("TING_AUTH_ARGON2_ITERATIONS", "1")
            .env("TING_AUTH_MAX_ATTEMPTS_PER_ADDRESS", "100000")
            .env("TING_LOG_LEVEL", "debug")
            .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(u) = db_url {
            cmd.args(["--database-url", u]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let stderr = child.stderr.take().unwrap();
        let log_path = log.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_path)
                .unwrap();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(f, "{line}");
            }
        });
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("server did not start: {line:?}"));
        std::thread::spawn(move || for _ in stdout.lines() {});
        Server {
            child,
            port,
            data: data.to_path_buf(),
            log,
            db_url: db_url.map(String::from),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a user with the admin CLI.
    pub fn create_user(&self, name: &str) {
        self.create_account(name, false);
    }

    /// Creates an administrator with the admin CLI.
    pub fn create_admin(&self, name: &str) {
        self.create_account(name, true);
    }

    fn create_account(&self, name: &str, admin: bool) {
        let args: &[&str] = if admin { &["--admin"] } else { &[] };
        self.admin_with_password(&["create-user", name], args, PW);
    }

    /// Runs `ting admin <cmd> --password-stdin <extra>` with `password` on stdin.
    pub fn admin_with_password(&self, cmd: &[&str], extra: &[&str], password: &str) {
        let mut c = base_cmd(&self.data, self.db_url.as_deref());
        c.args(cmd).arg("--password-stdin").args(extra);
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "ting admin {cmd:?}");
    }

    /// The server's SQLite database, opened as an operator with file access would.
    pub async fn sqlite(&self) -> sqlx::SqliteConnection {
        use sqlx::ConnectOptions as _;
        format!("sqlite://{}", self.data.join("ting.db").display())
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Makes `toml` the policy in effect (`ting admin policy set`).
    pub fn set_policy(&self, toml: &str) {
        let file = self.data.with_extension("policy.toml");
        std::fs::write(&file, toml).unwrap();
        let out = base_cmd(&self.data, self.db_url.as_deref())
            .args(["policy", "set"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "setting the policy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// SIGKILL, no goodbye.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills (SIGKILL) and starts again on the same port and data.
    pub fn restart(&mut self) {
        self.kill9();
        let fresh = Server::start(&self.data, self.port, self.db_url.as_deref());
        *self = fresh;
    }

    /// Runs `ting <args>` on this server's data (and database); returns (success, stdout,
    /// stderr).
    pub fn ting(&self, args: &[&str]) -> (bool, String, String) {
        ting_cmd(&self.data, self.db_url.as_deref(), args)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn wait_until<F: Fn() -> bool>(what: &str, f: F) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Text bodies of a device's room history, in order.
pub fn texts(d: &ting_client::Device, room: ting_proto::RoomId) -> Vec<String> {
    d.room(room)
        .map(|r| {
            r.history
                .iter()
                .filter_map(|e| match &e.item {
                    ting_client::local::HistoryItem::Text { body, .. } => Some(body.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Logs `user` in as a new device named `device`, with its local state under `dir`.
pub async fn login(server: &Server, dir: &Path, user: &str, device: &str) -> ting_client::Device {
    ting_client::Device::login(
        &dir.join(format!("{user}-{device}")),
        &server.url(),
        user,
        PW,
        device,
        None,
    )
    .await
    .unwrap()
}

/// Logs `user` in on a new device named `device` and links it from `existing` (one of the
/// user's devices), the way a user types the code the new device shows. `existing` adds it
/// to its rooms.
pub async fn link(
    server: &Server,
    dir: &Path,
    existing: &mut ting_client::Device,
    device: &str,
) -> ting_client::Device {
    link_with(server, dir, existing, device, Duration::from_secs(30)).await
}

/// [`link`], with how long `existing` waits to add the new device to its rooms (zero: not at
/// all).
pub async fn link_with(
    server: &Server,
    dir: &Path,
    existing: &mut ting_client::Device,
    device: &str,
    wait: Duration,
) -> ting_client::Device {
    let user = existing.username().to_owned();
    let mut new = login(server, dir, &user, device).await;
    assert!(!new.is_certified(), "a second device starts unlinked");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (shown, approved) = tokio::join!(
        new.link_show(
            move |code| {
                tx.send(code.to_owned()).unwrap();
            },
            Duration::from_secs(30)
        ),
        async {
            let code = rx.await.unwrap();
            existing.link_approve(&code, wait).await
        }
    );
    shown.unwrap();
    approved.unwrap();
    assert!(new.is_certified());
    new
}

/// Runs `follow` in a task until `stop` fires; returns the device and what it saw.
pub fn follow_in_background(
    mut d: ting_client::Device,
) -> (
    tokio::task::JoinHandle<ting_client::Device>,
    std::sync::Arc<std::sync::Mutex<Vec<ting_client::Event>>>,
    tokio::sync::oneshot::Sender<()>,
) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let sink = seen.clone();
    let task = tokio::spawn(async move {
        d.follow(move |e| sink.lock().unwrap().push(e.clone()), async {
            let _ = rx.await;
        })
        .await
        .unwrap();
        d
    });
    (task, seen, tx)
}
