//! `TingClient`: one device (ting-e2ee's `Client`) with its groups.

use js_sys::Array;
use ting_e2ee::{Client, Envelope, StorageKey, hex};
use wasm_bindgen::prelude::*;

use crate::error::WebError;
use crate::js::{JsResult, byte_list, e2ee, from_js, group_id, now_ms, to_byte_list, to_js};
use crate::options::ConfigView;
use crate::views::{
    ChangeView, CommitView, EnvelopeView, FrameView, JoinedView, KeyPackageInfoView, MemberView,
    ReceivedView, SafetyNumberView,
};

/// One device: its identity, key packages, MLS groups and their media keys.
///
/// Every method mirrors the ting-e2ee `Client` method of the same (snake_case) name; errors are
/// thrown as `TingError`s with a stable `code`. After any call that changes state (including
/// decrypting: ratchets advance), persist the client with `save`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TingClient {
    pub(crate) inner: Client,
}

fn epoch_number(epoch: u64) -> f64 {
    // Epochs count commits; they stay far below 2^53.
    epoch as f64
}

#[wasm_bindgen]
impl TingClient {
    /// A new device of `userId` with a fresh Ed25519 signature key. `options` is an optional
    /// `ClientOptions` object.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = userId)] user_id: &str,
        #[wasm_bindgen(unchecked_param_type = "ClientOptions | undefined")] options: JsValue,
    ) -> JsResult<TingClient> {
        let config = if options.is_undefined() || options.is_null() {
            ConfigView::default()
        } else {
            from_js::<ConfigView>(options, "options")?
        };
        let inner = Client::new(user_id, config.to_config()?).map_err(e2ee)?;
        Ok(Self { inner })
    }

    /// Restores a client from `save`'s output and the same 32-byte storage key.
    pub fn load(
        blob: &[u8],
        #[wasm_bindgen(js_name = storageKey)] storage_key: &[u8],
    ) -> JsResult<TingClient> {
        let key = StorageKey::from_slice(storage_key).map_err(e2ee)?;
        let inner = Client::load(blob, &key).map_err(e2ee)?;
        Ok(Self { inner })
    }

    /// Serializes and encrypts the whole client under a 32-byte storage key.
    pub fn save(
        &self,
        #[wasm_bindgen(js_name = storageKey)] storage_key: &[u8],
    ) -> JsResult<Vec<u8>> {
        let key = StorageKey::from_slice(storage_key).map_err(e2ee)?;
        self.inner.save(&key).map_err(e2ee)
    }

    /// The user this device belongs to.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn user_id(&self) -> String {
        self.inner.user_id().to_owned()
    }

    /// This device's signature public key, hex.
    #[wasm_bindgen(getter, js_name = deviceKey)]
    pub fn device_key(&self) -> String {
        self.inner.device_key().to_hex()
    }

    /// RFC 9420 value of the cipher suite used for new groups and key packages.
    #[wasm_bindgen(getter, js_name = preferredCiphersuite)]
    pub fn preferred_ciphersuite(&self) -> u16 {
        self.inner.preferred_ciphersuite().to_u16()
    }

    // ---- key packages ---------------------------------------------------------------------

    /// `count` one-time key packages (`MLSMessage`s) to upload.
    #[wasm_bindgen(js_name = keyPackages, unchecked_return_type = "Uint8Array[]")]
    pub fn key_packages(&mut self, count: u32) -> JsResult<Array> {
        let kps = self.inner.key_packages(count as usize).map_err(e2ee)?;
        Ok(to_byte_list(&kps))
    }

    /// A last-resort key package (reusable; used when the one-time ones ran out).
    #[wasm_bindgen(js_name = lastResortKeyPackage)]
    pub fn last_resort_key_package(&mut self) -> JsResult<Vec<u8>> {
        self.inner.last_resort_key_package().map_err(e2ee)
    }

    /// Validates a key package and says whose it is.
    #[wasm_bindgen(js_name = inspectKeyPackage, unchecked_return_type = "KeyPackageInfo")]
    pub fn inspect_key_package(&self, bytes: &[u8]) -> JsResult<JsValue> {
        let info = self.inner.inspect_key_package(bytes).map_err(e2ee)?;
        to_js(&KeyPackageInfoView::from(&info))
    }

    // ---- groups ---------------------------------------------------------------------------

    /// Creates a group with this device as its only member (epoch 0).
    #[wasm_bindgen(js_name = createGroup)]
    pub fn create_group(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<()> {
        self.inner.create_group(&group_id(group)?).map_err(e2ee)
    }

    /// Joins a group from a welcome; returns `{ groupId, epoch, addedBy, members }`.
    #[wasm_bindgen(unchecked_return_type = "Joined")]
    pub fn join(&mut self, welcome: &[u8]) -> JsResult<JsValue> {
        let joined = self.inner.join(welcome).map_err(e2ee)?;
        to_js(&JoinedView::from(&joined))
    }

    /// Ids of all groups of this client, as bytes.
    #[wasm_bindgen(js_name = groupIds, unchecked_return_type = "Uint8Array[]")]
    pub fn group_ids(&self) -> Array {
        let ids: Vec<Vec<u8>> = self
            .inner
            .group_ids()
            .iter()
            .map(|g| g.as_bytes().to_vec())
            .collect();
        to_byte_list(&ids)
    }

    /// Whether this client is in the group.
    #[wasm_bindgen(js_name = hasGroup)]
    pub fn has_group(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<bool> {
        Ok(self.inner.has_group(&group_id(group)?))
    }

    /// Forgets a group locally.
    #[wasm_bindgen(js_name = deleteGroup)]
    pub fn delete_group(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<()> {
        self.inner.delete_group(&group_id(group)?).map_err(e2ee)
    }

    /// The group's current epoch.
    pub fn epoch(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<f64> {
        let epoch = self.inner.epoch(&group_id(group)?).map_err(e2ee)?;
        Ok(epoch_number(epoch))
    }

    /// The group's members (`Member[]`), this device included.
    #[wasm_bindgen(unchecked_return_type = "Member[]")]
    pub fn members(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<JsValue> {
        let members = self.inner.members(&group_id(group)?).map_err(e2ee)?;
        to_js(&members.iter().map(MemberView::from).collect::<Vec<_>>())
    }

    /// This device's leaf index in the group.
    #[wasm_bindgen(js_name = ownLeafIndex)]
    pub fn own_leaf_index(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<u32> {
        self.inner.own_leaf_index(&group_id(group)?).map_err(e2ee)
    }

    /// RFC 9420 value of the group's cipher suite.
    #[wasm_bindgen(js_name = groupCiphersuite)]
    pub fn group_ciphersuite(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<u16> {
        let suite = self
            .inner
            .group_ciphersuite(&group_id(group)?)
            .map_err(e2ee)?;
        Ok(suite.to_u16())
    }

    /// The epoch authenticator (RFC 9420 §8.7): equal on all members in the same epoch.
    #[wasm_bindgen(js_name = epochAuthenticator)]
    pub fn epoch_authenticator(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<Vec<u8>> {
        self.inner
            .epoch_authenticator(&group_id(group)?)
            .map_err(e2ee)
    }

    // ---- commits --------------------------------------------------------------------------

    /// Adds devices by key package; returns the pending `{ commit, welcome, epoch, change }`.
    #[wasm_bindgen(js_name = addMembers, unchecked_return_type = "CommitBundle")]
    pub fn add_members(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(js_name = keyPackages, unchecked_param_type = "Uint8Array[]")]
        key_packages: &JsValue,
    ) -> JsResult<JsValue> {
        let kps = byte_list(key_packages, "keyPackages")?;
        let bundle = self
            .inner
            .add_members(&group_id(group)?, &kps)
            .map_err(e2ee)?;
        to_js(&CommitView::from(bundle))
    }

    /// Removes the devices at the given leaf indices; returns the pending commit.
    #[wasm_bindgen(js_name = removeMembers, unchecked_return_type = "CommitBundle")]
    pub fn remove_members(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(js_name = leafIndices)] leaf_indices: &[u32],
    ) -> JsResult<JsValue> {
        let bundle = self
            .inner
            .remove_members(&group_id(group)?, leaf_indices)
            .map_err(e2ee)?;
        to_js(&CommitView::from(bundle))
    }

    /// Removes all devices of a user; returns the pending commit.
    #[wasm_bindgen(js_name = removeUser, unchecked_return_type = "CommitBundle")]
    pub fn remove_user(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(js_name = userId)] user_id: &str,
    ) -> JsResult<JsValue> {
        let bundle = self
            .inner
            .remove_user(&group_id(group)?, user_id)
            .map_err(e2ee)?;
        to_js(&CommitView::from(bundle))
    }

    /// Updates this device's leaf (fresh keys, post-compromise security); pending commit.
    #[wasm_bindgen(js_name = selfUpdate, unchecked_return_type = "CommitBundle")]
    pub fn self_update(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<JsValue> {
        let bundle = self.inner.self_update(&group_id(group)?).map_err(e2ee)?;
        to_js(&CommitView::from(bundle))
    }

    /// Commits the proposals received so far (e.g. another member's leave); pending commit.
    #[wasm_bindgen(js_name = commitPendingProposals, unchecked_return_type = "CommitBundle")]
    pub fn commit_pending_proposals(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<JsValue> {
        let bundle = self
            .inner
            .commit_pending_proposals(&group_id(group)?)
            .map_err(e2ee)?;
        to_js(&CommitView::from(bundle))
    }

    /// A remove proposal for this device (another member must commit it).
    #[wasm_bindgen(js_name = leaveGroup)]
    pub fn leave_group(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<Vec<u8>> {
        self.inner.leave_group(&group_id(group)?).map_err(e2ee)
    }

    /// Applies the pending commit after the delivery service accepted it; returns the change.
    #[wasm_bindgen(js_name = mergePendingCommit, unchecked_return_type = "MembershipChange")]
    pub fn merge_pending_commit(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<JsValue> {
        let change = self
            .inner
            .merge_pending_commit(&group_id(group)?, now_ms(now)?)
            .map_err(e2ee)?;
        to_js(&ChangeView::from(&change))
    }

    /// Drops the pending commit (the delivery service refused it).
    #[wasm_bindgen(js_name = clearPendingCommit)]
    pub fn clear_pending_commit(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<()> {
        self.inner
            .clear_pending_commit(&group_id(group)?)
            .map_err(e2ee)
    }

    /// Whether the group has a pending commit.
    #[wasm_bindgen(js_name = hasPendingCommit)]
    pub fn has_pending_commit(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<bool> {
        self.inner
            .has_pending_commit(&group_id(group)?)
            .map_err(e2ee)
    }

    // ---- messages -------------------------------------------------------------------------

    /// Encrypts a chat message (`Envelope` object; `id` may be omitted). Returns the
    /// `MLSMessage` to send.
    #[wasm_bindgen(js_name = encryptMessage)]
    pub fn encrypt_message(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "Envelope")] envelope: JsValue,
    ) -> JsResult<Vec<u8>> {
        let view: EnvelopeView = from_js(envelope, "envelope")?;
        let envelope = Envelope::try_from(&view)?;
        self.inner
            .encrypt_message(&group_id(group)?, &envelope)
            .map_err(e2ee)
    }

    /// Like `encryptMessage`, with the envelope as a JSON string.
    #[wasm_bindgen(js_name = encryptMessageJson)]
    pub fn encrypt_message_json(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        json: &str,
    ) -> JsResult<Vec<u8>> {
        let view: EnvelopeView = serde_json::from_str(json)
            .map_err(|e| WebError::invalid_argument(format!("envelope JSON: {e}")))?;
        let envelope = Envelope::try_from(&view)?;
        self.inner
            .encrypt_message(&group_id(group)?, &envelope)
            .map_err(e2ee)
    }

    /// Processes any incoming group message (chat, commit, proposal). Returns a `Received`
    /// object tagged by `type`.
    #[wasm_bindgen(js_name = handleMessage, unchecked_return_type = "Received")]
    pub fn handle_message(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        bytes: &[u8],
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<JsValue> {
        let received = self
            .inner
            .handle_message(&group_id(group)?, bytes, now_ms(now)?)
            .map_err(e2ee)?;
        to_js(&ReceivedView::from(&received))
    }

    // ---- media ----------------------------------------------------------------------------

    /// Encrypts a media frame of outbound `stream` (0..16) with the group's current SFrame
    /// keys. `metadata` is authenticated, not encrypted, and not part of the output.
    #[wasm_bindgen(js_name = encryptFrame)]
    pub fn encrypt_frame(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        stream: u8,
        metadata: &[u8],
        payload: &[u8],
    ) -> JsResult<Vec<u8>> {
        self.inner
            .media_keys(&group_id(group)?)
            .map_err(e2ee)?
            .encrypt_frame(stream, metadata, payload)
            .map_err(e2ee)
    }

    /// Decrypts a media frame from any member; returns `{ senderLeaf, epoch, context, payload }`.
    #[wasm_bindgen(js_name = decryptFrame, unchecked_return_type = "DecryptedFrame")]
    pub fn decrypt_frame(
        &mut self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(js_name = nowMs)] now: f64,
        metadata: &[u8],
        frame: &[u8],
    ) -> JsResult<JsValue> {
        let frame = self
            .inner
            .media_keys(&group_id(group)?)
            .map_err(e2ee)?
            .decrypt_frame(now_ms(now)?, metadata, frame)
            .map_err(e2ee)?;
        to_js(&FrameView::from(frame))
    }

    /// Hex fingerprint of the group's current SFrame base key (equal on all members of the
    /// epoch; reveals nothing about the key).
    #[wasm_bindgen(js_name = mediaKeyFingerprint)]
    pub fn media_key_fingerprint(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<String> {
        let epoch = self.inner.media_epoch(&group_id(group)?).map_err(e2ee)?;
        Ok(hex::encode(&epoch.key_fingerprint()))
    }

    /// The group's current media epoch, serialized, for a `TingMediaKeys` in a worker
    /// (`postMessage` it; it contains the epoch's SFrame base key, never send it anywhere else).
    #[wasm_bindgen(js_name = mediaEpoch)]
    pub fn media_epoch(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<Vec<u8>> {
        let epoch = self.inner.media_epoch(&group_id(group)?).map_err(e2ee)?;
        Ok(epoch.to_bytes())
    }

    // ---- verification ---------------------------------------------------------------------

    /// The safety number between this user and `otherUser` over their devices in the group.
    #[wasm_bindgen(js_name = safetyNumber, unchecked_return_type = "SafetyNumber")]
    pub fn safety_number(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(js_name = otherUser)] other_user: &str,
    ) -> JsResult<JsValue> {
        let number = self
            .inner
            .safety_number(&group_id(group)?, other_user)
            .map_err(e2ee)?;
        to_js(&SafetyNumberView::from(&number))
    }

    /// A user's 30-digit fingerprint over their devices in the group.
    #[wasm_bindgen(js_name = userFingerprint)]
    pub fn user_fingerprint(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
        #[wasm_bindgen(js_name = userId)] user_id: &str,
    ) -> JsResult<String> {
        let fp = self
            .inner
            .user_fingerprint(&group_id(group)?, user_id)
            .map_err(e2ee)?;
        Ok(fp.digits())
    }
}
