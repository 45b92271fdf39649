//! `ting-client` commands about the user's identity: linking devices, verifying and
//! acknowledging contacts, revoking a device, starting over.

use std::io::BufRead;
use std::time::Duration;

use clap::Subcommand;
use ting_e2ee::IdentityAlert;

use crate::{Device, Error, Result};

/// Linking a new device to the user's identity.
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// On the NEW device: show the link code and wait until one of your devices approves it.
    Show {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        wait: u64,
    },
    /// On an EXISTING device: approve the new device whose code you typed or scanned.
    Approve {
        /// The code the new device shows.
        code: String,
        /// Do not ask for confirmation (the fingerprint is still printed).
        #[arg(long)]
        yes: bool,
        /// Seconds to wait for the new device to publish its certificate before adding it to
        /// this device's rooms.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
}

/// The recovery key.
#[derive(Debug, Subcommand)]
pub enum RecoveryCommand {
    /// Make a new recovery key and show it once: write it down and keep it safe. It replaces
    /// any older one. Needs a device holding your identity key.
    Show,
}

/// Identity subcommands (flattened into the main command list).
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Link a device: `link show` on the new one, `link approve CODE` on an existing one.
    Link {
        /// Which side.
        #[command(subcommand)]
        command: LinkCommand,
    },
    /// Show this device's identity: the user's identity key and whether the device is linked.
    Identity,
    /// Your recovery key: `recovery show` makes one.
    Recovery {
        /// What to do.
        #[command(subcommand)]
        command: RecoveryCommand,
    },
    /// On a new device, when none of your devices is left: take your identity back with your
    /// recovery key (read from stdin).
    Recover,
    /// Mark a contact's identity as verified after comparing safety numbers (`members`).
    Verify {
        /// Username.
        user: String,
    },
    /// Accept a contact's new identity key after their identity changed (a reset).
    Acknowledge {
        /// Username.
        user: String,
    },
    /// Revoke one of your own devices (lost or stolen): it is removed from every room.
    Revoke {
        /// Device id.
        device: String,
    },
    /// Start over with a new identity key, when you lost every device. Your contacts are
    /// warned and must invite you again.
    ResetIdentity {
        /// Confirm without asking.
        #[arg(long)]
        yes: bool,
    },
}

fn confirm(question: &str) -> Result<bool> {
    println!("{question} [yes/no]");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::Usage(format!("reading the answer: {e}")))?;
    Ok(line.trim().eq_ignore_ascii_case("yes"))
}

/// Describes an identity alert for the terminal.
pub fn alert_line(alert: &IdentityAlert) -> String {
    match alert {
        IdentityAlert::Changed {
            user_id,
            was_verified: true,
            ..
        } => format!(
            "WARNING: {user_id}'s identity key changed after you verified it. Sending to rooms with {user_id} is blocked until you run `acknowledge {user_id}` (compare safety numbers first)."
        ),
        IdentityAlert::Changed { user_id, .. } => format!(
            "WARNING: {user_id}'s identity key changed (they reset their identity, or someone presents keys of their own). Compare safety numbers with {user_id}."
        ),
        IdentityAlert::OwnIdentityReset { current } => format!(
            "ALERT: your identity was reset elsewhere: a device with identity key {} claims to be you. If you did not do this, someone with access to the server is impersonating you.",
            current.to_hex()
        ),
    }
}

/// Runs an identity command.
pub async fn run(device: &mut Device, cmd: IdentityCommand) -> Result<()> {
    match cmd {
        IdentityCommand::Link {
            command: LinkCommand::Show { wait },
        } => {
            println!(
                "This device's key fingerprint: {}",
                device.e2ee().own_device_fingerprint()
            );
            device
                .link_show(
                    |code| {
                        println!("Link code (enter it on one of your devices with `ting-client link approve CODE`):");
                        println!("{code}");
                    },
                    Duration::from_secs(wait),
                )
                .await?;
            println!("linked: this device is now trusted by your identity");
        }
        IdentityCommand::Link {
            command: LinkCommand::Approve { code, yes, wait },
        } => {
            let (preview, info) = device.link_preview(&code).await?;
            println!(
                "New device {:?} ({}), key fingerprint {}",
                info.device_name, preview.device_id, preview.device_fingerprint
            );
            println!("Check that the new device shows the same fingerprint.");
            if !yes && !confirm("Link this device to your identity?")? {
                return Err(Error::Usage("not approved".into()));
            }
            let (id, rooms) = device
                .link_approve(&code, Duration::from_secs(wait))
                .await?;
            println!("New device {id} linked; added to {rooms} room(s)");
        }
        IdentityCommand::Identity => {
            match device.e2ee().identity_key() {
                Some(k) => println!("identity key: {}", k.to_hex()),
                None => println!("identity key: none"),
            }
            println!(
                "this device: {} ({})",
                device.device_id()?,
                if device.is_certified() {
                    "linked"
                } else {
                    "NOT linked: run `link show` here and approve it on one of your devices"
                }
            );
            println!(
                "key fingerprint: {}",
                device.e2ee().own_device_fingerprint()
            );
        }
        IdentityCommand::Recovery {
            command: RecoveryCommand::Show,
        } => {
            let key = device.create_recovery().await?;
            println!("Your recovery key (shown once; write it down and keep it somewhere safe):");
            println!();
            println!("    {}", key.as_str());
            println!();
            println!(
                "With it, a new device can take your identity back if you lose all of yours (`ting-client recover`). Any older recovery key no longer works."
            );
        }
        IdentityCommand::Recover => {
            println!("Recovery key:");
            let mut line = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::Usage(format!("reading the recovery key: {e}")))?;
            device.recover(line.trim()).await?;
            println!("recovered: this device now holds your identity");
        }
        IdentityCommand::Verify { user } => {
            let key = device
                .e2ee()
                .pin(&user)
                .map(|p| p.identity_key.clone())
                .ok_or_else(|| Error::Usage(format!("no identity known for {user} yet")))?;
            device.e2ee().mark_verified(&user, &key)?;
            device.save()?;
            println!("{user}'s identity key {} is verified", key.to_hex());
        }
        IdentityCommand::Acknowledge { user } => {
            let keys = device.user_keys(&user).await?;
            let master = keys
                .master_key
                .ok_or_else(|| Error::Usage(format!("{user} has no identity")))?;
            let key = ting_e2ee::IdentityKey::from_master(&master);
            device.e2ee().acknowledge_identity_change(&user, &key)?;
            device.save()?;
            println!(
                "accepted {user}'s identity key {} (not verified)",
                key.to_hex()
            );
        }
        IdentityCommand::Revoke { device: id } => {
            let id = id
                .parse()
                .map_err(|_| Error::Usage(format!("{id:?} is not a device id")))?;
            let rooms = device.revoke_own_device(id).await?;
            println!("revoked {id}; removed from {rooms} room(s)");
        }
        IdentityCommand::ResetIdentity { yes } => {
            println!(
                "Resetting creates a new identity key. Every contact is warned, those who verified you cannot send to you until they accept, and nobody adds you back to rooms automatically."
            );
            if !yes && !confirm("Start over with a new identity?")? {
                return Err(Error::Usage("not reset".into()));
            }
            device.reset_identity().await?;
            println!(
                "new identity key: {}",
                device
                    .e2ee()
                    .identity_key()
                    .map(|k| k.to_hex())
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
