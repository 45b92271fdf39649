//! `ting-witness`: the key-transparency witness a customer runs apart from the Ting server.
//!
//! Each round it fetches the server's newest key-log checkpoint and the records added since
//! its last one, lets [`ting_trust::Witness`] check them (log signature, append-only growth,
//! the records hashing to the signed root, every entry passing the key rules), persists its
//! state, and only then gives its cosignature back to the server. Identity resets are printed
//! as one JSON line each on stdout; a violation stops the witness with exit code
//! [`EXIT_VIOLATION`].
//!
//! HTTP (all under `{server}/api/v1/keylog`):
//!
//! * `GET checkpoint` — the signed checkpoint note (`text/plain`);
//! * `GET entries?start=N&end=M` — `{"records": ["<base64>", …]}`, at most
//!   [`MAX_ENTRIES_PER_CALL`] records from index `N` (standard base64 with padding);
//! * `POST cosignatures` — `{"note": "<the note with this witness's cosignature>"}`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use ting_trust::checkpoint::peek;
use ting_trust::directory::ed25519_only;
use ting_trust::{Alert, Witness, WitnessSigner};

use crate::error::Error;

/// Exit code of a witness that refused the log.
pub const EXIT_VIOLATION: u8 = 3;
/// Most records the server returns per `entries` call.
pub const MAX_ENTRIES_PER_CALL: u64 = 1000;
/// The default key name of the witness.
pub const DEFAULT_NAME: &str = "ting-witness";

/// Why a round did not end with a cosignature.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// The log broke a rule (rollback, fork, split view, a forbidden or malformed entry, a
    /// bad signature): the witness refuses and stops.
    #[error("refused the key log: {0}")]
    Violation(ting_trust::Error),
    /// The server could not be asked or answered nonsense: try again later.
    #[error("{0}")]
    Unavailable(Error),
    /// The witness's own key or state file is unusable.
    #[error("{0}")]
    Local(String),
}

/// How the witness runs (the command line's options).
#[derive(Debug, Clone)]
pub struct WitnessOptions {
    /// The Ting server's base URL.
    pub server: String,
    /// A PEM root certificate to trust for the server.
    pub ca_pem: Option<Vec<u8>>,
    /// The witness's secret key file (32 bytes; created if missing).
    pub key_file: PathBuf,
    /// The witness's state file.
    pub state_file: PathBuf,
    /// The log's verifier key (needed when there is no state file yet).
    pub log_key: Option<String>,
    /// The witness's key name.
    pub name: String,
    /// Time between rounds.
    pub interval: Duration,
    /// One round, then exit.
    pub once: bool,
}

/// The server's key-log endpoints.
#[derive(Debug, Clone)]
pub struct KeyLogApi {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct EntriesPage {
    records: Vec<String>,
}

#[derive(Serialize)]
struct CosignatureBody<'a> {
    note: &'a str,
}

async fn checked(resp: reqwest::Response) -> Result<reqwest::Response, Error> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    Err(Error::Protocol(format!("HTTP {status}: {body}")))
}

impl KeyLogApi {
    /// The endpoints of the server at `base`, trusting `ca_pem` in addition to the system
    /// roots.
    pub fn new(base: &str, ca_pem: Option<&[u8]>) -> Result<Self, Error> {
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("ting-witness/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60));
        if let Some(pem) = ca_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| Error::Usage(format!("CA certificate: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        Ok(Self {
            http: b.build()?,
            base: format!("{}/api/v1/keylog", base.trim_end_matches('/')),
        })
    }

    /// The newest signed checkpoint.
    pub async fn checkpoint(&self) -> Result<String, Error> {
        let resp = self
            .http
            .get(format!("{}/checkpoint", self.base))
            .send()
            .await?;
        Ok(checked(resp).await?.text().await?)
    }

    /// The records `start..end`, fetched page by page.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, Error> {
        let mut out = Vec::new();
        let mut next = start;
        while next < end {
            let to = end.min(next + MAX_ENTRIES_PER_CALL);
            let resp = self
                .http
                .get(format!("{}/entries?start={next}&end={to}", self.base))
                .send()
                .await?;
            let page: EntriesPage = checked(resp)
                .await?
                .json()
                .await
                .map_err(|e| Error::Protocol(format!("entries: {e}")))?;
            let n = page.records.len() as u64;
            if n == 0 || n > to - next {
                return Err(Error::Protocol(format!(
                    "entries {next}..{to}: {n} records returned"
                )));
            }
            for r in page.records {
                out.push(
                    BASE64
                        .decode(r)
                        .map_err(|_| Error::Protocol("entries: bad base64".into()))?,
                );
            }
            next += n;
        }
        Ok(out)
    }

    /// Gives the cosigned checkpoint to the server.
    pub async fn post_cosignature(&self, note: &str) -> Result<(), Error> {
        let resp = self
            .http
            .post(format!("{}/cosignatures", self.base))
            .json(&CosignatureBody { note })
            .send()
            .await?;
        checked(resp).await.map(|_| ())
    }
}

/// The witness's secret key from `path`, or a new random one written there (mode 0600);
/// `true` if it was created.
pub fn load_or_create_key(path: &Path) -> Result<([u8; 32], bool), RoundError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                RoundError::Local(format!("{}: not a 32-byte witness key", path.display()))
            })?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            write_new_secret(path, &key)
                .map_err(|e| RoundError::Local(format!("{}: {e}", path.display())))?;
            Ok((key, true))
        }
        Err(e) => Err(RoundError::Local(format!("{}: {e}", path.display()))),
    }
}

fn write_new_secret(path: &Path, key: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(key)?;
    f.sync_all()
}

/// The witness saved in `state_file`, or a new one for the log `log_key` (a signed-note
/// verifier key whose name is the log's origin).
pub fn open_witness(
    state_file: &Path,
    signer: WitnessSigner,
    log_key: Option<&str>,
) -> Result<Witness, RoundError> {
    let local =
        |e: &dyn std::fmt::Display| RoundError::Local(format!("{}: {e}", state_file.display()));
    match std::fs::read(state_file) {
        Ok(bytes) => {
            let w = Witness::load(&bytes, signer, ed25519_only).map_err(|e| local(&e))?;
            if let Some(k) = log_key
                && k != w.log_key()
            {
                return Err(RoundError::Local(format!(
                    "--log-key differs from the log key in {} ({})",
                    state_file.display(),
                    w.log_key()
                )));
            }
            Ok(w)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = log_key.ok_or_else(|| {
                RoundError::Local(
                    "no state file yet: pass the log's verifier key with --log-key".into(),
                )
            })?;
            let origin = key.split('+').next().unwrap_or_default();
            Witness::new(origin, key, signer, ed25519_only)
                .map_err(|e| RoundError::Local(e.to_string()))
        }
        Err(e) => Err(local(&e)),
    }
}

/// Writes the state atomically (a temporary file renamed over the old one).
pub fn save_state(witness: &Witness, state_file: &Path) -> Result<(), RoundError> {
    let tmp = state_file.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&witness.save())?;
        f.sync_all()?;
        std::fs::rename(&tmp, state_file)
    };
    write().map_err(|e| RoundError::Local(format!("{}: {e}", state_file.display())))
}

/// What a successful round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundReport {
    /// The log size now witnessed.
    pub size: u64,
    /// How many records this round checked.
    pub new_records: u64,
    /// Identity resets among them.
    pub alerts: Vec<Alert>,
}

/// One round: fetch, check, persist, cosign.
pub async fn run_round(
    api: &KeyLogApi,
    witness: &mut Witness,
    state_file: &Path,
    now_unix: u64,
) -> Result<RoundReport, RoundError> {
    let note = api.checkpoint().await.map_err(RoundError::Unavailable)?;
    // Unverified here (the witness checks the signature): a note that does not even parse is
    // a broken server rather than evidence against the log.
    let (_, size, _) = peek(&note)
        .map_err(|e| RoundError::Unavailable(Error::Protocol(format!("checkpoint: {e}"))))?;
    let start = witness.size();
    let records = if size > start {
        api.entries(start, size)
            .await
            .map_err(RoundError::Unavailable)?
    } else {
        Vec::new()
    };
    let report = witness
        .handle_update(&note, &records, now_unix)
        .map_err(RoundError::Violation)?;
    // What a witness has cosigned must survive a crash before anyone sees the cosignature.
    save_state(witness, state_file)?;
    api.post_cosignature(&report.cosigned_note)
        .await
        .map_err(RoundError::Unavailable)?;
    Ok(RoundReport {
        size,
        new_records: records.len() as u64,
        alerts: report.alerts,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An alert as one JSON line.
pub fn alert_json(alert: &Alert) -> String {
    match alert {
        Alert::IdentityReset {
            user_id,
            index,
            previous,
            master_key,
        } => serde_json::json!({
            "alert": "identity_reset",
            "user_id": user_id,
            "index": index,
            "previous_master_key": previous.map(|k| hex(k.as_bytes())),
            "master_key": hex(master_key.as_bytes()),
        })
        .to_string(),
        other => serde_json::json!({ "alert": format!("{other:?}") }).to_string(),
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs the witness until a violation (exit code [`EXIT_VIOLATION`]), a local failure (1), or
/// after one round with `once` (0, or 1 if the round failed).
pub async fn run(opts: WitnessOptions) -> u8 {
    let setup = || -> Result<(KeyLogApi, Witness), RoundError> {
        let (secret, created) = load_or_create_key(&opts.key_file)?;
        let signer = WitnessSigner::new(&opts.name, &secret)
            .map_err(|e| RoundError::Local(format!("--name: {e}")))?;
        if created {
            eprintln!(
                "created the witness key {}; add this verifier key to the server's \
                 key-transparency witnesses:",
                opts.key_file.display()
            );
            println!("{}", signer.verifier_key());
        }
        let witness = open_witness(&opts.state_file, signer, opts.log_key.as_deref())?;
        let api = KeyLogApi::new(&opts.server, opts.ca_pem.as_deref())
            .map_err(|e| RoundError::Local(e.to_string()))?;
        Ok((api, witness))
    };
    let (api, mut witness) = match setup() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("ting-witness: {e}");
            return 1;
        }
    };
    loop {
        match run_round(&api, &mut witness, &opts.state_file, now_unix()).await {
            Ok(report) => {
                for a in &report.alerts {
                    println!("{}", alert_json(a));
                }
                eprintln!(
                    "ting-witness: cosigned size {} ({} new records)",
                    report.size, report.new_records
                );
                if opts.once {
                    return 0;
                }
            }
            Err(RoundError::Violation(e)) => {
                eprintln!("ting-witness: REFUSED the key log: {e}");
                return EXIT_VIOLATION;
            }
            Err(e @ RoundError::Local(_)) => {
                eprintln!("ting-witness: {e}");
                return 1;
            }
            Err(e @ RoundError::Unavailable(_)) => {
                eprintln!("ting-witness: {e}");
                if opts.once {
                    return 1;
                }
            }
        }
        tokio::time::sleep(opts.interval).await;
    }
}

#[cfg(test)]
mod tests;
