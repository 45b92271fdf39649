use super::*;
use crate::checkpoint::LogSigner;
use crate::directory::ed25519_only;
use crate::keys::MasterKey;
use crate::log::KeyLog;
use crate::statement::{IdentityKind, IdentityStatement};

const ORIGIN: &str = "ting.example.org/keylog";
const NOW: u64 = 1_700_000_000;

fn signer() -> LogSigner {
    LogSigner::new(ORIGIN, &[7; 32]).unwrap()
}

fn view() -> LogView {
    LogView::new(CheckpointPolicy {
        origin: ORIGIN.into(),
        log_key: signer().verifier_key(),
        witness_keys: vec![],
        required_witnesses: 0,
        max_age_secs: 600,
    })
}

fn statement(seed: u8, kind: IdentityKind, user: &str) -> Vec<u8> {
    let m = MasterKey::from_secret(&[seed; 32]);
    Entry::Identity(IdentityStatement::sign(&m, kind, user, 1).unwrap()).encode()
}

/// A log with alice's genesis (0), bob's genesis (1), alice's reset (2).
fn log() -> KeyLog {
    let mut log = KeyLog::new();
    log.append(&statement(1, IdentityKind::Genesis, "alice"));
    log.append(&statement(2, IdentityKind::Genesis, "bob"));
    log.append(&statement(3, IdentityKind::Reset, "alice"));
    log
}

fn note(log: &KeyLog, size: u64) -> String {
    signer().sign(size, &log.root_at(size).unwrap())
}

#[test]
fn first_checkpoint_is_accepted_and_remembered() {
    let log = log();
    let mut v = view();
    assert_eq!(v.needs(&note(&log, 2)).unwrap(), NeedProof::None);
    let cp = v.accept(&note(&log, 2), &[], NOW).unwrap();
    assert_eq!(cp.size, 2);
    assert_eq!(v.latest.as_ref().unwrap().size, 2);
}

#[test]
fn growth_needs_a_valid_consistency_proof() {
    let log = log();
    let mut v = view();
    v.accept(&note(&log, 1), &[], NOW).unwrap();
    let new = note(&log, 3);
    assert_eq!(
        v.needs(&new).unwrap(),
        NeedProof::Consistency { old: 1, new: 3 }
    );
    let proof = log.consistency_proof(1, 3).unwrap();
    // Without the proof, or with a wrong one, the bigger tree is a fork.
    assert!(matches!(
        v.accept(&new, &[], NOW),
        Err(Error::Inconsistent { .. })
    ));
    assert!(matches!(
        v.accept(&new, &[[9; 32]; 2], NOW),
        Err(Error::Inconsistent { .. })
    ));
    assert_eq!(v.latest.as_ref().unwrap().size, 1, "nothing remembered");
    v.accept(&new, &proof, NOW).unwrap();
    assert_eq!(v.latest.as_ref().unwrap().size, 3);
}

#[test]
fn rollback_and_fork_are_refused() {
    let log = log();
    let mut v = view();
    v.accept(&note(&log, 3), &[], NOW).unwrap();
    let err = v.accept(&note(&log, 2), &[], NOW).unwrap_err();
    assert!(err.to_string().contains("rollback"), "{err}");
    // Another tree of the same size: a split view.
    let mut other = KeyLog::new();
    other.append(&statement(1, IdentityKind::Genesis, "alice"));
    other.append(&statement(2, IdentityKind::Genesis, "bob"));
    other.append(&statement(4, IdentityKind::Reset, "bob"));
    let err = v.accept(&note(&other, 3), &[], NOW).unwrap_err();
    assert!(err.to_string().contains("fork"), "{err}");
    // The same checkpoint again is fine.
    v.accept(&note(&log, 3), &[], NOW).unwrap();
}

#[test]
fn a_checkpoint_not_signed_by_the_log_is_refused() {
    let log = log();
    let forger = LogSigner::new(ORIGIN, &[8; 32]).unwrap();
    let mut v = view();
    assert!(v.accept(&forger.sign(3, &log.root()), &[], NOW).is_err());
    assert!(v.latest.is_none());
}

#[test]
fn user_keys_replays_included_records() {
    let log = log();
    let mut v = view();
    let cp = v.accept(&note(&log, 3), &[], NOW).unwrap();
    let records: Vec<(u64, Vec<u8>)> = vec![
        (0, statement(1, IdentityKind::Genesis, "alice")),
        (2, statement(3, IdentityKind::Reset, "alice")),
    ];
    let proofs: Vec<_> = [0, 2]
        .iter()
        .map(|&i| log.inclusion_proof(i, 3).unwrap())
        .collect();
    let keys = LogView::user_keys(&cp, "alice", &records, &proofs, ed25519_only).unwrap();
    assert_eq!(keys.resets, 1);
    assert_eq!(
        keys.master_key,
        Some(MasterKey::from_secret(&[3; 32]).public())
    );

    // A record at another index than claimed, a tampered record, a missing proof, records
    // out of order and another user's record are all refused.
    let wrong_index = [(1, records[0].1.clone())];
    assert!(matches!(
        LogView::user_keys(&cp, "alice", &wrong_index, &proofs[..1], ed25519_only),
        Err(Error::LogEntry { index: 1, .. })
    ));
    let mut tampered = records.clone();
    tampered[1].1[5] ^= 1;
    assert!(LogView::user_keys(&cp, "alice", &tampered, &proofs, ed25519_only).is_err());
    assert!(LogView::user_keys(&cp, "alice", &records, &proofs[..1], ed25519_only).is_err());
    let reversed: Vec<_> = records.iter().rev().cloned().collect();
    let rproofs: Vec<_> = proofs.iter().rev().cloned().collect();
    assert!(LogView::user_keys(&cp, "alice", &reversed, &rproofs, ed25519_only).is_err());
    let bobs = [(1, statement(2, IdentityKind::Genesis, "bob"))];
    let bproof = [log.inclusion_proof(1, 3).unwrap()];
    assert!(LogView::user_keys(&cp, "alice", &bobs, &bproof, ed25519_only).is_err());
}
