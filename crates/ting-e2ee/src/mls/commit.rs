//! Commits: add, remove, update, leave, and the pending-commit protocol with the delivery
//! service.
//!
//! The delivery service accepts exactly one commit per epoch. So every commit-creating method
//! leaves the commit *pending* and returns it; the caller sends it and then either
//!
//! * calls [`Client::merge_pending_commit`] when the delivery service accepted it, or
//! * calls [`Client::clear_pending_commit`] when it was refused as stale (another member's
//!   commit won the epoch). The caller then processes the winning commit with
//!   [`Client::handle_message`] and may retry its operation in the new epoch.
//!
//! If the winning commit arrives before the refusal, [`Client::handle_message`] merges it and
//! drops the pending commit; a later `clear_pending_commit` is then a no-op.

use std::collections::BTreeSet;

use openmls::prelude::{KeyPackage, LeafNodeIndex, MlsGroup, Sender, StagedCommit};
use openmls_traits::OpenMlsProvider as _;

use crate::client::Client;
use crate::error::{Error, Result};
use ting_trust::DeviceCertificate;

use crate::identity::{DeviceKey, Member, certificate_of, member_from_cert};
use crate::mls::group::{media_epoch_of, member_at, members_of};
use crate::mls::{CommitBundle, DeviceKeyChange, GroupId, MembershipChange};
use crate::provider::Provider;

/// What to put into a commit.
enum Change {
    Add(Vec<KeyPackage>),
    Remove(Vec<LeafNodeIndex>),
    SelfUpdate,
    PendingProposals,
}

impl Client {
    /// Adds devices by their key packages (each a serialized `MLSMessage`). Every key package
    /// is validated first (see [`Client::inspect_key_package`]) and must use the group's cipher
    /// suite. Returns the pending commit and the welcome for the new devices.
    pub fn add_members<K: AsRef<[u8]>>(
        &mut self,
        group_id: &GroupId,
        key_packages: &[K],
    ) -> Result<CommitBundle> {
        if key_packages.is_empty() {
            return Err(Error::InvalidArgument("no key packages to add"));
        }
        let group_suite = self.entry(group_id)?.mls.ciphersuite();
        let kps = key_packages
            .iter()
            .map(|kp| {
                let (kp, _) = self.trusted_key_package(kp.as_ref())?;
                if kp.ciphersuite() != group_suite {
                    return Err(Error::UnsupportedCiphersuite {
                        suite: u16::from(kp.ciphersuite()),
                        allowed: vec![u16::from(group_suite)],
                    });
                }
                Ok(kp)
            })
            .collect::<Result<Vec<_>>>()?;
        self.commit(group_id, Change::Add(kps))
    }

    /// Removes the devices at `leaf_indices`. Removing this device itself is refused (use
    /// [`Client::leave_group`]).
    pub fn remove_members(
        &mut self,
        group_id: &GroupId,
        leaf_indices: &[u32],
    ) -> Result<CommitBundle> {
        if leaf_indices.is_empty() {
            return Err(Error::InvalidArgument("no members to remove"));
        }
        let entry = self.entry(group_id)?;
        let own = entry.mls.own_leaf_index().u32();
        let mut seen = BTreeSet::new();
        for &leaf in leaf_indices {
            if leaf == own {
                return Err(Error::InvalidArgument(
                    "cannot remove this device by commit; use leave_group",
                ));
            }
            if entry.mls.member_at(LeafNodeIndex::new(leaf)).is_none() {
                return Err(Error::UnknownMember);
            }
            if !seen.insert(leaf) {
                return Err(Error::InvalidArgument("leaf index listed twice"));
            }
        }
        let leaves = seen.into_iter().map(LeafNodeIndex::new).collect();
        self.commit(group_id, Change::Remove(leaves))
    }

    /// Removes every device of user `user_id` (other than this device).
    pub fn remove_user(&mut self, group_id: &GroupId, user_id: &str) -> Result<CommitBundle> {
        let entry = self.entry(group_id)?;
        let own = entry.mls.own_leaf_index().u32();
        let leaves: Vec<u32> = members_of(&entry.mls)?
            .into_iter()
            .filter(|m| m.user_id == user_id && m.leaf_index != own)
            .map(|m| m.leaf_index)
            .collect();
        if leaves.is_empty() {
            return Err(Error::UnknownMember);
        }
        self.remove_members(group_id, &leaves)
    }

    /// Updates this device's leaf (fresh HPKE keys: post-compromise security) in a commit.
    pub fn self_update(&mut self, group_id: &GroupId) -> Result<CommitBundle> {
        self.commit(group_id, Change::SelfUpdate)
    }

    /// Commits the proposals received from other members (e.g. a member's leave request).
    pub fn commit_pending_proposals(&mut self, group_id: &GroupId) -> Result<CommitBundle> {
        self.commit(group_id, Change::PendingProposals)
    }

    /// Asks to leave the group: returns a remove proposal (`MLSMessage`) for the delivery
    /// service. Another member must commit it; this client learns it is out when that commit
    /// arrives ([`crate::ReceivedCommit::removed_self`]), or may simply
    /// [`Client::delete_group`].
    pub fn leave_group(&mut self, group_id: &GroupId) -> Result<Vec<u8>> {
        let entry = self.groups.get_mut(group_id).ok_or(Error::UnknownGroup)?;
        if entry.mls.pending_commit().is_some() {
            return Err(Error::PendingCommit);
        }
        let msg = entry
            .mls
            .leave_group(&self.provider, &self.signer)
            .map_err(|e| Error::internal("leave", e))?;
        msg.to_bytes()
            .map_err(|e| Error::internal("proposal serialization", e))
    }

    /// Applies this client's pending commit after the delivery service accepted it: the group
    /// moves to the next epoch and the media keys rotate (the previous epoch's stay usable for
    /// the grace window from `now_ms`).
    pub fn merge_pending_commit(
        &mut self,
        group_id: &GroupId,
        now_ms: u64,
    ) -> Result<MembershipChange> {
        let entry = self.groups.get_mut(group_id).ok_or(Error::UnknownGroup)?;
        let staged = entry.mls.pending_commit().ok_or(Error::NoPendingCommit)?;
        let own = entry.mls.own_leaf_index();
        let change = preview_change(&entry.mls, staged, own)?;
        for add in staged.add_proposals() {
            if let Ok(cert) = DeviceCertificate::decode(
                add.add_proposal()
                    .key_package()
                    .leaf_node()
                    .credential()
                    .serialized_content(),
            ) {
                self.trust.pin_added(&self.user_id, &cert);
            }
        }
        entry
            .mls
            .merge_pending_commit(&self.provider)
            .map_err(|e| Error::internal("merge", e))?;
        let epoch = media_epoch_of(&self.provider, &entry.mls)?;
        entry.media.set_epoch(now_ms, epoch)?;
        Ok(change)
    }

    /// Drops this client's pending commit (the delivery service refused it). A no-op if there
    /// is none.
    pub fn clear_pending_commit(&mut self, group_id: &GroupId) -> Result<()> {
        let entry = self.groups.get_mut(group_id).ok_or(Error::UnknownGroup)?;
        entry
            .mls
            .clear_pending_commit(self.provider.storage())
            .map_err(|e| Error::internal("storage", e))
    }

    fn commit(&mut self, group_id: &GroupId, change: Change) -> Result<CommitBundle> {
        let entry = self.groups.get_mut(group_id).ok_or(Error::UnknownGroup)?;
        let mls = &mut entry.mls;
        if !mls.is_active() {
            return Err(Error::NotAMember);
        }
        if mls.pending_commit().is_some() {
            return Err(Error::PendingCommit);
        }
        let epoch = mls.epoch().as_u64();
        let mut builder = mls.commit_builder();
        builder = match change {
            // Like openmls's `add_members`: the committer also refreshes its own leaf (PCS).
            Change::Add(kps) => builder.propose_adds(kps).force_self_update(true),
            Change::Remove(leaves) => builder.propose_removals(leaves),
            Change::SelfUpdate => builder.force_self_update(true),
            Change::PendingProposals => builder,
        };
        let bundle = builder
            .load_psks(self.provider.storage())
            .map_err(|e| Error::internal("commit psks", e))?
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .map_err(|e| Error::Invalid {
                what: "commit",
                detail: e.to_string(),
            })?
            .stage_commit(&self.provider)
            .map_err(|e| Error::internal("stage commit", e))?;
        let (commit, welcome, _group_info) = bundle.into_messages();
        let staged = mls
            .pending_commit()
            .ok_or_else(|| Error::Internal("commit staged but not pending".into()))?;
        let change = preview_change(mls, staged, mls.own_leaf_index())?;
        Ok(CommitBundle {
            commit: commit
                .to_bytes()
                .map_err(|e| Error::internal("commit serialization", e))?,
            welcome: welcome
                .map(|w| w.to_bytes())
                .transpose()
                .map_err(|e| Error::internal("welcome serialization", e))?,
            epoch,
            change,
        })
    }
}

/// Checks the credentials a staged commit introduces (R6) before it is merged: every added
/// leaf and every updated leaf (update proposals and the committer's path) must carry a valid
/// device certificate for its own key (openmls's `credentials_to_verify` set); an updated leaf
/// must keep its user id; revoked devices are refused. Returns the certificates of the added
/// and updated leaves, for the trust store.
pub(crate) fn validate_staged_credentials(
    provider: &Provider,
    mls: &MlsGroup,
    staged: &StagedCommit,
    committer: LeafNodeIndex,
) -> Result<Vec<DeviceCertificate>> {
    let mut certs = Vec::new();
    for add in staged.add_proposals() {
        let leaf = add.add_proposal().key_package().leaf_node();
        certs.push(certificate_of(
            provider,
            leaf.credential(),
            leaf.signature_key().as_slice(),
        )?);
    }
    for update in staged.update_proposals() {
        if let Sender::Member(sender) = update.sender() {
            let leaf = update.update_proposal().leaf_node();
            let cert =
                certificate_of(provider, leaf.credential(), leaf.signature_key().as_slice())?;
            check_same_user(mls, *sender, &cert.body.user_id)?;
            certs.push(cert);
        }
    }
    if let Some(leaf) = staged.update_path_leaf_node() {
        let cert = certificate_of(provider, leaf.credential(), leaf.signature_key().as_slice())?;
        check_same_user(mls, committer, &cert.body.user_id)?;
        certs.push(cert);
    }
    // Nothing openmls asks to verify may escape the checks above.
    let checked = certs.len();
    if staged.credentials_to_verify().count() > checked {
        return Err(Error::InvalidCredential {
            reason: "the commit carries a credential outside the checked leaves",
        });
    }
    Ok(certs)
}

pub(crate) fn check_same_user(mls: &MlsGroup, leaf: LeafNodeIndex, user_id: &str) -> Result<()> {
    let before = member_at(mls, leaf)?;
    if user_id != before.user_id {
        return Err(Error::InvalidCredential {
            reason: "a leaf update tried to change the member's user id",
        });
    }
    Ok(())
}

/// What a staged commit will change, computed against the group before the merge. Added
/// devices get the leaf indices RFC 9420 §12.1.1 assigns (leftmost blank leaf after the
/// removals, in proposal order).
pub(crate) fn preview_change(
    mls: &MlsGroup,
    staged: &StagedCommit,
    committer: LeafNodeIndex,
) -> Result<MembershipChange> {
    let before = members_of(mls)?;
    let mut change = MembershipChange::default();

    let mut occupied: BTreeSet<u32> = before.iter().map(|m| m.leaf_index).collect();
    for remove in staged.remove_proposals() {
        let leaf = remove.remove_proposal().removed().u32();
        if let Some(m) = before.iter().find(|m| m.leaf_index == leaf) {
            change.removed.push(m.clone());
        }
        occupied.remove(&leaf);
    }
    let mut next_free = 0u32;
    for add in staged.add_proposals() {
        let leaf_node = add.add_proposal().key_package().leaf_node();
        while occupied.contains(&next_free) {
            next_free += 1;
        }
        occupied.insert(next_free);
        let cert = DeviceCertificate::decode(leaf_node.credential().serialized_content())
            .map_err(Error::from_trust)?;
        change.added.push(member_from_cert(next_free, &cert));
    }

    let mut key_change = |leaf: LeafNodeIndex, new_key: &[u8]| {
        if let Some(old) = before.iter().find(|m| m.leaf_index == leaf.u32())
            && old.device_key.as_bytes() != new_key
        {
            change.device_key_changes.push(DeviceKeyChange {
                member: Member {
                    device_key: DeviceKey::from_bytes(new_key.to_vec()),
                    ..old.clone()
                },
                old_device_key: old.device_key.clone(),
            });
        }
    };
    for update in staged.update_proposals() {
        if let Sender::Member(leaf) = update.sender() {
            key_change(
                *leaf,
                update
                    .update_proposal()
                    .leaf_node()
                    .signature_key()
                    .as_slice(),
            );
        }
    }
    if let Some(leaf_node) = staged.update_path_leaf_node() {
        key_change(committer, leaf_node.signature_key().as_slice());
    }
    Ok(change)
}
