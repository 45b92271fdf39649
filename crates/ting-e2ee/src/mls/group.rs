//! Group life cycle: create, join by welcome, inspect, send chat messages, delete.

use openmls::prelude::{
    CredentialType, Extension, Extensions, LeafNodeIndex, MlsGroup, MlsGroupCreateConfig,
    MlsGroupJoinConfig, MlsMessageBodyIn, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
    RequiredCapabilitiesExtension, SenderRatchetConfiguration, StagedWelcome, WelcomeError,
};
use openmls_traits::OpenMlsProvider as _;

use crate::client::{Client, ClientConfig, GroupEntry};
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::identity::{
    CREDENTIAL_TING_CERTIFICATE, Member, certificate_of, member_from_cert, member_from_mls,
};
use crate::mls::key_package::{WIRE_FORMAT_WELCOME, leaf_capabilities, peek_ciphersuite};
use crate::mls::{GroupId, Joined, parse_mls_message};
use crate::policy::CipherSuite;
use crate::provider::Provider;
use crate::sframe::{MediaEpoch, MediaKeys};

/// The MLS exporter label of RFC 9605 §5.2.
pub const SFRAME_EXPORTER_LABEL: &str = "SFrame 1.0 Base Key";

pub(crate) fn create_config(
    config: &ClientConfig,
    suite: CipherSuite,
) -> Result<MlsGroupCreateConfig> {
    Ok(MlsGroupCreateConfig::builder()
        .ciphersuite(suite.to_openmls()?)
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .padding_size(0)
        .max_past_epochs(usize::from(config.max_past_epochs))
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(
            config.out_of_order_tolerance,
            config.maximum_forward_distance,
        ))
        .capabilities(leaf_capabilities())
        // Every leaf must carry a Ting certificate: required of all members.
        .with_group_context_extensions(
            Extensions::single(Extension::RequiredCapabilities(
                RequiredCapabilitiesExtension::new(
                    &[],
                    &[],
                    &[CredentialType::Other(CREDENTIAL_TING_CERTIFICATE)],
                ),
            ))
            .map_err(|e| Error::internal("group context extensions", e))?,
        )
        .build())
}

pub(crate) fn join_config(config: &ClientConfig) -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .padding_size(0)
        .max_past_epochs(usize::from(config.max_past_epochs))
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(
            config.out_of_order_tolerance,
            config.maximum_forward_distance,
        ))
        .build()
}

/// All members of an MLS group (their certificates were verified when they entered).
pub(crate) fn members_of(mls: &MlsGroup) -> Result<Vec<Member>> {
    mls.members().map(|m| member_from_mls(&m)).collect()
}

pub(crate) fn member_at(mls: &MlsGroup, leaf: LeafNodeIndex) -> Result<Member> {
    let m = mls.member_at(leaf).ok_or(Error::UnknownSender)?;
    member_from_mls(&m)
}

/// Derives the group's current media epoch (RFC 9605 §5.2 exporter secret + membership).
pub(crate) fn media_epoch_of(provider: &Provider, mls: &MlsGroup) -> Result<MediaEpoch> {
    let suite = CipherSuite::from_openmls(mls.ciphersuite()).sframe_suite()?;
    let base_key = mls
        .export_secret(
            provider.crypto(),
            SFRAME_EXPORTER_LABEL,
            b"",
            suite.key_len(),
        )
        .map_err(|e| Error::internal("MLS exporter", e))?;
    let members: Vec<u32> = mls.members().map(|m| m.index.u32()).collect();
    MediaEpoch::new(
        mls.epoch().as_u64(),
        suite,
        base_key,
        Some(mls.own_leaf_index().u32()),
        members,
    )
}

impl Client {
    /// Creates a group with id `group_id` containing only this device, using the policy's
    /// preferred cipher suite.
    pub fn create_group(&mut self, group_id: &GroupId) -> Result<()> {
        if self.groups.contains_key(group_id) {
            return Err(Error::GroupExists);
        }
        let suite = self.config.policy.preferred();
        let config = create_config(&self.config, suite)?;
        let mls = MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &config,
            group_id.to_openmls(),
            self.credential_with_key()?,
        )
        .map_err(|e| Error::internal("group creation", e))?;
        let mut media = MediaKeys::new(self.config.sframe.clone(), self.media_session_seed()?)?;
        media.set_epoch(0, media_epoch_of(&self.provider, &mls)?)?;
        self.groups
            .insert(group_id.clone(), GroupEntry { mls, media });
        Ok(())
    }

    /// Joins a group from a welcome (`MLSMessage`, with the ratchet-tree extension). Refuses a
    /// cipher suite outside the policy, any leaf without a valid device certificate (or with a
    /// revoked one), a device of this user not certified by this user's master key, and a
    /// group that already exists locally. Identity changes of other members are reported in
    /// [`Joined::alerts`].
    pub fn join(&mut self, welcome: &[u8]) -> Result<Joined> {
        const WHAT: &str = "welcome";
        if let Some(suite) = peek_ciphersuite(welcome, WIRE_FORMAT_WELCOME) {
            self.config.policy.check(suite)?;
        }
        let welcome = match parse_mls_message(welcome, WHAT)? {
            MlsMessageBodyIn::Welcome(w) => w,
            _ => {
                return Err(Error::Malformed {
                    what: "welcome (wrong MLS wire format)",
                });
            }
        };
        self.config
            .policy
            .check(CipherSuite::from_openmls(welcome.ciphersuite()))?;
        let staged = StagedWelcome::new_from_welcome(
            &self.provider,
            &join_config(&self.config),
            welcome,
            None,
        )
        .map_err(map_welcome_error)?;
        let group_id = GroupId::new(staged.group_context().group_id().as_slice().to_vec())
            .map_err(|_| Error::Invalid {
                what: WHAT,
                detail: "group id must be 1..=255 bytes".to_owned(),
            })?;
        if self.groups.contains_key(&group_id) {
            return Err(Error::GroupExists);
        }
        // Every leaf of the tree: a valid certificate for its own key (R6), checked before any
        // pin changes so a refused welcome changes nothing.
        let certs = staged
            .members()
            .map(|m| {
                certificate_of(&self.provider, &m.credential, &m.signature_key)
                    .map(|c| (m.index.u32(), c))
            })
            .collect::<Result<Vec<_>>>()?;
        let own_key = self.identity_key();
        let mut trust = self.trust.clone();
        let mut alerts = Vec::new();
        for (_, cert) in &certs {
            if cert.body.user_id == self.user_id
                && own_key
                    .as_ref()
                    .is_some_and(|k| k.as_bytes() != cert.body.master_key.as_bytes())
            {
                return Err(Error::InvalidCredential {
                    reason: "the group holds a device of this user not certified by this user's identity key",
                });
            }
            if let Some(alert) = trust.observe(&self.user_id, own_key.as_ref(), cert)? {
                alerts.push(alert);
            }
        }
        let members: Vec<Member> = certs
            .iter()
            .map(|(leaf, cert)| member_from_cert(*leaf, cert))
            .collect();
        let sender_index = staged.welcome_sender_index();
        let added_by = members
            .iter()
            .find(|m| m.leaf_index == sender_index.u32())
            .cloned()
            .ok_or(Error::UnknownSender)?;
        let mls = staged
            .into_group(&self.provider)
            .map_err(|e| Error::Invalid {
                what: WHAT,
                detail: e.to_string(),
            })?;
        let mut media = MediaKeys::new(self.config.sframe.clone(), self.media_session_seed()?)?;
        media.set_epoch(0, media_epoch_of(&self.provider, &mls)?)?;
        let epoch = mls.epoch().as_u64();
        self.groups
            .insert(group_id.clone(), GroupEntry { mls, media });
        self.trust = trust;
        Ok(Joined {
            group_id,
            epoch,
            added_by,
            members,
            alerts,
        })
    }

    /// Encrypts a chat message for the group: the envelope is encoded, padded to its size
    /// bucket and sent as an MLS application message (`MLSMessage` bytes).
    pub fn encrypt_message(&mut self, group_id: &GroupId, envelope: &Envelope) -> Result<Vec<u8>> {
        let padded = envelope.to_padded()?;
        let entry = self.groups.get_mut(group_id).ok_or(Error::UnknownGroup)?;
        if !entry.mls.is_active() {
            return Err(Error::NotAMember);
        }
        if entry.mls.pending_commit().is_some() {
            return Err(Error::PendingCommit);
        }
        if let Some(user_id) = members_of(&entry.mls)?
            .into_iter()
            .map(|m| m.user_id)
            .find(|u| {
                self.trust
                    .pins
                    .get(u)
                    .is_some_and(crate::trust::Pin::blocks_sending)
            })
        {
            return Err(Error::IdentityChanged { user_id });
        }
        if let Some(position) = &self.log_position {
            entry.mls.set_aad(position.encode());
        }
        let msg = entry
            .mls
            .create_message(&self.provider, &self.signer, &padded)
            .map_err(|e| Error::internal("create message", e))?;
        msg.to_bytes()
            .map_err(|e| Error::internal("message serialization", e))
    }

    /// The group's current epoch.
    pub fn epoch(&self, group_id: &GroupId) -> Result<u64> {
        Ok(self.entry(group_id)?.mls.epoch().as_u64())
    }

    /// All members (devices) of the group, ourselves included, in leaf order.
    pub fn members(&self, group_id: &GroupId) -> Result<Vec<Member>> {
        members_of(&self.entry(group_id)?.mls)
    }

    /// This device's leaf index in the group.
    pub fn own_leaf_index(&self, group_id: &GroupId) -> Result<u32> {
        Ok(self.entry(group_id)?.mls.own_leaf_index().u32())
    }

    /// The group's cipher suite.
    pub fn group_ciphersuite(&self, group_id: &GroupId) -> Result<CipherSuite> {
        Ok(CipherSuite::from_openmls(
            self.entry(group_id)?.mls.ciphersuite(),
        ))
    }

    /// The epoch authenticator (RFC 9420 §8.7): equal on all members in the same epoch with the
    /// same view of the group; can be compared out of band.
    pub fn epoch_authenticator(&self, group_id: &GroupId) -> Result<Vec<u8>> {
        Ok(self
            .entry(group_id)?
            .mls
            .epoch_authenticator()
            .as_slice()
            .to_vec())
    }

    /// Whether a commit created by this client awaits merge or clear.
    pub fn has_pending_commit(&self, group_id: &GroupId) -> Result<bool> {
        Ok(self.entry(group_id)?.mls.pending_commit().is_some())
    }

    /// Forgets a group and all its secrets (after leaving, or to free space).
    pub fn delete_group(&mut self, group_id: &GroupId) -> Result<()> {
        let mut entry = self.groups.remove(group_id).ok_or(Error::UnknownGroup)?;
        entry
            .mls
            .delete(self.provider.storage())
            .map_err(|e| Error::internal("storage", e))
    }

    /// The media keys of the group (for encrypting and decrypting frames in this process).
    /// They follow the group's epochs automatically.
    pub fn media_keys(&mut self, group_id: &GroupId) -> Result<&mut MediaKeys> {
        Ok(&mut self.entry_mut(group_id)?.media)
    }

    /// The group's current media epoch, for handing to a [`MediaKeys`] in another context
    /// (e.g. the browser's encoded-transform worker) with [`MediaKeys::set_epoch`]. Contains the
    /// epoch's SFrame base key: never send it over the network.
    pub fn media_epoch(&self, group_id: &GroupId) -> Result<MediaEpoch> {
        media_epoch_of(&self.provider, &self.entry(group_id)?.mls)
    }
}

fn map_welcome_error<E: std::fmt::Display>(err: WelcomeError<E>) -> Error {
    const WHAT: &str = "welcome";
    match err {
        WelcomeError::UnsupportedCiphersuite(suite) => Error::UnsupportedCiphersuite {
            suite: u16::from(suite),
            allowed: Vec::new(),
        },
        WelcomeError::ConfirmationTagMismatch | WelcomeError::InvalidGroupInfoSignature => {
            Error::Tampered { what: WHAT }
        }
        WelcomeError::UnableToDecrypt => Error::Tampered { what: WHAT },
        WelcomeError::MalformedWelcomeMessage | WelcomeError::NotAWelcomeMessage => {
            Error::Malformed { what: WHAT }
        }
        WelcomeError::NoMatchingKeyPackage | WelcomeError::JoinerSecretNotFound => Error::Invalid {
            what: WHAT,
            detail: "not addressed to any key package of this device (or already used)".to_owned(),
        },
        WelcomeError::LibraryError(e) => Error::internal("openmls", e),
        other => Error::Invalid {
            what: WHAT,
            detail: other.to_string(),
        },
    }
}
