//! `TingMediaKeys`: SFrame keys outside a `TingClient`, for the browser's encoded-transform
//! worker.
//!
//! The main thread owns the `TingClient`; on every epoch change it posts
//! `client.mediaEpoch(groupId)` to the worker, which calls `setEpoch` on its own
//! `TingMediaKeys` and encrypts/decrypts frames there.

use ting_e2ee::{MediaEpoch, MediaKeys, hex};
use wasm_bindgen::prelude::*;

use crate::error::WebError;
use crate::js::{JsResult, e2ee, from_js, now_ms, to_js};
use crate::options::SframeConfigView;
use crate::views::FrameView;

/// SFrame (RFC 9605) encryption and decryption for one group, fed with media epochs.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TingMediaKeys {
    inner: MediaKeys,
}

#[wasm_bindgen]
impl TingMediaKeys {
    /// Empty media keys. `options` (`SframeOptions`) must match the group members' client
    /// options (default if omitted). `sessionSeed` picks this sender session's key id context;
    /// omit it to draw one from `crypto.getRandomValues`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "SframeOptions | undefined")] options: JsValue,
        #[wasm_bindgen(js_name = sessionSeed)] session_seed: Option<u64>,
    ) -> JsResult<TingMediaKeys> {
        let config = if options.is_undefined() || options.is_null() {
            SframeConfigView::default()
        } else {
            from_js::<SframeConfigView>(options, "options")?
        };
        let seed = match session_seed {
            Some(seed) => seed,
            None => random_u64()?,
        };
        let inner = MediaKeys::new(config.to_config(), seed).map_err(e2ee)?;
        Ok(Self { inner })
    }

    /// Installs an epoch from `TingClient.mediaEpoch`. The previous epoch keeps decrypting for
    /// the grace window from `nowMs`.
    #[wasm_bindgen(js_name = setEpoch)]
    pub fn set_epoch(
        &mut self,
        #[wasm_bindgen(js_name = nowMs)] now: f64,
        epoch: &[u8],
    ) -> JsResult<()> {
        let epoch = MediaEpoch::from_bytes(epoch).map_err(e2ee)?;
        self.inner.set_epoch(now_ms(now)?, epoch).map_err(e2ee)
    }

    /// The current epoch, or `undefined` before the first `setEpoch`.
    #[wasm_bindgen(getter, js_name = currentEpoch)]
    pub fn current_epoch(&self) -> Option<f64> {
        // Epochs stay far below 2^53.
        self.inner.current_epoch().map(|e| e as f64)
    }

    /// Hex fingerprint of the current epoch's base key, or `undefined`.
    #[wasm_bindgen(getter, js_name = keyFingerprint)]
    pub fn key_fingerprint(&self) -> Option<String> {
        self.inner.key_fingerprint().map(|f| hex::encode(&f))
    }

    /// Drops previous epochs whose grace window ended.
    pub fn expire(&mut self, #[wasm_bindgen(js_name = nowMs)] now: f64) -> JsResult<()> {
        self.inner.expire(now_ms(now)?);
        Ok(())
    }

    /// Encrypts a frame of outbound `stream` (0..16) in the current epoch.
    #[wasm_bindgen(js_name = encryptFrame)]
    pub fn encrypt_frame(
        &mut self,
        stream: u8,
        metadata: &[u8],
        payload: &[u8],
    ) -> JsResult<Vec<u8>> {
        self.inner
            .encrypt_frame(stream, metadata, payload)
            .map_err(e2ee)
    }

    /// Decrypts a frame; returns `{ senderLeaf, epoch, context, payload }`.
    #[wasm_bindgen(js_name = decryptFrame, unchecked_return_type = "DecryptedFrame")]
    pub fn decrypt_frame(
        &mut self,
        #[wasm_bindgen(js_name = nowMs)] now: f64,
        metadata: &[u8],
        frame: &[u8],
    ) -> JsResult<JsValue> {
        let frame = self
            .inner
            .decrypt_frame(now_ms(now)?, metadata, frame)
            .map_err(e2ee)?;
        to_js(&FrameView::from(frame))
    }
}

fn random_u64() -> JsResult<u64> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|e| WebError::internal(format!("randomness: {e}")))?;
    Ok(u64::from_be_bytes(bytes))
}
