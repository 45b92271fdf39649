//! `ting-load`: a load generator for a Ting server on this machine.
//!
//! ```text
//! ting-load chat --devices 1000 --room-size 10 --messages 10 --rate 200 \
//!     --spawn-server target/release/ting --json report.json
//! ting-load meeting --target ting --topology n-by-n --n 10 --secs 20 \
//!     --spawn-server target/release/ting --pin-server 0 --json ting.json
//! ting-load meeting --target str0m-chat --topology n-by-n --n 10 --secs 20 \
//!     --spawn-server /path/to/str0m/chat --pin-server 0 --json str0m.json
//! ting-load meeting-table ting.json str0m.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ting_client::load::reference::{Str0mChat, pin};
use ting_client::load::{
    AckMode, ChatOptions, MeetingBenchOptions, MeetingReport, ServerUnderTest, Sfu, Target,
    Topology, comparison_table, run_chat, run_meeting,
};

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
    /// Headless participants in one meeting on a Ting server or on str0m's example SFU;
    /// measures forwarded packets/s, latency and the SFU's CPU per forwarded Mbit/s.
    Meeting(MeetingArgs),
    /// Prints a Markdown table comparing `meeting --json` reports (Ting / reference ratios).
    MeetingTable {
        /// JSON reports written by `ting-load meeting --json`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct MeetingArgs {
    /// The SFU: `ting` or `str0m-chat` (str0m's `chat` example with CHAT_ADDR support).
    #[arg(long, default_value = "ting")]
    target: Target,
    /// `one-to-n` (one sender, N receivers) or `n-by-n` (N participants all sending).
    #[arg(long, default_value = "one-to-n")]
    topology: Topology,
    /// N.
    #[arg(long, default_value_t = 10)]
    n: u32,
    /// Frames per second of each track (audio and video) per sender; one packet per frame.
    #[arg(long, default_value_t = 10.0)]
    fps: f64,
    /// Filler bytes in each video frame (audio frames carry 40 to 99).
    #[arg(long, default_value_t = 600)]
    video_filler: usize,
    /// Seconds of warm-up once every receiver gets every stream.
    #[arg(long, default_value_t = 3)]
    warmup_secs: u64,
    /// Length of the measurement window, seconds.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Time cap of the setup, seconds.
    #[arg(long, default_value_t = 180)]
    setup_timeout_secs: u64,
    /// Start this binary on 127.0.0.1: `ting` (fresh data directory) or str0m's `chat`.
    #[arg(long, value_name = "PATH")]
    spawn_server: PathBuf,
    /// Pin the spawned SFU (all its threads) to this CPU with `taskset`.
    #[arg(long, value_name = "CPU")]
    pin_server: Option<u32>,
    /// Log level of a spawned Ting server.
    #[arg(long, default_value = "warn")]
    server_log_level: String,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
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
    let result = match Cli::parse().command {
        Command::Chat(args) => chat(args).await,
        Command::Meeting(args) => meeting(args).await,
        Command::MeetingTable { reports } => meeting_table(&reports),
    };
    match result {
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

async fn meeting(args: MeetingArgs) -> anyhow::Result<bool> {
    let opts = MeetingBenchOptions {
        topology: args.topology,
        n: args.n,
        fps: args.fps,
        video_filler: args.video_filler,
        warmup_secs: args.warmup_secs,
        secs: args.secs,
        setup_timeout_secs: args.setup_timeout_secs,
    };
    opts.validate()?;
    let dir = std::env::temp_dir().join(format!(
        "ting-load-meeting-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir)?;
    let progress = |m: &str| eprintln!("… {m}");
    let result = match args.target {
        Target::Ting => {
            let mut server = ServerUnderTest::spawn(
                &args.spawn_server,
                &dir.join("data"),
                &args.server_log_level,
            )
            .await?;
            eprintln!("ting {} (pid {})", server.url, server.pid);
            let r = async {
                if let Some(cpu) = args.pin_server {
                    pin(server.pid, cpu).await?;
                }
                run_meeting(&opts, &Sfu::Ting(&server), &progress).await
            };
            let r = interruptible(r).await;
            server.stop().await;
            r
        }
        Target::Str0mChat => {
            let mut chat = Str0mChat::spawn(&args.spawn_server, &dir.join("chat.log")).await?;
            eprintln!("str0m chat {} (pid {})", chat.url, chat.pid);
            let sfu = Sfu::Str0mChat {
                url: chat.url.clone(),
                pid: chat.pid,
            };
            let r = async {
                if let Some(cpu) = args.pin_server {
                    pin(chat.pid, cpu).await?;
                }
                run_meeting(&opts, &sfu, &progress).await
            };
            let r = interruptible(r).await;
            chat.stop().await;
            r
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    println!("{report}");
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    Ok(report.is_clean())
}

async fn interruptible<T>(f: impl Future<Output = ting_client::Result<T>>) -> anyhow::Result<T> {
    tokio::select! {
        r = f => r.map_err(anyhow::Error::from),
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    }
}

fn meeting_table(paths: &[PathBuf]) -> anyhow::Result<bool> {
    let mut reports = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p)?;
        let r: MeetingReport =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        reports.push(r);
    }
    print!("{}", comparison_table(&reports));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ting-load").chain(args.iter().copied()))
    }

    #[test]
    fn meeting_arguments() {
        let cli = parse(&[
            "meeting",
            "--target",
            "str0m-chat",
            "--topology",
            "n-by-n",
            "--n",
            "25",
            "--fps",
            "5",
            "--spawn-server",
            "/x/chat",
            "--pin-server",
            "0",
        ])
        .unwrap();
        let Command::Meeting(m) = cli.command else {
            panic!("not a meeting command");
        };
        assert_eq!(m.target, Target::Str0mChat);
        assert_eq!(m.topology, Topology::NByN);
        assert_eq!((m.n, m.fps, m.pin_server, m.secs), (25, 5.0, Some(0), 20));
        assert!(parse(&["meeting", "--spawn-server", "t", "--topology", "mesh"]).is_err());
        assert!(
            parse(&["meeting", "--target", "ting"]).is_err(),
            "needs --spawn-server"
        );
        assert!(parse(&["meeting-table"]).is_err(), "needs a report");
        assert!(parse(&["chat", "--spawn-server", "t"]).is_ok());
    }
}
