//! The chat envelope: the typed plaintext inside every MLS application message.
//!
//! # Wire format (version 1)
//!
//! A compact binary format in the style of RFC 9420's presentation language: integers are
//! big-endian, `opaque<V>` is a byte string with a QUIC varint length prefix, strings are UTF-8
//! `opaque<V>`, `optional<T>` is a `0`/`1` byte followed by `T` when `1`.
//!
//! ```text
//! struct {
//!     uint8     version = 1;
//!     opaque    message_id[16];     // random, chosen by the sender
//!     uint16    kind;               // see the table below
//!     opaque    body<V>;            // the kind's fields, exactly
//! } Envelope;
//!
//! kind 1 Text        { string body; optional<opaque id[16]> reply_to; }
//! kind 2 Edit        { opaque target[16]; string body; }
//! kind 3 Reaction    { opaque target[16]; string emoji; uint8 remove; }
//! kind 4 FileRef     { string blob_id; string name; string media_type; uint64 size;
//!                      opaque sha256[32]; opaque key[32]; opaque nonce_prefix[8];
//!                      uint32 chunk_size; }
//! kind 5 RoomName    { string name; }
//! kind 6 RoomTopic   { string topic; }
//! kind 7 Redaction   { opaque target[16]; optional<string> reason; }
//! kind 8 ReadReceipt { opaque up_to[16]; }
//! ```
//!
//! Unknown kinds decode to [`Body::Unknown`] so an old client can show "unsupported message"
//! instead of an error; a newer format version is refused.
//!
//! # Padding
//!
//! Before MLS encryption the encoded envelope is padded ([`padding`]) to the next size bucket
//! (256 B, 512 B, 1 KiB, … 256 KiB) so the server learns only the bucket of a message, not its
//! length.

pub mod padding;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result};

/// Envelope format version written by this build.
pub const ENVELOPE_VERSION: u8 = 1;

/// A client-chosen message id: 16 random bytes, unique per message.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// A fresh random id (OS randomness).
    pub fn random() -> Result<Self> {
        Ok(Self(crate::provider::os_random()?))
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.to_hex())
    }
}

/// Everything needed to fetch and decrypt an attachment; travels only inside the encrypted
/// envelope (the server stores the blob under `blob_id` and never learns name, type or key).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The blob store's id of the uploaded ciphertext.
    pub blob_id: String,
    /// File name.
    pub name: String,
    /// Media type, e.g. `image/png`.
    pub media_type: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// The file's AES-256-GCM key.
    pub key: [u8; 32],
    /// The per-file nonce prefix (see [`crate::file`]).
    pub nonce_prefix: [u8; 8],
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
}

impl fmt::Debug for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileRef")
            .field("blob_id", &self.blob_id)
            .field("name", &self.name)
            .field("media_type", &self.media_type)
            .field("size", &self.size)
            .field("sha256", &crate::hex::encode(&self.sha256))
            .field("key", &"<redacted>")
            .field("chunk_size", &self.chunk_size)
            .finish()
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Body {
    /// A text message, optionally replying to an earlier one.
    Text {
        /// The text.
        body: String,
        /// The message this replies to.
        reply_to: Option<MessageId>,
    },
    /// Replaces the text of an earlier message of the same sender.
    Edit {
        /// The edited message.
        target: MessageId,
        /// The new text.
        body: String,
    },
    /// Adds or removes a reaction.
    Reaction {
        /// The message reacted to.
        target: MessageId,
        /// The emoji (a short string).
        emoji: String,
        /// `true` to withdraw the reaction.
        remove: bool,
    },
    /// An attachment.
    File(FileRef),
    /// Sets the room's name (end-to-end encrypted, R16).
    RoomName {
        /// The new name.
        name: String,
    },
    /// Sets the room's topic.
    RoomTopic {
        /// The new topic.
        topic: String,
    },
    /// Withdraws an earlier message.
    Redaction {
        /// The withdrawn message.
        target: MessageId,
        /// Optional reason.
        reason: Option<String>,
    },
    /// The sender has read everything up to this message.
    ReadReceipt {
        /// The last message read.
        up_to: MessageId,
    },
    /// A kind this build does not know (from a newer client).
    Unknown {
        /// The kind number.
        kind: u16,
        /// The undecoded body.
        payload: Vec<u8>,
    },
}

/// One chat message: an id and a typed body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The sender-chosen message id (targets of edits, reactions, receipts refer to it).
    pub id: MessageId,
    /// The content.
    pub body: Body,
}

const KIND_TEXT: u16 = 1;
const KIND_EDIT: u16 = 2;
const KIND_REACTION: u16 = 3;
const KIND_FILE: u16 = 4;
const KIND_ROOM_NAME: u16 = 5;
const KIND_ROOM_TOPIC: u16 = 6;
const KIND_REDACTION: u16 = 7;
const KIND_READ_RECEIPT: u16 = 8;

const WHAT: &str = "envelope";

impl Envelope {
    /// An envelope with a fresh random id.
    pub fn new(body: Body) -> Result<Self> {
        Ok(Self {
            id: MessageId::random()?,
            body,
        })
    }

    /// A text message with a fresh random id.
    pub fn text(body: impl Into<String>) -> Result<Self> {
        Self::new(Body::Text {
            body: body.into(),
            reply_to: None,
        })
    }

    /// Encodes the envelope (unpadded).
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Writer::new();
        let kind = match &self.body {
            Body::Text {
                body: text,
                reply_to,
            } => {
                body.str(text);
                opt_id(&mut body, reply_to.as_ref());
                KIND_TEXT
            }
            Body::Edit { target, body: text } => {
                body.raw(&target.0);
                body.str(text);
                KIND_EDIT
            }
            Body::Reaction {
                target,
                emoji,
                remove,
            } => {
                body.raw(&target.0);
                body.str(emoji);
                body.bool(*remove);
                KIND_REACTION
            }
            Body::File(f) => {
                body.str(&f.blob_id);
                body.str(&f.name);
                body.str(&f.media_type);
                body.u64(f.size);
                body.raw(&f.sha256);
                body.raw(&f.key);
                body.raw(&f.nonce_prefix);
                body.u32(f.chunk_size);
                KIND_FILE
            }
            Body::RoomName { name } => {
                body.str(name);
                KIND_ROOM_NAME
            }
            Body::RoomTopic { topic } => {
                body.str(topic);
                KIND_ROOM_TOPIC
            }
            Body::Redaction { target, reason } => {
                body.raw(&target.0);
                body.opt_bytes(reason.as_deref().map(str::as_bytes));
                KIND_REDACTION
            }
            Body::ReadReceipt { up_to } => {
                body.raw(&up_to.0);
                KIND_READ_RECEIPT
            }
            Body::Unknown { kind, payload } => {
                body.raw(payload);
                *kind
            }
        };
        let mut w = Writer::new();
        w.u8(ENVELOPE_VERSION);
        w.raw(&self.id.0);
        w.u16(kind);
        w.bytes(&body.into_bytes());
        w.into_bytes()
    }

    /// Decodes an unpadded envelope. Refuses other format versions, trailing bytes, invalid
    /// UTF-8, and known kinds whose body does not parse exactly.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, WHAT);
        if r.u8()? != ENVELOPE_VERSION {
            return Err(Error::Malformed {
                what: "envelope (unknown format version)",
            });
        }
        let id = MessageId(r.array()?);
        let kind = r.u16()?;
        let payload = r.bytes()?;
        r.finish()?;

        let mut b = Reader::new(payload, WHAT);
        let body = match kind {
            KIND_TEXT => Body::Text {
                body: b.string()?,
                reply_to: read_opt_id(&mut b)?,
            },
            KIND_EDIT => Body::Edit {
                target: MessageId(b.array()?),
                body: b.string()?,
            },
            KIND_REACTION => Body::Reaction {
                target: MessageId(b.array()?),
                emoji: b.string()?,
                remove: b.bool()?,
            },
            KIND_FILE => Body::File(FileRef {
                blob_id: b.string()?,
                name: b.string()?,
                media_type: b.string()?,
                size: b.u64()?,
                sha256: b.array()?,
                key: b.array()?,
                nonce_prefix: b.array()?,
                chunk_size: b.u32()?,
            }),
            KIND_ROOM_NAME => Body::RoomName { name: b.string()? },
            KIND_ROOM_TOPIC => Body::RoomTopic { topic: b.string()? },
            KIND_REDACTION => Body::Redaction {
                target: MessageId(b.array()?),
                reason: match b.opt_bytes()? {
                    None => None,
                    Some(raw) => Some(
                        String::from_utf8(raw.to_vec())
                            .map_err(|_| Error::Malformed { what: WHAT })?,
                    ),
                },
            },
            KIND_READ_RECEIPT => Body::ReadReceipt {
                up_to: MessageId(b.array()?),
            },
            other => {
                return Ok(Self {
                    id,
                    body: Body::Unknown {
                        kind: other,
                        payload: payload.to_vec(),
                    },
                });
            }
        };
        b.finish()?;
        Ok(Self { id, body })
    }

    /// Encodes and pads to the next size bucket: the bytes to hand to MLS.
    pub fn to_padded(&self) -> Result<Vec<u8>> {
        padding::pad(&self.encode())
    }

    /// Unpads and decodes the plaintext of an MLS application message.
    pub fn from_padded(bytes: &[u8]) -> Result<Self> {
        Self::decode(padding::unpad(bytes)?)
    }
}

fn opt_id(w: &mut Writer, id: Option<&MessageId>) {
    match id {
        None => w.u8(0),
        Some(id) => {
            w.u8(1);
            w.raw(&id.0);
        }
    }
}

fn read_opt_id(r: &mut Reader<'_>) -> Result<Option<MessageId>> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(MessageId(r.array()?))),
        _ => Err(r.malformed()),
    }
}

#[cfg(test)]
mod tests;
