//! The [`Client`]: one device's whole crypto state.

use std::collections::BTreeMap;

use openmls::prelude::MlsGroup;
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::OpenMlsProvider as _;

use crate::error::{Error, Result};
use crate::identity::{DeviceKey, validate_user_id};
use crate::mls::GroupId;
use crate::policy::{CipherSuite, CipherSuitePolicy};
use crate::provider::Provider;
use crate::sframe::{MediaKeys, SframeConfig};
use crate::trust::link::PendingLink;
use crate::trust::{OwnIdentity, TrustStore};

/// Tunables of a [`Client`]; persisted with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Which MLS cipher suites are acceptable; the first is used for new groups.
    pub policy: CipherSuitePolicy,
    /// SFrame key id layout and the grace window for the previous epoch's media keys.
    pub sframe: SframeConfig,
    /// How many past epochs' application messages can still be decrypted (0: only the current
    /// epoch, which fits a delivery service that orders commits and messages per group).
    pub max_past_epochs: u16,
    /// How many messages of one sender may arrive out of order within an epoch.
    pub out_of_order_tolerance: u32,
    /// How far a sender's generation may jump ahead (messages lost in between).
    pub maximum_forward_distance: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            policy: CipherSuitePolicy::default(),
            sframe: SframeConfig::default(),
            max_past_epochs: 0,
            out_of_order_tolerance: 10,
            maximum_forward_distance: 1000,
        }
    }
}

/// Per-group state: the MLS group and its media keys.
pub(crate) struct GroupEntry {
    pub(crate) mls: MlsGroup,
    pub(crate) media: MediaKeys,
}

/// One device: its identity (user id + signature key), its openmls storage (key package
/// secrets, groups) and the media keys of its groups.
///
/// A `Client` is a sans-IO value: it owns no socket, task or clock. Outgoing bytes are returned
/// to the caller, incoming bytes are passed in, and the current time is passed where it matters
/// (`now_ms`, milliseconds since the Unix epoch, only for the media-key grace window).
/// Persist it with [`Client::save`] and restore it with [`Client::load`].
pub struct Client {
    pub(crate) provider: Provider,
    pub(crate) signer: SignatureKeyPair,
    pub(crate) user_id: String,
    pub(crate) config: ClientConfig,
    pub(crate) groups: BTreeMap<GroupId, GroupEntry>,
    /// The user's master key (if this device holds it) and this device's certificate.
    pub(crate) identity: OwnIdentity,
    /// Pins of other users' identity keys and revoked device keys.
    pub(crate) trust: TrustStore,
    /// A link request waiting for approval (memory only: its one-time key never persists).
    pub(crate) pending_link: Option<PendingLink>,
    /// The key log position this device carries in its messages (memory only; the app sets
    /// it from its verified view of the log).
    pub(crate) log_position: Option<crate::trust::LogPosition>,
}

impl std::fmt::Debug for Client {
    /// Identity and group ids only: never key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("user_id", &self.user_id)
            .field("device_key", &self.device_key())
            .field("groups", &self.groups.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A new device for `user_id` with a fresh Ed25519 signature key. It cannot publish key
    /// packages or create groups until it is certified: by [`Client::create_identity`] on the
    /// user's first device, or by linking from an existing device ([`Client::link_request`]).
    pub fn new(user_id: &str, config: ClientConfig) -> Result<Self> {
        validate_user_id(user_id)?;
        let suite = config.policy.preferred().to_openmls()?;
        let provider = Provider::default();
        let signer = SignatureKeyPair::new(suite.signature_algorithm())
            .map_err(|e| Error::internal("signature key generation", format!("{e:?}")))?;
        signer
            .store(provider.storage())
            .map_err(|e| Error::internal("storage", e))?;
        Ok(Self {
            provider,
            signer,
            user_id: user_id.to_owned(),
            config,
            groups: BTreeMap::new(),
            identity: OwnIdentity::default(),
            trust: TrustStore::default(),
            pending_link: None,
            log_position: None,
        })
    }

    /// The user this device belongs to.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// This device's signature public key: its identity in every group.
    pub fn device_key(&self) -> DeviceKey {
        DeviceKey::from_bytes(self.signer.to_public_vec())
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The cipher suite used for new groups and key packages.
    pub fn preferred_ciphersuite(&self) -> CipherSuite {
        self.config.policy.preferred()
    }

    /// Ids of all groups this client is a member of.
    pub fn group_ids(&self) -> Vec<GroupId> {
        self.groups.keys().cloned().collect()
    }

    /// Whether the client is in group `group_id`.
    pub fn has_group(&self, group_id: &GroupId) -> bool {
        self.groups.contains_key(group_id)
    }

    pub(crate) fn entry(&self, group_id: &GroupId) -> Result<&GroupEntry> {
        self.groups.get(group_id).ok_or(Error::UnknownGroup)
    }

    pub(crate) fn entry_mut(&mut self, group_id: &GroupId) -> Result<&mut GroupEntry> {
        self.groups.get_mut(group_id).ok_or(Error::UnknownGroup)
    }

    /// A random 64-bit value for a new media sender session.
    pub(crate) fn media_session_seed(&self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.provider.random::<8>()?))
    }
}
