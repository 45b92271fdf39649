//! Typed configuration: defaults, a TOML file, `TING_*` environment variables and command-line
//! flags, applied in that order (later wins).
//!
//! Every key is documented in [`FIELD_DOCS`]; `ting config example` prints `Config::default()`
//! serialised to TOML with those docs as comments, so the example cannot drift from the types (a
//! test checks that every serialised key has a doc and every doc names a key). An environment
//! variable for `section.key` is `TING_SECTION_KEY`, e.g. `TING_SERVER_LISTEN`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Listening, data and limits.
    pub server: ServerConfig,
    /// TLS certificate.
    pub tls: TlsConfig,
    /// Durable storage.
    pub database: DatabaseConfig,
    /// Accounts, sessions and login throttling.
    pub auth: AuthConfig,
    /// MLS KeyPackages.
    pub mls: MlsConfig,
    /// Message delivery.
    pub delivery: DeliveryConfig,
    /// Encrypted file blobs.
    pub files: FilesConfig,
    /// Logging.
    pub log: LogConfig,
    /// The audit log.
    pub audit: AuditConfig,
    /// Meetings: the media UDP socket.
    pub media: MediaConfig,
    /// The web app.
    pub web: WebConfig,
    /// Key transparency: the key log's checkpoints and witnesses.
    pub keylog: KeyLogConfig,
}

/// `[server]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: String,
    /// The URL people use to reach this server; empty means derived from `listen`.
    pub public_url: String,
    /// Directory for the embedded database and other state.
    pub data_dir: PathBuf,
    /// Largest accepted JSON request body in bytes.
    pub max_body_bytes: usize,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            data_dir: PathBuf::from("./ting-data"),
            max_body_bytes: 1024 * 1024,
            shutdown_grace_secs: 10,
        }
    }
}

/// `[tls]`
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain; empty means plain HTTP (allowed on loopback only).
    pub cert: String,
    /// PEM private key for `cert`.
    pub key: String,
}

/// `[database]`
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://…` for PostgreSQL; empty means embedded SQLite in `data_dir`.
    pub url: String,
}

/// `[auth]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Hours a login session stays valid.
    pub session_ttl_hours: u64,
    /// Minimum password length in characters.
    pub min_password_len: usize,
    /// Failed logins allowed per account within `rate_window_secs`.
    pub max_failures_per_account: u32,
    /// Login attempts allowed per client address within `rate_window_secs`.
    pub max_attempts_per_address: u32,
    /// Length of the login rate-limit window in seconds.
    pub rate_window_secs: u64,
    /// Argon2id memory cost in KiB for new password hashes.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations for new password hashes.
    pub argon2_iterations: u32,
    /// Hours an invitation or password-reset link stays usable.
    pub invitation_ttl_hours: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_hours: 24 * 14,
            min_password_len: 12,
            max_failures_per_account: 10,
            max_attempts_per_address: 30,
            rate_window_secs: 15 * 60,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            invitation_ttl_hours: 24 * 7,
        }
    }
}

/// `[mls]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MlsConfig {
    /// MLS ciphersuite ids accepted in KeyPackages (1 = X25519/AES-128-GCM/SHA-256/Ed25519).
    pub allowed_ciphersuites: Vec<u16>,
    /// Most unclaimed one-time KeyPackages stored per device.
    pub max_key_packages_per_device: u64,
    /// Notify a device when its one-time KeyPackages fall below this many.
    pub key_packages_low_watermark: u64,
}

impl Default for MlsConfig {
    fn default() -> Self {
        Self {
            allowed_ciphersuites: vec![
                ting_proto::mls_wire::CIPHERSUITE_X25519_AES128GCM_SHA256_ED25519,
            ],
            max_key_packages_per_device: 200,
            key_packages_low_watermark: 10,
        }
    }
}

/// `[delivery]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Largest accepted MLS message in bytes.
    pub max_message_bytes: usize,
    /// Default retention of messages and files in new rooms, in seconds; 0 = keep forever.
    pub default_retention_secs: i64,
    /// Seconds between sweeps that delete expired messages and blobs.
    pub sweep_interval_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 1024 * 1024,
            default_retention_secs: 0,
            sweep_interval_secs: 60,
        }
    }
}

/// `[files]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// Largest accepted encrypted file in bytes.
    pub max_blob_bytes: u64,
    /// Hours after which an unfinished upload is deleted.
    pub stale_upload_hours: i64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            max_blob_bytes: 100 * 1024 * 1024,
            stale_upload_hours: 24,
        }
    }
}

/// `[log]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Log filter, e.g. `info` or `ting_server=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

/// `[audit]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Days audit records are kept; 0 = forever. Pruning keeps the chain verifiable.
    pub retention_days: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            retention_days: 365,
        }
    }
}

/// `[media]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// UDP address for meeting media; empty = the IP of `server.listen`, any port.
    pub udp_listen: String,
    /// Address announced to participants as the ICE candidate; empty = the bound address.
    pub advertise: String,
    /// Also accept media over TCP (ICE-TCP) on the same port, for networks that block UDP.
    pub tcp: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            udp_listen: String::new(),
            advertise: String::new(),
            tcp: true,
        }
    }
}

/// `[web]`
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Serve the web app from this directory instead of the copy built into the binary.
    pub dir: String,
}

/// `[keylog]`
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KeyLogConfig {
    /// The log's origin (checkpoint name); empty = derived from `server.public_url`.
    pub origin: String,
    /// Verifier keys of the witnesses whose cosignatures are accepted.
    pub witnesses: Vec<String>,
    /// Unauthenticated key log requests allowed per client address per minute.
    pub public_requests_per_minute: u32,
    /// Refuse KeyPackages without a Ting device certificate (basic credentials).
    pub require_certificates: bool,
}

impl Default for KeyLogConfig {
    fn default() -> Self {
        Self {
            origin: String::new(),
            witnesses: Vec::new(),
            public_requests_per_minute: 600,
            require_certificates: true,
        }
    }
}

/// The key log's origin when `keylog.origin` is empty: `<host of server.public_url>/keylog`,
/// or this without a public URL.
pub const DEFAULT_KEYLOG_ORIGIN: &str = "ting/keylog";

/// Configuration keys whose values are lists of strings (an environment variable gives them
/// comma-separated).
const STRING_LIST_KEYS: &[&str] = &["keylog.witnesses"];

/// One line of documentation per configuration key, in file order.
pub const FIELD_DOCS: &[(&str, &str)] = &[
    (
        "server.listen",
        "Address and port to listen on. Plain HTTP is refused on anything but loopback.",
    ),
    (
        "server.public_url",
        "The URL people use to reach this server (for links); empty = derived from `listen`.",
    ),
    (
        "server.data_dir",
        "Directory for the embedded database and other state.",
    ),
    (
        "server.max_body_bytes",
        "Largest accepted JSON request body, in bytes.",
    ),
    (
        "server.shutdown_grace_secs",
        "Seconds in-flight requests get to finish on SIGINT/SIGTERM.",
    ),
    (
        "tls.cert",
        "PEM certificate chain. Empty = plain HTTP, allowed only on a loopback address.",
    ),
    ("tls.key", "PEM private key for `tls.cert`."),
    (
        "database.url",
        "`postgres://user@host/db` for PostgreSQL; empty = embedded SQLite in `server.data_dir`.",
    ),
    (
        "auth.session_ttl_hours",
        "Hours a login session stays valid.",
    ),
    (
        "auth.min_password_len",
        "Minimum password length, in characters.",
    ),
    (
        "auth.max_failures_per_account",
        "Failed logins allowed per account within `auth.rate_window_secs`.",
    ),
    (
        "auth.max_attempts_per_address",
        "Login attempts allowed per client address within `auth.rate_window_secs`.",
    ),
    (
        "auth.rate_window_secs",
        "Length of the login rate-limit window, in seconds.",
    ),
    (
        "auth.argon2_memory_kib",
        "Argon2id memory cost in KiB for new password hashes.",
    ),
    (
        "auth.argon2_iterations",
        "Argon2id iterations for new password hashes.",
    ),
    (
        "auth.invitation_ttl_hours",
        "Hours an invitation or password-reset link an administrator issues stays usable (it works once).",
    ),
    (
        "mls.allowed_ciphersuites",
        "MLS ciphersuites accepted in KeyPackages (1 = MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519).",
    ),
    (
        "mls.max_key_packages_per_device",
        "Most unclaimed one-time KeyPackages stored per device.",
    ),
    (
        "mls.key_packages_low_watermark",
        "A device is told to upload more when it has fewer one-time KeyPackages than this.",
    ),
    (
        "delivery.max_message_bytes",
        "Largest accepted MLS message (ciphertext), in bytes.",
    ),
    (
        "delivery.default_retention_secs",
        "Default retention of messages and files in new rooms, in seconds; 0 = keep forever.",
    ),
    (
        "delivery.sweep_interval_secs",
        "Seconds between sweeps that delete expired messages and files.",
    ),
    (
        "files.max_blob_bytes",
        "Largest accepted encrypted file, in bytes.",
    ),
    (
        "files.stale_upload_hours",
        "Hours after which an unfinished upload is deleted.",
    ),
    (
        "log.level",
        "Log filter, e.g. `info` or `ting_server=debug,info`. Logs never contain content or keys.",
    ),
    (
        "audit.retention_days",
        "Days audit records are kept (0 = forever); pruned records leave a hash anchor so the chain still verifies.",
    ),
    (
        "media.udp_listen",
        "UDP `ip:port` for meeting media (one socket for all meetings); empty = the IP of `server.listen`, port 0 = any free port.",
    ),
    (
        "media.advertise",
        "Address (`ip` or `ip:port`) participants send media to, e.g. behind NAT; empty = the bound address (required if `udp_listen` is a wildcard).",
    ),
    (
        "media.tcp",
        "Also accept meeting media over TCP (ICE-TCP, RFC 6544: a passive candidate on the UDP port's number, TCP) for networks that block UDP; UDP stays preferred.",
    ),
    (
        "web.dir",
        "Serve the web app from this directory (a `web/dist` build) instead of the copy built into the binary; empty = built-in. Its hash and integrity attributes are checked at start.",
    ),
    (
        "keylog.origin",
        "Name of the key log in its signed checkpoints (no spaces or '+'); empty = `<host of server.public_url>/keylog`, or `ting/keylog` without a public URL. Clients and witnesses pin it: do not change it once in use.",
    ),
    (
        "keylog.witnesses",
        "Verifier keys (`name+keyid+base64`, c2sp.org cosignature/v1) of the witnesses whose checkpoint cosignatures this server accepts and serves; empty = none.",
    ),
    (
        "keylog.public_requests_per_minute",
        "Unauthenticated key log requests (checkpoint, entries, cosignatures; used by witnesses) allowed per client address per minute.",
    ),
    (
        "keylog.require_certificates",
        "Refuse KeyPackages that carry no Ting device certificate. Clients refuse uncertified devices whatever this says; turning it off only lets such packages be stored (for tools that test the server alone).",
    ),
];

/// Flag overrides from the command line (highest precedence).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`
    pub listen: Option<String>,
    /// `--data-dir`
    pub data_dir: Option<PathBuf>,
    /// `--database-url`
    pub database_url: Option<String>,
    /// `--tls-cert`
    pub tls_cert: Option<String>,
    /// `--tls-key`
    pub tls_key: Option<String>,
    /// `--web-dir`
    pub web_dir: Option<String>,
}

impl Config {
    /// Loads defaults, then `file` (if given), then `TING_*` variables from `env`, then `flags`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &Overrides,
    ) -> anyhow::Result<Config> {
        let mut value = toml::Value::try_from(Config::default()).context("serialising defaults")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            let from_file: toml::Value = toml::from_str(&text)
                .with_context(|| format!("parsing config file {}", path.display()))?;
            merge(&mut value, from_file);
        }
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("TING_") else {
                continue;
            };
            let Some((key, _)) = FIELD_DOCS
                .iter()
                .find(|(key, _)| env_name(key) == format!("TING_{rest}"))
            else {
                continue;
            };
            set_from_str(&mut value, key, &raw)
                .with_context(|| format!("environment variable {name}"))?;
        }
        let mut config: Config = value.try_into().context("invalid configuration")?;
        if let Some(v) = &flags.listen {
            config.server.listen = v.clone();
        }
        if let Some(v) = &flags.data_dir {
            config.server.data_dir = v.clone();
        }
        if let Some(v) = &flags.database_url {
            config.database.url = v.clone();
        }
        if let Some(v) = &flags.tls_cert {
            config.tls.cert = v.clone();
        }
        if let Some(v) = &flags.tls_key {
            config.tls.key = v.clone();
        }
        if let Some(v) = &flags.web_dir {
            config.web.dir = v.clone();
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        if self.tls.cert.is_empty() != self.tls.key.is_empty() {
            bail!("tls.cert and tls.key must be set together");
        }
        if self.auth.session_ttl_hours == 0 || self.auth.rate_window_secs == 0 {
            bail!("auth.session_ttl_hours and auth.rate_window_secs must be positive");
        }
        if self.auth.min_password_len < 8 {
            bail!("auth.min_password_len must be at least 8");
        }
        if self.mls.allowed_ciphersuites.is_empty() {
            bail!("mls.allowed_ciphersuites must name at least one ciphersuite");
        }
        if self.delivery.max_message_bytes < 1024
            || self.delivery.max_message_bytes > 16 * 1024 * 1024
        {
            bail!("delivery.max_message_bytes must be between 1 KiB and 16 MiB");
        }
        if self.delivery.default_retention_secs < 0
            || self.files.stale_upload_hours <= 0
            || self.delivery.sweep_interval_secs == 0
        {
            bail!(
                "delivery.default_retention_secs must be >= 0; files.stale_upload_hours and delivery.sweep_interval_secs > 0"
            );
        }
        if self.server.max_body_bytes < 1024 {
            bail!("server.max_body_bytes must be at least 1024");
        }
        let origin = self.keylog_origin();
        if ting_trust::LogSigner::new(&origin, &[0; 32]).is_err() {
            bail!(
                "keylog.origin {origin:?} is not a valid checkpoint name (no spaces, '+' or control characters)"
            );
        }
        for key in &self.keylog.witnesses {
            crate::keylog::witness_name(key)
                .with_context(|| format!("keylog.witnesses: {key:?}"))?;
        }
        if self.keylog.public_requests_per_minute == 0 {
            bail!("keylog.public_requests_per_minute must be positive");
        }
        Ok(())
    }

    /// The key log's origin: `keylog.origin`, or derived from `server.public_url`.
    pub fn keylog_origin(&self) -> String {
        if !self.keylog.origin.is_empty() {
            return self.keylog.origin.clone();
        }
        let host = self
            .server
            .public_url
            .split_once("://")
            .map_or(self.server.public_url.as_str(), |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("");
        if host.is_empty() {
            DEFAULT_KEYLOG_ORIGIN.to_string()
        } else {
            format!("{host}/keylog")
        }
    }

    /// `server.listen` as a socket address.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.server.listen.parse().with_context(|| {
            format!(
                "server.listen {:?} is not an address:port",
                self.server.listen
            )
        })
    }

    /// Directory of encrypted blobs.
    pub fn blob_dir(&self) -> PathBuf {
        self.server.data_dir.join("blobs")
    }

    /// The database URL, with the embedded SQLite default resolved.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}",
                self.server.data_dir.join("ting.db").display()
            )
        } else {
            self.database.url.clone()
        }
    }

    /// Whether TLS is configured.
    pub fn tls_enabled(&self) -> bool {
        !self.tls.cert.is_empty()
    }

    /// The base URL people use.
    pub fn public_url(&self) -> String {
        if !self.server.public_url.is_empty() {
            return self.server.public_url.trim_end_matches('/').to_string();
        }
        let scheme = if self.tls_enabled() { "https" } else { "http" };
        format!("{scheme}://{}", self.server.listen)
    }
}

/// The environment variable for a dotted key.
pub fn env_name(key: &str) -> String {
    format!("TING_{}", key.replace('.', "_").to_ascii_uppercase())
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

fn set_from_str(value: &mut toml::Value, key: &str, raw: &str) -> anyhow::Result<()> {
    let (section, field) = key
        .split_once('.')
        .expect("invariant: FIELD_DOCS keys are dotted");
    let slot = value
        .get_mut(section)
        .and_then(|s| s.get_mut(field))
        .expect("invariant: FIELD_DOCS keys exist in Config");
    *slot = match slot {
        toml::Value::String(_) => toml::Value::String(raw.to_string()),
        toml::Value::Integer(_) => {
            toml::Value::Integer(raw.trim().parse().context("expected an integer")?)
        }
        toml::Value::Boolean(_) => {
            toml::Value::Boolean(raw.trim().parse().context("expected true or false")?)
        }
        toml::Value::Array(_) if STRING_LIST_KEYS.contains(&key) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(|s| s.trim().parse::<i64>().map(toml::Value::Integer))
                .collect::<Result<_, _>>()
                .context("expected a comma-separated list of integers")?,
        ),
        _ => bail!("unsupported value type"),
    };
    Ok(())
}

/// `ting config example`: the default configuration as a fully commented TOML file.
pub fn example() -> String {
    let value = toml::Value::try_from(Config::default()).expect("invariant: defaults serialise");
    let mut out = String::from(
        "# Ting configuration. Every key is optional; shown are the defaults.\n\
         # Each key can also be set as an environment variable TING_<SECTION>_<KEY>, e.g.\n\
         # TING_SERVER_LISTEN=127.0.0.1:9000, and some as flags (see `ting serve --help`).\n",
    );
    let toml::Value::Table(sections) = value else {
        unreachable!("invariant: Config serialises to a table")
    };
    for (section, fields) in &sections {
        out.push_str(&format!("\n[{section}]\n"));
        let toml::Value::Table(fields) = fields else {
            continue;
        };
        for (field, v) in fields {
            let key = format!("{section}.{field}");
            let doc = FIELD_DOCS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, d)| *d)
                .unwrap_or("");
            out.push_str(&format!(
                "# {doc}\n# env: {}\n{field} = {v}\n",
                env_name(&key)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_documented_and_every_doc_is_a_key() {
        let value = toml::Value::try_from(Config::default()).unwrap();
        let mut keys = Vec::new();
        for (s, fields) in value.as_table().unwrap() {
            for f in fields.as_table().unwrap().keys() {
                keys.push(format!("{s}.{f}"));
            }
        }
        for k in &keys {
            assert!(
                FIELD_DOCS.iter().any(|(d, _)| d == k),
                "undocumented config key {k}"
            );
        }
        for (d, _) in FIELD_DOCS {
            assert!(keys.iter().any(|k| k == d), "doc for unknown key {d}");
        }
    }

    #[test]
    fn example_parses_back_to_defaults() {
        let text = example();
        let parsed: Config = toml::from_str(&text).unwrap();
        assert_eq!(parsed, Config::default());
        assert!(text.contains("# env: TING_SERVER_LISTEN"));
    }

    #[test]
    fn precedence_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ting.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"127.0.0.1:1111\"\nmax_body_bytes = 4096\n",
        )
        .unwrap();
        let env = vec![
            (
                "TING_SERVER_LISTEN".to_string(),
                "127.0.0.1:2222".to_string(),
            ),
            (
                "TING_MLS_ALLOWED_CIPHERSUITES".to_string(),
                "1, 2".to_string(),
            ),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let c = Config::load(Some(&file), env.clone(), &Overrides::default()).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:2222");
        assert_eq!(c.server.max_body_bytes, 4096);
        assert_eq!(c.mls.allowed_ciphersuites, vec![1, 2]);
        let flags = Overrides {
            listen: Some("127.0.0.1:3333".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&file), env, &flags).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:3333");
    }

    #[test]
    fn keylog_origin_and_witness_list() {
        let mut c = Config::default();
        assert_eq!(c.keylog_origin(), "ting/keylog");
        c.server.public_url = "https://chat.example.org:8443/ting/".into();
        assert_eq!(c.keylog_origin(), "chat.example.org:8443/keylog");
        c.keylog.origin = "example.org/log".into();
        assert_eq!(c.keylog_origin(), "example.org/log");
        c.validate().unwrap();
        c.keylog.origin = "bad origin".into();
        assert!(c.validate().is_err());

        let witness = ting_trust::WitnessSigner::new("witness.example", &[3; 32]).unwrap();
        let env = vec![(
            "TING_KEYLOG_WITNESSES".to_string(),
            format!("{} ,", witness.verifier_key()),
        )];
        let c = Config::load(None, env, &Overrides::default()).unwrap();
        assert_eq!(c.keylog.witnesses, vec![witness.verifier_key()]);
        let env = vec![("TING_KEYLOG_WITNESSES".to_string(), "nonsense".to_string())];
        let err = Config::load(None, env, &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("keylog.witnesses"), "{err:#}");
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let bad_env = vec![("TING_SERVER_MAX_BODY_BYTES".to_string(), "lots".to_string())];
        let err = Config::load(None, bad_env, &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("TING_SERVER_MAX_BODY_BYTES"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ting.toml");
        std::fs::write(&file, "[server]\nlisen = \"x\"\n").unwrap();
        let err = Config::load(Some(&file), Vec::new(), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
        let flags = Overrides {
            listen: Some("nonsense".into()),
            ..Default::default()
        };
        assert!(Config::load(None, Vec::new(), &flags).is_err());
    }
}
