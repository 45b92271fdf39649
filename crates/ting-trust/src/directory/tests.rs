use ed25519_dalek::{Signer as _, SigningKey};

use super::*;
use crate::keys::MasterKey;
use crate::statement::{IdentityStatement, UnsignedCertificate};

fn master(seed: u8) -> MasterKey {
    MasterKey::from_secret(&[seed; 32])
}

fn device(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn identity(m: &MasterKey, kind: IdentityKind, user: &str) -> Entry {
    Entry::Identity(IdentityStatement::sign(m, kind, user, 1).unwrap())
}

fn cert(m: &MasterKey, user: &str, device_id: &[u8], dev: &SigningKey) -> DeviceCertificate {
    let body = UnsignedCertificate {
        user_id: user.into(),
        device_id: device_id.to_vec(),
        device_scheme: SignatureScheme::ED25519,
        device_key: dev.verifying_key().to_bytes().to_vec(),
        master_key: m.public(),
        issued_at_ms: 2,
    };
    let ms = body.sign_master(m).unwrap();
    let ds = dev.sign(&body.device_message()).to_bytes().to_vec();
    DeviceCertificate::assemble(body, ms, ds).unwrap()
}

fn revoke(m: &MasterKey, c: &DeviceCertificate) -> Entry {
    Entry::Revocation(Revocation::sign(m, &c.body, 3).unwrap())
}

fn apply(d: &mut Directory, e: &Entry) -> Result<Applied> {
    d.apply(e, ed25519_only)
}

fn refused(r: Result<Applied>) -> bool {
    matches!(r, Err(Error::Refused { .. }))
}

#[test]
fn genesis_devices_and_revocation() {
    let (m, dev) = (master(1), device(2));
    let mut d = Directory::new();
    assert_eq!(
        apply(&mut d, &identity(&m, IdentityKind::Genesis, "alice")).unwrap(),
        Applied::Genesis
    );
    let c = cert(&m, "alice", b"laptop", &dev);
    let key = c.body.device_key.clone();
    assert_eq!(
        apply(&mut d, &Entry::Device(c.clone())).unwrap(),
        Applied::DeviceCertified
    );
    let alice = d.user("alice").unwrap();
    assert_eq!(alice.master_key, Some(m.public()));
    assert!(alice.is_device_valid(b"laptop", &key));
    assert!(!alice.is_device_valid(b"laptop", &[0; 32]));
    assert!(!alice.is_device_valid(b"phone", &key));
    // A renewal (same id, same key) is fine.
    assert_eq!(
        apply(&mut d, &Entry::Device(c.clone())).unwrap(),
        Applied::DeviceCertified
    );
    assert_eq!(
        apply(&mut d, &revoke(&m, &c)).unwrap(),
        Applied::DeviceRevoked
    );
    let alice = d.user("alice").unwrap();
    assert!(!alice.is_device_valid(b"laptop", &key));
    assert!(alice.revoked.contains_key(b"laptop".as_slice()));
    assert_eq!(d.len(), 1);
    assert!(d.user("bob").is_none());
}

#[test]
fn second_genesis_is_refused() {
    let mut d = Directory::new();
    apply(
        &mut d,
        &identity(&master(1), IdentityKind::Genesis, "alice"),
    )
    .unwrap();
    let before = d.clone();
    assert!(refused(apply(
        &mut d,
        &identity(&master(2), IdentityKind::Genesis, "alice")
    )));
    assert!(refused(apply(
        &mut d,
        &identity(&master(1), IdentityKind::Genesis, "alice")
    )));
    assert_eq!(d, before);
    // Other users are independent.
    apply(&mut d, &identity(&master(2), IdentityKind::Genesis, "bob")).unwrap();
}

#[test]
fn device_by_another_master_is_refused() {
    let (alice, mallory) = (master(1), master(9));
    let mut d = Directory::new();
    // Before any genesis, no device can be certified.
    let c = cert(&alice, "alice", b"laptop", &device(2));
    assert!(refused(apply(&mut d, &Entry::Device(c.clone()))));
    apply(&mut d, &identity(&alice, IdentityKind::Genesis, "alice")).unwrap();
    // Mallory's own (valid) signature on a certificate for alice.
    let forged = cert(&mallory, "alice", b"evil", &device(3));
    assert!(refused(apply(&mut d, &Entry::Device(forged))));
    assert!(d.user("alice").unwrap().devices.is_empty());
}

#[test]
fn bad_signatures_are_refused() {
    let m = master(1);
    let mut d = Directory::new();
    apply(&mut d, &identity(&m, IdentityKind::Genesis, "alice")).unwrap();
    // The device did not counter-sign its own key.
    let body = UnsignedCertificate {
        user_id: "alice".into(),
        device_id: b"laptop".to_vec(),
        device_scheme: SignatureScheme::ED25519,
        device_key: device(2).verifying_key().to_bytes().to_vec(),
        master_key: m.public(),
        issued_at_ms: 2,
    };
    let ms = body.sign_master(&m).unwrap();
    let ds = device(3).sign(&body.device_message()).to_bytes().to_vec();
    let c = DeviceCertificate::assemble(body.clone(), ms, ds).unwrap();
    assert!(matches!(
        apply(&mut d, &Entry::Device(c)),
        Err(Error::BadSignature { .. })
    ));
    // A P-256 device key is checked by the caller's verifier.
    let mut p256 = body;
    p256.device_scheme = SignatureScheme::ECDSA_P256_SHA256;
    p256.device_key = vec![4; 65];
    let ms = p256.sign_master(&m).unwrap();
    let c = DeviceCertificate::assemble(p256, ms, vec![9; 70]).unwrap();
    assert!(apply(&mut d, &Entry::Device(c.clone())).is_err());
    let ok = d
        .apply(&Entry::Device(c), |scheme, _, key, sig| {
            scheme == SignatureScheme::ECDSA_P256_SHA256 && key == [4; 65] && sig == [9; 70]
        })
        .unwrap();
    assert_eq!(ok, Applied::DeviceCertified);
}

#[test]
fn revocation_of_unknown_device_is_refused() {
    let m = master(1);
    let mut d = Directory::new();
    apply(&mut d, &identity(&m, IdentityKind::Genesis, "alice")).unwrap();
    let c = cert(&m, "alice", b"laptop", &device(2));
    // Never certified.
    assert!(refused(apply(&mut d, &revoke(&m, &c))));
    apply(&mut d, &Entry::Device(c.clone())).unwrap();
    // Same id, other key.
    let other = cert(&m, "alice", b"laptop", &device(3));
    assert!(refused(apply(&mut d, &revoke(&m, &other))));
    // By another master key.
    let mallory = master(9);
    let mut c_by_mallory = c.body.clone();
    c_by_mallory.master_key = mallory.public();
    let r = Entry::Revocation(Revocation::sign(&mallory, &c_by_mallory, 3).unwrap());
    assert!(refused(apply(&mut d, &r)));
    assert!(
        d.user("alice")
            .unwrap()
            .is_device_valid(b"laptop", &c.body.device_key)
    );
    // Revoked once; not twice.
    apply(&mut d, &revoke(&m, &c)).unwrap();
    assert!(refused(apply(&mut d, &revoke(&m, &c))));
}

#[test]
fn revoked_ids_and_keys_are_never_reused_and_keys_are_per_device() {
    let m = master(1);
    let mut d = Directory::new();
    apply(&mut d, &identity(&m, IdentityKind::Genesis, "alice")).unwrap();
    let c = cert(&m, "alice", b"laptop", &device(2));
    apply(&mut d, &Entry::Device(c.clone())).unwrap();
    // Another key for a certified id, or the same key for another id.
    assert!(refused(apply(
        &mut d,
        &Entry::Device(cert(&m, "alice", b"laptop", &device(3)))
    )));
    assert!(refused(apply(
        &mut d,
        &Entry::Device(cert(&m, "alice", b"phone", &device(2)))
    )));
    apply(&mut d, &revoke(&m, &c)).unwrap();
    assert!(refused(apply(&mut d, &Entry::Device(c))));
    assert!(refused(apply(
        &mut d,
        &Entry::Device(cert(&m, "alice", b"laptop", &device(4)))
    )));
    assert!(refused(apply(
        &mut d,
        &Entry::Device(cert(&m, "alice", b"tablet", &device(2)))
    )));
    apply(
        &mut d,
        &Entry::Device(cert(&m, "alice", b"tablet", &device(4))),
    )
    .unwrap();
}

#[test]
fn reset_replaces_the_master_key_and_drops_devices() {
    let (old, new) = (master(1), master(2));
    let mut d = Directory::new();
    apply(&mut d, &identity(&old, IdentityKind::Genesis, "alice")).unwrap();
    let c = cert(&old, "alice", b"laptop", &device(2));
    apply(&mut d, &Entry::Device(c.clone())).unwrap();
    let revoked = cert(&old, "alice", b"old-phone", &device(5));
    apply(&mut d, &Entry::Device(revoked.clone())).unwrap();
    apply(&mut d, &revoke(&old, &revoked)).unwrap();

    let applied = apply(&mut d, &identity(&new, IdentityKind::Reset, "alice")).unwrap();
    assert_eq!(
        applied,
        Applied::Reset {
            previous: Some(old.public())
        }
    );
    let alice = d.user("alice").unwrap();
    assert_eq!(alice.master_key, Some(new.public()));
    assert_eq!(alice.resets, 1);
    assert!(alice.devices.is_empty());
    assert_eq!(alice.revoked.len(), 1);
    // The old key can no longer certify or revoke; the new one can.
    assert!(refused(apply(
        &mut d,
        &Entry::Device(cert(&old, "alice", b"x", &device(6)))
    )));
    assert!(refused(apply(&mut d, &revoke(&old, &c))));
    apply(
        &mut d,
        &Entry::Device(cert(&new, "alice", b"laptop", &device(7))),
    )
    .unwrap();
    // A revoked device stays revoked after the reset.
    assert!(refused(apply(
        &mut d,
        &Entry::Device(cert(&new, "alice", b"old-phone", &device(8)))
    )));
    // A reset to the same key is refused; a reset of an unknown user is a (reported) start.
    assert!(refused(apply(
        &mut d,
        &identity(&new, IdentityKind::Reset, "alice")
    )));
    assert_eq!(
        apply(&mut d, &identity(&master(3), IdentityKind::Reset, "carol")).unwrap(),
        Applied::Reset { previous: None }
    );
}

#[test]
fn batches_apply_all_or_nothing() {
    let m = master(1);
    let c1 = cert(&m, "alice", b"laptop", &device(2));
    let records = [
        identity(&m, IdentityKind::Genesis, "alice").encode(),
        Entry::Device(c1.clone()).encode(),
        revoke(&m, &c1).encode(),
    ];
    let mut d = Directory::new();
    let bad = [records[0].clone(), records[2].clone()];
    match d.apply_batch(10, &bad, ed25519_only) {
        Err(Error::LogEntry { index, reason }) => {
            assert_eq!(index, 11);
            assert!(matches!(*reason, Error::Refused { .. }));
        }
        other => panic!("expected a refused entry, got {other:?}"),
    }
    assert!(d.is_empty());
    let garbage = [records[0].clone(), vec![9, 9, 9]];
    assert!(matches!(
        d.apply_batch(0, &garbage, ed25519_only),
        Err(Error::LogEntry { index: 1, .. })
    ));
    assert!(d.is_empty());
    let applied = d.apply_batch(0, &records, ed25519_only).unwrap();
    let kinds: Vec<_> = applied.iter().map(|(i, _, a)| (*i, a.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (0, Applied::Genesis),
            (1, Applied::DeviceCertified),
            (2, Applied::DeviceRevoked)
        ]
    );
    assert!(d.user("alice").unwrap().devices.is_empty());
}
