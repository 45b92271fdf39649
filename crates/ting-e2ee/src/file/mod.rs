//! Attachments: streaming, chunked AEAD so a large file never has to fit in memory.
//!
//! Each file gets a fresh random AES-256-GCM key and 8-byte nonce prefix ([`FileSecret`]). The
//! plaintext is cut into chunks of `chunk_size` bytes (default 64 KiB); the last chunk may be
//! shorter (and is empty for an empty file). Chunk `i` is sealed as
//!
//! ```text
//! nonce_i = nonce_prefix (8 bytes) || uint32_be(i)
//! aad_i   = "ting file v1" || uint8(is_final)
//! chunk_i = AES-256-GCM(key, nonce_i, aad_i, plaintext_i)      // plaintext_i || 16-byte tag
//! ```
//!
//! and the ciphertext is the concatenation of the chunks, so every chunk but the last is exactly
//! `chunk_size + 16` bytes. Reordered chunks fail (the index is in the nonce), a truncated or
//! extended file fails (the final flag is in the AAD, and the decryptor knows from the
//! [`FileRef`] size how many chunks to expect), and the decryptor
//! checks the plaintext's SHA-256 against the `FileRef`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::envelope::FileRef;
use crate::error::{Error, Result};

/// Default plaintext bytes per chunk.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Smallest allowed chunk size.
pub const MIN_CHUNK_SIZE: u32 = 1024;
/// Largest allowed chunk size (bounds the decryptor's buffer).
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;
/// Bytes the AEAD adds per chunk.
pub const TAG_LEN: usize = 16;

const AAD_LABEL: &[u8] = b"ting file v1";

/// A file's key and nonce prefix.
pub struct FileSecret {
    key: Zeroizing<[u8; 32]>,
    nonce_prefix: [u8; 8],
}

impl std::fmt::Debug for FileSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileSecret(<redacted>)")
    }
}

impl FileSecret {
    /// A fresh random key and prefix (OS randomness).
    pub fn generate() -> Result<Self> {
        Ok(Self::from_parts(
            crate::provider::os_random()?,
            crate::provider::os_random()?,
        ))
    }

    /// From explicit parts (tests, or a caller with its own CSPRNG).
    pub fn from_parts(key: [u8; 32], nonce_prefix: [u8; 8]) -> Self {
        Self {
            key: Zeroizing::new(key),
            nonce_prefix,
        }
    }
}

/// Size of the ciphertext of a `size`-byte file.
pub fn ciphertext_len(size: u64, chunk_size: u32) -> Option<u64> {
    let chunks = chunk_count(size, chunk_size)?;
    size.checked_add(u64::from(chunks).checked_mul(TAG_LEN as u64)?)
}

/// Number of chunks of a `size`-byte file (at least one).
pub fn chunk_count(size: u64, chunk_size: u32) -> Option<u32> {
    if chunk_size == 0 {
        return None;
    }
    let n = size.div_ceil(u64::from(chunk_size)).max(1);
    u32::try_from(n).ok()
}

fn check_chunk_size(chunk_size: u32) -> Result<()> {
    if (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(())
    } else {
        Err(Error::InvalidArgument("chunk size must be 1 KiB..=16 MiB"))
    }
}

fn nonce(prefix: &[u8; 8], index: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(prefix);
    n[8..].copy_from_slice(&index.to_be_bytes());
    n
}

fn aad(is_final: bool) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..12].copy_from_slice(AAD_LABEL);
    a[12] = u8::from(is_final);
    a
}

/// Seals one chunk (exposed for the fuzz target and tests).
pub fn seal_chunk(
    secret: &FileSecret,
    index: u32,
    is_final: bool,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(secret.key.as_slice())
        .map_err(|e| Error::internal("file key", e))?;
    seal(&cipher, &secret.nonce_prefix, index, is_final, plaintext)
}

/// Opens one chunk (exposed for the fuzz target and tests).
pub fn open_chunk(
    secret: &FileSecret,
    index: u32,
    is_final: bool,
    chunk: &[u8],
) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(secret.key.as_slice())
        .map_err(|e| Error::internal("file key", e))?;
    open(&cipher, &secret.nonce_prefix, index, is_final, chunk)
}

fn seal(
    cipher: &Aes256Gcm,
    prefix: &[u8; 8],
    index: u32,
    is_final: bool,
    msg: &[u8],
) -> Result<Vec<u8>> {
    let n = nonce(prefix, index);
    cipher
        .encrypt(
            Nonce::from_slice(&n),
            Payload {
                msg,
                aad: &aad(is_final),
            },
        )
        .map_err(|_| Error::Internal("file chunk encryption failed".into()))
}

fn open(
    cipher: &Aes256Gcm,
    prefix: &[u8; 8],
    index: u32,
    is_final: bool,
    msg: &[u8],
) -> Result<Vec<u8>> {
    if msg.len() < TAG_LEN {
        return Err(Error::Malformed { what: "file chunk" });
    }
    let n = nonce(prefix, index);
    cipher
        .decrypt(
            Nonce::from_slice(&n),
            Payload {
                msg,
                aad: &aad(is_final),
            },
        )
        .map_err(|_| Error::Tampered { what: "file chunk" })
}

/// What the encryptor learned about the plaintext: goes into the [`FileRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedFileInfo {
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// Chunk size used.
    pub chunk_size: u32,
}

/// Encrypts a file chunk by chunk: feed plaintext with [`Self::update`] in pieces of any size,
/// get ciphertext back as soon as whole chunks are known not to be the last, and the final
/// chunk from [`Self::finish`].
pub struct FileEncryptor {
    cipher: Aes256Gcm,
    key: Zeroizing<[u8; 32]>,
    prefix: [u8; 8],
    chunk_size: usize,
    index: u32,
    buf: Zeroizing<Vec<u8>>,
    hasher: Sha256,
    size: u64,
}

impl std::fmt::Debug for FileEncryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileEncryptor")
            .field("chunk_size", &self.chunk_size)
            .field("index", &self.index)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl FileEncryptor {
    /// An encryptor with `secret` and `chunk_size` ([`DEFAULT_CHUNK_SIZE`] unless you have a
    /// reason).
    pub fn new(secret: &FileSecret, chunk_size: u32) -> Result<Self> {
        check_chunk_size(chunk_size)?;
        Ok(Self {
            cipher: Aes256Gcm::new_from_slice(secret.key.as_slice())
                .map_err(|e| Error::internal("file key", e))?,
            key: secret.key.clone(),
            prefix: secret.nonce_prefix,
            chunk_size: chunk_size as usize,
            index: 0,
            buf: Zeroizing::new(Vec::new()),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Feeds plaintext; returns the ciphertext of every chunk completed (possibly none).
    pub fn update(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.hasher.update(plaintext);
        self.size = self
            .size
            .checked_add(plaintext.len() as u64)
            .ok_or(Error::FileStream("file too large"))?;
        self.buf.extend_from_slice(plaintext);
        let mut out = Vec::new();
        // Keep at least one byte back: a full chunk is only known to be non-final once more
        // data follows.
        let mut start = 0;
        while self.buf.len() - start > self.chunk_size {
            let chunk = &self.buf[start..start + self.chunk_size];
            out.extend(seal(&self.cipher, &self.prefix, self.index, false, chunk)?);
            self.index = self
                .index
                .checked_add(1)
                .ok_or(Error::FileStream("too many chunks"))?;
            start += self.chunk_size;
        }
        self.buf.drain(..start);
        Ok(out)
    }

    /// Seals the final chunk; returns it and the plaintext's size and hash.
    pub fn finish(self) -> Result<(Vec<u8>, EncryptedFileInfo)> {
        let last = seal(&self.cipher, &self.prefix, self.index, true, &self.buf)?;
        Ok((
            last,
            EncryptedFileInfo {
                size: self.size,
                sha256: self.hasher.finalize().into(),
                chunk_size: self.chunk_size as u32,
            },
        ))
    }

    /// Convenience: the [`FileRef`] for this file once uploaded as `blob_id`.
    pub fn file_ref(
        &self,
        info: &EncryptedFileInfo,
        blob_id: &str,
        name: &str,
        media_type: &str,
    ) -> FileRef {
        FileRef {
            blob_id: blob_id.to_owned(),
            name: name.to_owned(),
            media_type: media_type.to_owned(),
            size: info.size,
            sha256: info.sha256,
            key: *self.key,
            nonce_prefix: self.prefix,
            chunk_size: info.chunk_size,
        }
    }
}

/// Decrypts a file chunk by chunk, checking order, completeness, size and SHA-256 against the
/// [`FileRef`]. Feed ciphertext in pieces of any size with [`Self::update`]; call
/// [`Self::finish`] at the end of the stream. Plaintext is released chunk by chunk as each
/// authenticates; the caller must discard it if `finish` fails.
pub struct FileDecryptor {
    cipher: Aes256Gcm,
    prefix: [u8; 8],
    chunk_size: usize,
    expected_size: u64,
    expected_sha256: [u8; 32],
    chunks: u32,
    index: u32,
    buf: Vec<u8>,
    hasher: Sha256,
    produced: u64,
    done: bool,
}

impl std::fmt::Debug for FileDecryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDecryptor")
            .field("chunk_size", &self.chunk_size)
            .field("index", &self.index)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

impl FileDecryptor {
    /// A decryptor for the file described by `file`.
    pub fn new(file: &FileRef) -> Result<Self> {
        check_chunk_size(file.chunk_size).map_err(|_| Error::Malformed {
            what: "file reference (chunk size)",
        })?;
        let chunks = chunk_count(file.size, file.chunk_size).ok_or(Error::Malformed {
            what: "file reference (size)",
        })?;
        Ok(Self {
            cipher: Aes256Gcm::new_from_slice(&file.key)
                .map_err(|e| Error::internal("file key", e))?,
            prefix: file.nonce_prefix,
            chunk_size: file.chunk_size as usize,
            expected_size: file.size,
            expected_sha256: file.sha256,
            chunks,
            index: 0,
            buf: Vec::new(),
            hasher: Sha256::new(),
            produced: 0,
            done: false,
        })
    }

    fn final_ct_len(&self) -> usize {
        let full = u64::from(self.chunks - 1) * self.chunk_size as u64;
        (self.expected_size - full) as usize + TAG_LEN
    }

    /// Feeds ciphertext; returns the plaintext of every chunk completed (possibly none).
    pub fn update(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        if self.done {
            if ciphertext.is_empty() {
                return Ok(Vec::new());
            }
            return Err(Error::FileIntegrity {
                reason: "data after the final chunk",
            });
        }
        self.buf.extend_from_slice(ciphertext);
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            let is_final = self.index == self.chunks - 1;
            let need = if is_final {
                self.final_ct_len()
            } else {
                self.chunk_size + TAG_LEN
            };
            if self.buf.len() - start < need {
                break;
            }
            let pt = open(
                &self.cipher,
                &self.prefix,
                self.index,
                is_final,
                &self.buf[start..start + need],
            )?;
            start += need;
            self.hasher.update(&pt);
            self.produced += pt.len() as u64;
            out.extend_from_slice(&pt);
            if is_final {
                self.done = true;
                if start != self.buf.len() {
                    return Err(Error::FileIntegrity {
                        reason: "data after the final chunk",
                    });
                }
                break;
            }
            self.index += 1;
        }
        self.buf.drain(..start);
        Ok(out)
    }

    /// Checks that the whole file arrived and matches the `FileRef`'s size and SHA-256.
    pub fn finish(self) -> Result<()> {
        if !self.done {
            return Err(Error::FileIntegrity {
                reason: "ciphertext ended before the final chunk (truncated)",
            });
        }
        if self.produced != self.expected_size {
            return Err(Error::FileIntegrity {
                reason: "size differs from the file reference",
            });
        }
        let digest: [u8; 32] = self.hasher.finalize().into();
        if digest != self.expected_sha256 {
            return Err(Error::FileIntegrity {
                reason: "SHA-256 differs from the file reference",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
