use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;

fn records(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("record {i}").into_bytes()).collect()
}

/// RFC 6962 section 2.1 `MTH`, written out directly (the reference the tree is checked
/// against).
fn mth(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest(b"").into(),
        1 => {
            let mut h = Sha256::new();
            h.update([0]);
            h.update(&leaves[0]);
            h.finalize().into()
        }
        n => {
            // The largest power of two smaller than n.
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            let mut h = Sha256::new();
            h.update([1]);
            h.update(mth(&leaves[..k]));
            h.update(mth(&leaves[k..]));
            h.finalize().into()
        }
    }
}

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The test leaves and roots of the RFC 6962 reference implementation (certificate
/// transparency's `merkle_test`).
#[test]
fn rfc6962_section_2_1_known_roots() {
    let leaves: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        (0x50..=0x57).collect(),
        (0x60..=0x6f).collect(),
    ];
    let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let log = KeyLog::from_records(&leaves);
    assert_eq!(
        hex(&log.root_at(0).unwrap()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(log.root_at(0).unwrap(), EMPTY_ROOT);
    for (i, want) in roots.iter().enumerate() {
        assert_eq!(
            hex(&log.root_at(i as u64 + 1).unwrap()),
            *want,
            "size {}",
            i + 1
        );
    }
}

#[test]
fn roots_match_the_rfc_definition_at_every_size() {
    let recs = records(70);
    let mut log = KeyLog::new();
    assert_eq!(log.root(), mth(&[]));
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(log.append(r), i as u64);
        assert_eq!(log.size(), i as u64 + 1);
        assert_eq!(log.root(), mth(&recs[..=i]), "size {}", i + 1);
    }
    for size in 0..=70 {
        assert_eq!(log.root_at(size).unwrap(), mth(&recs[..size as usize]));
    }
    assert!(log.root_at(71).is_err());
    let rebuilt = KeyLog::from_records(&recs);
    assert_eq!(rebuilt.root(), log.root());
}

#[test]
fn inclusion_proofs_verify_for_every_index_and_size_and_catch_tampering() {
    let recs = records(40);
    let log = KeyLog::from_records(&recs);
    for size in 1..=40u64 {
        let root = log.root_at(size).unwrap();
        let other_root = log.root_at(size - 1).unwrap();
        for index in 0..size {
            let rec = &recs[index as usize];
            let proof = log.inclusion_proof(index, size).unwrap();
            verify_inclusion(rec, index, size, &root, &proof).unwrap();
            // A different record, index, size or root fails.
            assert!(verify_inclusion(b"forged", index, size, &root, &proof).is_err());
            if size > 1 {
                let wrong_index = (index + 1) % size;
                assert!(verify_inclusion(rec, wrong_index, size, &root, &proof).is_err());
            }
            assert!(verify_inclusion(rec, index, size, &other_root, &proof).is_err());
            assert!(verify_inclusion(rec, size, size, &root, &proof).is_err());
            // Every hash of the proof matters, and no hash may be added or dropped.
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k][0] ^= 1;
                assert!(verify_inclusion(rec, index, size, &root, &bad).is_err());
            }
            let mut longer = proof.clone();
            longer.push([0; 32]);
            assert!(verify_inclusion(rec, index, size, &root, &longer).is_err());
            if !proof.is_empty() {
                let shorter = &proof[..proof.len() - 1];
                assert!(verify_inclusion(rec, index, size, &root, shorter).is_err());
            }
        }
    }
    assert!(log.inclusion_proof(3, 3).is_err());
    assert!(log.inclusion_proof(0, 41).is_err());
}

#[test]
fn consistency_proofs_verify_for_every_pair_and_catch_tampering() {
    let recs = records(40);
    let log = KeyLog::from_records(&recs);
    for new in 0..=40u64 {
        let new_root = log.root_at(new).unwrap();
        for old in 0..=new {
            let old_root = log.root_at(old).unwrap();
            let proof = log.consistency_proof(old, new).unwrap();
            verify_consistency(old, &old_root, new, &new_root, &proof).unwrap();
            if old == 0 || old == new {
                assert!(proof.is_empty());
            }
            // Another old tree (same size, other records) is not extended by this one.
            let forked = mth(&records(old as usize)
                .into_iter()
                .map(|mut r| {
                    r.push(b'!');
                    r
                })
                .collect::<Vec<_>>());
            if old > 0 {
                assert!(verify_consistency(old, &forked, new, &new_root, &proof).is_err());
            }
            if new > old && old > 0 {
                assert!(verify_consistency(old, &old_root, new, &old_root, &proof).is_err());
            }
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k][31] ^= 0x80;
                assert!(verify_consistency(old, &old_root, new, &new_root, &bad).is_err());
            }
            let mut longer = proof.clone();
            longer.push(new_root);
            assert!(verify_consistency(old, &old_root, new, &new_root, &longer).is_err());
        }
    }
    // A bigger old tree than the new one is never consistent.
    let r5 = log.root_at(5).unwrap();
    let r4 = log.root_at(4).unwrap();
    assert!(verify_consistency(5, &r5, 4, &r4, &[]).is_err());
    assert!(log.consistency_proof(5, 4).is_err());
    assert!(log.consistency_proof(1, 41).is_err());
}

#[test]
fn truncate_restores_the_earlier_tree() {
    let recs = records(33);
    let mut log = KeyLog::from_records(&recs[..20]);
    let root20 = log.root();
    for r in &recs[20..] {
        log.append(r);
    }
    log.truncate(20);
    assert_eq!(log.size(), 20);
    assert_eq!(log.root(), root20);
    log.append(&recs[20]);
    assert_eq!(log.root(), mth(&recs[..21]));
}

#[test]
fn oversized_proofs_are_refused_without_work() {
    let log = KeyLog::from_records(records(4));
    let proof = vec![[0u8; 32]; MAX_PROOF_LEN + 1];
    assert!(matches!(
        verify_inclusion(b"x", 0, 4, &log.root(), &proof),
        Err(Error::BadProof { .. })
    ));
    assert!(verify_consistency(1, &log.root_at(1).unwrap(), 4, &log.root(), &proof).is_err());
}

proptest! {
    #[test]
    fn proofs_hold_for_random_logs(
        recs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 1..300),
        a in any::<u64>(),
        b in any::<u64>(),
    ) {
        let log = KeyLog::from_records(&recs);
        let n = log.size();
        let size = 1 + a % n;
        let index = b % size;
        let root = log.root_at(size).unwrap();
        let proof = log.inclusion_proof(index, size).unwrap();
        prop_assert!(verify_inclusion(&recs[index as usize], index, size, &root, &proof).is_ok());
        let mut tampered = recs[index as usize].clone();
        tampered.push(0);
        prop_assert!(verify_inclusion(&tampered, index, size, &root, &proof).is_err());

        let old = b % (size + 1);
        let old_root = log.root_at(old).unwrap();
        let proof = log.consistency_proof(old, size).unwrap();
        prop_assert!(verify_consistency(old, &old_root, size, &root, &proof).is_ok());
        prop_assert_eq!(root, mth(&recs[..size as usize]));
    }

    #[test]
    fn verifiers_never_panic(
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
        index in any::<u64>(),
        old in any::<u64>(),
        new in any::<u64>(),
        root in any::<[u8; 32]>(),
    ) {
        let _ = verify_inclusion(b"r", index, new, &root, &proof);
        let _ = verify_inclusion(b"r", index % 1000, 1 + new % 1000, &root, &proof);
        let _ = verify_consistency(old, &root, new, &root, &proof);
        let _ = verify_consistency(old % 1000, &root, new % 1000, &root, &proof);
    }
}
