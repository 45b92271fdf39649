//! R1–R27 (`REQUIREMENTS.md`): a short title each, and how this build meets it, with the
//! evidence (tests, configuration, policy). Statuses that depend on the live configuration or
//! policy are computed in [`assess`].

use super::{Live, Status};

/// One assessed requirement.
#[derive(Clone, Debug)]
pub struct Assessed {
    /// `R1` … `R27`.
    pub id: &'static str,
    /// Short title.
    pub title: &'static str,
    /// Status.
    pub status: Status,
    /// Evidence and notes.
    pub evidence: String,
}

/// Short titles of R1–R27.
pub const TITLES: &[(&str, &str)] = &[
    ("R1", "No plaintext or content keys on any server component"),
    (
        "R2",
        "Content keys generated only on clients; server links no decryption code",
    ),
    (
        "R3",
        "MLS for chat and files, SFrame for media, TLS on every hop",
    ),
    ("R4", "Ciphersuite allow-list, replaceable"),
    ("R5", "Removing a member or device rotates keys"),
    (
        "R6",
        "Clients authenticate membership and key changes; safety numbers",
    ),
    (
        "R7",
        "Optional m-of-n organisation recovery key held by the customer",
    ),
    ("R8", "Reproducible builds, SBOM, dependency audit"),
    (
        "R9",
        "No vendor-controlled channel (updates, remote flags, plugins)",
    ),
    ("R10", "No outbound connections by default"),
    (
        "R11",
        "No vendor accounts, tunnels or hard-coded credentials",
    ),
    ("R12", "Installs and runs fully offline"),
    ("R13", "Memory-safe code, fuzzed parsers"),
    (
        "R14",
        "Web bundle hash published with SRI; native client exists",
    ),
    (
        "R15",
        "Every stored field in an inventory; art. 30 record generated",
    ),
    (
        "R16",
        "Room names, topics, file names, reactions end-to-end encrypted",
    ),
    (
        "R17",
        "Meeting state in memory only; no server-side recording",
    ),
    (
        "R18",
        "Logs without content or keys, truncated IPs, short retention",
    ),
    ("R19", "Retention per room; erasure; user deletion"),
    ("R20", "Art. 15/20 exports"),
    (
        "R21",
        "Guests and federation off by default; unauthenticated join refused",
    ),
    ("R22", "Notifications carry no content"),
    (
        "R23",
        "Plaintext features separate, off by default, visible to all",
    ),
    ("R24", "SSO (OIDC) and strong second factors"),
    ("R25", "Tamper-evident hash-chained audit log"),
    (
        "R26",
        "Backups encrypted with customer-held keys; restore tested",
    ),
    ("R27", "Compliance report from the live configuration"),
];

fn row(id: &'static str, status: Status, evidence: impl Into<String>) -> Assessed {
    let title = TITLES
        .iter()
        .find(|(i, _)| *i == id)
        .map_or("", |(_, t)| *t);
    Assessed {
        id,
        title,
        status,
        evidence: evidence.into(),
    }
}

/// Assesses every requirement against the live state.
pub fn assess(live: &Live) -> Vec<Assessed> {
    use Status::{Configured, Enforced, NotYetBuilt, Partial};
    let p = &live.policy.policy;
    let f = &p.features;
    let retention = |b: crate::policy::RetentionBounds| {
        let show = |v: i64| {
            if v == 0 {
                "forever".to_string()
            } else {
                format!("{v} s")
            }
        };
        format!("default {}, max {}", show(b.default_secs), show(b.max_secs))
    };
    vec![
        row(
            "R1",
            Partial,
            "Chat and files: canary scan of database, blobs, logs, temp files and a core dump — crates/ting-client/tests/canary.rs. Meetings and whiteboard: not yet built.",
        ),
        row(
            "R2",
            Enforced,
            "`cargo tree -p ting-server` must not list ting-e2ee/openmls/sframe — scripts/test.sh; the only key-bearing API fields are KeyPackages, Welcomes and commits — crates/ting-server/src/routes/openapi.rs.",
        ),
        row(
            "R3",
            Partial,
            format!(
                "MLS (RFC 9420, openmls) for chat and files — crates/ting-e2ee/tests/mls_flows.rs; SFrame keys in crates/ting-e2ee/src/sframe; in-browser media: not yet built. TLS: {}.",
                if live.tls {
                    "configured (rustls, TLS 1.3)"
                } else {
                    "not configured — plain HTTP is accepted on loopback only"
                }
            ),
        ),
        row(
            "R4",
            Enforced,
            format!(
                "Policy mls.allowed_ciphersuites = {:?} (subset of what the build supports); a KeyPackage with another suite is refused with invalid_key_package naming the policy — crates/ting-server/tests/policy_http.rs.",
                p.mls.allowed_ciphersuites
            ),
        ),
        row(
            "R5",
            Partial,
            "Chat: removal tests in crates/ting-client/tests/chat.rs (the removed device cannot decrypt later messages). Media: not yet built.",
        ),
        row(
            "R6",
            Enforced,
            "Every device carries a certificate from its user's master identity key, checked by clients on every KeyPackage, commit and Welcome and found in the key log; a device the operator registers (database edit, password reset) is announced and never added, a reset is loud, linking needs an existing device — crates/ting-client/tests/identity.rs; rollback, fork and split view of the key log detected — crates/ting-client/tests/log_views.rs; forged sender rejected — crates/ting-client/tests/follow.rs; safety numbers over master keys agree on both sides — crates/ting-client/tests/chat.rs. Key transparency: crates/ting-trust, served by crates/ting-server/src/keylog.rs (see the Key transparency section).",
        ),
        row(
            "R7",
            NotYetBuilt,
            "Organisation recovery (m-of-n) not yet built; the server holds no share. Each user has a personal recovery key (shown once, held by the user) opening a backup of their identity key that the server stores and cannot open — crates/ting-client/tests/identity.rs.",
        ),
        row(
            "R8",
            Partial,
            "Dependencies pinned by Cargo.lock and built with --locked (scripts/test.sh). Reproducible-build check, SBOM and audit gate: not yet built.",
        ),
        row(
            "R9",
            Enforced,
            "No auto-update, remote feature flags or plugin loading exist; the policy is stored in the customer's own database and changed only by its administrators (audited).",
        ),
        row(
            "R10",
            Enforced,
            "No outbound client exists in the server. Test: scripts/outbound-check.sh runs server and native clients in a network namespace without a route out, with a logging DNS stub and strace on connect().",
        ),
        row(
            "R11",
            Enforced,
            "No built-in accounts: the first administrator is created with a one-time token printed on the server's console (crates/ting-server/src/routes/setup.rs). Administrators manage accounts and policy; no admin function can decrypt (the server has no decryption code, R2).",
        ),
        row(
            "R12",
            Enforced,
            format!(
                "Single binary with embedded SQLite; no network access needed at install or run time. Database: {}.",
                live.database
            ),
        ),
        row(
            "R13",
            Partial,
            "`unsafe_code = \"forbid\"` in the workspace lints; fuzz targets for parsers of untrusted bytes in crates/ting-e2ee/fuzz. Server-side parsers (mls_wire) fuzzing: partial.",
        ),
        match &live.web_bundle {
            Ok(described) if !described.contains("placeholder") => row(
                "R14",
                Enforced,
                format!(
                    "{described}. The hash is printed at every start and published at `GET /api/v1/web-bundle`; every script and stylesheet of the app's pages carries a Subresource Integrity hash, checked by the server before it serves the bundle. Native client for those who will not run server-delivered JavaScript: crates/ting-client (SDK + CLI)."
                ),
            ),
            Ok(described) => row(
                "R14",
                Partial,
                format!(
                    "{described}: no web app is delivered (build it with scripts/build-web.sh). Native client: crates/ting-client (SDK + CLI)."
                ),
            ),
            Err(e) => row(
                "R14",
                Partial,
                format!("The configured web bundle cannot be served: {e}"),
            ),
        },
        row(
            "R15",
            Enforced,
            format!(
                "{} stored columns declared in crates/ting-store/src/inventory.rs (purpose, retention, visible to the host); the store conformance case inventory_matches_schema fails on an undeclared or unknown column on SQLite and PostgreSQL. The art. 30 record below is generated from it.",
                live.columns
            ),
        ),
        row(
            "R16",
            Enforced,
            "The schema has no column for room names, topics, avatars, file names, reactions or read receipts (see the data inventory): they travel inside MLS ciphertext.",
        ),
        row(
            "R17",
            Partial,
            format!(
                "Meetings: not yet built. Recording: features.recording = {} and cannot be turned on in this build (a policy that tries is refused).",
                f.recording
            ),
        ),
        row(
            "R18",
            Configured,
            format!(
                "Request logs carry route, status and duration, never client addresses, bodies or tokens (crates/ting-server/src/app.rs); the audit log stores client networks truncated to /24 (IPv4) and /48 (IPv6). Audit retention: {}. Log retention is the host's log system's setting.",
                if live.audit_retention_days == 0 {
                    "forever".into()
                } else {
                    format!("{} days", live.audit_retention_days)
                }
            ),
        ),
        row(
            "R19",
            Partial,
            format!(
                "Per-room retention enforced by the sweeper within policy bounds — room: {}; direct: {}. Erasure by key destruction and user deletion: not yet built.",
                retention(p.retention.room),
                retention(p.retention.direct)
            ),
        ),
        row(
            "R20",
            Partial,
            "Server side: `ting admin export-user USERNAME --out FILE` writes every stored field about a user (audited). Client-side content export: not yet built.",
        ),
        row(
            "R21",
            Enforced,
            format!(
                "features.guest_access = {}, features.federation = {} (neither is built; turning them on is refused). Every API route except login and setup needs a valid session — crates/ting-server/tests/http.rs.",
                f.guest_access, f.federation
            ),
        ),
        row(
            "R22",
            NotYetBuilt,
            "Push notifications: not yet built. WebSocket events carry ids and sequence numbers only.",
        ),
        row(
            "R23",
            Enforced,
            format!(
                "features.recording = {}, features.phone_dial_in = {}: off, and cannot be turned on in this build.",
                f.recording, f.phone_dial_in
            ),
        ),
        row(
            "R24",
            Partial,
            "Local accounts with Argon2id passwords and login throttling. OIDC single sign-on and WebAuthn: not yet built.",
        ),
        row(
            "R25",
            if live.audit_ok { Enforced } else { Partial },
            format!(
                "Hash-chained audit log in the database; live verification: {}. Tests: crates/ting-store/tests/audit_tamper.rs (changed byte, deleted, inserted and reordered records), store conformance cases audit_chain, audit_prune, audit_concurrent.",
                live.audit_summary
            ),
        ),
        row(
            "R26",
            NotYetBuilt,
            "Not yet built: back up the database and blob directory with the customer's own encrypted backup tooling.",
        ),
        row(
            "R27",
            Enforced,
            "This report, generated by `ting compliance report` from the live configuration, policy and database.",
        ),
    ]
}
