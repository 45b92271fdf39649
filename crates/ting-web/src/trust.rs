//! `TingClient`'s identity half: the user's master identity key and this device's certificate,
//! device linking, pins of other users' keys, identity alerts and revocations (ting-e2ee's
//! `trust` module), plus parsing key log records.

use wasm_bindgen::prelude::*;

use crate::client::TingClient;
use crate::js::{JsResult, e2ee, group_id, now_ms, to_js};
use crate::trust_views::{
    KeyLogRecordView, LinkPreviewView, NewIdentityView, PinView, identity_key,
};
use crate::views::MemberView;

/// Parses a key log record (as `GET /api/v1/keylog/users/{name}` returns them) and checks its
/// signatures; returns a `KeyLogRecord`.
#[wasm_bindgen(js_name = inspectKeyLogRecord, unchecked_return_type = "KeyLogRecord")]
pub fn inspect_key_log_record(bytes: &[u8]) -> JsResult<JsValue> {
    to_js(&KeyLogRecordView::parse(bytes)?)
}

/// The rendezvous id inside a link code (to fetch the request from the server). Throws
/// `link` for text that is not a link code.
#[wasm_bindgen(js_name = rendezvousOf)]
pub fn rendezvous_of(code: &str) -> JsResult<String> {
    ting_e2ee::rendezvous_of(code).map_err(e2ee)
}

/// A short, readable fingerprint of a device key (hex): 4 groups of 4 hex digits.
#[wasm_bindgen(js_name = deviceFingerprint)]
pub fn device_fingerprint(
    #[wasm_bindgen(js_name = deviceKey)] device_key: &str,
) -> JsResult<String> {
    let bytes = ting_e2ee::hex::decode(&device_key.to_ascii_lowercase()).ok_or_else(|| {
        JsValue::from(crate::error::WebError::invalid_argument(
            "a device key is hex",
        ))
    })?;
    Ok(ting_e2ee::device_fingerprint(&bytes))
}

fn utf8(id: &str) -> &[u8] {
    id.as_bytes()
}

#[wasm_bindgen]
impl TingClient {
    // ---- own identity ---------------------------------------------------------------------

    /// Whether this device holds its user's master identity key.
    #[wasm_bindgen(js_name = hasMasterKey)]
    pub fn has_master_key(&self) -> bool {
        self.inner.has_master_key()
    }

    /// The user's master identity key as this device knows it (hex), or `undefined` before
    /// the device has an identity.
    #[wasm_bindgen(getter, js_name = identityKey)]
    pub fn identity_key(&self) -> Option<String> {
        self.inner.identity_key().map(|k| k.to_hex())
    }

    /// Whether this device has a certificate (it can make key packages and join groups).
    #[wasm_bindgen(getter)]
    pub fn certified(&self) -> bool {
        self.inner.certificate().is_some()
    }

    /// This device's certificate encoding, or `undefined`.
    pub fn certificate(&self) -> Option<Vec<u8>> {
        self.inner.certificate().map(|c| c.encode())
    }

    /// This device's certificate as a key log record (`Entry`), or `undefined`.
    #[wasm_bindgen(js_name = certificateRecord)]
    pub fn certificate_record(&self) -> Option<Vec<u8>> {
        self.inner
            .certificate()
            .map(|c| ting_e2ee::ting_trust::Entry::Device(c.clone()).encode())
    }

    /// Creates the user's master identity key on their first device and certifies this device
    /// as `deviceId` (the server's id, the hyphenated UUID). Returns the key log records to
    /// publish, statement first.
    #[wasm_bindgen(js_name = createIdentity, unchecked_return_type = "NewIdentity")]
    pub fn create_identity(
        &mut self,
        #[wasm_bindgen(js_name = deviceId)] device_id: &str,
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<JsValue> {
        let new = self
            .inner
            .create_identity(utf8(device_id), now_ms(now)?)
            .map_err(e2ee)?;
        to_js(&NewIdentityView::from(new))
    }

    /// Starts over with a new master key (the user lost every device). Only on a device in no
    /// group. Returns the key log records to publish (a reset statement, then the certificate).
    #[wasm_bindgen(js_name = resetIdentity, unchecked_return_type = "NewIdentity")]
    pub fn reset_identity(
        &mut self,
        #[wasm_bindgen(js_name = deviceId)] device_id: &str,
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<JsValue> {
        let new = self
            .inner
            .reset_identity(utf8(device_id), now_ms(now)?)
            .map_err(e2ee)?;
        to_js(&NewIdentityView::from(new))
    }

    /// Revokes a device of this user (its certificate's encoding). Returns the revocation as a
    /// key log record.
    #[wasm_bindgen(js_name = revokeDevice)]
    pub fn revoke_device(
        &mut self,
        certificate: &[u8],
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<Vec<u8>> {
        let rev = self
            .inner
            .revoke_device(certificate, now_ms(now)?)
            .map_err(e2ee)?;
        Ok(ting_e2ee::ting_trust::Entry::Revocation(rev).encode())
    }

    /// Records a revocation (bare encoding or key log record) signed by the master key this
    /// device trusts for its user.
    #[wasm_bindgen(js_name = noteRevocation)]
    pub fn note_revocation(&mut self, revocation: &[u8]) -> JsResult<()> {
        let bare = match revocation.split_first() {
            Some((3, rest)) if ting_e2ee::ting_trust::Revocation::decode(rest).is_ok() => rest,
            _ => revocation,
        };
        self.inner.note_revocation(bare).map_err(e2ee)
    }

    /// Members of the group whose devices are revoked (to remove by commit).
    #[wasm_bindgen(js_name = revokedMembers, unchecked_return_type = "Member[]")]
    pub fn revoked_members(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<JsValue> {
        let list = self
            .inner
            .revoked_members(&group_id(group)?)
            .map_err(e2ee)?;
        to_js(&list.iter().map(MemberView::from).collect::<Vec<_>>())
    }

    // ---- linking --------------------------------------------------------------------------

    /// On a new, uncertified device: the link request to post to `/api/v1/link`, valid for
    /// `ttlMs` (at most 15 minutes). The one-time key lives in memory only: keep this client.
    #[wasm_bindgen(js_name = linkRequest)]
    pub fn link_request(
        &mut self,
        #[wasm_bindgen(js_name = deviceId)] device_id: &str,
        #[wasm_bindgen(js_name = nowMs)] now: f64,
        #[wasm_bindgen(js_name = ttlMs)] ttl: f64,
    ) -> JsResult<Vec<u8>> {
        self.inner
            .link_request(utf8(device_id), now_ms(now)?, now_ms(ttl)?)
            .map_err(e2ee)
    }

    /// The code the new device shows (text and QR): `rendezvous.commitment`.
    #[wasm_bindgen(js_name = linkCode)]
    pub fn link_code(
        &mut self,
        #[wasm_bindgen(js_name = rendezvousId)] rendezvous_id: &str,
    ) -> JsResult<String> {
        self.inner.link_code(rendezvous_id).map_err(e2ee)
    }

    /// The short fingerprint of this device's key, shown next to the link code.
    #[wasm_bindgen(js_name = ownDeviceFingerprint)]
    pub fn own_device_fingerprint(&self) -> String {
        self.inner.own_device_fingerprint()
    }

    /// On an existing device: checks the request fetched from the server against the code the
    /// user entered; returns `{ deviceId, deviceFingerprint, expiresAtMs }` to confirm.
    #[wasm_bindgen(js_name = linkPreview, unchecked_return_type = "LinkPreview")]
    pub fn link_preview(
        &self,
        code: &str,
        request: &[u8],
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<JsValue> {
        let preview = self
            .inner
            .link_preview(code, request, now_ms(now)?)
            .map_err(e2ee)?;
        to_js(&LinkPreviewView::from(&preview))
    }

    /// On an existing device, after the user confirmed: the sealed response to post.
    #[wasm_bindgen(js_name = linkApprove)]
    pub fn link_approve(
        &self,
        code: &str,
        request: &[u8],
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<Vec<u8>> {
        self.inner
            .link_approve(code, request, now_ms(now)?)
            .map_err(e2ee)
    }

    /// On the new device: opens the response, takes the master key and counter-signs its
    /// certificate. Returns the certificate as a key log record, to publish.
    #[wasm_bindgen(js_name = linkComplete)]
    pub fn link_complete(
        &mut self,
        response: &[u8],
        #[wasm_bindgen(js_name = nowMs)] now: f64,
    ) -> JsResult<Vec<u8>> {
        let cert = self
            .inner
            .link_complete(response, now_ms(now)?)
            .map_err(e2ee)?;
        Ok(ting_e2ee::ting_trust::Entry::Device(cert).encode())
    }

    // ---- pins -----------------------------------------------------------------------------

    /// Every pinned user (`Pin[]`).
    #[wasm_bindgen(unchecked_return_type = "Pin[]")]
    pub fn pins(&self) -> JsResult<JsValue> {
        let list: Vec<PinView> = self
            .inner
            .pins()
            .iter()
            .map(|(u, p)| PinView::new(u, p))
            .collect();
        to_js(&list)
    }

    /// The pin of `userId`, or `null`.
    #[wasm_bindgen(unchecked_return_type = "Pin | null")]
    pub fn pin(&self, #[wasm_bindgen(js_name = userId)] user_id: &str) -> JsResult<JsValue> {
        match self.inner.pin(user_id) {
            Some(p) => to_js(&PinView::new(user_id, p)),
            None => Ok(JsValue::NULL),
        }
    }

    /// Marks `userId`'s identity key (hex; the one the safety number was computed over) as
    /// verified. Throws `identity_changed` if the pinned key is another one.
    #[wasm_bindgen(js_name = markVerified)]
    pub fn mark_verified(
        &mut self,
        #[wasm_bindgen(js_name = userId)] user_id: &str,
        #[wasm_bindgen(js_name = identityKey)] key: &str,
    ) -> JsResult<()> {
        self.inner
            .mark_verified(user_id, &identity_key(key)?)
            .map_err(e2ee)
    }

    /// Accepts `userId`'s identity key (hex) after the user saw the warning: the pin moves to
    /// it, unverified, and sending and adding are allowed again.
    #[wasm_bindgen(js_name = acknowledgeIdentityChange)]
    pub fn acknowledge_identity_change(
        &mut self,
        #[wasm_bindgen(js_name = userId)] user_id: &str,
        #[wasm_bindgen(js_name = identityKey)] key: &str,
    ) -> JsResult<()> {
        self.inner
            .acknowledge_identity_change(user_id, &identity_key(key)?)
            .map_err(e2ee)
    }

    /// Users of the group whose verified identity changed without acknowledgement: sending is
    /// blocked while this is non-empty.
    #[wasm_bindgen(js_name = blockedBy, unchecked_return_type = "string[]")]
    pub fn blocked_by(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "GroupId")] group: &JsValue,
    ) -> JsResult<JsValue> {
        let users = self.inner.blocked_by(&group_id(group)?).map_err(e2ee)?;
        to_js(&users)
    }
}
