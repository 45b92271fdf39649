//! `ting-client admin …`: the administration API from the command line, with the signed-in
//! device's session (the same endpoints as the web app's console). Administrators manage
//! accounts, links, devices, the policy and the audit log; they cannot read content.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ting_proto::ErrorCode;

use crate::api::Api;
use crate::api_admin::{AuditFilter, ReportFormat};
use crate::{Device, Error, Result};

mod text;

use text::{
    describe, details, duration, kind, opt_when, print_link, read, table, when, write, yes_no,
};

/// Administration subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List accounts by login name.
    Users {
        /// Only login names containing this.
        #[arg(long)]
        search: Option<String>,
        /// Every page, not only the first.
        #[arg(long)]
        all: bool,
    },
    /// Invite someone: prints a one-time link that creates the account USER.
    Invite {
        /// Login name the account will have.
        user: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// List pending invitation and password-reset links (never their tokens).
    Invitations,
    /// Withdraw a pending link by its id.
    Withdraw {
        /// Link id (from `admin invitations`).
        id: String,
    },
    /// List a user's devices, revoked ones included.
    Devices {
        /// Login name.
        user: String,
    },
    /// Revoke a device: its sessions end and it can no longer sign in.
    RevokeDevice {
        /// Device id (from `admin devices`).
        id: String,
    },
    /// Deactivate an account: its sessions end and it cannot sign in.
    Deactivate {
        /// Login name.
        user: String,
    },
    /// Reactivate a deactivated account.
    Reactivate {
        /// Login name.
        user: String,
    },
    /// Make a user an administrator.
    Promote {
        /// Login name.
        user: String,
    },
    /// Take the administrator role away (never from the last administrator).
    Demote {
        /// Login name.
        user: String,
    },
    /// Print a one-time link that sets a new password on the account.
    ResetPassword {
        /// Login name.
        user: String,
    },
    /// The policy: `show`, `check FILE`, `set FILE`, `history`.
    Policy {
        /// What to do.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Search the audit log (newest first); `audit verify`, `audit export --out FILE`.
    Audit {
        /// Verify or export instead of listing.
        #[command(subcommand)]
        command: Option<AuditCommand>,
        /// Which records.
        #[command(flatten)]
        filter: FilterArgs,
        /// Show at most this many records (1–500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only records older than this sequence number.
        #[arg(long)]
        before: Option<u64>,
    },
    /// The compliance report, built by the server now.
    Compliance {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
        /// Write it to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// How the server runs: version, store, connections, meetings, media ports.
    Health,
}

/// The policy document.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the policy in effect.
    Show,
    /// Validate a policy file without saving it and show what it would change.
    Check {
        /// Policy file (TOML).
        file: PathBuf,
    },
    /// Set a policy file as the new policy (validated first).
    Set {
        /// Policy file (TOML).
        file: PathBuf,
    },
    /// List stored policy revisions, newest first.
    History,
}

/// The audit log.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain end to end now.
    Verify,
    /// Write the records as JSON Lines, oldest first (the export itself is audited).
    Export {
        /// Where to write them.
        #[arg(long)]
        out: PathBuf,
        /// Which records.
        #[command(flatten)]
        filter: FilterArgs,
    },
}

/// Filters of the audit log.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this event (e.g. `policy_changed`).
    #[arg(long)]
    event: Option<String>,
    /// Only records whose actor is this login name.
    #[arg(long)]
    actor: Option<String>,
}

/// Compliance report formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// HTML page.
    Html,
    /// JSON.
    Json,
}

/// Runs an administration command.
pub async fn run(device: &Device, cmd: AdminCommand) -> Result<()> {
    let api = device.api();
    exec(api, cmd).await.map_err(|e| match e.code() {
        Some(ErrorCode::AdminOnly) => Error::Usage(format!(
            "{} is not an administrator of {}: only administrators can use `ting-client admin` (admin_only)",
            device.username(),
            api.base()
        )),
        _ => e,
    })
}

async fn exec(api: &Api, cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::Users { search, all } => users(api, search.as_deref(), all).await?,
        AdminCommand::Invite { user, admin } => {
            let link = api.admin_invite(&user, admin).await?;
            let role = if admin { " (administrator)" } else { "" };
            println!("Invitation for {}{role} (id {})", link.username, link.id);
            print_link(api, &link);
        }
        AdminCommand::Invitations => {
            let list = api.admin_invitations().await?;
            let rows = list.invitations.iter().map(|i| {
                vec![
                    i.id.clone(),
                    i.username.clone(),
                    kind(i.kind).into(),
                    yes_no(i.admin).into(),
                    i.created_by.clone().unwrap_or_else(|| "-".into()),
                    when(i.expires_at),
                ]
            });
            let header = ["ID", "USERNAME", "KIND", "ADMIN", "ISSUED BY", "EXPIRES"];
            table(&header, rows);
            println!("{} pending link(s)", list.invitations.len());
        }
        AdminCommand::Withdraw { id } => {
            api.admin_withdraw_invitation(&id).await?;
            println!("withdrew link {id}: it no longer works");
        }
        AdminCommand::Devices { user } => {
            let list = api.admin_devices(&user).await?;
            println!("{}", describe(&list.user));
            let rows = list.devices.iter().map(|d| {
                vec![
                    d.device.id.to_string(),
                    d.device.name.clone(),
                    match d.device.revoked_at {
                        Some(t) => format!("revoked {}", when(t)),
                        None => "active".into(),
                    },
                    yes_no(d.device.certified).into(),
                    when(d.device.created_at),
                    opt_when(d.last_seen_at),
                ]
            });
            let header = ["ID", "NAME", "STATUS", "LINKED", "CREATED", "LAST SEEN"];
            table(&header, rows);
        }
        AdminCommand::RevokeDevice { id } => {
            let r = api.admin_revoke_device(&id).await?;
            if r.revoked {
                println!(
                    "revoked device {}: its sessions ended; room members remove it from their encrypted groups",
                    r.device_id
                );
            } else {
                println!("device {} was already revoked", r.device_id);
            }
        }
        AdminCommand::Deactivate { user } => {
            let u = api.admin_set_deactivated(&user, true).await?;
            println!(
                "deactivated {}: its sessions ended and it cannot sign in until reactivated",
                u.username
            );
        }
        AdminCommand::Reactivate { user } => {
            let u = api.admin_set_deactivated(&user, false).await?;
            println!("reactivated {}: it can sign in again", u.username);
        }
        AdminCommand::Promote { user } => {
            let u = api.admin_set_admin(&user, true).await?;
            println!("{} is an administrator", u.username);
        }
        AdminCommand::Demote { user } => {
            let u = api.admin_set_admin(&user, false).await?;
            println!("{} is no longer an administrator", u.username);
        }
        AdminCommand::ResetPassword { user } => {
            let link = api.admin_password_reset(&user).await?;
            println!(
                "Password-reset link for {} (id {}); using it ends the account's sessions",
                link.username, link.id
            );
            print_link(api, &link);
        }
        AdminCommand::Policy { command } => policy(api, command).await?,
        AdminCommand::Audit {
            command,
            filter,
            limit,
            before,
        } => audit(api, command, filter, limit, before).await?,
        AdminCommand::Compliance { format, out } => {
            let f = match format {
                Format::Md => ReportFormat::Markdown,
                Format::Html => ReportFormat::Html,
                Format::Json => ReportFormat::Json,
            };
            let mut text = api.admin_compliance(f).await?;
            if f == ReportFormat::Json
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                text = serde_json::to_string_pretty(&v).unwrap_or(text);
            }
            match out {
                Some(path) => {
                    write(&path, &text)?;
                    println!("wrote the compliance report to {}", path.display());
                }
                None => print!("{}{}", text, if text.ends_with('\n') { "" } else { "\n" }),
            }
        }
        AdminCommand::Health => {
            let h = api.admin_health().await?;
            println!("version:      {}", h.version);
            let store = if h.store_ok { "ok" } else { "NOT ANSWERING" };
            println!("store:        {} ({store})", h.store_backend);
            println!("uptime:       {}", duration(h.uptime_secs));
            println!("accounts:     {}", h.users);
            println!(
                "connections:  {} ({} device(s))",
                h.connections, h.connected_devices
            );
            println!(
                "meetings:     {} ({} participant(s))",
                h.meetings, h.meeting_participants
            );
            println!("web bundle:   {}", h.web_bundle_hash);
            for p in &h.media_ports {
                let state = match (&p.reachable, &p.problem) {
                    (true, _) => "reachable".to_string(),
                    (false, Some(why)) => format!("NOT reachable: {why}"),
                    (false, None) => "NOT reachable".to_string(),
                };
                println!("media {}:    {} ({state})", p.protocol, p.address);
            }
        }
    }
    Ok(())
}

async fn users(api: &Api, search: Option<&str>, all: bool) -> Result<()> {
    let mut after: Option<String> = None;
    let mut rows = Vec::new();
    let (total, more) = loop {
        let page = api.admin_users(search, after.as_deref(), None).await?;
        rows.extend(page.users.iter().map(|u| {
            vec![
                u.username.clone(),
                if u.is_admin { "admin" } else { "user" }.into(),
                match u.deactivated_at {
                    Some(t) => format!("deactivated {}", when(t)),
                    None => "active".into(),
                },
                u.active_devices.to_string(),
                opt_when(u.last_seen_at),
                when(u.created_at),
            ]
        }));
        match page.next {
            Some(next) if all => after = Some(next),
            next => break (page.total, next.is_some()),
        }
    };
    let shown = rows.len();
    let header = [
        "USERNAME",
        "ROLE",
        "STATUS",
        "DEVICES",
        "LAST SEEN",
        "CREATED",
    ];
    table(&header, rows);
    if more {
        println!("{shown} of {total} account(s); --all lists every one");
    } else {
        println!("{total} account(s)");
    }
    Ok(())
}

async fn policy(api: &Api, cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Show => {
            let p = api.admin_policy().await?;
            if p.revision == 0 {
                println!("# no policy stored: the configuration defaults apply");
            } else {
                println!("# revision {}, set {}", p.revision, when(p.set_at));
            }
            print!("{}", p.document);
        }
        PolicyCommand::Check { file } => {
            let check = api.admin_check_policy(&read(&file)?).await?;
            if !check.valid {
                for p in &check.problems {
                    match p.line {
                        Some(line) => println!("line {line}: {}", p.message),
                        None => println!("{}", p.message),
                    }
                }
                return Err(Error::Usage(format!(
                    "{} is not a valid policy",
                    file.display()
                )));
            }
            println!("{} is a valid policy", file.display());
            if check.effects.is_empty() {
                println!("saving it changes nothing users see");
            }
            for e in &check.effects {
                println!("  {}: {} -> {}", e.setting, e.before, e.after);
            }
        }
        PolicyCommand::Set { file } => {
            let p = api.admin_set_policy(&read(&file)?).await?;
            println!("policy revision {} is in effect", p.revision);
        }
        PolicyCommand::History => {
            let list = api.admin_policy_revisions().await?;
            let rows = list.revisions.iter().map(|r| {
                vec![
                    r.revision.to_string(),
                    when(r.set_at),
                    r.set_by
                        .clone()
                        .unwrap_or_else(|| "(server command line)".into()),
                    format!("{} line(s)", r.document.lines().count()),
                ]
            });
            table(&["REVISION", "SET", "BY", "DOCUMENT"], rows);
            if list.revisions.is_empty() {
                println!("no policy stored: the configuration defaults apply");
            }
        }
    }
    Ok(())
}

async fn audit(
    api: &Api,
    cmd: Option<AuditCommand>,
    filter: FilterArgs,
    limit: u32,
    before: Option<u64>,
) -> Result<()> {
    match cmd {
        None => {
            let page = api
                .admin_audit(&AuditFilter {
                    event: filter.event,
                    actor: filter.actor,
                    before,
                    limit: Some(limit),
                    ..Default::default()
                })
                .await?;
            let rows = page.records.iter().map(|r| {
                vec![
                    r.seq.to_string(),
                    when(r.at),
                    r.event.clone(),
                    r.actor_name
                        .clone()
                        .or(r.actor.clone())
                        .unwrap_or("-".into()),
                    r.target_name
                        .clone()
                        .or(r.target.clone())
                        .unwrap_or("-".into()),
                    details(&r.details),
                ]
            });
            table(
                &["SEQ", "TIME", "EVENT", "ACTOR", "TARGET", "DETAILS"],
                rows,
            );
            match page.next_before {
                Some(seq) => println!("older records: --before {seq}"),
                None if page.records.is_empty() => println!("no matching records"),
                None => {}
            }
        }
        Some(AuditCommand::Verify) => {
            let v = api.admin_audit_verify().await?;
            if !v.ok {
                return Err(Error::Verification(format!(
                    "the audit log's hash chain is broken: {}",
                    v.problem.unwrap_or_default()
                )));
            }
            println!(
                "OK: {} record(s) checked; head #{} {}",
                v.checked, v.head_seq, v.head_hash
            );
            if let Some(first) = v.first_seq.filter(|s| *s > 1) {
                println!("(records before #{first} were pruned; checked from the anchor)");
            }
        }
        Some(AuditCommand::Export { out, filter }) => {
            let text = api
                .admin_audit_export(&AuditFilter {
                    event: filter.event,
                    actor: filter.actor,
                    ..Default::default()
                })
                .await?;
            write(&out, &text)?;
            println!(
                "wrote {} record(s) to {}",
                text.lines().count(),
                out.display()
            );
        }
    }
    Ok(())
}
