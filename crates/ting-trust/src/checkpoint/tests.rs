use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature as EdSignature, SigningKey};

use super::*;

const ORIGIN: &str = "ting.example.org/keylog";
const NOW: u64 = 1_700_000_000;

fn log() -> LogSigner {
    LogSigner::new(ORIGIN, &[7; 32]).unwrap()
}

fn witness(n: u8) -> WitnessSigner {
    WitnessSigner::new(&format!("witness{n}.example.com"), &[n; 32]).unwrap()
}

fn policy(witnesses: &[&WitnessSigner], required: usize) -> CheckpointPolicy {
    CheckpointPolicy {
        origin: ORIGIN.into(),
        log_key: log().verifier_key(),
        witness_keys: witnesses.iter().map(|w| w.verifier_key()).collect(),
        required_witnesses: required,
        max_age_secs: 600,
    }
}

fn root(n: u8) -> Hash {
    [n; 32]
}

#[test]
fn checkpoint_text_follows_tlog_checkpoint() {
    let note = log().sign(42, &root(1));
    let (body, sigs) = note.split_once("\n\n").unwrap();
    assert_eq!(body, format!("{ORIGIN}\n42\n{}", BASE64.encode(root(1))));
    assert!(sigs.starts_with(&format!("— {ORIGIN} ")));
    assert_eq!(sigs.lines().count(), 1);
    assert_eq!(peek(&note).unwrap(), (ORIGIN.to_owned(), 42, root(1)));
    // The key is a standard signed-note vkey.
    let vkey = log().verifier_key();
    assert!(vkey.starts_with(&format!("{ORIGIN}+")));
    signed_note::StandardVerifier::new(&vkey).unwrap();
}

#[test]
fn signed_checkpoint_verifies_without_witnesses() {
    let note = log().sign(42, &root(1));
    let v = policy(&[], 0).verify(&note, NOW).unwrap();
    assert_eq!((v.size, v.root), (42, root(1)));
    assert!(v.witnesses.is_empty());
    assert_eq!(v.note, note);
}

#[test]
fn wrong_origin_and_wrong_key_are_refused() {
    let note = log().sign(42, &root(1));
    let mut p = policy(&[], 0);
    p.origin = "other.example.org/keylog".into();
    assert!(matches!(p.verify(&note, NOW), Err(Error::Refused { .. })));

    // Same origin, another key.
    let impostor = LogSigner::new(ORIGIN, &[8; 32]).unwrap();
    let forged = impostor.sign(42, &root(1));
    assert!(matches!(
        policy(&[], 0).verify(&forged, NOW),
        Err(Error::BadSignature { .. })
    ));

    // A body changed after signing.
    let tampered = note.replacen("\n42\n", "\n43\n", 1);
    assert!(policy(&[], 0).verify(&tampered, NOW).is_err());
    // No signature at all.
    let (body, _) = note.split_once("\n\n").unwrap();
    assert!(policy(&[], 0).verify(&format!("{body}\n"), NOW).is_err());
}

#[test]
fn cosignature_follows_tlog_cosignature_v1() {
    let w = witness(1);
    let note = log().sign(42, &root(1));
    let cosigned = w.cosign(&note, NOW).unwrap();
    let line = cosigned.lines().last().unwrap();
    let b64 = line
        .strip_prefix(&format!("— {} ", w.name()))
        .expect("a signature line by the witness");
    let raw = BASE64.decode(b64).unwrap();
    assert_eq!(raw.len(), 4 + 8 + 64);
    // Key id: SHA-256(name || "\n" || 0x04 || public key)[:4].
    let public = SigningKey::from_bytes(&[1; 32]).verifying_key();
    let mut key = vec![0x04];
    key.extend_from_slice(public.as_bytes());
    assert_eq!(
        u32::from_be_bytes(raw[..4].try_into().unwrap()),
        signed_note::key_id(w.name(), &key)
    );
    assert_eq!(
        w.verifier_key(),
        format!(
            "{}+{:08x}+{}",
            w.name(),
            signed_note::key_id(w.name(), &key),
            BASE64.encode(&key)
        )
    );
    // Timestamp, then the signature over the header, the time line and the note text.
    assert_eq!(u64::from_be_bytes(raw[4..12].try_into().unwrap()), NOW);
    let (body, _) = note.split_once("\n\n").unwrap();
    let msg = format!("cosignature/v1\ntime {NOW}\n{body}\n");
    public
        .verify_strict(
            msg.as_bytes(),
            &EdSignature::from_slice(&raw[12..]).unwrap(),
        )
        .unwrap();

    let v = policy(&[&w], 1).verify(&cosigned, NOW + 5).unwrap();
    assert_eq!(v.witnesses, vec![(w.name().to_owned(), NOW)]);
}

#[test]
fn missing_invalid_and_unknown_witnesses_do_not_count() {
    let (w1, w2, stranger) = (witness(1), witness(2), witness(3));
    let note = log().sign(42, &root(1));
    // No cosignature.
    assert!(matches!(
        policy(&[&w1], 1).verify(&note, NOW),
        Err(Error::Refused { .. })
    ));
    // A cosignature by a witness nobody trusts.
    let by_stranger = stranger.cosign(&note, NOW).unwrap();
    assert!(policy(&[&w1], 1).verify(&by_stranger, NOW).is_err());
    // A cosignature whose timestamp was changed after signing.
    let cosigned = w1.cosign(&note, NOW).unwrap();
    let line = cosigned.lines().last().unwrap().to_owned();
    let (prefix, b64) = line.rsplit_once(' ').unwrap();
    let mut raw = BASE64.decode(b64).unwrap();
    raw[11] ^= 1;
    let forged = cosigned.replace(&line, &format!("{prefix} {}", BASE64.encode(&raw)));
    assert!(policy(&[&w1], 1).verify(&forged, NOW).is_err());
    // The same witness twice (listed twice, or two lines) is one witness.
    let twice = merge_cosignatures(&cosigned, &w1.cosign(&note, NOW + 1).unwrap()).unwrap();
    let mut p = policy(&[&w1, &w1], 2);
    assert!(p.verify(&twice, NOW).is_err());
    p.required_witnesses = 1;
    assert_eq!(p.verify(&twice, NOW).unwrap().witnesses.len(), 1);
    // One of two required.
    assert!(policy(&[&w1, &w2], 2).verify(&cosigned, NOW).is_err());
}

#[test]
fn cosignature_of_another_checkpoint_does_not_count() {
    let w1 = witness(1);
    let a = log().sign(42, &root(1));
    let b = log().sign(42, &root(2));
    let cosigned_a = w1.cosign(&a, NOW).unwrap();
    let line = cosigned_a.lines().last().unwrap();
    let transplanted = format!("{b}{line}\n");
    assert!(policy(&[&w1], 1).verify(&transplanted, NOW).is_err());
    policy(&[&w1], 0).verify(&transplanted, NOW).unwrap();
}

#[test]
fn stale_cosignatures_are_refused() {
    let w1 = witness(1);
    let note = log().sign(42, &root(1));
    let cosigned = w1.cosign(&note, NOW).unwrap();
    let p = policy(&[&w1], 1);
    p.verify(&cosigned, NOW + 600).unwrap();
    assert!(matches!(
        p.verify(&cosigned, NOW + 601),
        Err(Error::Refused { .. })
    ));
    // A fresh cosignature by the same witness replaces the old one.
    let fresh = w1.cosign(&cosigned, NOW + 601).unwrap();
    assert_eq!(fresh.lines().count(), cosigned.lines().count());
    p.verify(&fresh, NOW + 601).unwrap();
    // Freshness is not required when no witness is.
    policy(&[&w1], 0).verify(&cosigned, NOW + 10_000).unwrap();
}

#[test]
fn merged_cosignatures_of_two_witnesses_pass_k_2() {
    let (w1, w2) = (witness(1), witness(2));
    let note = log().sign(42, &root(1));
    let c1 = w1.cosign(&note, NOW).unwrap();
    let c2 = w2.cosign(&note, NOW + 3).unwrap();
    let p = policy(&[&w1, &w2], 2);
    assert!(p.verify(&c1, NOW).is_err());
    assert!(p.verify(&c2, NOW).is_err());
    let merged = merge_cosignatures(&c1, &c2).unwrap();
    let v = p.verify(&merged, NOW + 3).unwrap();
    assert_eq!(
        v.witnesses,
        vec![(w1.name().to_owned(), NOW), (w2.name().to_owned(), NOW + 3)]
    );
    // One log line, two witness lines; merging again changes nothing.
    assert_eq!(merged.lines().filter(|l| l.starts_with("— ")).count(), 3);
    assert_eq!(merge_cosignatures(&merged, &c2).unwrap(), merged);
    // Notes of different checkpoints do not merge.
    let other = w2.cosign(&log().sign(43, &root(1)), NOW).unwrap();
    assert!(merge_cosignatures(&c1, &other).is_err());
}

#[test]
fn bad_keys_and_names_are_refused() {
    assert!(LogSigner::new("has space", &[1; 32]).is_err());
    assert!(LogSigner::new("a+b", &[1; 32]).is_err());
    assert!(WitnessSigner::new("", &[1; 32]).is_err());
    let note = log().sign(1, &root(1));
    // A log key given as witness key (wrong signature type) is a configuration error.
    let mut p = policy(&[], 1);
    p.witness_keys = vec![log().verifier_key()];
    assert!(matches!(
        p.verify(&note, NOW),
        Err(Error::InvalidArgument(_))
    ));
    let mut p = policy(&[], 0);
    p.log_key = "garbage".into();
    assert!(matches!(
        p.verify(&note, NOW),
        Err(Error::InvalidArgument(_))
    ));
    assert!(witness(1).cosign("not a note", NOW).is_err());
    assert!(witness(1).cosign(&note, u64::MAX).is_err());
}
