//! `ting-load`: a load generator for a Ting server on this machine.
//!
//! ```text
//! ting-load chat --devices 1000 --room-size 10 --messages 10 --rate 200 \
//!     --spawn-server target/release/ting --json report.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ting_client::load::{AckMode, ChatOptions, ServerUnderTest, run_chat};

/// Load generator for a Ting server on 127.0.0.1 (it refuses any other address).
#[derive(Debug, Parser)]
#[command(name = "ting-load", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Devices in rooms chatting end-to-end encrypted; measures delivery rate, latency,
    /// integrity and the server's CPU and memory.
    Chat(ChatArgs),
}

#[derive(Debug, clap::Args)]
struct ChatArgs {
    /// Simulated devices (one user each).
    #[arg(long, default_value_t = 100)]
    devices: u32,
    /// Devices per room.
    #[arg(long, default_value_t = 10)]
    room_size: u32,
    /// Messages each device sends per phase.
    #[arg(long, default_value_t = 20)]
    messages: u64,
    /// Send rate of all devices together, messages per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Length of each message text in bytes.
    #[arg(long, default_value_t = 100)]
    text_bytes: usize,
    /// One-time KeyPackages each device publishes.
    #[arg(long, default_value_t = 2)]
    key_packages: usize,
    /// When receivers acknowledge over the WebSocket: after each message (like the SDK), or
    /// once the stream has nothing more ready.
    #[arg(long, value_enum, default_value_t = Ack::Each)]
    ack: Ack,
    /// Skip the plaintext baseline phase.
    #[arg(long)]
    no_baseline: bool,
    /// Time cap of each load phase, seconds.
    #[arg(long, default_value_t = 120)]
    duration_secs: u64,
    /// Time cap of the setup (users, logins, connections, rooms), seconds.
    #[arg(long, default_value_t = 600)]
    setup_timeout_secs: u64,
    /// Admin CLI processes at once when creating users.
    #[arg(long, default_value_t = 2)]
    admin_jobs: usize,
    /// Logins, connections and room formations in flight at once.
    #[arg(long, default_value_t = 32)]
    setup_concurrency: usize,
    /// Start this `ting` binary on 127.0.0.1 with a fresh data directory.
    #[arg(long, value_name = "PATH_TO_TING", conflicts_with_all = ["server", "server_pid"])]
    spawn_server: Option<PathBuf>,
    /// Use a running server on loopback (started with cheap Argon2 settings and a high
    /// per-address login limit; see the docs), e.g. http://127.0.0.1:8080.
    #[arg(long, requires_all = ["server_pid", "ting_bin", "data_dir"])]
    server: Option<String>,
    /// Process id of --server, for CPU and memory figures.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The `ting` binary for admin commands against --server.
    #[arg(long)]
    ting_bin: Option<PathBuf>,
    /// Data directory: of --server, or for the spawned server (default: a fresh directory
    /// under the system temp dir, deleted afterwards).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Keep the spawned server's data directory.
    #[arg(long)]
    keep_data: bool,
    /// Log level of the spawned server.
    #[arg(long, default_value = "warn")]
    server_log_level: String,
    /// Also write the report as JSON to this file ("-" for stdout, after the text).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Ack {
    Each,
    Coalesce,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Chat(args) = Cli::parse().command;
    match chat(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn chat(args: ChatArgs) -> anyhow::Result<bool> {
    let opts = ChatOptions {
        devices: args.devices,
        room_size: args.room_size,
        messages: args.messages,
        rate: args.rate,
        text_bytes: args.text_bytes,
        key_packages: args.key_packages,
        ack: match args.ack {
            Ack::Each => AckMode::Each,
            Ack::Coalesce => AckMode::Coalesce,
        },
        baseline: !args.no_baseline,
        phase_timeout_secs: args.duration_secs,
        setup_timeout_secs: args.setup_timeout_secs,
        admin_jobs: args.admin_jobs,
        setup_concurrency: args.setup_concurrency,
    };
    opts.validate()?;
    let mut fresh_dir = None;
    let mut server = match (&args.spawn_server, &args.server) {
        (Some(bin), _) => {
            let dir = match &args.data_dir {
                Some(d) => d.clone(),
                None => {
                    let d = std::env::temp_dir().join(format!(
                        "ting-load-{}-{}",
                        std::process::id(),
                        rand::random::<u32>()
                    ));
                    fresh_dir = Some(d.clone());
                    d.join("data")
                }
            };
            ServerUnderTest::spawn(bin, &dir, &args.server_log_level).await?
        }
        (None, Some(url)) => ServerUnderTest::existing(
            url,
            args.server_pid.unwrap_or_default(),
            args.ting_bin.as_deref().unwrap_or_else(|| "ting".as_ref()),
            args.data_dir.as_deref().unwrap_or_else(|| ".".as_ref()),
        )?,
        (None, None) => anyhow::bail!("give --spawn-server PATH or --server URL"),
    };
    eprintln!("server {} (pid {})", server.url, server.pid);
    let result = tokio::select! {
        r = run_chat(&opts, &server, &|m| eprintln!("… {m}")) => r.map_err(anyhow::Error::from),
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    server.stop().await;
    if let Some(d) = fresh_dir.filter(|_| !args.keep_data) {
        let _ = std::fs::remove_dir_all(d);
    }
    let report = result?;
    println!("{report}");
    match args.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => println!("{}", serde_json::to_string_pretty(&report)?),
        Some(p) => std::fs::write(p, serde_json::to_string_pretty(&report)? + "\n")?,
        None => {}
    }
    Ok(report.is_clean())
}
