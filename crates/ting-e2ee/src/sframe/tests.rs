use super::*;
use ::sframe::CipherSuite as SframeSuite;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const SUITE: SframeSuite = SframeSuite::AesGcm128Sha256;

fn epoch(n: u64, own: Option<u32>, members: &[u32]) -> MediaEpoch {
    let key = Sha256::digest(n.to_be_bytes())[..16].to_vec();
    MediaEpoch::new(n, SUITE, key, own, members.to_vec()).unwrap()
}

fn pair(n: u64) -> (MediaKeys, MediaKeys) {
    let mut a = MediaKeys::new(SframeConfig::default(), 1).unwrap();
    let mut b = MediaKeys::new(SframeConfig::default(), 2).unwrap();
    a.set_epoch(0, epoch(n, Some(0), &[0, 1])).unwrap();
    b.set_epoch(0, epoch(n, Some(1), &[0, 1])).unwrap();
    (a, b)
}

#[test]
fn frames_round_trip_with_metadata_and_streams() {
    let (mut a, mut b) = pair(5);
    for stream in [0u8, 1, 15] {
        let f = a.encrypt_frame(stream, b"vp8hdr", b"payload").unwrap();
        let d = b.decrypt_frame(0, b"vp8hdr", &f).unwrap();
        assert_eq!(d.payload, b"payload");
        assert_eq!(d.sender_leaf, 0);
        assert_eq!(d.epoch, 5);
        assert_eq!(d.context & 0xf, u64::from(stream));
    }
    assert!(a.encrypt_frame(16, b"", b"x").is_err());
    let f = a.encrypt_frame(0, b"vp8hdr", b"payload").unwrap();
    assert!(matches!(
        b.decrypt_frame(0, b"vp8hdX", &f),
        Err(Error::Tampered { .. })
    ));
    let mut t = f.clone();
    let last = t.len() - 1;
    t[last] ^= 1;
    assert!(matches!(
        b.decrypt_frame(0, b"vp8hdr", &t),
        Err(Error::Tampered { .. })
    ));
    assert!(b.decrypt_frame(0, b"vp8hdr", &f).is_ok());
    assert!(matches!(
        b.decrypt_frame(0, b"vp8hdr", &f),
        Err(Error::Replayed { .. })
    ));
    assert!(matches!(
        b.decrypt_frame(0, b"", &[]),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn streams_and_sessions_use_distinct_keys() {
    let (mut a, _) = pair(1);
    let f0 = a.encrypt_frame(0, b"", b"same").unwrap();
    let f1 = a.encrypt_frame(1, b"", b"same").unwrap();
    // Same counter (0) on both streams: different key ids, different ciphertexts.
    assert_ne!(f0, f1);
    let mut restarted = MediaKeys::new(SframeConfig::default(), 3).unwrap();
    restarted.set_epoch(0, epoch(1, Some(0), &[0, 1])).unwrap();
    assert_ne!(restarted.encrypt_frame(0, b"", b"same").unwrap(), f0);
}

#[test]
fn previous_epoch_decrypts_only_within_grace() {
    let (mut a, mut b) = pair(1);
    let old = a.encrypt_frame(0, b"", b"old").unwrap();
    let old2 = a.encrypt_frame(0, b"", b"old2").unwrap();
    a.set_epoch(100, epoch(2, Some(0), &[0, 1])).unwrap();
    b.set_epoch(100, epoch(2, Some(1), &[0, 1])).unwrap();
    assert_eq!(b.usable_epochs(100), vec![2, 1]);
    assert!(b.decrypt_frame(100 + 9_999, b"", &old).is_ok());
    assert!(matches!(
        b.decrypt_frame(100 + 10_000, b"", &old2),
        Err(Error::UnknownEpoch)
    ));
    assert_eq!(b.usable_epochs(100 + 10_000), vec![2]);
    let new = a.encrypt_frame(0, b"", b"new").unwrap();
    assert_eq!(b.decrypt_frame(100 + 10_000, b"", &new).unwrap().epoch, 2);
}

#[test]
fn epoch_rollover_drops_colliding_low_bits() {
    let cfg = SframeConfig {
        epoch_bits: 1,
        grace_ms: u64::MAX / 2,
        ..SframeConfig::default()
    };
    let mut b = MediaKeys::new(cfg.clone(), 0).unwrap();
    let mut a = MediaKeys::new(cfg, 1).unwrap();
    a.set_epoch(0, epoch(1, Some(0), &[0, 1])).unwrap();
    let f1 = a.encrypt_frame(0, b"", b"e1").unwrap();
    for n in 1..=3 {
        b.set_epoch(0, epoch(n, Some(1), &[0, 1])).unwrap();
    }
    // Epoch 3 has the same low bit as epoch 1, so epoch 1 is gone; its frame now maps to
    // epoch 3's keys and fails to authenticate.
    assert_eq!(b.usable_epochs(0), vec![3, 2]);
    assert!(matches!(
        b.decrypt_frame(0, b"", &f1),
        Err(Error::Tampered { .. })
    ));
}

#[test]
fn non_members_and_backwards_epochs_are_refused() {
    let (_, mut b) = pair(4);
    let mut intruder = MediaKeys::new(SframeConfig::default(), 9).unwrap();
    intruder
        .set_epoch(0, epoch(4, Some(7), &[0, 1, 7]))
        .unwrap();
    let f = intruder.encrypt_frame(0, b"", b"x").unwrap();
    assert!(matches!(
        b.decrypt_frame(0, b"", &f),
        Err(Error::UnknownSender)
    ));
    assert!(b.set_epoch(0, epoch(3, Some(1), &[0, 1])).is_err());
    assert!(
        b.set_epoch(0, epoch(4, Some(1), &[0, 1])).is_ok(),
        "same epoch again is a no-op"
    );
    let mut listener = MediaKeys::new(SframeConfig::default(), 9).unwrap();
    listener.set_epoch(0, epoch(4, None, &[0, 1])).unwrap();
    assert!(matches!(
        listener.encrypt_frame(0, b"", b"x"),
        Err(Error::NotAMember)
    ));
    assert!(MediaEpoch::new(1, SUITE, vec![1; 16], Some(5), vec![0]).is_err());
    assert!(
        MediaKeys::new(
            SframeConfig {
                epoch_bits: 0,
                ..SframeConfig::default()
            },
            0
        )
        .is_err()
    );
}

#[test]
fn media_keys_state_round_trips() {
    let (mut a, _) = pair(1);
    a.set_epoch(50, epoch(2, Some(0), &[0, 1])).unwrap();
    let mut w = Writer::new();
    a.write_state(&mut w);
    let bytes = w.into_bytes();
    let mut r = Reader::new(&bytes, "t");
    let restored = MediaKeys::read_state(&mut r, 77).unwrap();
    r.finish().unwrap();
    assert_eq!(restored.usable_epochs(50), a.usable_epochs(50));
    assert_eq!(restored.config(), a.config());
    assert_eq!(restored.key_fingerprint(), a.key_fingerprint());
}

proptest! {
    #[test]
    fn media_epoch_round_trips(
        n in any::<u64>(),
        key in proptest::collection::vec(any::<u8>(), 1..64),
        members in proptest::collection::btree_set(any::<u32>(), 1..20),
        own_pick in any::<prop::sample::Index>(),
        has_own in any::<bool>(),
    ) {
        let members: Vec<u32> = members.into_iter().collect();
        let own = has_own.then(|| members[own_pick.index(members.len())]);
        let e = MediaEpoch::new(n, SUITE, key.clone(), own, members.clone()).unwrap();
        let back = MediaEpoch::from_bytes(&e.to_bytes()).unwrap();
        prop_assert_eq!(back.epoch(), n);
        prop_assert_eq!(back.own_leaf(), own);
        prop_assert_eq!(back.members(), &members[..]);
        prop_assert_eq!(back.key_fingerprint(), e.key_fingerprint());
    }

    #[test]
    fn media_epoch_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = MediaEpoch::from_bytes(&bytes);
    }

    #[test]
    fn decrypt_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let (_, mut b) = pair(3);
        let _ = b.decrypt_frame(0, b"", &bytes);
    }
}
