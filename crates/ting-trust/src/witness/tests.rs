use ed25519_dalek::{Signer as _, SigningKey};

use super::*;
use crate::checkpoint::LogSigner;
use crate::directory::ed25519_only;
use crate::keys::{MasterKey, SignatureScheme};
use crate::statement::{
    DeviceCertificate, Entry, IdentityKind, IdentityStatement, Revocation, UnsignedCertificate,
};

const ORIGIN: &str = "ting.example.org/keylog";
const NOW: u64 = 1_700_000_000;

/// The honest server's side: the log, its records and its signer.
struct Server {
    signer: LogSigner,
    log: KeyLog,
    records: Vec<Vec<u8>>,
}

impl Server {
    fn new() -> Self {
        Self {
            signer: LogSigner::new(ORIGIN, &[1; 32]).unwrap(),
            log: KeyLog::new(),
            records: Vec::new(),
        }
    }

    fn append(&mut self, e: &Entry) {
        self.append_raw(e.encode());
    }

    fn append_raw(&mut self, record: Vec<u8>) {
        self.log.append(&record);
        self.records.push(record);
    }

    fn note(&self) -> String {
        self.signer.sign(self.log.size(), &self.log.root())
    }

    fn since(&self, from: u64) -> Vec<Vec<u8>> {
        self.records[from as usize..].to_vec()
    }
}

fn witness_signer() -> WitnessSigner {
    WitnessSigner::new("witness.example.com", &[2; 32]).unwrap()
}

fn witness(server: &Server) -> Witness {
    Witness::new(
        ORIGIN,
        &server.signer.verifier_key(),
        witness_signer(),
        ed25519_only,
    )
    .unwrap()
}

fn master(seed: u8) -> MasterKey {
    MasterKey::from_secret(&[seed; 32])
}

fn identity(m: &MasterKey, kind: IdentityKind, user: &str) -> Entry {
    Entry::Identity(IdentityStatement::sign(m, kind, user, 1).unwrap())
}

fn cert(m: &MasterKey, user: &str, device_id: &[u8], dev_seed: u8) -> DeviceCertificate {
    let dev = SigningKey::from_bytes(&[dev_seed; 32]);
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

/// Asks the witness to cosign the server's current checkpoint.
fn update(w: &mut Witness, s: &Server, now: u64) -> Result<WitnessReport> {
    w.handle_update(&s.note(), &s.since(w.size()), now)
}

/// Runs `f`, expects it to fail, and checks the witness is exactly as before.
fn refused_without_change(
    w: &mut Witness,
    f: impl FnOnce(&mut Witness) -> Result<WitnessReport>,
) -> Error {
    let before = (w.save(), w.directory().clone(), w.root());
    let err = f(w).expect_err("the witness must refuse");
    assert_eq!((w.save(), w.directory().clone(), w.root()), before);
    err
}

fn alice_with_a_laptop(s: &mut Server) -> MasterKey {
    let m = master(10);
    s.append(&identity(&m, IdentityKind::Genesis, "alice"));
    s.append(&Entry::Device(cert(&m, "alice", b"laptop", 11)));
    m
}

#[test]
fn honest_log_is_cosigned_round_after_round() {
    let mut s = Server::new();
    let mut w = witness(&s);
    // The empty log.
    let r = update(&mut w, &s, NOW).unwrap();
    assert!(r.alerts.is_empty());
    let m = alice_with_a_laptop(&mut s);
    let r = update(&mut w, &s, NOW + 1).unwrap();
    assert_eq!(w.size(), 2);
    assert!(
        w.directory()
            .user("alice")
            .unwrap()
            .devices
            .contains_key(b"laptop".as_slice())
    );
    // The cosignature is one a client accepts.
    let policy = CheckpointPolicy {
        origin: ORIGIN.into(),
        log_key: s.signer.verifier_key(),
        witness_keys: vec![w.verifier_key()],
        required_witnesses: 1,
        max_age_secs: 60,
    };
    let v = policy.verify(&r.cosigned_note, NOW + 2).unwrap();
    assert_eq!((v.size, v.root), (2, s.log.root()));
    assert_eq!(w.last_note(), Some(r.cosigned_note.as_str()));
    // Nothing new: cosigned again with a fresh timestamp.
    let again = update(&mut w, &s, NOW + 100).unwrap();
    assert_eq!(
        policy
            .verify(&again.cosigned_note, NOW + 150)
            .unwrap()
            .witnesses[0]
            .1,
        NOW + 100
    );
    // More records, including a revocation.
    let c = cert(&m, "alice", b"phone", 12);
    s.append(&Entry::Device(c.clone()));
    s.append(&Entry::Revocation(
        Revocation::sign(&m, &c.body, 3).unwrap(),
    ));
    update(&mut w, &s, NOW + 200).unwrap();
    assert_eq!(w.size(), 4);
    assert!(
        !w.directory()
            .user("alice")
            .unwrap()
            .is_device_valid(b"phone", &c.body.device_key)
    );
}

#[test]
fn reset_is_reported_as_an_alert() {
    let mut s = Server::new();
    let mut w = witness(&s);
    let old = alice_with_a_laptop(&mut s);
    update(&mut w, &s, NOW).unwrap();
    let new = master(20);
    s.append(&identity(&master(30), IdentityKind::Genesis, "bob"));
    s.append(&identity(&new, IdentityKind::Reset, "alice"));
    let r = update(&mut w, &s, NOW + 1).unwrap();
    assert_eq!(
        r.alerts,
        vec![Alert::IdentityReset {
            user_id: "alice".into(),
            index: 3,
            previous: Some(old.public()),
            master_key: new.public(),
        }]
    );
    let alice = w.directory().user("alice").unwrap();
    assert_eq!((alice.resets, alice.devices.len()), (1, 0));
}

#[test]
fn split_view_is_refused() {
    let mut s = Server::new();
    let mut w = witness(&s);
    alice_with_a_laptop(&mut s);
    update(&mut w, &s, NOW).unwrap();
    // The log signs a tree with mallory's device for alice in it (what it shows alice's
    // contacts) but gives the witness the honest records.
    let mut evil = Server::new();
    evil.records = s.records.clone();
    evil.log = KeyLog::from_records(&evil.records);
    evil.append(&identity(&master(40), IdentityKind::Genesis, "mallory"));
    s.append(&identity(&master(41), IdentityKind::Genesis, "bob"));
    let err = refused_without_change(&mut w, |w| {
        w.handle_update(&evil.note(), &s.since(2), NOW + 1)
    });
    assert!(err.to_string().contains("split view"), "{err}");
    // The log rewrote an earlier record and recomputed the tree.
    let mut rewritten = Server::new();
    rewritten.append(&identity(&master(10), IdentityKind::Genesis, "alice"));
    rewritten.append(&Entry::Device(cert(&master(10), "alice", b"laptop", 99)));
    rewritten.append(&identity(&master(41), IdentityKind::Genesis, "bob"));
    let err = refused_without_change(&mut w, |w| update(w, &rewritten, NOW + 1));
    assert!(err.to_string().contains("split view"), "{err}");
    // The honest view goes through.
    update(&mut w, &s, NOW + 2).unwrap();
}

#[test]
fn rollback_and_fork_are_refused() {
    let mut s = Server::new();
    let mut w = witness(&s);
    alice_with_a_laptop(&mut s);
    s.append(&identity(&master(41), IdentityKind::Genesis, "bob"));
    update(&mut w, &s, NOW).unwrap();
    // An older checkpoint of the same log.
    let old_note = s.signer.sign(2, &s.log.root_at(2).unwrap());
    let err = refused_without_change(&mut w, |w| w.handle_update(&old_note, &[], NOW + 1));
    assert!(err.to_string().contains("rollback"), "{err}");
    // Same size, another root.
    let mut fork = Server::new();
    alice_with_a_laptop(&mut fork);
    fork.append(&identity(&master(42), IdentityKind::Genesis, "bob"));
    let err = refused_without_change(&mut w, |w| w.handle_update(&fork.note(), &[], NOW + 1));
    assert!(err.to_string().contains("fork"), "{err}");
    // Records the checkpoint does not cover, or too few.
    let extra = vec![identity(&master(43), IdentityKind::Genesis, "carol").encode()];
    refused_without_change(&mut w, |w| w.handle_update(&s.note(), &extra, NOW + 1));
    s.append(&identity(&master(43), IdentityKind::Genesis, "carol"));
    s.append(&identity(&master(44), IdentityKind::Genesis, "dave"));
    let one = s.since(3)[..1].to_vec();
    refused_without_change(&mut w, |w| w.handle_update(&s.note(), &one, NOW + 1));
    update(&mut w, &s, NOW + 2).unwrap();
}

#[test]
fn checkpoint_not_signed_by_the_log_is_refused() {
    let mut s = Server::new();
    let mut w = witness(&s);
    alice_with_a_laptop(&mut s);
    let impostor = LogSigner::new(ORIGIN, &[66; 32]).unwrap();
    let note = impostor.sign(s.log.size(), &s.log.root());
    let err = refused_without_change(&mut w, |w| w.handle_update(&note, &s.since(0), NOW));
    assert!(matches!(err, Error::BadSignature { .. }));
    let other_origin = LogSigner::new("other.example.org/keylog", &[1; 32]).unwrap();
    let note = other_origin.sign(s.log.size(), &s.log.root());
    refused_without_change(&mut w, |w| w.handle_update(&note, &s.since(0), NOW));
}

#[test]
fn device_signed_by_a_non_current_master_is_refused() {
    let mut s = Server::new();
    let mut w = witness(&s);
    let old = alice_with_a_laptop(&mut s);
    s.append(&identity(&master(20), IdentityKind::Reset, "alice"));
    update(&mut w, &s, NOW).unwrap();
    // The server (holding nothing but alice's old, perhaps stolen, master key) certifies a
    // device after the reset. Every signature is valid; the rules refuse it.
    s.append(&identity(&master(41), IdentityKind::Genesis, "bob"));
    s.append(&Entry::Device(cert(&old, "alice", b"evil", 66)));
    let err = refused_without_change(&mut w, |w| update(w, &s, NOW + 1));
    match err {
        Error::LogEntry { index, reason } => {
            assert_eq!(index, 4);
            assert!(reason.to_string().contains("current"), "{reason}");
        }
        other => panic!("expected a refused entry, got {other:?}"),
    }
    // Nor does a device signed by another user's master key pass.
    let mut s2 = Server::new();
    let mut w2 = witness(&s2);
    alice_with_a_laptop(&mut s2);
    s2.append(&Entry::Device(cert(&master(66), "alice", b"evil", 67)));
    assert!(matches!(
        refused_without_change(&mut w2, |w| update(w, &s2, NOW)),
        Error::LogEntry { index: 2, .. }
    ));
}

#[test]
fn malformed_entry_signed_into_the_log_is_refused() {
    let mut s = Server::new();
    let mut w = witness(&s);
    alice_with_a_laptop(&mut s);
    update(&mut w, &s, NOW).unwrap();
    s.append(&identity(&master(41), IdentityKind::Genesis, "bob"));
    s.append_raw(b"\x02not a certificate".to_vec());
    let err = refused_without_change(&mut w, |w| update(w, &s, NOW + 1));
    match err {
        Error::LogEntry { index, reason } => {
            assert_eq!(index, 3);
            assert!(matches!(*reason, Error::Malformed { .. }));
        }
        other => panic!("expected a malformed entry, got {other:?}"),
    }
    // A certificate with a bit flipped in its device counter-signature.
    let mut s2 = Server::new();
    let mut w2 = witness(&s2);
    let m = master(10);
    s2.append(&identity(&m, IdentityKind::Genesis, "alice"));
    let mut rec = Entry::Device(cert(&m, "alice", b"laptop", 11)).encode();
    let n = rec.len();
    rec[n - 1] ^= 1;
    s2.append_raw(rec);
    assert!(matches!(
        refused_without_change(&mut w2, |w| update(w, &s2, NOW)),
        Error::LogEntry { index: 1, .. }
    ));
}

#[test]
fn state_survives_save_and_load() {
    let mut s = Server::new();
    let mut w = witness(&s);
    let fresh = Witness::load(&w.save(), witness_signer(), ed25519_only).unwrap();
    assert_eq!(fresh.size(), 0);
    alice_with_a_laptop(&mut s);
    s.append(&identity(&master(20), IdentityKind::Reset, "alice"));
    update(&mut w, &s, NOW).unwrap();
    let bytes = w.save();
    let mut loaded = Witness::load(&bytes, witness_signer(), ed25519_only).unwrap();
    assert_eq!(loaded.size(), 3);
    assert_eq!(loaded.root(), w.root());
    assert_eq!(loaded.directory(), w.directory());
    assert_eq!(loaded.last_note(), w.last_note());
    assert_eq!(loaded.origin(), ORIGIN);
    assert_eq!(loaded.log_key(), s.signer.verifier_key());
    // It carries on where it stopped, and still refuses what it refused.
    s.append(&identity(&master(41), IdentityKind::Genesis, "bob"));
    update(&mut loaded, &s, NOW + 1).unwrap();
    let old_note = s.signer.sign(3, &s.log.root_at(3).unwrap());
    assert!(loaded.handle_update(&old_note, &[], NOW + 2).is_err());
    // A damaged state file is refused.
    let mut damaged = bytes.clone();
    let n = damaged.len();
    damaged[n - 1] ^= 1;
    assert!(Witness::load(&damaged, witness_signer(), ed25519_only).is_err());
    assert!(Witness::load(&bytes[..bytes.len() - 1], witness_signer(), ed25519_only).is_err());
    assert!(Witness::load(b"nonsense", witness_signer(), ed25519_only).is_err());
}
