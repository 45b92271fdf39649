//! The `ting-client` command line: one device per state directory.

pub mod admin;
pub mod identity;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ting_proto::RoomId;

use crate::local::{HistoryEntry, HistoryItem};
use crate::{Device, Event, Result, Stopped};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "ting-client",
    version,
    about = "Ting: end-to-end encrypted chat and files from the command line"
)]
pub struct Cli {
    /// Directory holding this device's keys and history (encrypted).
    #[arg(
        long,
        short = 'd',
        env = "TING_CLIENT_DIR",
        default_value = "ting-client-state"
    )]
    pub dir: PathBuf,
    /// PEM file of a CA to trust for the server's certificate.
    #[arg(long, env = "TING_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in and register this device (its keys are created on first login).
    Login {
        /// Server URL, e.g. https://ting.example.org.
        #[arg(long)]
        server: String,
        /// Username.
        #[arg(long)]
        username: String,
        /// Device name shown to others.
        #[arg(long, default_value = "ting-client")]
        device_name: String,
        /// Read the password from stdin (otherwise from TING_PASSWORD).
        #[arg(long)]
        password_stdin: bool,
        /// The key log's verifier key, as the organisation publishes it (otherwise pinned
        /// from the server on first contact).
        #[arg(long, env = "TING_KEYLOG_KEY")]
        log_key: Option<String>,
        /// A witness verifier key this device trusts (repeatable).
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// How many of the trusted witnesses must have cosigned a checkpoint.
        #[arg(long, default_value_t = 0)]
        witnesses_required: usize,
    },
    /// End this device's session.
    Logout,
    /// List rooms.
    Rooms,
    /// Create a room.
    CreateRoom {
        /// Room name (end-to-end encrypted).
        #[arg(long)]
        name: Option<String>,
    },
    /// Add all devices of a user to a room.
    Invite {
        /// Room id or name.
        room: String,
        /// Username.
        user: String,
    },
    /// Remove a user (all their devices) from a room.
    Remove {
        /// Room id or name.
        room: String,
        /// Username.
        user: String,
    },
    /// Remove one device from a room.
    RemoveDevice {
        /// Room id or name.
        room: String,
        /// Device id.
        device: String,
    },
    /// Leave a room.
    Leave {
        /// Room id or name.
        room: String,
    },
    /// Send a text message.
    Send {
        /// Room id or name.
        room: String,
        /// Text.
        text: String,
    },
    /// Encrypt and share a file.
    SendFile {
        /// Room id or name.
        room: String,
        /// File to share.
        path: PathBuf,
        /// Media type.
        #[arg(long, default_value = "application/octet-stream")]
        media_type: String,
    },
    /// Download and decrypt a shared file by its message id.
    GetFile {
        /// Room id or name.
        room: String,
        /// Message id (from `messages`).
        message: String,
        /// Where to write it.
        out: PathBuf,
    },
    /// Fetch new messages and print a room's history.
    Messages {
        /// Room id or name.
        room: String,
        /// Show at most this many lines.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Fetch everything new (Welcomes, messages) and print it.
    Sync,
    /// Print messages as they arrive until interrupted.
    Follow,
    /// Join the room's meeting as a headless participant (synthetic SFrame-encrypted audio and
    /// video), verify what the others send, print the statistics and leave.
    Meet {
        /// Room id or name.
        room: String,
        /// Stay this long at most.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Leave as soon as verified media arrived from this many other participants; fail if
        /// it does not within `seconds`.
        #[arg(long, default_value_t = 0)]
        expect_peers: usize,
        /// Seconds to keep publishing after that, so the others receive this one's media too.
        #[arg(long, default_value_t = 3)]
        linger: u64,
    },
    /// List a room's members with safety numbers.
    Members {
        /// Room id or name.
        room: String,
    },
    /// Identity: linking, verifying, revoking, resetting.
    #[command(flatten)]
    Identity(identity::IdentityCommand),
    /// Administration (administrators only): accounts, links, devices, policy, audit log.
    Admin {
        /// What to do.
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

fn room_of(device: &Device, spec: &str) -> Result<RoomId> {
    if let Ok(id) = spec.parse() {
        return Ok(id);
    }
    let matches: Vec<RoomId> = device
        .rooms()
        .into_iter()
        .filter(|r| device.room(*r).and_then(|l| l.name.as_deref()) == Some(spec))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(crate::Error::Usage(format!(
            "no room named {spec:?}; use `rooms` to list them"
        ))),
        _ => Err(crate::Error::Usage(format!(
            "several rooms are named {spec:?}; use the room id"
        ))),
    }
}

/// Formats one history line.
pub fn line(e: &HistoryEntry) -> String {
    match &e.item {
        HistoryItem::Text {
            id,
            body,
            edited,
            reactions,
            ..
        } => {
            let mut s = format!(
                "#{} [{}] {}: {body}",
                e.seq,
                &id[..8.min(id.len())],
                e.sender
            );
            if *edited {
                s.push_str(" (edited)");
            }
            for (emoji, who) in reactions.iter().filter(|(_, w)| !w.is_empty()) {
                s.push_str(&format!(" {emoji}{}", who.len()));
            }
            s
        }
        HistoryItem::File { id, file } => format!(
            "#{} [{}] {} shared file {:?} ({} bytes, {})",
            e.seq,
            &id[..8.min(id.len())],
            e.sender,
            file.name,
            file.size,
            file.media_type
        ),
        HistoryItem::RoomName(n) => format!("#{} {} named the room {n:?}", e.seq, e.sender),
        HistoryItem::RoomTopic(t) => format!("#{} {} set the topic to {t:?}", e.seq, e.sender),
        HistoryItem::Membership { added, removed } => {
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("added {}", added.join(", ")));
            }
            if !removed.is_empty() {
                parts.push(format!("removed {}", removed.join(", ")));
            }
            format!("#{} {} {}", e.seq, e.sender, parts.join("; "))
        }
        HistoryItem::Undecryptable { reason } => format!(
            "#{} !! a message could not be decrypted or verified: {reason}",
            e.seq
        ),
    }
}

fn print_event(ev: &Event) {
    match ev {
        Event::Entry { room, entry } => println!("{room} {}", line(entry)),
        Event::Joined { room, by } => println!("{room} joined (added by {by})"),
        Event::Removed { room } => println!("{room} you were removed from this room"),
        Event::Identity { alert } => println!("{}", identity::alert_line(alert)),
        Event::DeviceLinked { device } => println!("New device {device} linked"),
        Event::UnlinkedDevice { device, name } => println!(
            "New device {name:?} ({device}) signed in to your account. It is not trusted until you link it from one of your devices. If you did not just sign in somewhere, someone else did (or someone with access to the server): do not link it."
        ),
        Event::SplitView {
            room,
            sender,
            detail,
        } => println!(
            "{room} ALERT: {sender}'s device and this one see different key logs ({detail}). The server may be showing you different keys; do not trust new devices until this is resolved."
        ),
        Event::UnloggedMember {
            room,
            user_id,
            device_id,
            detail,
        } => println!(
            "{room} WARNING: {user_id}'s device {device_id} is in this room but not in the key log ({detail})."
        ),
        Event::DevicesRevoked { room, removed } => {
            println!("{room} removed {} revoked device(s)", removed.len())
        }
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

fn read_password(stdin: bool) -> Result<String> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| crate::Error::Usage(e.to_string()))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    std::env::var("TING_PASSWORD").map_err(|_| {
        crate::Error::Usage("give the password with --password-stdin or TING_PASSWORD".into())
    })
}

/// Runs the CLI.
pub async fn run(cli: Cli) -> Result<()> {
    let ca = match &cli.ca_cert {
        Some(p) => Some(
            std::fs::read(p).map_err(|e| crate::Error::Usage(format!("{}: {e}", p.display())))?,
        ),
        None => None,
    };
    let dir: &Path = &cli.dir;
    if let Command::Login {
        server,
        username,
        device_name,
        password_stdin,
        log_key,
        witnesses,
        witnesses_required,
    } = &cli.command
    {
        let password = read_password(*password_stdin)?;
        let trust = (log_key.is_some() || !witnesses.is_empty()).then(|| {
            crate::local::KeyLogTrust::pinned(
                log_key.clone(),
                witnesses.clone(),
                *witnesses_required,
            )
        });
        let mut device = Device::login_with_trust(
            dir,
            server,
            username,
            &password,
            device_name,
            ca.as_deref(),
            trust,
        )
        .await?;
        println!("logged in as {username}; device {}", device.device_id()?);
        if !device.is_certified() {
            println!(
                "This device is not linked to your identity yet. Run `ting-client link show` here and approve the code on one of your devices (or `ting-client recover` with your recovery key, or `ting-client reset-identity` if you have neither)."
            );
            return Ok(());
        }
        for ev in device.sync().await? {
            print_event(&ev);
        }
        return Ok(());
    }
    let mut device = Device::open(dir, ca.as_deref())?;
    match cli.command {
        Command::Login { .. } => unreachable!("handled above"),
        Command::Identity(cmd) => identity::run(&mut device, cmd).await?,
        Command::Admin { command } => admin::run(&device, command).await?,
        Command::Logout => device.logout().await?,
        Command::Rooms => {
            device.sync().await?;
            for r in device.rooms() {
                let l = device.room(r).cloned().unwrap_or_default();
                println!(
                    "{r}  {}  ({} messages)",
                    l.name.unwrap_or_else(|| "(unnamed)".into()),
                    l.history.len()
                );
            }
        }
        Command::CreateRoom { name } => println!("{}", device.create_room(name.as_deref()).await?),
        Command::Invite { room, user } => {
            let room = room_of(&device, &room)?;
            let added = device.invite(room, &user).await?;
            println!("added {} device(s) of {user}", added.len());
        }
        Command::Remove { room, user } => {
            let room = room_of(&device, &room)?;
            let removed = device.remove_user(room, &user).await?;
            println!("removed {user} ({} device(s)); keys rotated", removed.len());
        }
        Command::RemoveDevice { room, device: d } => {
            let room = room_of(&device, &room)?;
            let d = d
                .parse()
                .map_err(|_| crate::Error::Usage("not a device id".into()))?;
            device.remove_device(room, d).await?;
            println!("device removed; keys rotated");
        }
        Command::Leave { room } => {
            let room = room_of(&device, &room)?;
            device.leave(room).await?;
            println!("left {room}");
        }
        Command::Send { room, text } => {
            let room = room_of(&device, &room)?;
            let seq = device.send_text(room, &text).await?;
            println!("sent #{seq}");
        }
        Command::SendFile {
            room,
            path,
            media_type,
        } => {
            let room = room_of(&device, &room)?;
            let pb = progress_bar(0);
            let seq = device
                .send_file(room, &path, &media_type, |sent, total| {
                    pb.set_length(total);
                    pb.set_position(sent);
                })
                .await?;
            pb.finish();
            println!("shared #{seq}");
        }
        Command::GetFile { room, message, out } => {
            let room = room_of(&device, &room)?;
            device.sync_room(room).await?;
            let file = device
                .room(room)
                .and_then(|l| {
                    l.history.iter().find_map(|e| match &e.item {
                        HistoryItem::File { id, file } if id.starts_with(&message) => {
                            Some(file.clone())
                        }
                        _ => None,
                    })
                })
                .ok_or_else(|| crate::Error::Usage("no such file in this room".into()))?;
            let pb = progress_bar(file.size);
            device
                .download_file(&file, &out, |got, total| {
                    pb.set_length(total);
                    pb.set_position(got);
                })
                .await?;
            pb.finish();
            println!(
                "saved {} ({} bytes, hash verified)",
                out.display(),
                file.size
            );
        }
        Command::Messages { room, limit } => {
            let room = room_of(&device, &room)?;
            device.sync_room(room).await?;
            let l = device.room(room).cloned().unwrap_or_default();
            let skip = l.history.len().saturating_sub(limit);
            for e in &l.history[skip..] {
                println!("{}", line(e));
            }
        }
        Command::Sync => {
            for ev in device.sync().await? {
                print_event(&ev);
            }
        }
        Command::Follow => {
            for ev in device.sync().await? {
                print_event(&ev);
            }
            loop {
                let stop = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                match device.follow(print_event, stop).await {
                    Ok(Stopped::Requested) => break,
                    Ok(Stopped::Closed(4003, reason)) => {
                        return Err(crate::Error::Usage(format!("session ended: {reason}")));
                    }
                    Ok(Stopped::Closed(code, reason)) => {
                        eprintln!("disconnected ({code} {reason}); reconnecting")
                    }
                    Err(e) => eprintln!("connection problem: {e}; reconnecting"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                for ev in device.sync().await.unwrap_or_default() {
                    print_event(&ev);
                }
            }
        }
        Command::Meet {
            room,
            seconds,
            expect_peers,
            linger,
        } => {
            let room = room_of(&device, &room)?;
            device.sync_room(room).await?;
            let mut p = device
                .join_meeting(room, crate::meeting::MeetingOptions::default())
                .await?;
            let peers_with_media = |s: &crate::meeting::MeetingStats| {
                s.verified
                    .keys()
                    .map(|(peer, _)| *peer)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            };
            let limit = std::time::Duration::from_secs(seconds);
            let stats = if expect_peers > 0 {
                p.wait_for(limit, |s| peers_with_media(s) >= expect_peers)
                    .await;
                tokio::time::sleep(std::time::Duration::from_secs(linger)).await;
                p.stats()
            } else {
                tokio::time::sleep(limit).await;
                p.stats()
            };
            p.leave().await;
            println!(
                "meeting: sent {} frames, verified {} frames from {} participant(s), {} undecryptable, {} corrupt",
                stats.sent,
                stats.verified_total(),
                peers_with_media(&stats),
                stats.undecryptable,
                stats.corrupt
            );
            if peers_with_media(&stats) < expect_peers || stats.corrupt > 0 {
                return Err(crate::Error::Protocol(
                    "expected media did not arrive intact".into(),
                ));
            }
        }
        Command::Members { room } => {
            let room = room_of(&device, &room)?;
            device.sync_room(room).await?;
            for m in device.members(room)? {
                match m.safety_number {
                    Some(n) => println!(
                        "{} ({} device(s))  safety number: {n}{}",
                        m.username,
                        m.devices,
                        if m.verified { "  (verified)" } else { "" }
                    ),
                    None => println!(
                        "{} ({} device(s))  (you)  fingerprint: {}",
                        m.username, m.devices, m.fingerprint
                    ),
                }
            }
        }
    }
    Ok(())
}
