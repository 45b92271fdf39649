//! Key transparency through `Router::oneshot`: appending identity statements, device
//! certificates and revocations built with ting-trust, every refusal (changing nothing), proofs
//! and checkpoints that verify, witness cosignatures, events to contacts, certificate
//! credentials in KeyPackages, and a log that rebuilds to the same root after a restart.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{StatusCode, header};
use common::{Harness, b64, kp_with, test_config};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};
use ting_proto::mls_wire::CREDENTIAL_TING_CERTIFICATE;
use ting_proto::mls_wire::build::{Synthetic, key_package_message_with_credential};
use ting_proto::ws::ServerEvent;
use ting_proto::{DeviceId, UserId};
use ting_server::hub::Delivery;
use ting_trust::checkpoint::{self, CheckpointPolicy, WitnessSigner};
use ting_trust::directory::ed25519_only;
use ting_trust::witness::Witness;
use ting_trust::{
    DeviceCertificate, Entry, IdentityKind, IdentityStatement, MasterKey, Revocation,
    SignatureScheme, UnsignedCertificate, verify_consistency, verify_inclusion,
};

const PW: &str = "correct horse battery staple";

struct Dev {
    token: String,
    id: String,
    user_id: String,
    key: SigningKey,
}

async fn dev(h: &Harness, user: &str, seed: u8) -> Dev {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let (token, id) = h.login(user, PW, key.verifying_key().to_bytes()).await;
    let me = h.call("GET", "/api/v1/me", Some(&token), None).await;
    Dev {
        token,
        id,
        user_id: me.body["user"]["id"].as_str().unwrap().to_string(),
        key,
    }
}

fn master(seed: u8) -> MasterKey {
    MasterKey::from_secret(&[seed; 32])
}

fn identity(master: &MasterKey, kind: IdentityKind, user: &str) -> Vec<u8> {
    Entry::Identity(IdentityStatement::sign(master, kind, user, 1).unwrap()).encode()
}

fn body(master: &MasterKey, user: &str, d: &Dev) -> UnsignedCertificate {
    UnsignedCertificate {
        user_id: user.into(),
        device_id: d.id.as_bytes().to_vec(),
        device_scheme: SignatureScheme::ED25519,
        device_key: d.key.verifying_key().to_bytes().to_vec(),
        master_key: master.public(),
        issued_at_ms: 2,
    }
}

/// A certificate of `body`, counter-signed with `device_key`.
fn certificate(
    master: &MasterKey,
    body: UnsignedCertificate,
    device_key: &SigningKey,
) -> DeviceCertificate {
    let master_sig = body.sign_master(master).unwrap();
    let device_sig = device_key.sign(&body.device_message()).to_bytes().to_vec();
    DeviceCertificate::assemble(body, master_sig, device_sig).unwrap()
}

fn cert(master: &MasterKey, user: &str, d: &Dev) -> Vec<u8> {
    Entry::Device(certificate(master, body(master, user, d), &d.key)).encode()
}

fn revocation(master: &MasterKey, user: &str, d: &Dev) -> Vec<u8> {
    Entry::Revocation(Revocation::sign(master, &body(master, user, d), 3).unwrap()).encode()
}

async fn append(h: &Harness, d: &Dev, record: &[u8]) -> common::Resp {
    h.call(
        "POST",
        "/api/v1/keylog",
        Some(&d.token),
        Some(json!({ "record": b64(record) })),
    )
    .await
}

async fn appended(h: &Harness, d: &Dev, record: &[u8]) -> u64 {
    let r = append(h, d, record).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["index"].as_u64().unwrap()
}

async fn size(h: &Harness) -> u64 {
    h.state.store.key_log_size().await.unwrap()
}

async fn checkpoint(h: &Harness) -> String {
    let r = h.call("GET", "/api/v1/keylog/checkpoint", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    r.body.as_str().unwrap().to_string()
}

async fn log_key(h: &Harness) -> (String, String) {
    let r = h.call("GET", "/api/v1/keylog/key", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    (
        r.body["origin"].as_str().unwrap().into(),
        r.body["verifier_key"].as_str().unwrap().into(),
    )
}

fn hashes(v: &Value) -> Vec<[u8; 32]> {
    use base64::Engine as _;
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect()
}

fn unb64(v: &Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

async fn setup() -> (Harness, Dev, Dev, Dev) {
    let h = Harness::new().await;
    for u in ["alice", "bob"] {
        h.user(u, PW).await;
    }
    let phone = dev(&h, "alice", 1).await;
    let laptop = dev(&h, "alice", 2).await;
    let bob = dev(&h, "bob", 3).await;
    (h, phone, laptop, bob)
}

async fn certified(h: &Harness, d: &Dev) -> BTreeMap<String, bool> {
    let r = h.call("GET", "/api/v1/devices", Some(&d.token), None).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["certified"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn identity_certificates_revocation_and_verifiable_proofs() {
    let (h, phone, laptop, _bob) = setup().await;
    let m = master(7);
    let r = append(&h, &phone, &identity(&m, IdentityKind::Genesis, "alice")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body, json!({ "index": 0, "size": 1 }));
    assert_eq!(
        certified(&h, &phone).await,
        BTreeMap::from([(phone.id.clone(), false), (laptop.id.clone(), false)])
    );
    assert_eq!(appended(&h, &phone, &cert(&m, "alice", &phone)).await, 1);
    // The phone (holding the master key) certifies the laptop.
    assert_eq!(appended(&h, &phone, &cert(&m, "alice", &laptop)).await, 2);
    assert_eq!(
        certified(&h, &laptop).await,
        BTreeMap::from([(phone.id.clone(), true), (laptop.id.clone(), true)])
    );
    let me = h.call("GET", "/api/v1/me", Some(&laptop.token), None).await;
    assert_eq!(me.body["device"]["certified"], true);
    let theirs = h
        .call(
            "GET",
            "/api/v1/users/alice/devices",
            Some(&laptop.token),
            None,
        )
        .await;
    assert!(
        theirs.body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["certified"] == true)
    );

    // The log's key, checkpoint and proofs verify with ting-trust alone.
    let (origin, vkey) = log_key(&h).await;
    assert_eq!(origin, "ting/keylog");
    let policy = CheckpointPolicy {
        origin: origin.clone(),
        log_key: vkey.clone(),
        witness_keys: vec![],
        required_witnesses: 0,
        max_age_secs: 0,
    };
    let old = policy.verify(&checkpoint(&h).await, 0).unwrap();
    assert_eq!(old.size, 3);
    let view = h
        .call(
            "GET",
            "/api/v1/keylog/users/Alice",
            Some(&laptop.token),
            None,
        )
        .await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.body);
    assert_eq!(
        (view.body["username"].as_str(), view.body["size"].as_u64()),
        (Some("alice"), Some(3))
    );
    let verified = policy
        .verify(view.body["checkpoint"].as_str().unwrap(), 0)
        .unwrap();
    let records = view.body["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    for (i, r) in records.iter().enumerate() {
        let index = r["index"].as_u64().unwrap();
        assert_eq!(index, i as u64);
        let proof = hashes(&view.body["proofs"][i]);
        verify_inclusion(&unb64(&r["record"]), index, 3, &verified.root, &proof).unwrap();
        let single = h
            .call(
                "GET",
                &format!("/api/v1/keylog/proof/inclusion?index={index}&size=3"),
                Some(&phone.token),
                None,
            )
            .await;
        assert_eq!(hashes(&single.body["proof"]), proof);
    }

    // A revocation ends the laptop's sessions and its certification.
    assert_eq!(
        appended(&h, &phone, &revocation(&m, "alice", &laptop)).await,
        3
    );
    let r = h.call("GET", "/api/v1/me", Some(&laptop.token), None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    assert_eq!(
        certified(&h, &phone).await,
        BTreeMap::from([(phone.id.clone(), true), (laptop.id.clone(), false)])
    );
    let list = h
        .call("GET", "/api/v1/devices", Some(&phone.token), None)
        .await;
    let revoked: Vec<&str> = list.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["revoked_at"].is_i64())
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(revoked, [laptop.id.as_str()]);

    let new = policy.verify(&checkpoint(&h).await, 0).unwrap();
    assert_eq!(new.size, 4);
    let r = h
        .call(
            "GET",
            "/api/v1/keylog/proof/consistency?old=3&new=4",
            Some(&phone.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    verify_consistency(3, &old.root, 4, &new.root, &hashes(&r.body["proof"])).unwrap();

    // Witnesses read the records without an account.
    let r = h
        .call("GET", "/api/v1/keylog/entries?start=1&end=10", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let entries: Vec<Vec<u8>> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(unb64)
        .collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0], cert(&m, "alice", &phone));

    let audit = h.state.store.audit_page(0, 100).await.unwrap();
    let events: Vec<&str> = audit.iter().map(|r| r.record.event.as_str()).collect();
    assert_eq!(
        events.iter().filter(|e| **e == "key_log_appended").count(),
        4
    );
    assert!(events.contains(&"device_revoked"));
    assert!(
        audit.iter().all(|r| !r.record.details.contains("AAAA")),
        "no record content in the audit log"
    );

    // The art. 15/20 export lists the records about the user.
    let alice = h
        .state
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    let export = ting_server::export::collect(h.state.store.as_ref(), &alice, false, 0)
        .await
        .unwrap();
    let exported = export["key_log_records"].as_array().unwrap();
    assert_eq!(exported.len(), 4);
    assert_eq!(exported[3]["kind"], "revocation");
    assert_eq!(exported[3]["device_id"], laptop.id.as_str());
}

#[tokio::test]
async fn refusals_have_stable_codes_and_change_nothing() {
    let (h, phone, laptop, bob) = setup().await;
    let m = master(7);
    let refused = |r: common::Resp, status: StatusCode, code: &str| {
        assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
    };
    refused(
        append(&h, &phone, b"\x01garbage").await,
        StatusCode::BAD_REQUEST,
        "invalid_statement",
    );
    refused(
        append(&h, &phone, &[]).await,
        StatusCode::BAD_REQUEST,
        "invalid_statement",
    );
    let mut forged = identity(&m, IdentityKind::Genesis, "alice");
    *forged.last_mut().unwrap() ^= 1;
    refused(
        append(&h, &phone, &forged).await,
        StatusCode::BAD_REQUEST,
        "invalid_statement",
    );
    refused(
        append(&h, &phone, &identity(&m, IdentityKind::Genesis, "bob")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    refused(
        append(&h, &phone, &cert(&m, "alice", &phone)).await,
        StatusCode::CONFLICT,
        "identity_missing",
    );
    refused(
        append(&h, &phone, &identity(&m, IdentityKind::Reset, "alice")).await,
        StatusCode::CONFLICT,
        "identity_missing",
    );
    assert_eq!(size(&h).await, 0, "nothing appended");

    appended(&h, &phone, &identity(&m, IdentityKind::Genesis, "alice")).await;
    appended(
        &h,
        &bob,
        &identity(&master(8), IdentityKind::Genesis, "bob"),
    )
    .await;
    refused(
        append(
            &h,
            &phone,
            &identity(&master(9), IdentityKind::Genesis, "alice"),
        )
        .await,
        StatusCode::CONFLICT,
        "identity_exists",
    );
    // A certificate naming bob's device, under alice's name.
    let mut other = body(&m, "alice", &phone);
    other.device_id = bob.id.as_bytes().to_vec();
    let r = append(
        &h,
        &phone,
        &Entry::Device(certificate(&m, other, &phone.key)).encode(),
    )
    .await;
    refused(r, StatusCode::BAD_REQUEST, "certificate_mismatch");
    // A certificate whose device key is not the device's registered one.
    let stranger = SigningKey::from_bytes(&[99; 32]);
    let mut wrong_key = body(&m, "alice", &phone);
    wrong_key.device_key = stranger.verifying_key().to_bytes().to_vec();
    let r = append(
        &h,
        &phone,
        &Entry::Device(certificate(&m, wrong_key, &stranger)).encode(),
    )
    .await;
    refused(r, StatusCode::BAD_REQUEST, "certificate_mismatch");
    // A certificate by a master key that is not alice's current one.
    refused(
        append(&h, &phone, &cert(&master(9), "alice", &laptop)).await,
        StatusCode::BAD_REQUEST,
        "certificate_mismatch",
    );
    // A device counter-signature by the wrong key.
    let r = append(
        &h,
        &phone,
        &Entry::Device(certificate(&m, body(&m, "alice", &laptop), &phone.key)).encode(),
    )
    .await;
    refused(r, StatusCode::BAD_REQUEST, "invalid_statement");
    // Revoking a device that was never certified, or bob's device.
    refused(
        append(&h, &phone, &revocation(&m, "alice", &laptop)).await,
        StatusCode::BAD_REQUEST,
        "certificate_mismatch",
    );
    let mut bobs = body(&m, "alice", &bob);
    bobs.user_id = "alice".into();
    let r = append(
        &h,
        &phone,
        &Entry::Revocation(Revocation::sign(&m, &bobs, 3).unwrap()).encode(),
    )
    .await;
    refused(r, StatusCode::BAD_REQUEST, "certificate_mismatch");
    assert_eq!(size(&h).await, 2, "refusals append nothing");
    let me = h.call("GET", "/api/v1/me", Some(&laptop.token), None).await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "a refused revocation revokes nothing"
    );

    // After a reset, only the new master key certifies.
    appended(&h, &phone, &cert(&m, "alice", &phone)).await;
    let m2 = master(10);
    appended(&h, &phone, &identity(&m2, IdentityKind::Reset, "alice")).await;
    assert_eq!(
        certified(&h, &phone).await,
        BTreeMap::from([(phone.id.clone(), false), (laptop.id.clone(), false)]),
        "a reset drops the old certificates"
    );
    refused(
        append(&h, &phone, &cert(&m, "alice", &laptop)).await,
        StatusCode::BAD_REQUEST,
        "certificate_mismatch",
    );
    appended(&h, &phone, &cert(&m2, "alice", &laptop)).await;

    let r = h
        .call(
            "POST",
            "/api/v1/keylog",
            Some(&phone.token),
            Some(json!({ "record": "***" })),
        )
        .await;
    refused(r, StatusCode::BAD_REQUEST, "invalid_json");
    let r = h
        .call(
            "POST",
            "/api/v1/keylog",
            None,
            Some(json!({ "record": "" })),
        )
        .await;
    refused(r, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn ranges_and_proof_parameters_are_checked() {
    let (h, phone, _, _) = setup().await;
    appended(
        &h,
        &phone,
        &identity(&master(7), IdentityKind::Genesis, "alice"),
    )
    .await;
    let t = Some(phone.token.as_str());
    for (uri, token) in [
        ("/api/v1/keylog/entries?start=0&end=1001", None),
        ("/api/v1/keylog/entries?start=5&end=4", None),
        ("/api/v1/keylog/entries?start=x", None),
        ("/api/v1/keylog/entries", None),
        ("/api/v1/keylog/proof/inclusion?index=1&size=1", t),
        ("/api/v1/keylog/proof/inclusion?index=0&size=2", t),
        ("/api/v1/keylog/proof/consistency?old=2&new=1", t),
        ("/api/v1/keylog/proof/consistency?old=0&new=2", t),
        ("/api/v1/keylog/proof/consistency?old=-1&new=1", t),
    ] {
        let r = h.call("GET", uri, token, None).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "{uri}: {:?}",
            r.body
        );
    }
    let r = h
        .call("GET", "/api/v1/keylog/entries?start=0&end=1000", None, None)
        .await;
    assert_eq!(r.body["records"].as_array().unwrap().len(), 1);
    let r = h
        .call(
            "GET",
            "/api/v1/keylog/proof/inclusion?index=0&size=1",
            None,
            None,
        )
        .await;
    assert_eq!(r.code(), "unauthenticated");
    let r = h.call("GET", "/api/v1/keylog/users/nobody", t, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "unknown_user")
    );
    let r = h
        .call("GET", "/api/v1/keylog/users/alice", None, None)
        .await;
    assert_eq!(r.code(), "unauthenticated");
}

#[tokio::test]
async fn witness_cosignatures_are_checked_kept_and_served() {
    let w1 = WitnessSigner::new("witness.example", &[21; 32]).unwrap();
    let w2 = WitnessSigner::new("other.example", &[22; 32]).unwrap();
    let mut config = test_config();
    config.server.public_url = "https://chat.example.org".into();
    config.keylog.witnesses = vec![w1.verifier_key()];
    let h = Harness::with_config(config).await;
    h.user("alice", PW).await;
    let phone = dev(&h, "alice", 1).await;
    appended(
        &h,
        &phone,
        &identity(&master(7), IdentityKind::Genesis, "alice"),
    )
    .await;
    appended(&h, &phone, &cert(&master(7), "alice", &phone)).await;

    let (origin, vkey) = log_key(&h).await;
    assert_eq!(origin, "chat.example.org/keylog");
    let note = checkpoint(&h).await;
    let r = h
        .call("GET", "/api/v1/keylog/entries?start=0&end=2", None, None)
        .await;
    let records: Vec<Vec<u8>> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(unb64)
        .collect();
    let mut witness = Witness::new(
        &origin,
        &vkey,
        WitnessSigner::new("witness.example", &[21; 32]).unwrap(),
        ed25519_only,
    )
    .unwrap();
    let now = 1_700_000_000;
    let cosigned = witness
        .handle_update(&note, &records, now)
        .unwrap()
        .cosigned_note;
    let cosign = |note: String| {
        h.call(
            "POST",
            "/api/v1/keylog/cosignatures",
            None,
            Some(json!({ "note": note })),
        )
    };

    // Refused: an unknown witness, a checkpoint the server never issued, garbage.
    let r = cosign(w2.cosign(&note, now).unwrap()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "unknown_witness"),
        "{:?}",
        r.body
    );
    let forged = ting_trust::LogSigner::new(&origin, &[1; 32])
        .unwrap()
        .sign(2, &[0; 32]);
    let r = cosign(w1.cosign(&forged, now).unwrap()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_cosignature")
    );
    let (_, size, root) = checkpoint::peek(&note).unwrap();
    let other_origin = ting_trust::LogSigner::new("elsewhere/log", &[1; 32])
        .unwrap()
        .sign(size, &root);
    let r = cosign(w1.cosign(&other_origin, now).unwrap()).await;
    assert_eq!(r.code(), "invalid_cosignature");
    let r = cosign("not a note".into()).await;
    assert_eq!(r.code(), "invalid_cosignature");
    assert_eq!(checkpoint(&h).await, note, "nothing kept");

    // Accepted: served with the checkpoint from then on, with only the witness's line.
    let mut junk = cosigned.clone();
    junk.push_str(
        w2.cosign(&note, now)
            .unwrap()
            .rsplit_once("\n\n")
            .unwrap()
            .1
            .lines()
            .last()
            .unwrap(),
    );
    junk.push('\n');
    let r = cosign(junk).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let served = checkpoint(&h).await;
    assert!(
        served.starts_with(&note) && served.contains("\u{2014} witness.example "),
        "{served}"
    );
    assert!(
        !served.contains("other.example"),
        "lines by unconfigured keys are dropped"
    );
    let policy = CheckpointPolicy {
        origin: origin.clone(),
        log_key: vkey.clone(),
        witness_keys: vec![w1.verifier_key()],
        required_witnesses: 1,
        max_age_secs: 60,
    };
    policy.verify(&served, now + 10).unwrap();
    let view = h
        .call(
            "GET",
            "/api/v1/keylog/users/alice",
            Some(&phone.token),
            None,
        )
        .await;
    policy
        .verify(view.body["checkpoint"].as_str().unwrap(), now)
        .unwrap();

    // Kept in the store: a restarted server serves it too, with the same key and root.
    let restarted = h.restart();
    assert_eq!(checkpoint(&restarted).await, served);
    let status = ting_server::keylog::status(restarted.state.store.as_ref())
        .await
        .unwrap();
    assert_eq!((status.size, status.cosignatures, status.resets), (2, 1, 0));
    let live = ting_server::compliance::live(&h.state.config, h.state.store.as_ref(), now as i64)
        .await
        .unwrap();
    let report = ting_server::compliance::render::markdown(
        "report",
        &ting_server::compliance::sections(&live),
    );
    assert!(report.contains("## Key transparency"), "{report}");
    for row in [
        "| Log origin | chat.example.org/keylog |",
        "| Log size (records) | 2 |",
        "| Configured witnesses | 1 |",
        "| Cosignatures on the latest checkpoint | 1 |",
        "| Identity resets in the log | 0 |",
    ] {
        assert!(report.contains(row), "{row} missing from\n{report}");
    }
    assert!(report.contains(&ting_server::audit::hex(&status.root)));

    // A new record: the checkpoint of the new size has no cosignature yet; the witness
    // catches up and cosigns it.
    appended(
        &restarted,
        &phone,
        &identity(&master(8), IdentityKind::Reset, "alice"),
    )
    .await;
    let next = checkpoint(&restarted).await;
    assert!(!next.contains("witness.example"));
    let r = restarted
        .call("GET", "/api/v1/keylog/entries?start=2&end=3", None, None)
        .await;
    let new: Vec<Vec<u8>> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(unb64)
        .collect();
    let report = witness.handle_update(&next, &new, now + 5).unwrap();
    assert_eq!(report.alerts.len(), 1, "the reset is reported");
    let r = restarted
        .call(
            "POST",
            "/api/v1/keylog/cosignatures",
            None,
            Some(json!({ "note": report.cosigned_note })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    policy
        .verify(&checkpoint(&restarted).await, now + 5)
        .unwrap();
    // An older cosignature does not replace the newer one.
    let r = restarted
        .call(
            "POST",
            "/api/v1/keylog/cosignatures",
            None,
            Some(json!({ "note": cosigned })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    policy
        .verify(&checkpoint(&restarted).await, now + 5)
        .unwrap();
}

#[tokio::test]
async fn the_log_rebuilds_after_a_restart_with_the_same_root() {
    let (h, phone, laptop, bob) = setup().await;
    let m = master(7);
    appended(&h, &phone, &identity(&m, IdentityKind::Genesis, "alice")).await;
    appended(
        &h,
        &bob,
        &identity(&master(8), IdentityKind::Genesis, "bob"),
    )
    .await;
    appended(&h, &phone, &cert(&m, "alice", &laptop)).await;
    let before = checkpoint(&h).await;
    let restarted = h.restart();
    assert_eq!(
        checkpoint(&restarted).await,
        before,
        "same key, size and root"
    );
    assert_eq!(
        certified(&restarted, &phone).await,
        BTreeMap::from([(phone.id.clone(), false), (laptop.id.clone(), true)])
    );
    // The restarted server goes on from there, and the first one catches up from the store.
    assert_eq!(
        appended(&restarted, &phone, &cert(&m, "alice", &phone)).await,
        3
    );
    assert_eq!(checkpoint(&h).await, checkpoint(&restarted).await);
    assert_eq!(
        appended(&h, &phone, &revocation(&m, "alice", &laptop)).await,
        4
    );
    assert_eq!(
        certified(&restarted, &phone).await,
        BTreeMap::from([(phone.id.clone(), true), (laptop.id.clone(), false)])
    );
}

#[tokio::test]
async fn concurrent_appends_get_dense_indexes() {
    let h = Arc::new(Harness::new().await);
    let mut devs = Vec::new();
    for i in 0..12u8 {
        let name = format!("user{i}");
        h.user(&name, PW).await;
        devs.push((name.clone(), dev(&h, &name, i + 1).await));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (name, d)) in devs.into_iter().enumerate() {
        let h = Arc::clone(&h);
        tasks.spawn(async move {
            let m = master(100 + i as u8);
            let first = appended(&h, &d, &identity(&m, IdentityKind::Genesis, &name)).await;
            let second = appended(&h, &d, &cert(&m, &name, &d)).await;
            [first, second]
        });
    }
    let mut indexes = Vec::new();
    while let Some(r) = tasks.join_next().await {
        indexes.extend(r.unwrap());
    }
    indexes.sort();
    assert_eq!(indexes, (0..24).collect::<Vec<_>>());
    let (origin, vkey) = log_key(&h).await;
    let policy = CheckpointPolicy {
        origin,
        log_key: vkey,
        witness_keys: vec![],
        required_witnesses: 0,
        max_age_secs: 0,
    };
    let verified = policy.verify(&checkpoint(&h).await, 0).unwrap();
    let records: Vec<Vec<u8>> = h
        .state
        .store
        .key_log_range(0, 24)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.record)
        .collect();
    assert_eq!(
        ting_trust::KeyLog::from_records(&records).root(),
        verified.root
    );
}

#[tokio::test]
async fn appends_are_announced_to_the_user_and_their_contacts() {
    let (h, phone, _laptop, bob) = setup().await;
    h.user("carol", PW).await;
    let carol = dev(&h, "carol", 4).await;
    // Bob shares a room with alice's phone; carol shares none.
    let r = h
        .call(
            "POST",
            "/api/v1/rooms",
            Some(&bob.token),
            Some(json!({"kind": "room"})),
        )
        .await;
    let room = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .call(
            "POST",
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&bob.token),
            Some(json!({"id": ting_proto::MessageId::random().to_string(), "kind": "commit", "epoch": 0,
                "payload": b64(b"commit"), "welcome": b64(b"welcome"), "added_devices": [phone.id]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let listen = |d: &Dev| {
        h.state.hub.register(
            d.user_id.parse::<UserId>().unwrap(),
            d.id.parse::<DeviceId>().unwrap(),
            d.token.as_bytes().to_vec(),
        )
    };
    let (_, mut at_phone) = listen(&phone);
    let (_, mut at_bob) = listen(&bob);
    let (_, mut at_carol) = listen(&carol);
    appended(
        &h,
        &phone,
        &identity(&master(7), IdentityKind::Genesis, "alice"),
    )
    .await;
    let expected = Delivery::Event(ServerEvent::KeyLogAppended {
        username: "alice".into(),
        index: 0,
        kind: ting_proto::api::KeyLogKind::Identity,
    });
    assert_eq!(at_phone.recv().await, Some(expected.clone()));
    assert_eq!(at_bob.recv().await, Some(expected));
    h.state.hub.to_device(
        carol.id.parse().unwrap(),
        Delivery::Event(ServerEvent::Pong),
    );
    assert_eq!(
        at_carol.recv().await,
        Some(Delivery::Event(ServerEvent::Pong)),
        "carol shares no room"
    );
}

async fn upload(h: &Harness, d: &Dev, kp: String) -> common::Resp {
    h.call(
        "POST",
        "/api/v1/key-packages",
        Some(&d.token),
        Some(json!({ "key_packages": [kp] })),
    )
    .await
}

fn kp_with_certificate(d: &Dev, cert: &DeviceCertificate, now: i64) -> String {
    let s = Synthetic {
        cipher_suite: 1,
        signature_key: d.key.verifying_key().to_bytes().to_vec(),
        identity: vec![],
        not_before: (now - 60) as u64,
        not_after: (now + 86_400) as u64,
        last_resort: false,
    };
    b64(&key_package_message_with_credential(
        &s,
        CREDENTIAL_TING_CERTIFICATE,
        &cert.encode(),
    ))
}

#[tokio::test]
async fn key_package_certificates_must_name_the_uploader() {
    let (h, phone, laptop, _) = setup().await;
    let m = master(7);
    let now = h.clock_unix();
    let own = certificate(&m, body(&m, "alice", &phone), &phone.key);
    let r = upload(&h, &phone, kp_with_certificate(&phone, &own, now)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "certificate_mismatch"),
        "no identity in the log yet"
    );
    appended(&h, &phone, &identity(&m, IdentityKind::Genesis, "alice")).await;
    let r = upload(&h, &phone, kp_with_certificate(&phone, &own, now)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    // The laptop presents the phone's certificate (with the laptop's leaf key).
    let r = upload(&h, &laptop, kp_with_certificate(&laptop, &own, now)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "certificate_mismatch")
    );
    // Another user's name.
    let mut bobs = body(&m, "bob", &laptop);
    bobs.user_id = "bob".into();
    let r = upload(
        &h,
        &laptop,
        kp_with_certificate(&laptop, &certificate(&m, bobs, &laptop.key), now),
    )
    .await;
    assert_eq!(r.code(), "certificate_mismatch");
    // A master key that is not alice's current one.
    let m9 = master(9);
    let r = upload(
        &h,
        &laptop,
        kp_with_certificate(
            &laptop,
            &certificate(&m9, body(&m9, "alice", &laptop), &laptop.key),
            now,
        ),
    )
    .await;
    assert_eq!(r.code(), "certificate_mismatch");
    // Not a certificate at all.
    let s = Synthetic {
        cipher_suite: 1,
        signature_key: laptop.key.verifying_key().to_bytes().to_vec(),
        identity: vec![],
        not_before: (now - 60) as u64,
        not_after: (now + 86_400) as u64,
        last_resort: false,
    };
    let r = upload(
        &h,
        &laptop,
        b64(&key_package_message_with_credential(
            &s,
            CREDENTIAL_TING_CERTIFICATE,
            b"junk",
        )),
    )
    .await;
    assert_eq!(r.code(), "certificate_mismatch");
    let r = h
        .call("GET", "/api/v1/key-packages", Some(&laptop.token), None)
        .await;
    assert_eq!(r.body["available"], 0, "nothing stored");
    // A basic credential (no certificate) is refused by default ...
    let basic = kp_with(Synthetic {
        identity: b"alice".to_vec(),
        ..s
    });
    let mut strict = test_config();
    strict.keylog.require_certificates = true;
    assert!(
        ting_server::config::Config::default()
            .keylog
            .require_certificates
    );
    let h2 = Harness::with_config(strict).await;
    h2.user("alice", PW).await;
    let laptop2 = dev(&h2, "alice", 2).await;
    let r = upload(&h2, &laptop2, basic.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "certificate_mismatch"),
        "{:?}",
        r.body
    );
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("basic credential")
    );
    // ... and stored only where the setting is off (the synthetic-package harness).
    assert!(!h.state.config.keylog.require_certificates);
    let r = upload(&h, &laptop, basic).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn unauthenticated_key_log_reads_are_rate_limited() {
    let mut config = test_config();
    config.keylog.public_requests_per_minute = 2;
    let h = Harness::with_config(config).await;
    for _ in 0..2 {
        assert_eq!(
            h.call("GET", "/api/v1/keylog/checkpoint", None, None)
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = h
        .call("GET", "/api/v1/keylog/entries?start=0&end=1", None, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    h.clock.advance(std::time::Duration::from_secs(61));
    assert_eq!(
        h.call("GET", "/api/v1/keylog/checkpoint", None, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_lists_the_key_log_and_link_routes() {
    let h = Harness::new().await;
    let r = h.call("GET", "/api/v1/openapi.json", None, None).await;
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/keylog",
        "/api/v1/keylog/users/{username}",
        "/api/v1/keylog/key",
        "/api/v1/keylog/checkpoint",
        "/api/v1/keylog/entries",
        "/api/v1/keylog/proof/inclusion",
        "/api/v1/keylog/proof/consistency",
        "/api/v1/keylog/cosignatures",
        "/api/v1/link",
        "/api/v1/link/{id}",
        "/api/v1/link/{id}/response",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    let schemas = &r.body["components"]["schemas"];
    for s in ["KeyLogUserResponse", "LinkRequestInfo", "KeyLogKind"] {
        assert!(schemas[s].is_object(), "openapi lacks schema {s}");
    }
}
