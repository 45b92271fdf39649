//! The load generator behind `ting-load`: many simulated devices chatting through one server on
//! this machine, measuring delivery rate, end-to-end latency, delivery integrity and what the
//! server spends in CPU and memory.
//!
//! A simulated device is a `ting-e2ee` client held in memory, an [`crate::api::Api`] connection
//! (all devices share one HTTP connection pool) and its own WebSocket — the protocol steps of
//! [`crate::Device`] without the disk persistence, which would dominate at a thousand devices.
//!
//! [`chat::run_chat`] runs these steps:
//!
//! 1. users are created with the server's admin CLI (one user per device) and every device logs
//!    in, publishes KeyPackages and opens its event stream;
//! 2. rooms of `room_size` devices form: the first member creates the room and adds the others
//!    in one commit, the others join from the Welcome their stream delivers;
//! 3. a load phase: each device sends `messages` numbered, timestamped texts on a fixed
//!    schedule (all devices together at `rate` messages/s), while decrypting, checking
//!    (per-sender order, duplicates, gaps) and acknowledging everyone else's;
//! 4. with the baseline on, the same phase first runs with unencrypted payloads of the
//!    ciphertext's size ([`Mode::Plain`]), so the encrypted run can be read as a ratio.
//!
//! [`meeting::run_meeting`] measures meetings instead: headless participants publishing
//! SFrame-encrypted frames through an SFU — a Ting server, or str0m's example SFU as the
//! reference ([`reference`]) — reporting forwarded packets/s, latency and the SFU's CPU per
//! forwarded Mbit/s ([`meeting_report`]).
//!
//! Load only ever goes to a loopback address, and every loop is bounded in count and time.
//! Server CPU and memory come from `/proc/PID/stat` and `/proc/PID/status`.

pub mod chat;
pub mod flow;
pub mod meeting;
pub mod meeting_report;
pub mod reference;
pub mod report;
pub mod server;
mod setup;
pub mod stats;

pub use chat::{ChatOptions, run_chat};
pub use flow::{AckMode, Mode};
pub use meeting::{MeetingBenchOptions, Sfu, Target, Topology, run_meeting};
pub use meeting_report::{MeetingReport, comparison_table};
pub use report::{ChatReport, PhaseReport};
pub use server::ServerUnderTest;
