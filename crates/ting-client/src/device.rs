//! [`Device`]: one logged-in device of a user — the `ting-e2ee` client, the API connection and
//! the local state together. Every call that changes state saves it before returning, and
//! incoming messages are acknowledged to the server only after the state that reflects them is
//! saved, so a crash never loses or duplicates anything.

use std::collections::HashMap;
use std::path::Path;

use ting_e2ee::{Client, ClientConfig, Envelope, GroupId};
use ting_proto::ds::{MessageKind, RoomKind, SendMessage};
use ting_proto::{Base64, DeviceId, ErrorCode, MessageId, RoomId};

use crate::api::Api;
use crate::error::{Error, Result};
use crate::local::{AppState, HistoryEntry, HistoryItem, RoomLocal, StateDir};

/// One-time KeyPackages a device keeps published.
pub const KEY_PACKAGE_STOCK: usize = 50;
/// Attempts at a send that keeps losing the epoch race.
const MAX_RETRIES: usize = 8;

/// One device of a user.
pub struct Device {
    pub(crate) api: Api,
    pub(crate) e2ee: Client,
    pub(crate) app: AppState,
    pub(crate) dir: StateDir,
    /// Signature keys of devices seen in member lists (server's word, checked against MLS).
    pub(crate) device_keys: HashMap<DeviceId, (String, Vec<u8>)>,
    /// Self-remove proposals this device is to commit, per room (the leavers' devices).
    pub(crate) pending_leaves: HashMap<RoomId, Vec<DeviceId>>,
    /// Key log positions of other members already checked against this device's view.
    pub(crate) checked_positions: std::collections::HashSet<ting_e2ee::LogPosition>,
    /// Group members (user, device key) already found in the key log.
    pub(crate) logged_members: std::collections::HashSet<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("username", &self.app.username)
            .field("device_id", &self.app.device_id)
            .finish()
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn group_id(room: RoomId) -> GroupId {
    GroupId::new(room.as_bytes().to_vec()).expect("invariant: 16-byte group ids are valid")
}

impl Device {
    /// Logs in from the state directory `dir`: reuses the device identity saved there (same
    /// user), or creates a new one; registers the device with the server and publishes
    /// KeyPackages.
    ///
    /// The first device of a user creates the user's master identity key and publishes it in
    /// the key log; a later device logs in uncertified ([`Device::is_certified`] is false) and
    /// must be linked by an existing one ([`Device::link_show`]) before it can join rooms.
    pub async fn login(
        dir: &Path,
        server: &str,
        username: &str,
        password: &str,
        device_name: &str,
        ca_pem: Option<&[u8]>,
    ) -> Result<Device> {
        Self::login_with_trust(dir, server, username, password, device_name, ca_pem, None).await
    }

    /// [`Device::login`] with the key log's key and witnesses given by the organisation (out
    /// of band, so the server cannot choose them). Without, the log's key is pinned on first
    /// contact and no witness is required.
    pub async fn login_with_trust(
        dir: &Path,
        server: &str,
        username: &str,
        password: &str,
        device_name: &str,
        ca_pem: Option<&[u8]>,
        trust: Option<crate::local::KeyLogTrust>,
    ) -> Result<Device> {
        let state_dir = StateDir::open(dir)?;
        let (mut app, e2ee) = if state_dir.exists() {
            let (app, e2ee) = state_dir.load()?;
            if app.username != username {
                return Err(Error::Usage(format!(
                    "{} holds the device of {:?}; use another directory",
                    dir.display(),
                    app.username
                )));
            }
            (app, e2ee)
        } else {
            (
                AppState {
                    username: username.into(),
                    ..Default::default()
                },
                Client::new(username, ClientConfig::default())?,
            )
        };
        let api = Api::new(server, ca_pem)?;
        let login = api
            .login(
                username,
                password,
                device_name,
                e2ee.device_key().as_bytes(),
            )
            .await?;
        app.server = server.to_string();
        if let Some(trust) = trust {
            app.key_log = trust;
        }
        app.user_id = Some(login.user.id);
        app.device_id = Some(login.device.id);
        app.token = Some(login.token.clone());
        let mut device = Device {
            api: api.with_token(login.token),
            e2ee,
            app,
            dir: state_dir,
            device_keys: HashMap::new(),
            pending_leaves: HashMap::new(),
            checked_positions: Default::default(),
            logged_members: Default::default(),
        };
        device.save()?;
        if device.establish_identity().await? == crate::IdentityStatus::Certified {
            device.replenish_key_packages().await?;
        }
        Ok(device)
    }

    /// Opens a device that logged in before.
    pub fn open(dir: &Path, ca_pem: Option<&[u8]>) -> Result<Device> {
        let state_dir = StateDir::open(dir)?;
        if !state_dir.exists() {
            return Err(Error::Usage(format!(
                "no device in {}; log in first",
                dir.display()
            )));
        }
        let (app, e2ee) = state_dir.load()?;
        let token = app
            .token
            .clone()
            .ok_or_else(|| Error::Usage("logged out; log in again".into()))?;
        let api = Api::new(&app.server, ca_pem)?.with_token(token);
        Ok(Device {
            api,
            e2ee,
            app,
            dir: state_dir,
            device_keys: HashMap::new(),
            pending_leaves: HashMap::new(),
            checked_positions: Default::default(),
            logged_members: Default::default(),
        })
    }

    /// Persists the local state.
    pub fn save(&self) -> Result<()> {
        self.dir.save(&self.app, &self.e2ee)
    }

    /// The API connection.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The crypto client (for tests and advanced use).
    pub fn e2ee(&mut self) -> &mut Client {
        &mut self.e2ee
    }

    /// Username.
    pub fn username(&self) -> &str {
        &self.app.username
    }

    /// This device's server id.
    pub fn device_id(&self) -> Result<DeviceId> {
        self.app
            .device_id
            .ok_or_else(|| Error::Usage("not logged in".into()))
    }

    /// Local view of a room.
    pub fn room(&self, room: RoomId) -> Option<&RoomLocal> {
        self.app.rooms.get(&room)
    }

    /// Rooms this device is in (locally known).
    pub fn rooms(&self) -> Vec<RoomId> {
        self.app
            .rooms
            .iter()
            .filter(|(_, r)| !r.removed)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Tops up the published one-time KeyPackages and makes sure a last-resort one exists.
    pub async fn replenish_key_packages(&mut self) -> Result<()> {
        if !self.is_certified() {
            return Ok(()); // nothing to publish before the device is linked
        }
        let count = self.api.key_package_count().await?;
        let missing = KEY_PACKAGE_STOCK.saturating_sub(count.available as usize);
        if missing == 0 && count.has_last_resort {
            return Ok(());
        }
        let one_time = self.e2ee.key_packages(missing)?;
        let last_resort = if count.has_last_resort {
            None
        } else {
            Some(self.e2ee.last_resort_key_package()?)
        };
        self.save()?; // the private halves must survive before the public ones are published
        self.api.upload_key_packages(one_time, last_resort).await?;
        Ok(())
    }

    /// Creates a room (an MLS group with this device alone) and, if given, sets its name.
    pub async fn create_room(&mut self, name: Option<&str>) -> Result<RoomId> {
        let info = self.api.create_room(RoomKind::Room, None).await?;
        self.e2ee.create_group(&group_id(info.id))?;
        self.app.rooms.insert(info.id, RoomLocal::default());
        self.save()?;
        if let Some(name) = name {
            self.send_envelope(
                info.id,
                Envelope::new(ting_e2ee::Body::RoomName { name: name.into() })?,
            )
            .await?;
        }
        Ok(info.id)
    }

    /// Sends a text message; returns its seq.
    pub async fn send_text(&mut self, room: RoomId, text: &str) -> Result<u64> {
        self.send_envelope(room, Envelope::text(text)?).await
    }

    /// Encrypts and sends an envelope, catching up and re-encrypting when another member's
    /// commit won the epoch race. Records it in the local history.
    pub async fn send_envelope(&mut self, room: RoomId, envelope: Envelope) -> Result<u64> {
        let gid = group_id(room);
        let id = MessageId::random();
        let mut attempt = 0u64;
        let position = self
            .app
            .key_log
            .latest
            .as_ref()
            .map(|l| ting_e2ee::LogPosition {
                size: l.size,
                root: l.root,
            });
        self.e2ee.set_log_position(position);
        for _ in 0..MAX_RETRIES * 4 {
            let payload = self.e2ee.encrypt_message(&gid, &envelope)?;
            let epoch = self.e2ee.epoch(&gid)?;
            let msg = SendMessage {
                id,
                kind: MessageKind::Application,
                epoch,
                payload: Base64(payload),
                welcome: None,
                added_devices: vec![],
                removed_devices: vec![],
            };
            match self.api.send_message(room, &msg).await {
                Ok(accepted) => {
                    let me = self.app.username.clone();
                    let device = self.device_id()?;
                    let local = self.app.rooms.entry(room).or_default();
                    local.own_seqs.insert(accepted.seq);
                    crate::sync::apply_envelope(
                        local,
                        accepted.seq,
                        &me,
                        device,
                        unix_now(),
                        &envelope,
                    );
                    self.save()?;
                    return Ok(accepted.seq);
                }
                Err(Error::Api {
                    code: ErrorCode::StaleEpoch,
                    ..
                }) => {
                    self.sync_room(room).await?;
                }
                Err(Error::Api {
                    code: ErrorCode::DuplicateMessage,
                    position: Some(seq),
                    ..
                }) => return Ok(seq),
                Err(Error::Transport(_))
                | Err(Error::Api {
                    code: ErrorCode::Unavailable,
                    ..
                }) => {
                    // The server may have stored it before failing: retry with the same id, so
                    // the Delivery Service recognises a duplicate instead of storing it twice.
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(250 * attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Protocol(
            "the room kept changing epochs; try again".into(),
        ))
    }

    /// Sends a commit built by `build` (called again after each lost race), with the
    /// membership effects `effects` computes from it; merges it once the server accepts.
    pub(crate) async fn commit<B, F>(
        &mut self,
        room: RoomId,
        mut build: B,
        mut effects: F,
    ) -> Result<ting_e2ee::MembershipChange>
    where
        B: FnMut(&mut Client, &GroupId) -> Result<ting_e2ee::CommitBundle>,
        F: FnMut(&ting_e2ee::CommitBundle) -> (Vec<DeviceId>, Vec<DeviceId>),
    {
        let gid = group_id(room);
        for _ in 0..MAX_RETRIES {
            let epoch = self.e2ee.epoch(&gid)?;
            let bundle = build(&mut self.e2ee, &gid)?;
            let (added, removed) = effects(&bundle);
            let msg = SendMessage {
                id: MessageId::random(),
                kind: MessageKind::Commit,
                epoch,
                payload: Base64(bundle.commit.clone()),
                welcome: bundle.welcome.clone().map(Base64),
                added_devices: added,
                removed_devices: removed,
            };
            match self.api.send_message(room, &msg).await {
                Ok(accepted) => {
                    let change = self.e2ee.merge_pending_commit(&gid, now_ms())?;
                    let local = self.app.rooms.entry(room).or_default();
                    local.own_seqs.insert(accepted.seq);
                    let entry = HistoryEntry {
                        seq: accepted.seq,
                        sender: self.app.username.clone(),
                        sender_device: self.device_id()?,
                        at: unix_now(),
                        item: HistoryItem::Membership {
                            added: change.added.iter().map(|m| m.user_id.clone()).collect(),
                            removed: change.removed.iter().map(|m| m.user_id.clone()).collect(),
                        },
                    };
                    if !change.is_empty() {
                        crate::sync::insert_ordered(self.app.rooms.entry(room).or_default(), entry);
                    }
                    self.save()?;
                    return Ok(change);
                }
                Err(Error::Api {
                    code: ErrorCode::StaleEpoch,
                    ..
                }) => {
                    self.e2ee.clear_pending_commit(&gid)?;
                    self.sync_room(room).await?;
                }
                Err(e) => {
                    self.e2ee.clear_pending_commit(&gid)?;
                    return Err(e);
                }
            }
        }
        Err(Error::Protocol(
            "the room kept changing epochs; try again".into(),
        ))
    }

    /// Logs out: ends the session on the server and forgets the token.
    pub async fn logout(&mut self) -> Result<()> {
        self.api.logout().await?;
        self.app.token = None;
        self.save()
    }
}

pub(crate) fn unix_now() -> i64 {
    (now_ms() / 1000) as i64
}
