//! `TingFileEncryptor` / `TingFileDecryptor`: streaming attachment encryption.
//!
//! ```js
//! const enc = new TingFileEncryptor();            // fresh key, 64 KiB chunks
//! for await (const piece of file.stream()) upload(enc.update(piece));
//! const { chunk, fileRef } = enc.finish(blobId, file.name, file.type);
//! upload(chunk);                                  // then send fileRef in a chat message
//!
//! const dec = new TingFileDecryptor(fileRef);
//! for await (const piece of download) show(dec.update(piece));
//! dec.finish();                                   // throws if truncated or tampered
//! ```

use ting_e2ee::file::DEFAULT_CHUNK_SIZE;
use ting_e2ee::{EncryptedFileInfo, FileDecryptor, FileEncryptor, FileRef, FileSecret};
use wasm_bindgen::prelude::*;

use crate::error::WebError;
use crate::js::{JsResult, e2ee, from_js, to_js};
use crate::views::{FileFinishView, FileRefView};

/// Encrypts one file chunk by chunk under a fresh random key.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TingFileEncryptor {
    inner: Option<FileEncryptor>,
    /// Key and nonce prefix of the file (a `FileRef` whose size and hash are filled in by
    /// `finish`); `FileEncryptor::finish` consumes the encryptor that could produce it.
    template: FileRef,
}

fn used_up() -> JsValue {
    WebError::from(ting_e2ee::Error::FileStream("already finished")).into()
}

#[wasm_bindgen]
impl TingFileEncryptor {
    /// A new encryptor with a fresh key; `chunkSize` defaults to 64 KiB.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = chunkSize)] chunk_size: Option<u32>,
    ) -> JsResult<TingFileEncryptor> {
        let secret = FileSecret::generate().map_err(e2ee)?;
        let inner =
            FileEncryptor::new(&secret, chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE)).map_err(e2ee)?;
        let placeholder = EncryptedFileInfo {
            size: 0,
            sha256: [0; 32],
            chunk_size: chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE),
        };
        let template = inner.file_ref(&placeholder, "", "", "");
        Ok(Self {
            inner: Some(inner),
            template,
        })
    }

    /// Feeds plaintext of any length; returns the ciphertext of the chunks completed so far
    /// (possibly empty).
    pub fn update(&mut self, plaintext: &[u8]) -> JsResult<Vec<u8>> {
        self.inner
            .as_mut()
            .ok_or_else(used_up)?
            .update(plaintext)
            .map_err(e2ee)
    }

    /// Seals the final chunk. Returns `{ chunk, fileRef }`: append `chunk` to the ciphertext,
    /// upload it as `blobId`, then send `fileRef` inside an encrypted chat message.
    #[wasm_bindgen(unchecked_return_type = "FileFinish")]
    pub fn finish(
        &mut self,
        #[wasm_bindgen(js_name = blobId)] blob_id: &str,
        name: &str,
        #[wasm_bindgen(js_name = mediaType)] media_type: &str,
    ) -> JsResult<JsValue> {
        let enc = self.inner.take().ok_or_else(used_up)?;
        let (chunk, info) = enc.finish().map_err(e2ee)?;
        let file_ref = FileRef {
            blob_id: blob_id.to_owned(),
            name: name.to_owned(),
            media_type: media_type.to_owned(),
            size: info.size,
            sha256: info.sha256,
            chunk_size: info.chunk_size,
            ..self.template.clone()
        };
        to_js(&FileFinishView {
            chunk,
            file_ref: FileRefView::from(&file_ref),
        })
    }
}

/// Decrypts one file chunk by chunk, checking order, completeness, size and SHA-256.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TingFileDecryptor {
    inner: Option<FileDecryptor>,
}

#[wasm_bindgen]
impl TingFileDecryptor {
    /// A decryptor for the file a `FileRef` (from a chat message) describes.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = fileRef, unchecked_param_type = "FileRef")] file_ref: JsValue,
    ) -> JsResult<TingFileDecryptor> {
        let view: FileRefView = from_js(file_ref, "fileRef")?;
        let file_ref = FileRef::try_from(&view)?;
        let inner = FileDecryptor::new(&file_ref).map_err(e2ee)?;
        Ok(Self { inner: Some(inner) })
    }

    /// Feeds ciphertext of any length; returns plaintext of the chunks authenticated so far.
    /// Discard all of it if `finish` throws.
    pub fn update(&mut self, ciphertext: &[u8]) -> JsResult<Vec<u8>> {
        self.inner
            .as_mut()
            .ok_or_else(used_up)?
            .update(ciphertext)
            .map_err(e2ee)
    }

    /// Checks the stream was complete and the plaintext matches the `FileRef`'s size and hash.
    pub fn finish(&mut self) -> JsResult<()> {
        self.inner
            .take()
            .ok_or_else(used_up)?
            .finish()
            .map_err(e2ee)
    }
}
