//! `ting admin …`: account administration directly on the store (works while the server runs;
//! a revoked device's open connections are closed by the server at its next heartbeat).
//! Administrators manage accounts; nothing here can read content.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Subcommand;
use ting_proto::{DeviceId, UserId};
use ting_store::{NewUser, Store};

use crate::audit::{Entry, Event};
use crate::auth::password::{self, Cost};
use crate::auth::{check_password, normalise_username, token};
use crate::config::Config;

/// Administration commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user. The password is read from stdin with --password-stdin, otherwise a random
    /// one is generated and printed once.
    CreateUser {
        /// Login name.
        username: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (stdin or generated) and end all the user's sessions.
    ResetPassword {
        /// Login name.
        username: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    ListUsers,
    /// List a user's devices, revoked ones included.
    ListDevices {
        /// Login name.
        username: String,
    },
    /// Revoke a device: its sessions and KeyPackages are deleted.
    RevokeDevice {
        /// Device id.
        device_id: String,
    },
    /// The organisation policy.
    Policy {
        /// What to do.
        #[command(subcommand)]
        command: crate::policy::cli::PolicyCommand,
    },
    /// Write every stored field about one user to a JSON file (GDPR art. 15/20; audited).
    ExportUser {
        /// Login name.
        username: String,
        /// Output file.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Include the (end-to-end encrypted) ciphertext of the user's messages.
        #[arg(long)]
        with_ciphertext: bool,
    },
}

/// Runs one admin command, writing its report to `out`.
pub async fn run(
    config: &Config,
    cmd: AdminCommand,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.server.data_dir).ok();
    let store = ting_store::open(&config.database_url())
        .await
        .context("opening the database")?;
    let result = execute(config, store.as_ref(), cmd, out).await;
    store.close().await;
    result
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn obtain_password(
    config: &Config,
    from_stdin: bool,
    out: &mut impl std::io::Write,
) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        check_password(&pw, config.auth.min_password_len).map_err(anyhow::Error::msg)?;
        Ok(pw)
    } else {
        let pw = token::generate().trim_start_matches("ting_").to_string();
        writeln!(out, "generated password (shown once): {pw}")?;
        Ok(pw)
    }
}

async fn find_user(store: &dyn Store, username: &str) -> anyhow::Result<ting_store::User> {
    let name = normalise_username(username).map_err(anyhow::Error::msg)?;
    store
        .user_by_username(&name)
        .await?
        .with_context(|| format!("no user named {name:?}"))
}

/// Opens the store named by the configuration.
pub async fn open_store(config: &Config) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    std::fs::create_dir_all(&config.server.data_dir).ok();
    ting_store::open(&config.database_url())
        .await
        .context("opening the database")
}

async fn execute(
    config: &Config,
    store: &dyn Store,
    cmd: AdminCommand,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let cost = Cost {
        memory_kib: config.auth.argon2_memory_kib,
        iterations: config.auth.argon2_iterations,
    };
    match cmd {
        AdminCommand::CreateUser {
            username,
            admin,
            password_stdin,
        } => {
            let username = normalise_username(&username).map_err(anyhow::Error::msg)?;
            let pw = obtain_password(config, password_stdin, out)?;
            let hash = password::hash_async(pw, cost).await?;
            let user = store
                .create_user(NewUser {
                    id: UserId::random(),
                    username,
                    password_hash: hash,
                    is_admin: admin,
                    created_at: now(),
                })
                .await
                .map_err(|e| match e {
                    ting_store::Error::Conflict(_) => {
                        anyhow::anyhow!("that username is already taken")
                    }
                    other => other.into(),
                })?;
            crate::audit::record(
                store,
                Entry::new(Event::UserCreated, now())
                    .target_user(user.id)
                    .details(serde_json::json!({ "admin": admin, "via": "cli" })),
            )
            .await?;
            writeln!(
                out,
                "created user {} ({}){}",
                user.username,
                user.id,
                if admin { " as administrator" } else { "" }
            )?;
        }
        AdminCommand::ResetPassword {
            username,
            password_stdin,
        } => {
            let user = find_user(store, &username).await?;
            let pw = obtain_password(config, password_stdin, out)?;
            store
                .set_password_hash(user.id, &password::hash_async(pw, cost).await?)
                .await?;
            let ended = store.delete_sessions_for_user(user.id).await?;
            crate::audit::record(
                store,
                Entry::new(Event::PasswordReset, now())
                    .target_user(user.id)
                    .details(serde_json::json!({ "sessions_ended": ended, "via": "cli" })),
            )
            .await?;
            writeln!(
                out,
                "password of {} reset; {ended} session(s) ended",
                user.username
            )?;
        }
        AdminCommand::ListUsers => {
            writeln!(
                out,
                "{:<36}  {:<24}  {:<5}  created",
                "id", "username", "admin"
            )?;
            for u in store.list_users().await? {
                writeln!(
                    out,
                    "{:<36}  {:<24}  {:<5}  {}",
                    u.id, u.username, u.is_admin, u.created_at
                )?;
            }
        }
        AdminCommand::ListDevices { username } => {
            let user = find_user(store, &username).await?;
            writeln!(
                out,
                "{:<36}  {:<24}  {:<8}  signature key (hex prefix)",
                "id", "name", "state"
            )?;
            for d in store.devices_for_user(user.id, true).await? {
                let state = if d.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let fp: String = d
                    .signature_key
                    .iter()
                    .take(8)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                writeln!(out, "{:<36}  {:<24}  {:<8}  {fp}", d.id, d.name, state)?;
            }
        }
        AdminCommand::RevokeDevice { device_id } => {
            let id: DeviceId = device_id
                .parse()
                .map_err(|_| anyhow::anyhow!("{device_id:?} is not a device id"))?;
            match store.revoke_device(id, now()).await {
                Ok(true) => {
                    let owner = store.device_by_id(id).await?.map(|d| d.user_id);
                    let mut entry = Entry::new(Event::DeviceRevoked, now())
                        .target(id)
                        .details(serde_json::json!({ "via": "cli" }));
                    if let Some(owner) = owner {
                        entry = entry.target_user(owner);
                    }
                    crate::audit::record(store, entry).await?;
                    writeln!(out, "device {id} revoked")?
                }
                Ok(false) => writeln!(out, "device {id} was already revoked")?,
                Err(ting_store::Error::NotFound(_)) => bail!("no device with id {id}"),
                Err(e) => return Err(e.into()),
            }
        }
        AdminCommand::Policy { command } => {
            crate::policy::cli::run(config, store, command, now(), out).await?;
        }
        AdminCommand::ExportUser {
            username,
            out: path,
            with_ciphertext,
        } => {
            let user = find_user(store, &username).await?;
            crate::export::export_user(store, &user, with_ciphertext, &path, now()).await?;
            writeln!(
                out,
                "everything stored about {} written to {}",
                user.username,
                path.display()
            )?;
        }
    }
    Ok(())
}
