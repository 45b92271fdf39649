//! The user's identity on this device: creating the master key on the first device, linking
//! later devices, and checking everything the key log says before a key is used.
//!
//! A password login only opens a session. A device is trusted once it holds a certificate
//! from the user's master key, which only the user's devices have: the first device creates
//! it; every later one is linked by an existing device (`link show` here, `link approve` there).
//! Every answer of the key log is checked against the checkpoint this device saw last
//! ([`ting_trust::LogView`]): a log that was rolled back, forked or not signed is refused.

use std::time::Duration;

use ting_e2ee::LinkPreview;
use ting_e2ee::ting_trust::directory::ed25519_only;
use ting_e2ee::ting_trust::{
    CheckpointPolicy, Entry, LogView, NeedProof, SeenCheckpoint, UserKeys, VerifiedCheckpoint,
};
use ting_proto::DeviceId;
use ting_proto::api::{LINK_TTL_SECS, LinkRequestInfo};

use crate::device::{Device, now_ms};
use crate::error::{Error, Result};
use crate::local::KeyLogTrust;

/// How long `link show` waits for an existing device by default.
pub const LINK_WAIT: Duration = Duration::from_secs(LINK_TTL_SECS as u64);

/// Where this device stands after login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityStatus {
    /// The device holds a certificate from its user's master key.
    Certified,
    /// The user has an identity; this device must be linked by one of their devices (or the
    /// user starts over with `reset-identity` if none is left).
    NeedsLink,
}

fn hashes(proof: &[ting_proto::Base64]) -> Result<Vec<[u8; 32]>> {
    proof
        .iter()
        .map(|h| {
            h.as_slice()
                .try_into()
                .map_err(|_| Error::Verification("a key log proof hash is not 32 bytes".into()))
        })
        .collect()
}

fn log_err(e: ting_e2ee::ting_trust::Error) -> Error {
    match e {
        ting_e2ee::ting_trust::Error::Inconsistent { reason } => Error::LogConflict(reason),
        e => Error::Verification(format!("key log: {e}")),
    }
}

impl Device {
    /// Whether this device holds a certificate from its user's master key.
    pub fn is_certified(&self) -> bool {
        self.e2ee.certificate().is_some()
    }

    /// The certificate's device id for a server device id.
    pub(crate) fn cert_device_id(device: DeviceId) -> Vec<u8> {
        device.to_string().into_bytes()
    }

    /// After login: creates the user's identity if the key log has none (first device),
    /// publishes this device's certificate if it is missing there, or reports that the device
    /// must be linked.
    pub(crate) async fn establish_identity(&mut self) -> Result<IdentityStatus> {
        let me = self.app.username.clone();
        let keys = self.user_keys(&me).await?;
        let device = Self::cert_device_id(self.device_id()?);
        if let Some(cert) = self.e2ee.certificate().cloned() {
            let own = self.e2ee.identity_key();
            let logged = keys
                .master_key
                .map(|k| ting_e2ee::IdentityKey::from_master(&k));
            if logged.is_some() && logged != own {
                return Err(Error::Verification(format!(
                    "the key log shows another identity key for {me} than this device holds: \
                     the identity was reset elsewhere"
                )));
            }
            if !keys.is_device_valid(&device, &cert.body.device_key) && logged.is_some() {
                self.api
                    .append_key_log(Entry::Device(cert).encode())
                    .await?;
            }
            return Ok(IdentityStatus::Certified);
        }
        if keys.master_key.is_some() {
            return Ok(IdentityStatus::NeedsLink);
        }
        let new = self.e2ee.create_identity(&device, now_ms())?;
        self.publish_identity(new).await?;
        Ok(IdentityStatus::Certified)
    }

    /// Starts over with a new master key, for a user who lost every device. Contacts are
    /// warned, those who verified the old key cannot send until they acknowledge, and nobody
    /// re-adds this user to rooms automatically. Only on a device that is in no room.
    pub async fn reset_identity(&mut self) -> Result<()> {
        let device = Self::cert_device_id(self.device_id()?);
        let new = self.e2ee.reset_identity(&device, now_ms())?;
        self.publish_identity(new).await?;
        self.replenish_key_packages().await
    }

    /// Saves a new (or reset) identity, then publishes its statement and this device's
    /// certificate, in that order: the master key must survive before anything names it.
    async fn publish_identity(&mut self, new: ting_e2ee::NewIdentity) -> Result<()> {
        self.save()?;
        for entry in [
            Entry::Identity(new.statement),
            Entry::Device(new.certificate),
        ] {
            self.api.append_key_log(entry.encode()).await?;
        }
        Ok(())
    }

    /// Makes a new recovery key (returned, to show the user once) and stores the backup it
    /// opens on the server, replacing any older one. Needs the master key.
    pub async fn create_recovery(&mut self) -> Result<zeroize::Zeroizing<String>> {
        let kit = self.e2ee.create_recovery()?;
        self.api.put_recovery_backup(kit.backup).await?;
        Ok(kit.key)
    }

    /// On a new, unlinked device of a user who has no other device left: opens the backup
    /// with the recovery key, checks it holds the master key the key log shows, certifies this
    /// device and publishes it with its KeyPackages.
    pub async fn recover(&mut self, recovery_key: &str) -> Result<()> {
        if self.is_certified() {
            return Err(Error::Usage("this device is already linked".into()));
        }
        let me = self.app.username.clone();
        let master = self
            .user_keys(&me)
            .await?
            .master_key
            .ok_or_else(|| Error::Usage(format!("{me} has no identity to recover")))?;
        let backup = self.api.recovery_backup().await?;
        let device = Self::cert_device_id(self.device_id()?);
        let cert = self
            .e2ee
            .recover(recovery_key, &backup, &master, &device, now_ms())?;
        self.save()?;
        self.publish_certified(cert).await
    }

    /// Publishes a newly certified device: its KeyPackages first, then its certificate. The
    /// user's other devices add it to their rooms as soon as the certificate appears in the
    /// key log, so its KeyPackages must already be there to claim.
    async fn publish_certified(
        &mut self,
        cert: ting_e2ee::ting_trust::DeviceCertificate,
    ) -> Result<()> {
        self.replenish_key_packages().await?;
        self.api
            .append_key_log(Entry::Device(cert).encode())
            .await?;
        Ok(())
    }

    fn log_view(&self) -> Result<LogView> {
        let t = &self.app.key_log;
        let log_key = t
            .log_key
            .clone()
            .ok_or_else(|| Error::Usage("the key log's key is not known yet".into()))?;
        let mut view = LogView::new(CheckpointPolicy {
            origin: t.origin.clone(),
            log_key,
            witness_keys: t.witness_keys.clone(),
            required_witnesses: t.required_witnesses,
            max_age_secs: t.max_age_secs,
        });
        view.latest = t.latest.as_ref().map(|l| SeenCheckpoint {
            size: l.size,
            root: l.root,
            note: l.note.clone(),
        });
        Ok(view)
    }

    /// Verifies `note` against the checkpoint this device saw last (fetching a consistency
    /// proof when the log grew) and remembers it.
    pub(crate) async fn accept_checkpoint(&mut self, note: &str) -> Result<VerifiedCheckpoint> {
        if self.app.key_log.log_key.is_none() {
            // First contact: pin the log's key (or the one given at login).
            let info = self.api.key_log_info().await?;
            self.app.key_log.origin = info.origin;
            self.app.key_log.log_key = Some(info.verifier_key);
        }
        let mut view = self.log_view()?;
        let proof = match view.needs(note).map_err(log_err)? {
            NeedProof::None => Vec::new(),
            NeedProof::Consistency { old, new } => {
                hashes(&self.api.key_log_consistency(old, new).await?.proof)?
            }
        };
        let cp = view
            .accept(note, &proof, now_ms() / 1000)
            .map_err(log_err)?;
        self.app.key_log.latest = view.latest.map(|l| crate::local::SeenCheckpointLocal {
            size: l.size,
            root: l.root,
            note: l.note,
        });
        self.save()?;
        Ok(cp)
    }

    /// Checks a key log position another member carried against this device's own view: the
    /// same tree, or one the other extends, as the server's consistency proof shows. `Err`
    /// says why not (a split view). A position this device cannot check for lack of a view,
    /// or because the server is unreachable, passes (it is checked again next time).
    pub(crate) async fn check_peer_position(
        &mut self,
        peer: ting_e2ee::LogPosition,
    ) -> std::result::Result<(), String> {
        if self.checked_positions.contains(&peer) {
            return Ok(());
        }
        let Some(mine) = self.app.key_log.latest.clone() else {
            return Ok(());
        };
        let fits = if peer.size == mine.size {
            peer.root == mine.root
        } else {
            let (old, old_root, new, new_root) = if peer.size < mine.size {
                (peer.size, peer.root, mine.size, mine.root)
            } else {
                // Catch up first: the newer checkpoint must extend this device's view.
                let Ok(note) = self.api.key_log_checkpoint().await else {
                    return Ok(());
                };
                let cp = match self.accept_checkpoint(&note).await {
                    Ok(cp) => cp,
                    // The server's own log contradicts this device's view.
                    Err(Error::LogConflict(e)) => return Err(e),
                    // Not checkable now (no witness cosignature yet, unreachable): next time.
                    Err(_) => return Ok(()),
                };
                if cp.size < peer.size {
                    return Err(format!(
                        "a member saw a key log of {} records; the server shows {}",
                        peer.size, cp.size
                    ));
                }
                if cp.size == peer.size {
                    return if cp.root == peer.root {
                        self.checked_positions.insert(peer);
                        Ok(())
                    } else {
                        Err(format!("two different key logs of {} records", peer.size))
                    };
                }
                (peer.size, peer.root, cp.size, cp.root)
            };
            let Ok(resp) = self.api.key_log_consistency(old, new).await else {
                return Err(format!(
                    "the server proves no consistency between the key logs of {old} and {new} records"
                ));
            };
            let proof = hashes(&resp.proof).map_err(|e| e.to_string())?;
            ting_e2ee::ting_trust::verify_consistency(old, &old_root, new, &new_root, &proof)
                .is_ok()
        };
        if fits {
            self.checked_positions.insert(peer);
            Ok(())
        } else {
            Err(format!(
                "a member's key log of {} records does not fit the one of {} records this device saw",
                peer.size, mine.size
            ))
        }
    }

    /// Checks that a group member's certificate is in the key log (under the master key the
    /// log shows for its user). `Err` says what the log shows instead. A log that cannot be
    /// read now (unreachable, no witness cosignature yet) passes; it is checked when next used.
    pub(crate) async fn check_member_in_log(
        &mut self,
        member: &ting_e2ee::Member,
    ) -> std::result::Result<(), String> {
        let key = (
            member.user_id.clone(),
            member.device_key.as_bytes().to_vec(),
        );
        if self.logged_members.contains(&key) {
            return Ok(());
        }
        let keys = match self.user_keys(&member.user_id).await {
            Ok(keys) => keys,
            Err(Error::LogConflict(e)) => return Err(e),
            Err(_) => return Ok(()),
        };
        let master = keys
            .master_key
            .map(|k| ting_e2ee::IdentityKey::from_master(&k));
        if master.as_ref() != Some(&member.identity_key) {
            return Err(format!(
                "the key log shows another identity key for {}",
                member.user_id
            ));
        }
        if !keys.is_device_valid(member.device_id.as_bytes(), member.device_key.as_bytes()) {
            return Err(format!(
                "the key log has no certificate for {}'s device {}",
                member.user_id, member.device_id
            ));
        }
        self.logged_members.insert(key);
        Ok(())
    }

    /// `username`'s keys as the key log proves them: every record included in a checkpoint
    /// consistent with what this device saw before, replayed through the log's rules.
    pub async fn user_keys(&mut self, username: &str) -> Result<UserKeys> {
        Ok(self.user_log(username).await?.0)
    }

    /// [`Device::user_keys`] and the verified records themselves (index and encoding).
    pub(crate) async fn user_log(
        &mut self,
        username: &str,
    ) -> Result<(UserKeys, Vec<(u64, Vec<u8>)>)> {
        let resp = self.api.key_log_user(username).await?;
        if resp.username != username {
            return Err(Error::Verification(
                "the key log answered about another user".into(),
            ));
        }
        let cp = self.accept_checkpoint(&resp.checkpoint).await?;
        if cp.size != resp.size {
            return Err(Error::Verification(
                "the key log's proofs are for another size than its checkpoint".into(),
            ));
        }
        let records: Vec<(u64, Vec<u8>)> = resp
            .records
            .into_iter()
            .map(|r| (r.index, r.record.into_inner()))
            .collect();
        let proofs = resp
            .proofs
            .iter()
            .map(|p| hashes(p))
            .collect::<Result<Vec<_>>>()?;
        let keys =
            LogView::user_keys(&cp, username, &records, &proofs, ed25519_only).map_err(log_err)?;
        Ok((keys, records))
    }

    /// Shows this (new, unlinked) device's link code through `on_code`, waits up to `wait`
    /// for an existing device of the user to approve it, then takes the certificate, publishes
    /// its KeyPackages and then the certificate.
    pub async fn link_show<F: FnOnce(&str)>(&mut self, on_code: F, wait: Duration) -> Result<()> {
        if self.is_certified() {
            return Err(Error::Usage("this device is already linked".into()));
        }
        let device = Self::cert_device_id(self.device_id()?);
        let ttl = wait.min(LINK_WAIT).as_millis() as u64;
        let request = self.e2ee.link_request(&device, now_ms(), ttl)?;
        let created = self.api.link_create(request).await?;
        let code = self.e2ee.link_code(&created.rendezvous_id)?;
        on_code(&code);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(response) = self.api.link_response(&created.rendezvous_id).await? {
                let cert = self.e2ee.link_complete(&response, now_ms())?;
                self.save()?;
                self.publish_certified(cert).await?;
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Usage(
                    "no device approved the link in time; run `link show` again".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Fetches the request behind a link code and checks it against the code: what to show
    /// the user before they approve.
    pub async fn link_preview(&mut self, code: &str) -> Result<(LinkPreview, LinkRequestInfo)> {
        let rendezvous = ting_e2ee::rendezvous_of(code)?;
        let info = self.api.link_request(&rendezvous).await?;
        let preview = self
            .e2ee
            .link_preview(code, info.request.as_slice(), now_ms())?;
        if preview.device_id != info.device_id.to_string() {
            return Err(Error::Verification(
                "the server names another device than the one that made the link request".into(),
            ));
        }
        Ok((preview, info))
    }

    /// Approves the device behind `code` (after the user confirmed [`Device::link_preview`]):
    /// sends it the certificate and the master key, encrypted to its one-time key. Then waits
    /// up to `wait` for its certificate in the key log and adds it to this device's rooms
    /// (with a zero `wait`, it leaves that to this user's other devices, which add it when
    /// the key log announces it). Returns the new device and the rooms it was added to.
    pub async fn link_approve(&mut self, code: &str, wait: Duration) -> Result<(DeviceId, usize)> {
        let (_, info) = self.link_preview(code).await?;
        let response = self
            .e2ee
            .link_approve(code, info.request.as_slice(), now_ms())?;
        let rendezvous = ting_e2ee::rendezvous_of(code)?;
        self.api.link_respond(&rendezvous, response).await?;
        if wait.is_zero() {
            return Ok((info.device_id, 0));
        }
        let me = self.app.username.clone();
        let wanted = Self::cert_device_id(info.device_id);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let keys = self.user_keys(&me).await?;
            if keys.devices.contains_key(&wanted) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok((info.device_id, 0));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let mut added = 0;
        for room in self.rooms() {
            if !self.add_own_devices(room).await?.is_empty() {
                added += 1;
            }
        }
        Ok((info.device_id, added))
    }
}

impl KeyLogTrust {
    /// Trust settings for a log whose key and witnesses the organisation gave out of band.
    pub fn pinned(
        log_key: Option<String>,
        witness_keys: Vec<String>,
        required_witnesses: usize,
    ) -> Self {
        let origin = log_key
            .as_deref()
            .and_then(|k| k.split('+').next())
            .unwrap_or_default()
            .to_owned();
        Self {
            origin,
            log_key,
            witness_keys,
            required_witnesses,
            max_age_secs: crate::local::DEFAULT_CHECKPOINT_MAX_AGE_SECS,
            latest: None,
        }
    }
}
