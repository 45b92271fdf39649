//! Encrypted file sharing. A file is encrypted in 64 KiB AEAD chunks with a fresh key while it
//! is read from disk and streamed to the server (never held whole in memory); the key, name,
//! type, size and hash then travel in an MLS message. An interrupted upload resumes where the
//! server's copy ends (encryption is deterministic for a given key, so the same bytes are
//! produced again). Downloads are decrypted and hash-checked while streaming into a temporary
//! file that replaces the target only when complete.

use std::path::Path;

use futures_util::StreamExt;
use ting_e2ee::file::{DEFAULT_CHUNK_SIZE, ciphertext_len};
use ting_e2ee::{Body, Envelope, FileDecryptor, FileEncryptor, FileRef, FileSecret};
use ting_proto::{BlobId, RoomId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::device::Device;
use crate::error::{Error, Result};

/// Upload attempts before giving up.
const UPLOAD_ATTEMPTS: usize = 5;

fn io(e: std::io::Error) -> Error {
    Error::Usage(format!("file: {e}"))
}

/// Encrypts `path` and yields ciphertext, skipping the first `skip` bytes of it.
fn ciphertext_stream(
    path: std::path::PathBuf,
    secret: FileSecret,
    skip: u64,
) -> (
    futures_util::stream::BoxStream<'static, std::io::Result<Vec<u8>>>,
    tokio::sync::oneshot::Receiver<ting_e2ee::EncryptedFileInfo>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let (info_tx, info_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let run = async {
            let mut file = tokio::fs::File::open(&path).await?;
            let mut enc =
                FileEncryptor::new(&secret, DEFAULT_CHUNK_SIZE).map_err(std::io::Error::other)?;
            let mut skip = skip;
            let mut buf = vec![0u8; DEFAULT_CHUNK_SIZE as usize];
            let emit = |mut ct: Vec<u8>, skip: &mut u64| -> Option<Vec<u8>> {
                if *skip >= ct.len() as u64 {
                    *skip -= ct.len() as u64;
                    return None;
                }
                let cut = *skip as usize;
                *skip = 0;
                Some(ct.split_off(cut))
            };
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                let ct = enc.update(&buf[..n]).map_err(std::io::Error::other)?;
                if let Some(out) = emit(ct, &mut skip)
                    && tx.send(Ok(out)).await.is_err()
                {
                    return Ok(());
                }
            }
            let (last, info) = enc.finish().map_err(std::io::Error::other)?;
            if let Some(out) = emit(last, &mut skip) {
                let _ = tx.send(Ok(out)).await;
            }
            let _ = info_tx.send(info);
            Ok::<(), std::io::Error>(())
        };
        if let Err(e) = run.await {
            let _ = tx.send(Err(e)).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (stream.boxed(), info_rx)
}

impl Device {
    /// Encrypts and uploads a file into the room, then announces it in an MLS message.
    /// `progress(sent, total)` is called as ciphertext bytes leave.
    pub async fn send_file(
        &mut self,
        room: RoomId,
        path: &Path,
        media_type: &str,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<u64> {
        let size = tokio::fs::metadata(path).await.map_err(io)?.len();
        let total = ciphertext_len(size, DEFAULT_CHUNK_SIZE)
            .ok_or_else(|| Error::Usage("file too large".into()))?;
        let key: [u8; 32] = rand::random();
        let nonce_prefix: [u8; 8] = rand::random();
        let blob = self.api.create_blob(room, total).await?;
        let mut info = None;
        let mut last_err = None;
        for _ in 0..UPLOAD_ATTEMPTS {
            let offset = self.api.blob_status(blob.id).await?.received;
            if offset == total && info.is_some() {
                break;
            }
            let (stream, info_rx) = ciphertext_stream(
                path.to_path_buf(),
                FileSecret::from_parts(key, nonce_prefix),
                offset,
            );
            let (ptx, mut prx) = tokio::sync::mpsc::unbounded_channel::<u64>();
            let counted = stream.map(move |chunk| {
                if let Ok(c) = &chunk {
                    let _ = ptx.send(c.len() as u64);
                }
                chunk
            });
            let upload = self.api.upload_blob(blob.id, offset, counted);
            tokio::pin!(upload);
            let mut sent = offset;
            let result = loop {
                tokio::select! {
                    r = &mut upload => break r,
                    Some(n) = prx.recv() => { sent += n; progress(sent.min(total), total); }
                }
            };
            match result {
                Ok(state) if state.complete => {
                    info = info_rx.await.ok();
                    progress(total, total);
                    break;
                }
                Ok(_) => last_err = Some(Error::Protocol("upload ended early".into())),
                Err(e @ Error::Api { .. })
                    if e.code() != Some(ting_proto::ErrorCode::OffsetMismatch) =>
                {
                    return Err(e);
                }
                Err(e) => last_err = Some(e),
            }
        }
        let info = info
            .ok_or_else(|| last_err.unwrap_or_else(|| Error::Protocol("upload failed".into())))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let file = FileRef {
            blob_id: blob.id.to_string(),
            name,
            media_type: media_type.into(),
            size: info.size,
            sha256: info.sha256,
            key,
            nonce_prefix,
            chunk_size: info.chunk_size,
        };
        self.send_envelope(room, Envelope::new(Body::File(file))?)
            .await
    }

    /// Downloads, decrypts and verifies a shared file into `out`.
    pub async fn download_file(
        &self,
        file: &FileRef,
        out: &Path,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<()> {
        let blob: BlobId = file
            .blob_id
            .parse()
            .map_err(|_| Error::Verification("the file reference names no valid blob".into()))?;
        let mut dec = FileDecryptor::new(file)?;
        let tmp = out.with_extension("part");
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io)?;
        let mut stream = Box::pin(self.api.download_blob(blob).await?);
        let total = ciphertext_len(file.size, file.chunk_size).unwrap_or(0);
        let mut got = 0u64;
        let result = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                got += chunk.len() as u64;
                progress(got, total);
                let plain = dec.update(&chunk)?;
                f.write_all(&plain).await.map_err(io)?;
            }
            dec.finish()?;
            f.sync_all().await.map_err(io)?;
            Ok::<(), Error>(())
        }
        .await;
        match result {
            Ok(()) => tokio::fs::rename(&tmp, out).await.map_err(io),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }
}
