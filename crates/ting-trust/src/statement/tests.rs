use ed25519_dalek::{Signer as _, SigningKey};
use proptest::prelude::*;

use super::*;

fn master(seed: u8) -> MasterKey {
    MasterKey::from_secret(&[seed; 32])
}

fn device(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn cert_for(m: &MasterKey, user: &str, device_id: &[u8], dev: &SigningKey) -> DeviceCertificate {
    let body = UnsignedCertificate {
        user_id: user.into(),
        device_id: device_id.to_vec(),
        device_scheme: SignatureScheme::ED25519,
        device_key: dev.verifying_key().to_bytes().to_vec(),
        master_key: m.public(),
        issued_at_ms: 1_700_000_000_000,
    };
    let ms = body.sign_master(m).unwrap();
    let ds = dev.sign(&body.device_message()).to_bytes().to_vec();
    DeviceCertificate::assemble(body, ms, ds).unwrap()
}

#[test]
fn certificate_round_trips_and_verifies() {
    let c = cert_for(&master(1), "alice", b"dev-1", &device(2));
    c.verify().unwrap();
    let back = DeviceCertificate::decode(&c.encode()).unwrap();
    assert_eq!(back, c);
    back.verify().unwrap();
    let e = Entry::Device(c.clone());
    assert_eq!(Entry::decode(&e.encode()).unwrap(), e);
}

#[test]
fn certificate_signed_by_another_master_is_refused() {
    let alice = master(1);
    let mallory = master(9);
    let mut c = cert_for(&mallory, "alice", b"dev-1", &device(2));
    // Mallory names alice's master key but signs with hers: the master signature fails.
    c.body.master_key = alice.public();
    assert!(matches!(c.verify(), Err(Error::BadSignature { .. })));
    // And the signer refuses to sign a body naming another key.
    assert!(c.body.sign_master(&mallory).is_err());
}

#[test]
fn every_field_is_covered_by_both_signatures() {
    let c = cert_for(&master(1), "alice", b"dev-1", &device(2));
    type Change = Box<dyn Fn(&mut UnsignedCertificate)>;
    let variants: Vec<Change> = vec![
        Box::new(|b| b.user_id = "bob".into()),
        Box::new(|b| b.device_id = b"dev-2".to_vec()),
        Box::new(|b| b.device_key = device(3).verifying_key().to_bytes().to_vec()),
        Box::new(|b| b.issued_at_ms += 1),
        Box::new(|b| b.master_key = master(5).public()),
    ];
    for change in variants {
        let mut bad = c.clone();
        change(&mut bad.body);
        assert!(
            bad.verify().is_err(),
            "a changed field must break a signature"
        );
    }
}

#[test]
fn device_counter_signature_is_required() {
    let m = master(1);
    let dev = device(2);
    let other = device(3);
    let body = UnsignedCertificate {
        user_id: "alice".into(),
        device_id: b"d".to_vec(),
        device_scheme: SignatureScheme::ED25519,
        device_key: dev.verifying_key().to_bytes().to_vec(),
        master_key: m.public(),
        issued_at_ms: 1,
    };
    let ms = body.sign_master(&m).unwrap();
    // Signed by a different device key than the one certified.
    let ds = other.sign(&body.device_message()).to_bytes().to_vec();
    let c = DeviceCertificate::assemble(body, ms, ds).unwrap();
    c.verify_master().unwrap();
    assert!(c.verify().is_err());
}

#[test]
fn labels_separate_statement_kinds() {
    let m = master(1);
    let c = cert_for(&m, "alice", b"dev-1", &device(2));
    // The master's certificate signature over the same bytes does not verify as a revocation
    // or identity statement.
    let tbs = c.body.tbs();
    let sig = c.body.sign_master(&m).unwrap();
    assert!(
        m.public()
            .verify(LABEL_REVOCATION, &tbs, &sig, "x")
            .is_err()
    );
    assert!(m.public().verify(LABEL_IDENTITY, &tbs, &sig, "x").is_err());
    m.public()
        .verify(LABEL_CERT_MASTER, &tbs, &sig, "x")
        .unwrap();
    // The device's counter-signature is not a master signature even if the keys were equal.
    assert_ne!(LABEL_CERT_DEVICE, LABEL_CERT_MASTER);
}

#[test]
fn identity_and_revocation_round_trip_and_detect_tampering() {
    let m = master(1);
    let s = IdentityStatement::sign(&m, IdentityKind::Reset, "alice", 5).unwrap();
    let bytes = s.encode();
    assert_eq!(IdentityStatement::decode(&bytes).unwrap(), s);
    let mut bad = bytes.clone();
    bad[1] = 1; // reset -> genesis
    assert!(IdentityStatement::decode(&bad).is_err());

    let c = cert_for(&m, "alice", b"dev-1", &device(2));
    let r = Revocation::sign(&m, &c.body, 9).unwrap();
    let bytes = r.encode();
    assert_eq!(Revocation::decode(&bytes).unwrap(), r);
    let mut bad = bytes;
    let n = bad.len();
    bad[n - 70] ^= 1; // inside revoked_at
    assert!(Revocation::decode(&bad).is_err());
    assert!(Revocation::sign(&master(2), &c.body, 9).is_err());
}

proptest! {
    #[test]
    fn entry_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Entry::decode(&bytes);
    }

    #[test]
    fn flipping_any_byte_of_a_certificate_is_caught(pos in 0usize..200, bit in 0u8..8) {
        let c = cert_for(&master(1), "alice", b"dev-1", &device(2));
        let mut bytes = c.encode();
        let pos = pos % bytes.len();
        bytes[pos] ^= 1 << bit;
        if let Ok(d) = DeviceCertificate::decode(&bytes) {
            prop_assert!(d.verify().is_err());
        }
    }
}

#[test]
fn summary_reads_the_fields_that_name_the_device() {
    let m = master(1);
    let cert = cert_for(&m, "alice", b"phone", &device(2));
    let s = DeviceCertificate::summary(&cert.encode()).unwrap();
    assert_eq!(s.user_id, "alice");
    assert_eq!(s.device_id, b"phone");
    assert_eq!(s.device_key, cert.body.device_key);
    assert_eq!(&s.master_key, m.public().as_bytes());
    assert!(DeviceCertificate::summary(&cert.encode()[..20]).is_err());
    assert!(
        DeviceCertificate::summary(&[9; 80]).is_err(),
        "unknown version"
    );
}
