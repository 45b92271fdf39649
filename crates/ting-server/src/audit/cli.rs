//! `ting audit verify|export [--since]`.

use anyhow::{Context, bail};
use clap::Subcommand;
use ting_store::{Store, verify_audit};

use super::{Entry, Event, hex, record, to_json};

/// Audit log commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain from its anchor; fails naming the first broken record.
    Verify,
    /// Write the records as JSON Lines (audited).
    Export {
        /// Only records at or after this Unix time.
        #[arg(long)]
        since: Option<i64>,
        /// Output file; `-` for standard output.
        #[arg(long, default_value = "-")]
        out: String,
    },
}

/// Runs one audit command.
pub async fn run(
    store: &dyn Store,
    cmd: AuditCommand,
    now: i64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify => match verify_audit(store).await? {
            Ok(report) => {
                match &report.anchor {
                    Some(a) => writeln!(
                        out,
                        "anchor: records up to {} were pruned at {}; chain starts from hash {}",
                        a.seq,
                        a.pruned_at,
                        hex(&a.hash)
                    )?,
                    None => writeln!(out, "anchor: none (chain starts at record 1)")?,
                }
                writeln!(
                    out,
                    "ok: {} record(s) verified; head hash {}",
                    report.checked,
                    hex(&report.head)
                )?;
            }
            Err(broken) => bail!("audit log verification FAILED: {broken}"),
        },
        AuditCommand::Export { since, out: path } => {
            let mut lines = String::new();
            let mut count = 0u64;
            let mut after = 0;
            loop {
                let page = store.audit_page(after, 1000).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for r in page
                    .iter()
                    .filter(|r| since.is_none_or(|s| r.record.at >= s))
                {
                    lines.push_str(&to_json(r).to_string());
                    lines.push('\n');
                    count += 1;
                }
            }
            if path == "-" {
                write!(out, "{lines}")?;
            } else {
                std::fs::write(&path, lines).with_context(|| format!("writing {path}"))?;
                writeln!(out, "{count} record(s) written to {path}")?;
            }
            record(
                store,
                Entry::new(Event::AuditExported, now)
                    .details(serde_json::json!({ "records": count, "since": since })),
            )
            .await?;
        }
    }
    Ok(())
}
