//! `ting admin policy show|set FILE|validate FILE|history`.

use anyhow::{Context, bail};
use clap::Subcommand;
use ting_store::Store;

use super::{Policy, effective};
use crate::audit::{self, Entry, Event};
use crate::config::Config;

/// Policy commands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the policy in effect (the configuration defaults until one is set).
    Show,
    /// Validate FILE and, when valid, make it the policy in effect (audited).
    Set {
        /// Policy file (TOML, `policy_version = 1`).
        file: std::path::PathBuf,
    },
    /// Validate FILE without storing anything.
    Validate {
        /// Policy file (TOML, `policy_version = 1`).
        file: std::path::PathBuf,
    },
    /// List the stored revisions.
    History,
}

fn read(file: &std::path::Path) -> anyhow::Result<(String, Policy)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match Policy::parse(&text) {
        Ok(p) => Ok((text, p)),
        Err(reason) => bail!("{} is not a valid policy: {reason}", file.display()),
    }
}

/// Runs one policy command.
pub async fn run(
    config: &Config,
    store: &dyn Store,
    cmd: PolicyCommand,
    now: i64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    match cmd {
        PolicyCommand::Show => {
            let e = effective(config, store).await?;
            if e.revision == 0 {
                writeln!(out, "# no policy set: the configuration's defaults apply")?;
            } else {
                writeln!(
                    out,
                    "# policy revision {} (set at {})",
                    e.revision, e.set_at
                )?;
            }
            write!(out, "{}", e.policy.to_toml())?;
        }
        PolicyCommand::Validate { file } => {
            read(&file)?;
            writeln!(out, "{}: valid", file.display())?;
        }
        PolicyCommand::Set { file } => {
            let (text, _) = read(&file)?;
            let stored = store.set_policy(text, None, now).await?;
            audit::record(
                store,
                Entry::new(Event::PolicyChanged, now)
                    .target(stored.revision)
                    .details(serde_json::json!({ "revision": stored.revision, "via": "cli" })),
            )
            .await?;
            writeln!(out, "policy revision {} is now in effect", stored.revision)?;
        }
        PolicyCommand::History => {
            for p in store.policy_history().await? {
                let by = p
                    .set_by
                    .map_or("command line".to_string(), |u| u.to_string());
                writeln!(
                    out,
                    "revision {:<4} set at {:<12} by {by}",
                    p.revision, p.set_at
                )?;
            }
        }
    }
    Ok(())
}
