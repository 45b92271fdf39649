//! `ting compliance report --format html|md --out FILE` (R27): generated from the live
//! configuration, policy and database — which requirements hold, the evidence, what metadata
//! the host can still see, where every component runs, the data inventory of every stored
//! column (R15) and the GDPR art. 30 record of processing derived from it.

pub mod render;
pub mod requirements;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use ting_store::inventory::{self, TABLES};
use ting_store::{Store, verify_audit};

use crate::config::Config;
use crate::policy::{self, Effective};

/// Compliance commands.
#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Write the compliance report.
    Report {
        /// Output format.
        #[arg(long, value_enum, default_value = "html")]
        format: Format,
        /// Output file; `-` for standard output.
        #[arg(long, default_value = "-")]
        out: String,
    },
}

/// Report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Self-contained HTML (no external CSS, scripts or fonts).
    Html,
    /// Markdown.
    Md,
}

/// How a requirement stands in this build and configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The software enforces it; configuration cannot turn it off.
    Enforced,
    /// It holds with the current configuration or policy.
    Configured,
    /// Parts are built and enforced, others not yet.
    Partial,
    /// Not yet built.
    NotYetBuilt,
}

impl Status {
    /// Label in the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::Enforced => "enforced",
            Self::Configured => "configured",
            Self::Partial => "partly built",
            Self::NotYetBuilt => "not yet built",
        }
    }
}

/// The live facts the report is built from.
#[derive(Clone, Debug)]
pub struct Live {
    /// Effective policy.
    pub policy: Effective,
    /// TLS configured.
    pub tls: bool,
    /// Database description (no credentials).
    pub database: String,
    /// Number of inventoried columns.
    pub columns: usize,
    /// `audit.retention_days`.
    pub audit_retention_days: u64,
    /// Whether the audit chain verified.
    pub audit_ok: bool,
    /// Verification result in words.
    pub audit_summary: String,
    /// Generated at (Unix seconds).
    pub generated_at: i64,
    /// Listen address.
    pub listen: String,
    /// Blob directory.
    pub blob_dir: String,
    /// The web bundle this configuration serves (`web.dir` or built in), described with its
    /// hash, or why it cannot be served.
    pub web_bundle: Result<String, String>,
    /// The key log as replayed from the database.
    pub keylog: crate::keylog::Status,
    /// The key log's origin.
    pub keylog_origin: String,
    /// Number of witnesses in `keylog.witnesses`.
    pub keylog_witnesses: usize,
    /// Whether KeyPackages without a device certificate are refused.
    pub require_certificates: bool,
}

/// A report section: heading, paragraphs, optional table.
#[derive(Clone, Debug, Default)]
pub struct Section {
    /// Heading.
    pub heading: String,
    /// Paragraphs (plain text; `code` spans in backticks).
    pub paragraphs: Vec<String>,
    /// Column headers and rows.
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
}

/// Collects the live facts.
pub async fn live(config: &Config, store: &dyn Store, now: i64) -> anyhow::Result<Live> {
    let policy = policy::effective(config, store).await?;
    let (audit_ok, audit_summary) = match verify_audit(store).await? {
        Ok(r) => (
            true,
            format!(
                "{} record(s) verified, head hash {}",
                r.checked,
                crate::audit::hex(&r.head)
            ),
        ),
        Err(b) => (false, format!("FAILED — {b}")),
    };
    let database = match store.backend() {
        ting_store::Backend::Sqlite => format!(
            "embedded SQLite at {}",
            config.server.data_dir.join("ting.db").display()
        ),
        _ => "PostgreSQL (database.url; credentials not shown)".to_string(),
    };
    Ok(Live {
        policy,
        tls: config.tls_enabled(),
        database,
        columns: inventory::fields().len(),
        audit_retention_days: config.audit.retention_days,
        audit_ok,
        audit_summary,
        generated_at: now,
        listen: config.server.listen.clone(),
        blob_dir: config.blob_dir().display().to_string(),
        web_bundle: web_bundle(config),
        keylog: crate::keylog::status(store).await?,
        keylog_origin: config.keylog_origin(),
        keylog_witnesses: config.keylog.witnesses.len(),
        require_certificates: config.keylog.require_certificates,
    })
}

fn key_transparency(live: &Live) -> Section {
    let k = &live.keylog;
    let witnessed = if live.keylog_witnesses == 0 {
        "No witness is configured (`keylog.witnesses`): clients can still check inclusion and consistency, but only witnesses run apart from this server show that everyone is shown the same log."
    } else {
        "Witnesses run apart from this server cosign checkpoints after checking that the log only grew; clients can require their cosignatures."
    };
    Section {
        heading: s("Key transparency"),
        paragraphs: vec![
            s(
                "Users' master keys, device certificates and revocations are signed on their devices and published in an append-only Merkle log (R6). The server orders and serves them but cannot forge them; a device it adds on its own has no certificate, and showing different keys to different people is caught by clients comparing signed checkpoints and by witnesses.",
            ),
            s(if live.require_certificates {
                "KeyPackages without a device certificate are refused (`keylog.require_certificates`). Clients refuse uncertified devices whatever this setting says."
            } else {
                "`keylog.require_certificates` is off: this server stores KeyPackages without a device certificate. Clients still refuse to add such devices."
            }),
            s(witnessed),
        ],
        table: Some((
            vec![s("Fact"), s("Value")],
            vec![
                vec![s("Log origin"), live.keylog_origin.clone()],
                vec![s("Log size (records)"), k.size.to_string()],
                vec![s("Current root (SHA-256, hex)"), crate::audit::hex(&k.root)],
                vec![s("Configured witnesses"), live.keylog_witnesses.to_string()],
                vec![
                    s("Cosignatures on the latest checkpoint"),
                    k.cosignatures.to_string(),
                ],
                vec![s("Identity resets in the log"), k.resets.to_string()],
            ],
        )),
    }
}

fn web_bundle(config: &Config) -> Result<String, String> {
    let bundle = if config.web.dir.is_empty() {
        crate::web::WebBundle::embedded()
    } else {
        crate::web::WebBundle::from_dir(std::path::Path::new(&config.web.dir))
    };
    bundle.map(|b| b.describe()).map_err(|e| format!("{e:#}"))
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Builds the report's sections.
pub fn sections(live: &Live) -> Vec<Section> {
    let reqs = requirements::assess(live);
    let mut out = vec![Section {
        heading: s("Summary"),
        paragraphs: vec![
            format!(
                "Generated at Unix time {} from the live configuration, policy (revision {}{}) and database. Statuses: enforced {}, configured {}, partly built {}, not yet built {}.",
                live.generated_at,
                live.policy.revision,
                if live.policy.revision == 0 {
                    ", configuration defaults"
                } else {
                    ""
                },
                reqs.iter().filter(|r| r.status == Status::Enforced).count(),
                reqs.iter()
                    .filter(|r| r.status == Status::Configured)
                    .count(),
                reqs.iter().filter(|r| r.status == Status::Partial).count(),
                reqs.iter()
                    .filter(|r| r.status == Status::NotYetBuilt)
                    .count(),
            ),
            s(
                "The server is a blind relay: it stores and forwards MLS ciphertext and routing metadata, and links no decryption code.",
            ),
        ],
        table: None,
    }];
    out.push(Section {
        heading: s("Requirements"),
        paragraphs: vec![],
        table: Some((
            vec![s("Id"), s("Requirement"), s("Status"), s("Evidence")],
            reqs.iter()
                .map(|r| vec![s(r.id), s(r.title), s(r.status.label()), r.evidence.clone()])
                .collect(),
        )),
    });
    out.push(Section {
        heading: s("Where every component runs"),
        paragraphs: vec![],
        table: Some((
            vec![s("Component"), s("Runs on"), s("Holds")],
            vec![
                vec![
                    s("ting server (API, Delivery Service, blob store)"),
                    format!("the customer's machine, listening on {}", live.listen),
                    s("routing metadata, ciphertext"),
                ],
                vec![
                    s("Database"),
                    live.database.clone(),
                    s("the columns in the data inventory"),
                ],
                vec![
                    s("Encrypted file blobs"),
                    live.blob_dir.clone(),
                    s("file ciphertext, named by random ids"),
                ],
                vec![
                    s("Clients (browser, native)"),
                    s("users' devices"),
                    s("all keys and plaintext"),
                ],
                vec![
                    s("Media relay (SFU), recorder, phone gateway"),
                    s("not yet built / not available"),
                    s("—"),
                ],
            ],
        )),
    });
    out.push(Section {
        heading: s("Metadata the host can still see"),
        paragraphs: vec![
            s("Whoever runs the server or reads its database can see: account and device ids, usernames, device names and public signature keys; which devices are in which room (needed for routing); when each message was sent, by which device, in which MLS epoch, and its ciphertext size; file sizes and upload times; login times and sessions (as token hashes); KeyPackage counts; the policy and the audit log (truncated client networks). While connected, a client's IP address is visible to the server process (it is not written to request logs; the audit log keeps it truncated)."),
            s("The host cannot see message or file content, room names, topics, file names, reactions or read receipts: they are end-to-end encrypted. Reductions in place: random ids, truncated addresses in the audit log, per-room retention. Not yet: padding ciphertext sizes to buckets, meeting-specific measures (RTP header exposure, leaving out the audio-level extension)."),
        ],
        table: None,
    });
    out.push(key_transparency(live));
    let fields = inventory::fields();
    out.push(Section {
        heading: s("Data inventory (every stored column)"),
        paragraphs: vec![s("Generated from crates/ting-store/src/inventory.rs (itself parsed from the migrations' per-column comments); a test fails when the migrated schema and the inventory differ.")],
        table: Some((
            vec![s("Table.column"), s("Purpose"), s("Retention"), s("Visible to the host?")],
            fields
                .iter()
                .map(|f| {
                    vec![
                        format!("{}.{}", f.table, f.column),
                        s(f.purpose),
                        s(f.retention),
                        s(f.visibility.describe()),
                    ]
                })
                .collect(),
        )),
    });
    out.push(Section {
        heading: s("Record of processing activities (GDPR art. 30)"),
        paragraphs: vec![
            s("Controller: the organisation operating this server (fill in name and contact). Processor: none — the software runs on the controller's own machines, with no outbound connections (R10), so there are no recipients and no third-country transfers by the software."),
            s("Security measures (art. 32): end-to-end encryption (MLS) of all content, TLS, Argon2id password hashes, hashed session tokens, login throttling, hash-chained audit log, least data (see the inventory)."),
        ],
        table: Some((
            vec![s("Processing (table)"), s("Purpose"), s("Data subjects"), s("Categories of data"), s("Retention")],
            TABLES
                .iter()
                .filter(|t| t.personal)
                .map(|t| {
                    let cols: Vec<&str> = fields.iter().filter(|f| f.table == t.name).map(|f| f.column).collect();
                    let ret: Vec<&str> = {
                        let mut r: Vec<&str> = fields.iter().filter(|f| f.table == t.name).map(|f| f.retention).filter(|r| !r.starts_with("as the row")).collect();
                        r.dedup();
                        r
                    };
                    vec![s(t.name), s(t.purpose), s(t.subjects), cols.join(", "), ret.join("; ")]
                })
                .collect(),
        )),
    });
    let p = &live.policy.policy;
    out.push(Section {
        heading: s("Policy in effect"),
        paragraphs: vec![
            format!("Revision {}:", live.policy.revision),
            format!("```\n{}```", p.to_toml()),
        ],
        table: None,
    });
    out
}

/// Runs a compliance command.
pub async fn run(
    config: &Config,
    store: &dyn Store,
    cmd: ComplianceCommand,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let ComplianceCommand::Report { format, out: path } = cmd;
    let live = live(config, store, crate::admin::now()).await?;
    let sections = sections(&live);
    let text = match format {
        Format::Html => render::html("Ting compliance report", &sections),
        Format::Md => render::markdown("Ting compliance report", &sections),
    };
    if path == "-" {
        write!(out, "{text}")?;
    } else {
        std::fs::write(&path, text).with_context(|| format!("writing {path}"))?;
        writeln!(out, "compliance report written to {path}")?;
    }
    Ok(())
}
