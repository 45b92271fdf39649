//! # ting-web
//!
//! Thin [`wasm-bindgen`](mod@wasm_bindgen) bindings of [`ting_e2ee`] for the browser: all of Ting's client
//! cryptography — MLS groups, chat envelopes, SFrame media keys, attachments, safety numbers,
//! the encrypted state blob — reaches JavaScript through this crate, and nothing else does.
//!
//! | JS class | wraps | what |
//! |---|---|---|
//! | [`TingClient`] | `ting_e2ee::Client` | one device: identity, key packages, groups, commits, chat messages, SFrame, safety numbers, `save`/`load` |
//! | [`TingMediaKeys`] | `ting_e2ee::MediaKeys` | SFrame keys inside an encoded-transform worker, fed with `TingClient.mediaEpoch` |
//! | [`TingFileEncryptor`], [`TingFileDecryptor`] | `ting_e2ee::file` | streaming attachment encryption |
//!
//! The identity half of `TingClient` (master identity key, device certificate, linking, pins
//! and identity alerts) is in `trust.rs`, its shapes in [`trust_views`]; the checked view of
//! the key log (`KeyLogView`, and `TingClient.setLogPosition`) in [`keylog`].
//!
//! Method names are the camelCase forms of ting-e2ee's; `nowMs` arguments are JS numbers
//! (`Date.now()`), binary data is `Uint8Array`, identifiers and hashes are hex strings, and
//! structured results are plain objects (see [`views`] and the generated `ting_web.d.ts`).
//! Group ids are strings (their UTF-8 bytes) or `Uint8Array`s.
//!
//! ## Errors
//!
//! A failing call throws a JS `Error` named `TingError` with a stable `code` (e.g.
//! `"unknown_group"`, `"tampered"`, `"replayed"`, `"invalid_argument"`) and a `fault`
//! (`"peer"`, `"misuse"`, `"internal"`); see [`error`].
//!
//! ```js
//! import init, { TingClient } from "./pkg/ting_web.js";
//! await init();
//! const alice = new TingClient("alice");
//! const bob = new TingClient("bob");
//! alice.createGroup("room-1");
//! const { commit, welcome } = alice.addMembers("room-1", bob.keyPackages(1));
//! alice.mergePendingCommit("room-1", Date.now());   // after the server accepted `commit`
//! bob.join(welcome);
//! const ct = alice.encryptMessage("room-1", { body: { type: "text", body: "hi" } });
//! const got = bob.handleMessage("room-1", ct, Date.now());
//! // got = { type: "message", epoch: 1, sender: { userId: "alice", ... }, envelope: { ... } }
//! ```
//!
//! ## Building
//!
//! `scripts/build-wasm.sh [--target web|nodejs] [OUT_DIR]` builds the wasm module and its JS
//! glue (default: browser ES module into `web/pkg`). The crate also compiles natively (the
//! bindings are inert there), so `cargo clippy` and the unit tests of the pure-Rust half run
//! without a wasm toolchain. `tests/interop/run.sh` runs a native and a wasm member in one group.
//!
//! ## `unsafe`
//!
//! The workspace forbids `unsafe_code` and this crate keeps the workspace lints unchanged: no
//! exception, no `allow`. The `#[wasm_bindgen]` expansion does contain `unsafe` (the ABI
//! conversion impls and exported shims that wasm-bindgen generates), but rustc does not report
//! the `unsafe_code` lint inside expansions of another crate's macros (it is not a
//! `report_in_external_macro` lint), so that generated code is wasm-bindgen's responsibility,
//! while any `unsafe` written by hand in this crate is still a hard error. Checked with
//! wasm-bindgen 0.2.130 on wasm32 and native. Should a future wasm-bindgen trip the lint, the
//! narrowest fix is a `[lints]` table in this crate's Cargo.toml with `unsafe_code = "deny"` and a
//! documented `#[allow(unsafe_code)]` on the binding modules only.
#![deny(missing_docs)]

mod client;
pub mod error;
mod file;
mod js;
pub mod keylog;
mod media;
pub mod options;
mod time;
mod trust;
pub mod trust_views;
pub mod views;

pub use client::TingClient;
pub use error::WebError;
pub use file::{TingFileDecryptor, TingFileEncryptor};
pub use keylog::{KeyLogCheckpoint, KeyLogView};
pub use media::TingMediaKeys;
pub use trust::{device_fingerprint, inspect_key_log_record, rendezvous_of};

use wasm_bindgen::prelude::*;

/// The version of ting-web (and of the ting-e2ee it was built with).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** A group id: a string (its UTF-8 bytes) or raw bytes. */
export type GroupId = string | Uint8Array;

/** Thrown by every failing call. */
export interface TingError extends Error {
  name: "TingError";
  /** Stable snake_case code, e.g. "unknown_group", "tampered", "replayed", "invalid_argument". */
  code: string;
  /** Who is to blame: the input's sender, the calling code, or a bug. */
  fault: "peer" | "misuse" | "internal";
}

export interface SframeOptions { epochBits?: number; sessionBits?: number; graceMs?: number; }
export interface ClientOptions {
  /** Allowed MLS cipher suites (RFC 9420 values), preferred first. */
  ciphersuites?: number[];
  sframe?: SframeOptions;
  maxPastEpochs?: number;
  outOfOrderTolerance?: number;
  maximumForwardDistance?: number;
}

export interface Member {
  leafIndex: number; userId: string; /** hex */ deviceKey: string;
  /** The device id its certificate names. */ deviceId: string;
  /** The master identity key that certified the device, hex. */ identityKey: string;
}
export interface MembershipChange {
  added: Member[];
  removed: Member[];
  deviceKeyChanges: { member: Member; oldDeviceKey: string }[];
}
export interface CommitBundle {
  commit: Uint8Array;
  welcome: Uint8Array | null;
  epoch: number;
  change: MembershipChange;
}
export interface Joined { groupId: Uint8Array; epoch: number; addedBy: Member; members: Member[]; alerts: IdentityAlert[]; }
export interface KeyPackageInfo {
  userId: string; deviceKey: string; ciphersuite: number; lastResort: boolean; reference: string;
  deviceId: string; /** hex */ identityKey: string;
}

/** Something about identities to show the user. Keys are hex. */
export type IdentityAlert =
  | { kind: "changed"; userId: string; previous: string; current: string; wasVerified: boolean }
  | { kind: "ownIdentityReset"; current: string };
export interface Pin {
  userId: string; identityKey: string; verified: boolean;
  change: { previous: string; previousVerified: boolean } | null;
  blocksSending: boolean;
}
/** Key log records to publish (POST /api/v1/keylog), statement first. */
export interface NewIdentity {
  statementRecord: Uint8Array; certificateRecord: Uint8Array;
  statement: Uint8Array; certificate: Uint8Array; identityKey: string;
}
export interface LinkPreview { deviceId: string; deviceFingerprint: string; expiresAtMs: number; }
export interface KeyLogRecord {
  kind: "identity" | "device" | "revocation"; userId: string; identityKey: string;
  identity?: "genesis" | "reset"; deviceId?: string; deviceKey?: string; deviceFingerprint?: string;
  atMs: number;
}

/** All bytes in a FileRef are hex, so envelopes are JSON-compatible. */
export interface FileRef {
  blobId: string; name: string; mediaType: string; size: number;
  sha256: string; key: string; noncePrefix: string; chunkSize: number;
}
export type Body =
  | { type: "text"; body: string; replyTo?: string }
  | { type: "edit"; target: string; body: string }
  | { type: "reaction"; target: string; emoji: string; remove?: boolean }
  | { type: "file"; file: FileRef }
  | { type: "roomName"; name: string }
  | { type: "roomTopic"; topic: string }
  | { type: "redaction"; target: string; reason?: string }
  | { type: "readReceipt"; upTo: string }
  | { type: "unknown"; kind: number; payload: string };
/** A chat message. `id` (32 hex digits) may be omitted when encrypting. */
export interface Envelope { id?: string; body: Body; }

export type Received =
  | { type: "message"; epoch: number; sender: Member; envelope: Envelope; logPosition: LogPosition | null }
  | { type: "commit"; epoch: number; committer: Member; change: MembershipChange; removedSelf: boolean; alerts: IdentityAlert[] }
  | { type: "proposal"; epoch: number; sender: Member; proposal: "remove" | "add" | "update" | "other"; member?: Member }
  | { type: "ownMessage"; epoch: number };

export interface DecryptedFrame { senderLeaf: number; epoch: number; context: number; payload: Uint8Array; }
export interface SafetyNumber {
  digits: string; groups: string[]; display: string; qrPayload: Uint8Array; local: string; remote: string;
}
export interface FileFinish { chunk: Uint8Array; fileRef: FileRef; }
"#;
