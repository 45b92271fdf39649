//! The `ting` command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ting_server::admin::AdminCommand;
use ting_server::audit::cli::AuditCommand;
use ting_server::compliance::ComplianceCommand;
use ting_server::config::{self, Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "ting",
    version = ting_server::VERSION,
    about = "Ting: end-to-end encrypted meetings, chat and files, self-hosted"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// Configuration file (TOML); see `ting config example`.
    #[arg(long, short = 'c', env = "TING_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
    /// Data directory for the embedded database.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of embedded SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// PEM certificate chain for TLS.
    #[arg(long)]
    tls_cert: Option<String>,
    /// PEM private key for TLS.
    #[arg(long)]
    tls_key: Option<String>,
    /// Serve the web app from this directory (e.g. web/dist) instead of the built-in copy.
    #[arg(long)]
    web_dir: Option<String>,
}

impl ConfigArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let flags = Overrides {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            web_dir: self.web_dir.clone(),
        };
        Config::load(self.config.as_deref(), std::env::vars(), &flags)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ConfigArgs),
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Account administration on the server's store.
    Admin {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The hash-chained audit log.
    Audit {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Compliance reporting.
    Compliance {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: ComplianceCommand,
    },
    /// Write a consistent backup (database and files) while the server runs.
    Backup {
        #[command(flatten)]
        config: ConfigArgs,
        /// The backup file to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Restore a backup into an empty data directory (and, for PostgreSQL, an empty database).
    Restore {
        #[command(flatten)]
        config: ConfigArgs,
        /// The backup file to read.
        #[arg(long)]
        from: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a fully commented default configuration file.
    Example,
    /// Load and validate the configuration, then print it.
    Check(ConfigArgs),
}

fn init_logging(level: &str) {
    let mut filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for directive in ting_server::media::QUIET_LOG_TARGETS {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = args.load()?;
            init_logging(&config.log.level);
            ting_server::serve::run(config).await
        }
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", config::example());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check(args),
        } => {
            let config = args.load()?;
            print!("{}", toml::to_string_pretty(&config)?);
            Ok(())
        }
        Command::Admin { config, command } => {
            let config = config.load()?;
            init_logging("warn");
            ting_server::admin::run(&config, command, &mut std::io::stdout()).await
        }
        Command::Audit { config, command } => {
            let config = config.load()?;
            init_logging("warn");
            let store = ting_server::admin::open_store(&config).await?;
            let now = ting_server::admin::now();
            let result =
                ting_server::audit::cli::run(store.as_ref(), command, now, &mut std::io::stdout())
                    .await;
            store.close().await;
            result
        }
        Command::Backup { config, out } => {
            let config = config.load()?;
            init_logging("warn");
            let report =
                ting_server::backup::backup(&config, &out, ting_server::admin::now()).await?;
            println!("backup written to {}: {report}", out.display());
            Ok(())
        }
        Command::Restore { config, from } => {
            let config = config.load()?;
            init_logging("warn");
            let restored = ting_server::backup::restore(&config, &from).await?;
            ting_server::backup::print_restored(&restored, &mut std::io::stdout())?;
            Ok(())
        }
        Command::Compliance { config, command } => {
            let config = config.load()?;
            init_logging("warn");
            let store = ting_server::admin::open_store(&config).await?;
            let result = ting_server::compliance::run(
                &config,
                store.as_ref(),
                command,
                &mut std::io::stdout(),
            )
            .await;
            store.close().await;
            result
        }
    }
}
