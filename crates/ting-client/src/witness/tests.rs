//! The witness loop against a stub of the server's key-log endpoints (plain HTTP/1.1 on a
//! loopback socket; the real endpoints are exercised by the server's own tests).

use std::sync::{Arc, Mutex};

use ting_trust::checkpoint::LogSigner;
use ting_trust::{CheckpointPolicy, Entry, IdentityKind, IdentityStatement, KeyLog, MasterKey};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

const ORIGIN: &str = "ting.example.org/keylog";

/// What the stub serves: a signed checkpoint and records; what it received: cosignatures.
#[derive(Default)]
struct Stub {
    note: String,
    records: Vec<Vec<u8>>,
    cosigned: Vec<String>,
    entry_calls: Vec<(u64, u64)>,
}

fn identity(seed: u64, kind: IdentityKind, user: &str) -> Vec<u8> {
    let mut s = [7u8; 32];
    s[..8].copy_from_slice(&seed.to_be_bytes());
    let m = MasterKey::from_secret(&s);
    Entry::Identity(IdentityStatement::sign(&m, kind, user, 0).unwrap()).encode()
}

fn publish(stub: &Mutex<Stub>, signer: &LogSigner, records: Vec<Vec<u8>>) {
    let log = KeyLog::from_records(&records);
    let mut s = stub.lock().unwrap();
    s.note = signer.sign(log.size(), &log.root());
    s.records = records;
}

fn query(path: &str, key: &str) -> u64 {
    let q = path.split_once('?').map(|(_, q)| q).unwrap_or("");
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn serve(listener: TcpListener, stub: Arc<Mutex<Stub>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let stub = stub.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < head_end + length {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = &buf[head_end..head_end + length];
            let mut words = head.split_whitespace();
            let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let (status, ctype, out) = {
                let mut s = stub.lock().unwrap();
                match (method, path.split('?').next().unwrap_or("")) {
                    ("GET", "/api/v1/keylog/checkpoint") => {
                        ("200 OK", "text/plain", s.note.clone())
                    }
                    ("GET", "/api/v1/keylog/entries") => {
                        let start = query(path, "start");
                        let end = query(path, "end")
                            .min(start + MAX_ENTRIES_PER_CALL)
                            .min(s.records.len() as u64);
                        s.entry_calls.push((start, end));
                        let records: Vec<String> = s.records[start as usize..end as usize]
                            .iter()
                            .map(|r| BASE64.encode(r))
                            .collect();
                        let json = serde_json::json!({ "records": records }).to_string();
                        ("200 OK", "application/json", json)
                    }
                    ("POST", "/api/v1/keylog/cosignatures") => {
                        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
                        s.cosigned.push(v["note"].as_str().unwrap().to_owned());
                        ("204 No Content", "text/plain", String::new())
                    }
                    _ => ("404 Not Found", "text/plain", String::new()),
                }
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{out}",
                out.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

async fn stub_server() -> (String, Arc<Mutex<Stub>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stub = Arc::new(Mutex::new(Stub::default()));
    tokio::spawn(serve(listener, stub.clone()));
    (url, stub)
}

fn signer() -> WitnessSigner {
    WitnessSigner::new(DEFAULT_NAME, &[3; 32]).unwrap()
}

#[test]
fn key_is_created_once_with_owner_only_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("witness.key");
    let (k1, created) = load_or_create_key(&path).unwrap();
    assert!(created);
    assert_eq!(std::fs::read(&path).unwrap(), k1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (k2, created) = load_or_create_key(&path).unwrap();
    assert!(!created);
    assert_eq!(k1, k2);
    std::fs::write(&path, b"short").unwrap();
    assert!(load_or_create_key(&path).is_err());
}

#[test]
fn first_run_needs_the_log_key() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    assert!(matches!(
        open_witness(&state, signer(), None),
        Err(RoundError::Local(_))
    ));
    let log = LogSigner::new(ORIGIN, &[1; 32]).unwrap();
    let w = open_witness(&state, signer(), Some(&log.verifier_key())).unwrap();
    assert_eq!(w.origin(), ORIGIN);
}

#[test]
fn alerts_are_json_lines() {
    let m = MasterKey::from_secret(&[1; 32]).public();
    let line = alert_json(&Alert::IdentityReset {
        user_id: "alice".into(),
        index: 7,
        previous: None,
        master_key: m,
    });
    assert!(!line.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["alert"], "identity_reset");
    assert_eq!(v["user_id"], "alice");
    assert_eq!(v["index"], 7);
    assert!(v["previous_master_key"].is_null());
    assert_eq!(v["master_key"], m.to_hex());
}

#[tokio::test]
async fn rounds_against_a_stub_server() {
    let (url, stub) = stub_server().await;
    let log_signer = LogSigner::new(ORIGIN, &[1; 32]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let api = KeyLogApi::new(&url, None).unwrap();
    let mut witness = open_witness(&state, signer(), Some(&log_signer.verifier_key())).unwrap();
    let policy = CheckpointPolicy {
        origin: ORIGIN.into(),
        log_key: log_signer.verifier_key(),
        witness_keys: vec![witness.verifier_key()],
        required_witnesses: 1,
        max_age_secs: 60,
    };

    // 1500 users: two pages of entries.
    let mut records: Vec<Vec<u8>> = (0..1500u64)
        .map(|i| identity(i, IdentityKind::Genesis, &format!("user{i}")))
        .collect();
    publish(&stub, &log_signer, records.clone());
    let r = run_round(&api, &mut witness, &state, 1_000).await.unwrap();
    assert_eq!((r.size, r.new_records), (1500, 1500));
    assert!(r.alerts.is_empty());
    {
        let s = stub.lock().unwrap();
        assert_eq!(s.entry_calls, vec![(0, 1000), (1000, 1500)]);
        let v = policy.verify(s.cosigned.last().unwrap(), 1_001).unwrap();
        assert_eq!(v.size, 1500);
    }

    // A reset: reported, and fetched from where the witness stopped.
    records.push(identity(9_999, IdentityKind::Reset, "user3"));
    publish(&stub, &log_signer, records.clone());
    let r = run_round(&api, &mut witness, &state, 2_000).await.unwrap();
    assert_eq!(r.new_records, 1);
    assert!(
        matches!(&r.alerts[..], [Alert::IdentityReset { user_id, index: 1500, .. }]
            if user_id == "user3")
    );
    assert_eq!(stub.lock().unwrap().entry_calls.last(), Some(&(1500, 1501)));

    // The state was persisted: a restarted witness carries on.
    let saved = std::fs::read(&state).unwrap();
    let mut restarted = open_witness(&state, signer(), None).unwrap();
    assert_eq!(restarted.size(), 1501);

    // A fork of the log (another record 1500 at the same size) is refused, and the state
    // file is left alone.
    let mut forked = records.clone();
    forked[1500] = identity(8_888, IdentityKind::Reset, "user3");
    publish(&stub, &log_signer, forked);
    let err = run_round(&api, &mut restarted, &state, 3_000)
        .await
        .unwrap_err();
    assert!(matches!(err, RoundError::Violation(_)), "{err}");
    assert!(err.to_string().contains("fork"), "{err}");
    assert_eq!(std::fs::read(&state).unwrap(), saved);

    // A forbidden entry (a second genesis for a user) is refused naming its index.
    records.push(identity(7_777, IdentityKind::Genesis, "user5"));
    publish(&stub, &log_signer, records);
    let err = run_round(&api, &mut restarted, &state, 3_000)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("log entry 1501"), "{err}");
    assert_eq!(std::fs::read(&state).unwrap(), saved);

    // A server that is down is not a violation.
    let gone = KeyLogApi::new("http://127.0.0.1:1", None).unwrap();
    assert!(matches!(
        run_round(&gone, &mut restarted, &state, 3_000).await,
        Err(RoundError::Unavailable(_))
    ));
}
