//! `ting-witness`: checks a Ting server's key-transparency log and cosigns its checkpoints.
//!
//! ```text
//! ting-witness --server https://ting.example.org --key witness.key --state witness.state \
//!     --log-key 'ting.example.org/keylog+1a2b3c4d+AXq…' \
//!     [--ca org-ca.pem] [--interval 60] [--once]
//! ```
//!
//! The first run creates `--key` (mode 0600) and prints the witness's verifier key for the
//! server's configuration. Identity resets are printed on stdout as JSON lines; a log that
//! breaks the rules stops the witness with exit code 3.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ting_client::witness::{DEFAULT_NAME, WitnessOptions, run};

/// Key-transparency witness of a Ting server.
#[derive(Debug, Parser)]
#[command(name = "ting-witness", version)]
struct Cli {
    /// The Ting server's base URL.
    #[arg(long, env = "TING_WITNESS_SERVER")]
    server: String,
    /// A PEM root certificate to trust for the server (an organisation's own CA).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The witness's secret key file (32 bytes); created on first run.
    #[arg(long)]
    key: PathBuf,
    /// The witness's state file (every record checked, and the last cosigned checkpoint).
    #[arg(long)]
    state: PathBuf,
    /// The log's verifier key (`<origin>+<key id>+<base64>`); required on first run, checked
    /// against the state file afterwards.
    #[arg(long, env = "TING_WITNESS_LOG_KEY")]
    log_key: Option<String>,
    /// The witness's key name (part of its verifier key).
    #[arg(long, default_value = DEFAULT_NAME)]
    name: String,
    /// Seconds between rounds.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Run one round and exit.
    #[arg(long)]
    once: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let ca_pem = match &cli.ca {
        Some(path) => match std::fs::read(path) {
            Ok(pem) => Some(pem),
            Err(e) => {
                eprintln!("ting-witness: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let opts = WitnessOptions {
        server: cli.server,
        ca_pem,
        key_file: cli.key,
        state_file: cli.state,
        log_key: cli.log_key,
        name: cli.name,
        interval: Duration::from_secs(cli.interval.max(1)),
        once: cli.once,
    };
    ExitCode::from(run(opts).await)
}
