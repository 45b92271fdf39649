//! Incoming group messages: chat messages, proposals and other members' commits.

use openmls::prelude::{ContentType, ProcessedMessageContent, Proposal, ProtocolMessage, Sender};
use openmls_traits::OpenMlsProvider as _;

use crate::client::Client;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::identity::{certificate_of, member_from_cert};
use crate::mls::commit::{check_same_user, preview_change, validate_staged_credentials};
use crate::mls::group::{media_epoch_of, member_at};
use crate::mls::{
    GroupId, ProposalKind, Received, ReceivedCommit, ReceivedMessage, ReceivedProposal,
    map_process_error, parse_mls_message, protocol_message,
};

impl Client {
    /// Processes one `MLSMessage` the delivery service delivered for group `group_id`.
    ///
    /// * a chat message is decrypted, unpadded and decoded;
    /// * a commit by another member is validated (signatures, confirmation tag, credentials of
    ///   added and updated devices) and **merged**, since the delivery service only delivers
    ///   the commit that won its epoch; the media keys rotate, keeping the previous epoch's for
    ///   the grace window counted from `now_ms`;
    /// * a proposal is validated and queued for the next commit.
    ///
    /// Errors leave the group's epoch and membership unchanged (a message that decrypted but
    /// failed validation has still used up its message key). A commit refused here — e.g. one
    /// adding a device with an invalid credential, which the delivery service nevertheless
    /// accepted — leaves this device behind in the old epoch: surface it to the user, since the
    /// device can no longer follow the group until it is re-added. Typical peer errors: [`Error::WrongGroup`] (the
    /// message names another group), [`Error::WrongEpoch`], [`Error::Replayed`] (decrypted
    /// before: MLS deletes each message key after use), [`Error::Tampered`],
    /// [`Error::UnknownSender`], [`Error::InvalidCredential`].
    pub fn handle_message(
        &mut self,
        group_id: &GroupId,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<Received> {
        let msg = protocol_message(parse_mls_message(bytes, "MLS message")?)?;
        let max_past = u64::from(self.config.max_past_epochs);
        let entry = self.groups.get_mut(group_id).ok_or(Error::UnknownGroup)?;
        let mls = &mut entry.mls;
        if msg.group_id() != mls.group_id() {
            return Err(Error::WrongGroup);
        }
        let message_epoch = msg.epoch().as_u64();
        let group_epoch = mls.epoch().as_u64();
        if message_epoch != group_epoch
            && !past_epoch_allowed(&msg, message_epoch, group_epoch, max_past)
        {
            return Err(Error::WrongEpoch {
                message_epoch,
                group_epoch,
            });
        }
        if !mls.is_active() {
            return Err(Error::NotAMember);
        }

        let processed =
            mls.process_message(&self.provider, msg)
                .map_err(|e| match map_process_error(e) {
                    Error::WrongEpoch { .. } => Error::WrongEpoch {
                        message_epoch,
                        group_epoch,
                    },
                    other => other,
                })?;
        let sender_leaf = match processed.sender() {
            Sender::Member(leaf) => *leaf,
            _ => return Err(Error::UnknownSender),
        };
        let credential = processed.credential().clone();
        let epoch = processed.epoch().as_u64();
        let log_position = crate::trust::LogPosition::decode(processed.aad());

        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(app) => {
                let sender = member_at(mls, sender_leaf)?;
                let sender_cert =
                    ting_trust::DeviceCertificate::decode(credential.serialized_content())
                        .map_err(Error::from_trust)?;
                if sender_cert.body.user_id != sender.user_id {
                    // The leaf changed hands since that past epoch.
                    return Err(Error::UnknownSender);
                }
                let envelope = Envelope::from_padded(&app.into_bytes())?;
                Ok(Received::Message(ReceivedMessage {
                    group_id: group_id.clone(),
                    epoch,
                    sender,
                    envelope,
                    log_position,
                }))
            }
            ProcessedMessageContent::ProposalMessage(queued) => {
                let sender = member_at(mls, sender_leaf)?;
                let kind = match queued.proposal() {
                    Proposal::Remove(remove) => ProposalKind::Remove {
                        member: member_at(mls, remove.removed())?,
                    },
                    Proposal::Add(add) => {
                        let leaf_node = add.key_package().leaf_node();
                        let cert = certificate_of(
                            &self.provider,
                            leaf_node.credential(),
                            leaf_node.signature_key().as_slice(),
                        )?;
                        ProposalKind::Add {
                            member: member_from_cert(u32::MAX, &cert),
                        }
                    }
                    Proposal::Update(update) => {
                        let leaf_node = update.leaf_node();
                        let cert = certificate_of(
                            &self.provider,
                            leaf_node.credential(),
                            leaf_node.signature_key().as_slice(),
                        )?;
                        check_same_user(mls, sender_leaf, &cert.body.user_id)?;
                        ProposalKind::Update
                    }
                    _ => ProposalKind::Other,
                };
                mls.store_pending_proposal(self.provider.storage(), *queued)
                    .map_err(|e| Error::internal("storage", e))?;
                Ok(Received::Proposal(ReceivedProposal {
                    group_id: group_id.clone(),
                    epoch,
                    sender,
                    kind,
                }))
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let certs = validate_staged_credentials(&self.provider, mls, &staged, sender_leaf)?;
                // Trust decisions on a copy: a refused commit changes no pin.
                let own_key =
                    self.identity
                        .master
                        .as_ref()
                        .map(|m| crate::identity::IdentityKey::from_master(&m.public()))
                        .or_else(|| {
                            self.identity.certificate.as_ref().map(|c| {
                                crate::identity::IdentityKey::from_master(&c.body.master_key)
                            })
                        });
                let mut trust = self.trust.clone();
                let mut alerts = Vec::new();
                for cert in &certs {
                    if let Some(alert) = trust.observe(&self.user_id, own_key.as_ref(), cert)? {
                        alerts.push(alert);
                    }
                }
                let committer = member_at(mls, sender_leaf)?;
                let change = preview_change(mls, &staged, sender_leaf)?;
                let removed_self = staged.self_removed();
                mls.merge_staged_commit(&self.provider, *staged)
                    .map_err(|e| Error::internal("merge commit", e))?;
                self.trust = trust;
                let new_epoch = mls.epoch().as_u64();
                if removed_self {
                    // Nothing can be done with the group any more: forget its secrets.
                    mls.delete(self.provider.storage())
                        .map_err(|e| Error::internal("storage", e))?;
                    self.groups.remove(group_id);
                } else {
                    let media_epoch = media_epoch_of(&self.provider, mls)?;
                    entry.media.set_epoch(now_ms, media_epoch)?;
                }
                Ok(Received::Commit(ReceivedCommit {
                    group_id: group_id.clone(),
                    epoch: new_epoch,
                    committer,
                    change,
                    removed_self,
                    alerts,
                }))
            }
            ProcessedMessageContent::ExternalJoinProposalMessage(_) => Err(Error::Invalid {
                what: "proposal",
                detail: "external join proposals are not accepted".to_owned(),
            }),
            _ => Ok(Received::OwnMessage {
                group_id: group_id.clone(),
                epoch,
            }),
        }
    }
}

fn past_epoch_allowed(
    msg: &ProtocolMessage,
    message_epoch: u64,
    group_epoch: u64,
    max_past: u64,
) -> bool {
    msg.content_type() == ContentType::Application
        && message_epoch < group_epoch
        && group_epoch - message_epoch <= max_past
}
