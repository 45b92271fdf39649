//! The witness against a real `ting serve`, with the test playing the operator: the witness
//! cosigns an honest log, raises an alert on an identity reset the server publishes, and
//! refuses to cosign once the operator rewrote a record in the database.

mod support;

use ed25519_dalek::{Signer as _, SigningKey};
use support::{PW, Server};
use ting_client::witness::{KeyLogApi, RoundError, open_witness, run_round};
use ting_proto::Base64;
use ting_trust::checkpoint::{CheckpointPolicy, WitnessSigner};
use ting_trust::witness::Alert;
use ting_trust::{
    DeviceCertificate, Entry, IdentityKind, IdentityStatement, MasterKey, SignatureScheme,
    UnsignedCertificate,
};

const WITNESS_SECRET: [u8; 32] = [42; 32];

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Logs in over HTTP with a fresh device key; returns (token, device id, device key).
async fn login(
    http: &reqwest::Client,
    server: &Server,
    user: &str,
    seed: u8,
) -> (String, String, SigningKey) {
    let device = SigningKey::from_bytes(&[seed; 32]);
    let resp: serde_json::Value = http
        .post(format!("{}/api/v1/auth/login", server.url()))
        .json(&serde_json::json!({
            "username": user,
            "password": PW,
            "device_name": format!("device {seed}"),
            "signature_key": Base64(device.verifying_key().to_bytes().to_vec()),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = resp["token"].as_str().expect("token").to_owned();
    let device_id = resp["device"]["id"].as_str().expect("device id").to_owned();
    (token, device_id, device)
}

async fn publish(http: &reqwest::Client, server: &Server, token: &str, entry: &Entry) {
    let resp = http
        .post(format!("{}/api/v1/keylog", server.url()))
        .bearer_auth(token)
        .json(&serde_json::json!({ "record": Base64(entry.encode()) }))
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "append refused: {}",
        resp.text().await.unwrap()
    );
}

fn certificate(master: &MasterKey, user: &str, device_id: &str, device: &SigningKey) -> Entry {
    let body = UnsignedCertificate {
        user_id: user.into(),
        device_id: device_id.as_bytes().to_vec(),
        device_scheme: SignatureScheme::ED25519,
        device_key: device.verifying_key().to_bytes().to_vec(),
        master_key: master.public(),
        issued_at_ms: 1,
    };
    let master_sig = body.sign_master(master).unwrap();
    let device_sig = device.sign(&body.device_message()).to_bytes().to_vec();
    Entry::Device(DeviceCertificate::assemble(body, master_sig, device_sig).unwrap())
}

/// Publishes a master key declaration and the certificate of one device under it.
async fn declare(
    http: &reqwest::Client,
    server: &Server,
    (token, device_id, device): &(String, String, SigningKey),
    master: &MasterKey,
    kind: IdentityKind,
) {
    let statement = IdentityStatement::sign(master, kind, "alice", 1).unwrap();
    publish(http, server, token, &Entry::Identity(statement)).await;
    let cert = certificate(master, "alice", device_id, device);
    publish(http, server, token, &cert).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witness_cosigns_alerts_on_reset_and_refuses_a_rewritten_log() {
    let dir = tempfile::tempdir().unwrap();
    let signer = WitnessSigner::new("customer-witness", &WITNESS_SECRET).unwrap();
    let vkey = signer.verifier_key();
    let env = [("TING_KEYLOG_WITNESSES", vkey.as_str())];
    let data = dir.path().join("data");
    let mut server = Server::start_with_env(&data, 0, None, &env);
    server.create_user("alice");
    let http = reqwest::Client::new();

    // alice's first device declares her identity and certifies itself.
    let first = login(&http, &server, "alice", 1).await;
    let master = MasterKey::from_secret(&[7; 32]);
    declare(&http, &server, &first, &master, IdentityKind::Genesis).await;
    let device_id = first.1.clone();

    // The customer's witness, given the log key out of band.
    let key: serde_json::Value = http
        .get(format!("{}/api/v1/keylog/key", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log_key = key["verifier_key"].as_str().unwrap().to_owned();
    let origin = key["origin"].as_str().unwrap().to_owned();
    let state = dir.path().join("witness.state");
    let mut witness = open_witness(
        &state,
        WitnessSigner::new("customer-witness", &WITNESS_SECRET).unwrap(),
        Some(&log_key),
    )
    .unwrap();
    let api = KeyLogApi::new(&server.url(), None).unwrap();
    let report = run_round(&api, &mut witness, &state, now_unix())
        .await
        .unwrap();
    assert_eq!((report.size, report.new_records), (2, 2));
    assert!(report.alerts.is_empty());

    // Clients that require the witness's cosignature now accept the served checkpoint.
    let policy = CheckpointPolicy {
        origin: origin.clone(),
        log_key: log_key.clone(),
        witness_keys: vec![vkey.clone()],
        required_witnesses: 1,
        max_age_secs: 3600,
    };
    let checkpoint = api.checkpoint().await.unwrap();
    let verified = policy.verify(&checkpoint, now_unix()).unwrap();
    assert_eq!(verified.size, 2);

    // The operator resets alice's identity (a new master key of its own) and certifies a
    // device of its own: legal in the log, but the witness alerts on it.
    let evil = login(&http, &server, "alice", 9).await;
    let evil_master = MasterKey::from_secret(&[66; 32]);
    declare(&http, &server, &evil, &evil_master, IdentityKind::Reset).await;
    let evil_device = evil.2.clone();
    let report = run_round(&api, &mut witness, &state, now_unix())
        .await
        .unwrap();
    assert_eq!(report.size, 4);
    assert!(
        matches!(report.alerts.as_slice(), [Alert::IdentityReset { user_id, index: 2, .. }] if user_id == "alice"),
        "{:?}",
        report.alerts
    );

    // The operator now rewrites history in the database: alice's original certificate is
    // replaced by one for the operator's device (dropping the append-only triggers first),
    // and the server restarts and signs the rewritten log.
    server.kill9();
    {
        use sqlx::ConnectOptions as _;
        let url = format!("sqlite://{}", data.join("ting.db").display());
        let mut db = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .connect()
            .await
            .unwrap();
        sqlx::query("DROP TRIGGER key_log_no_update")
            .execute(&mut db)
            .await
            .unwrap();
        // Without alice's master key the operator can only use its own.
        let forged = certificate(&evil_master, "alice", &device_id, &evil_device);
        sqlx::query("UPDATE key_log SET record = ? WHERE idx = 1")
            .bind(forged.encode())
            .execute(&mut db)
            .await
            .unwrap();
    }
    let server = Server::start_with_env(&data, server.port, None, &env);
    let before = std::fs::read(&state).unwrap();
    let err = run_round(&api, &mut witness, &state, now_unix())
        .await
        .unwrap_err();
    assert!(matches!(err, RoundError::Violation(_)), "{err}");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "the witness state is unchanged"
    );
    // Clients that require the witness see no fresh cosignature on the rewritten log.
    let checkpoint = api.checkpoint().await.unwrap();
    assert!(policy.verify(&checkpoint, now_unix()).is_err());
    drop(server);
}
