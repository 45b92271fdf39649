//! The Ting server: a blind relay for end-to-end encrypted chat, files and meetings.
//!
//! One binary, `ting`, serves the `/api/v1` JSON API, the WebSocket event stream and the web
//! app; state lives in embedded SQLite or PostgreSQL through [`ting_store`]. The server never
//! holds plaintext or a key that opens it: it authenticates accounts and devices, stores MLS
//! KeyPackages as opaque public material, and routes events. It does not depend on any
//! decryption code (CI checks `cargo tree`).
//!
//! Modules: [`config`] (typed configuration), [`app`] (router), [`routes`] (one file per
//! resource), [`auth`] (passwords, tokens, throttling), [`hub`] (live connections),
//! [`serve`] (listener, TLS, shutdown), [`admin`] (CLI administration), [`keylog`] (key
//! transparency: the key log's tree, checkpoints and witness cosignatures).
#![deny(missing_docs)]

/// `ting --version` and the administration console's health page: the release, the commit it
/// was built from and whether the tracked files matched that commit (see `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TING_COMMIT"),
    ", ",
    env!("TING_TREE"),
    " tree)"
);

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod compliance;
pub mod config;
pub mod error;
pub mod export;
pub mod extract;
pub mod hub;
pub mod keylog;
pub mod media;
pub mod metrics;
pub mod policy;
pub mod queue;
pub mod routes;
pub mod serve;
pub mod state;
pub mod web;
