//! MLS group flows driven through the public API, with a simulated delivery service.

mod common;

use common::*;
use ting_e2ee::{
    Body, CipherSuite, CipherSuitePolicy, Client, ClientConfig, Envelope, Error, Fault, GroupId,
    ProposalKind, Received,
};

fn commit_of(r: &Received) -> &ting_e2ee::ReceivedCommit {
    match r {
        Received::Commit(c) => c,
        other => panic!("expected a commit, got {other:?}"),
    }
}

#[test]
fn two_members_chat_both_ways() {
    let (gid, mut c) = group_of(2);
    assert_in_sync(&gid, &c);
    chat_round(&gid, &mut c, 0, "hello");
    chat_round(&gid, &mut c, 1, "hi back");
    assert_eq!(c[0].members(&gid).unwrap().len(), 2);
}

#[test]
fn ten_members_update_remove_and_chat() {
    let (gid, mut c) = group_of(10);
    assert_in_sync(&gid, &c);
    for from in [0, 4, 9] {
        chat_round(&gid, &mut c, from, &format!("from {from}"));
    }

    // Member 5 updates its keys; everyone follows.
    let update = c[5].self_update(&gid).unwrap();
    assert!(update.change.is_empty());
    c[5].merge_pending_commit(&gid, 0).unwrap();
    for r in deliver_commit(&gid, &mut c, 5, &update, 0) {
        let commit = commit_of(&r);
        assert_eq!(commit.committer.user_id, "u5");
        assert!(commit.change.is_empty());
    }
    assert_in_sync(&gid, &c);

    // Member 2 removes member 7.
    let leaf7 = c[7].own_leaf_index(&gid).unwrap();
    let removal = c[2].remove_members(&gid, &[leaf7]).unwrap();
    assert_eq!(removal.change.removed.len(), 1);
    assert_eq!(removal.change.removed[0].user_id, "u7");
    c[2].merge_pending_commit(&gid, 0).unwrap();
    let results = deliver_commit(&gid, &mut c, 2, &removal, 0);
    for r in &results {
        assert_eq!(commit_of(r).change.removed[0].user_id, "u7");
    }
    assert_eq!(
        results.iter().filter(|r| commit_of(r).removed_self).count(),
        1
    );
    assert!(
        !c[7].has_group(&gid),
        "the removed member forgets the group"
    );
    let mut rest: Vec<Client> = c
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 7)
        .map(|(_, c)| c)
        .collect();
    assert_in_sync(&gid, &rest);
    assert_eq!(rest[0].members(&gid).unwrap().len(), 9);
    chat_round(&gid, &mut rest, 3, "after removal");
}

#[test]
fn hundred_members() {
    let (gid, mut c) = group_of(100);
    assert_in_sync(&gid, &c);
    assert_eq!(c[99].members(&gid).unwrap().len(), 100);
    chat_round(&gid, &mut c, 57, "hello hundred");
    let update = c[99].self_update(&gid).unwrap();
    c[99].merge_pending_commit(&gid, 0).unwrap();
    deliver_commit(&gid, &mut c, 99, &update, 0);
    assert_in_sync(&gid, &c);
    // Media keys agree across the group.
    let fp = c[0].media_epoch(&gid).unwrap().key_fingerprint();
    assert!(
        c.iter()
            .all(|m| m.media_epoch(&gid).unwrap().key_fingerprint() == fp)
    );
    let frame = c[42]
        .media_keys(&gid)
        .unwrap()
        .encrypt_frame(1, b"", b"frame")
        .unwrap();
    let got = c[7]
        .media_keys(&gid)
        .unwrap()
        .decrypt_frame(0, b"", &frame)
        .unwrap();
    assert_eq!(got.sender_leaf, c[42].own_leaf_index(&gid).unwrap());
}

#[test]
fn removed_member_cannot_read_later_chat_or_media() {
    let (gid, mut c) = group_of(3);
    // The media frame a soon-removed member (u2) sends just before removal.
    let in_flight = c[2]
        .media_keys(&gid)
        .unwrap()
        .encrypt_frame(0, b"", b"old")
        .unwrap();
    let removed_leaf = c[2].own_leaf_index(&gid).unwrap();
    let removed_epoch = c[2].media_epoch(&gid).unwrap();

    let removal = c[0].remove_user(&gid, "u2").unwrap();
    c[0].merge_pending_commit(&gid, 1_000).unwrap();
    commit_of(&c[1].handle_message(&gid, &removal.commit, 1_000).unwrap());
    // u2 does not process its removal: it keeps the old epoch's state.

    // Chat: the new epoch is unreadable for u2.
    let ct = c[0]
        .encrypt_message(&gid, &Envelope::text("secret").unwrap())
        .unwrap();
    let err = c[2].handle_message(&gid, &ct, 1_000).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongEpoch {
                message_epoch: 2,
                group_epoch: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.fault(), Fault::Peer);
    assert!(matches!(
        c[1].handle_message(&gid, &ct, 1_000).unwrap(),
        Received::Message(_)
    ));

    // Media: u2 cannot decrypt new-epoch frames.
    let frame = c[0]
        .media_keys(&gid)
        .unwrap()
        .encrypt_frame(0, b"", b"new")
        .unwrap();
    assert!(matches!(
        c[2].media_keys(&gid)
            .unwrap()
            .decrypt_frame(1_000, b"", &frame),
        Err(Error::UnknownEpoch)
    ));
    // u2's in-flight old-epoch frame still plays within the grace window, not after it.
    let grace = c[1].config().sframe.grace_ms;
    assert!(
        c[1].media_keys(&gid)
            .unwrap()
            .decrypt_frame(1_000 + grace - 1, b"", &in_flight)
            .is_ok()
    );
    let later = c[2]
        .media_keys(&gid)
        .unwrap()
        .encrypt_frame(0, b"", b"later")
        .unwrap();
    assert!(matches!(
        c[1].media_keys(&gid)
            .unwrap()
            .decrypt_frame(1_000 + grace, b"", &later),
        Err(Error::UnknownEpoch)
    ));
    // u2 forging a new-epoch frame under its old leaf is refused before decryption.
    let forged_epoch = ting_e2ee::MediaEpoch::new(
        removed_epoch.epoch() + 1,
        removed_epoch_suite(),
        vec![0x42; 16],
        Some(removed_leaf),
        vec![0, 1, removed_leaf],
    )
    .unwrap();
    let mut forger = ting_e2ee::MediaKeys::new(Default::default(), 7).unwrap();
    forger.set_epoch(0, forged_epoch).unwrap();
    let forged = forger.encrypt_frame(0, b"", b"forged").unwrap();
    assert!(matches!(
        c[1].media_keys(&gid)
            .unwrap()
            .decrypt_frame(1_000, b"", &forged),
        Err(Error::UnknownSender)
    ));

    // Once u2 processes the commit, it learns it was removed and forgets the group.
    let r = c[2].handle_message(&gid, &removal.commit, 1_000).unwrap();
    assert!(commit_of(&r).removed_self);
    assert!(matches!(
        c[2].handle_message(&gid, &ct, 1_000),
        Err(Error::UnknownGroup)
    ));
}

fn removed_epoch_suite() -> ting_e2ee::sframe::SframeCipherSuite {
    ting_e2ee::sframe::SframeCipherSuite::AesGcm128Sha256
}

#[test]
fn tampered_replayed_wrong_group_and_wrong_epoch_are_refused() {
    let (gid, mut c) = group_of(2);
    let ct = c[0]
        .encrypt_message(&gid, &Envelope::text("x").unwrap())
        .unwrap();

    let mut tampered = ct.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let err = c[1].handle_message(&gid, &tampered, 0).unwrap_err();
    assert!(matches!(err, Error::Tampered { .. }), "{err:?}");

    let mut garbage = ct.clone();
    garbage.truncate(10);
    assert!(matches!(
        c[1].handle_message(&gid, &garbage, 0),
        Err(Error::Malformed { .. })
    ));

    // The tampered copy did not consume the key: the original still decrypts, once.
    assert!(matches!(
        c[1].handle_message(&gid, &ct, 0).unwrap(),
        Received::Message(_)
    ));
    assert!(matches!(
        c[1].handle_message(&gid, &ct, 0),
        Err(Error::Replayed { .. })
    ));

    // A message of another group delivered under this group's id.
    let other = GroupId::new(*b"other").unwrap();
    c[0].create_group(&other).unwrap();
    let kp = c[1].key_packages(1).unwrap().remove(0);
    let b = c[0].add_members(&other, &[kp]).unwrap();
    c[0].merge_pending_commit(&other, 0).unwrap();
    c[1].join(b.welcome.as_deref().unwrap()).unwrap();
    let ct_other = c[0]
        .encrypt_message(&other, &Envelope::text("y").unwrap())
        .unwrap();
    assert!(matches!(
        c[1].handle_message(&gid, &ct_other, 0),
        Err(Error::WrongGroup)
    ));
    assert!(matches!(
        c[1].handle_message(&other, &ct_other, 0).unwrap(),
        Received::Message(_)
    ));

    // A message from an old epoch.
    let old = c[0]
        .encrypt_message(&gid, &Envelope::text("old").unwrap())
        .unwrap();
    let upd = c[1].self_update(&gid).unwrap();
    c[1].merge_pending_commit(&gid, 0).unwrap();
    c[0].handle_message(&gid, &upd.commit, 0).unwrap();
    let err = c[1].handle_message(&gid, &old, 0).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongEpoch {
                message_epoch: 1,
                group_epoch: 2
            }
        ),
        "{err:?}"
    );
    // And a message for an unknown group is the caller's mistake.
    let unknown = GroupId::new(*b"nope").unwrap();
    assert_eq!(
        c[1].handle_message(&unknown, &ct, 0).unwrap_err().fault(),
        Fault::Misuse
    );
}

#[test]
fn stale_epoch_commit_is_cleared_and_rebased() {
    let (gid, mut c) = group_of(3);
    // u1 and u2 commit concurrently in the same epoch; the delivery service takes u1's.
    let winner = c[1].self_update(&gid).unwrap();
    let loser = c[2].self_update(&gid).unwrap();
    assert_eq!(winner.epoch, loser.epoch);
    assert!(matches!(c[2].self_update(&gid), Err(Error::PendingCommit)));
    assert!(matches!(
        c[2].encrypt_message(&gid, &Envelope::text("z").unwrap()),
        Err(Error::PendingCommit)
    ));
    c[1].merge_pending_commit(&gid, 0).unwrap();
    c[0].handle_message(&gid, &winner.commit, 0).unwrap();

    // u2 is told its commit is stale: clear, process the winner, retry.
    c[2].clear_pending_commit(&gid).unwrap();
    assert!(!c[2].has_pending_commit(&gid).unwrap());
    commit_of(&c[2].handle_message(&gid, &winner.commit, 0).unwrap());
    let retry = c[2].self_update(&gid).unwrap();
    assert_eq!(retry.epoch, winner.epoch + 1);
    c[2].merge_pending_commit(&gid, 0).unwrap();
    deliver_commit(&gid, &mut c, 2, &retry, 0);
    assert_in_sync(&gid, &c);
    // The losing commit, if the server delivered it anyway, is from a past epoch.
    assert!(matches!(
        c[0].handle_message(&gid, &loser.commit, 0),
        Err(Error::WrongEpoch { .. })
    ));
    chat_round(&gid, &mut c, 2, "rebased");
}

#[test]
fn winning_commit_arriving_while_pending_replaces_it() {
    let (gid, mut c) = group_of(3);
    let winner = c[1].self_update(&gid).unwrap();
    let _loser = c[2]
        .add_members(&gid, &[client("late").key_packages(1).unwrap().remove(0)])
        .unwrap();
    c[1].merge_pending_commit(&gid, 0).unwrap();
    c[0].handle_message(&gid, &winner.commit, 0).unwrap();
    // u2 receives the winner before the refusal of its own commit.
    commit_of(&c[2].handle_message(&gid, &winner.commit, 0).unwrap());
    assert!(!c[2].has_pending_commit(&gid).unwrap());
    c[2].clear_pending_commit(&gid).unwrap(); // the refusal arrives: a no-op
    assert!(matches!(
        c[2].merge_pending_commit(&gid, 0),
        Err(Error::NoPendingCommit)
    ));
    assert_in_sync(&gid, &c);
    chat_round(&gid, &mut c, 0, "still fine");
}

#[test]
fn unsupported_ciphersuite_is_refused() {
    let chacha = CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519;
    let cfg = ClientConfig {
        policy: CipherSuitePolicy::new(vec![chacha]).unwrap(),
        ..ClientConfig::default()
    };
    let mut other = Client::new("pq-later", cfg.clone()).unwrap();
    other.create_identity(b"other-device", 0).unwrap();
    let kp = other.key_packages(1).unwrap().remove(0);

    let mut alice = client("alice");
    let err = alice.inspect_key_package(&kp).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedCiphersuite { suite: 3, ref allowed } if allowed == &[1]),
        "{err:?}"
    );
    assert!(err.to_string().contains("0x0003"));
    let gid = group_id();
    alice.create_group(&gid).unwrap();
    assert!(matches!(
        alice.add_members(&gid, &[kp]),
        Err(Error::UnsupportedCiphersuite { suite: 3, .. })
    ));

    // A welcome into a ChaCha group is refused by a default client.
    let mut carol = Client::new("carol", cfg.clone()).unwrap();
    carol.create_identity(b"carol-device", 0).unwrap();
    let mut dave = Client::new("dave", cfg).unwrap();
    dave.create_identity(b"dave-device", 0).unwrap();
    carol.create_group(&gid).unwrap();
    let b = carol
        .add_members(&gid, &[dave.key_packages(1).unwrap().remove(0)])
        .unwrap();
    let welcome = b.welcome.unwrap();
    let mut erin = client("erin");
    erin.key_packages(1).unwrap();
    assert!(matches!(
        erin.join(&welcome),
        Err(Error::UnsupportedCiphersuite { suite: 3, .. })
    ));
    // ... and accepted by a client whose policy allows it.
    carol.merge_pending_commit(&gid, 0).unwrap();
    assert_eq!(dave.join(&welcome).unwrap().members.len(), 2);
    assert_eq!(dave.group_ciphersuite(&gid).unwrap(), chacha);
}

#[test]
fn key_packages_are_mls_messages_and_last_resort_is_reusable() {
    let mut bob = client("bob");
    let kp = bob.key_packages(2).unwrap().remove(0);
    // MLSMessage header: version mls10 (1), wire_format mls_key_package (5), then the
    // KeyPackage's version and cipher suite.
    assert_eq!(&kp[..8], &[0, 1, 0, 5, 0, 1, 0, 1]);
    let info = bob.inspect_key_package(&kp).unwrap();
    assert_eq!(info.user_id, "bob");
    assert_eq!(info.device_key, bob.device_key());
    assert!(!info.last_resort);

    let lr = bob.last_resort_key_package().unwrap();
    assert!(bob.inspect_key_package(&lr).unwrap().last_resort);
    let mut alice = client("alice");
    for name in [&b"g1"[..], b"g2"] {
        let gid = GroupId::new(name).unwrap();
        alice.create_group(&gid).unwrap();
        let b = alice.add_members(&gid, std::slice::from_ref(&lr)).unwrap();
        alice.merge_pending_commit(&gid, 0).unwrap();
        bob.join(b.welcome.as_deref().unwrap()).unwrap();
    }
    assert_eq!(bob.group_ids().len(), 2);

    // A one-time key package cannot be used twice.
    let gid = GroupId::new(*b"g3").unwrap();
    alice.create_group(&gid).unwrap();
    let b1 = alice.add_members(&gid, std::slice::from_ref(&kp)).unwrap();
    alice.merge_pending_commit(&gid, 0).unwrap();
    bob.join(b1.welcome.as_deref().unwrap()).unwrap();
    let gid4 = GroupId::new(*b"g4").unwrap();
    alice.create_group(&gid4).unwrap();
    let b2 = alice.add_members(&gid4, &[kp]).unwrap();
    assert!(matches!(
        bob.join(b2.welcome.as_deref().unwrap()),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        bob.key_packages(0),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn membership_changes_are_reported_and_remove_user_takes_all_devices() {
    let (gid, mut c) = group_of(2);
    // u1 links a second device (certified by u1's master key) and adds it.
    let mut second = linked_device(&c[1], "u1-second");
    let kp = second.key_packages(1).unwrap().remove(0);
    let before = c[0].safety_number(&gid, "u1").unwrap();
    let add = c[1].add_members(&gid, &[kp]).unwrap();
    c[1].merge_pending_commit(&gid, 0).unwrap();
    let r = c[0].handle_message(&gid, &add.commit, 0).unwrap();
    let commit = commit_of(&r);
    assert_eq!(commit.committer.user_id, "u1");
    assert_eq!(commit.change.added.len(), 1);
    assert_eq!(commit.change.added[0].user_id, "u1");
    assert_eq!(commit.change.added[0].device_key, second.device_key());
    assert_eq!(commit.change.added, add.change.added);
    second.join(add.welcome.as_deref().unwrap()).unwrap();
    // The predicted leaf index is the real one.
    assert_eq!(
        second.own_leaf_index(&gid).unwrap(),
        commit.change.added[0].leaf_index
    );
    // The safety number covers identity keys, not devices: a linked device leaves it as is.
    let after = c[0].safety_number(&gid, "u1").unwrap();
    assert!(before.matches(&after));
    let on_second = second.safety_number(&gid, "u0").unwrap();
    assert!(after.matches(&on_second));

    // Removing user u1 removes both devices.
    let removal = c[0].remove_user(&gid, "u1").unwrap();
    assert_eq!(removal.change.removed.len(), 2);
    c[0].merge_pending_commit(&gid, 0).unwrap();
    for cl in [&mut c[1], &mut second] {
        assert!(commit_of(&cl.handle_message(&gid, &removal.commit, 0).unwrap()).removed_self);
    }
    assert_eq!(c[0].members(&gid).unwrap().len(), 1);
    assert!(matches!(
        c[0].remove_user(&gid, "u1"),
        Err(Error::UnknownMember)
    ));
    assert!(matches!(
        c[0].remove_members(&gid, &[0]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn leave_is_a_proposal_committed_by_another_member() {
    let (gid, mut c) = group_of(3);
    let proposal = c[2].leave_group(&gid).unwrap();
    for member in c.iter_mut().take(2) {
        match member.handle_message(&gid, &proposal, 0).unwrap() {
            Received::Proposal(p) => {
                assert_eq!(p.sender.user_id, "u2");
                assert!(
                    matches!(p.kind, ProposalKind::Remove { ref member } if member.user_id == "u2")
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let commit = c[0].commit_pending_proposals(&gid).unwrap();
    assert_eq!(commit.change.removed[0].user_id, "u2");
    c[0].merge_pending_commit(&gid, 0).unwrap();
    assert_eq!(
        commit_of(&c[1].handle_message(&gid, &commit.commit, 0).unwrap())
            .change
            .removed
            .len(),
        1
    );
    assert!(commit_of(&c[2].handle_message(&gid, &commit.commit, 0).unwrap()).removed_self);
    assert!(!c[2].has_group(&gid));
}

#[test]
fn own_messages_echoed_back_are_recognised() {
    let (gid, mut c) = group_of(2);
    let ct = c[0]
        .encrypt_message(&gid, &Envelope::text("echo").unwrap())
        .unwrap();
    assert!(matches!(
        c[0].handle_message(&gid, &ct, 0).unwrap(),
        Received::OwnMessage { .. }
    ));
}

#[test]
fn all_envelope_kinds_travel() {
    let (gid, mut c) = group_of(2);
    let first = Envelope::text("first").unwrap();
    let bodies = vec![
        Body::Text {
            body: "reply".into(),
            reply_to: Some(first.id),
        },
        Body::Edit {
            target: first.id,
            body: "edited".into(),
        },
        Body::Reaction {
            target: first.id,
            emoji: "👍".into(),
            remove: false,
        },
        Body::RoomName {
            name: "Kitchen".into(),
        },
        Body::RoomTopic {
            topic: "Lunch".into(),
        },
        Body::Redaction {
            target: first.id,
            reason: None,
        },
        Body::ReadReceipt { up_to: first.id },
    ];
    for body in bodies {
        let env = Envelope::new(body).unwrap();
        let ct = c[0].encrypt_message(&gid, &env).unwrap();
        match c[1].handle_message(&gid, &ct, 0).unwrap() {
            Received::Message(m) => assert_eq!(m.envelope, env),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn ciphertext_size_leaks_only_the_bucket() {
    let (gid, mut c) = group_of(2);
    let a = c[0]
        .encrypt_message(&gid, &Envelope::text("a").unwrap())
        .unwrap();
    let b = c[0]
        .encrypt_message(&gid, &Envelope::text("b".repeat(200)).unwrap())
        .unwrap();
    assert_eq!(a.len(), b.len());
    let big = c[0]
        .encrypt_message(&gid, &Envelope::text("c".repeat(300)).unwrap())
        .unwrap();
    assert!(big.len() > a.len());
}

#[test]
fn invalid_credentials_are_refused() {
    use openmls::prelude::{BasicCredential, CredentialWithKey, KeyPackage, MlsMessageOut};
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;

    let provider = OpenMlsRustCrypto::default();
    let suite = openmls::prelude::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
    let signer = SignatureKeyPair::new(suite.signature_algorithm()).unwrap();
    let bad = CredentialWithKey {
        credential: BasicCredential::new(vec![0xff, 0xfe, 0x00]).into(),
        signature_key: signer.to_public_vec().into(),
    };
    let kp = KeyPackage::builder()
        .build(suite, &provider, &signer, bad)
        .unwrap();
    let bytes = MlsMessageOut::from(kp.key_package().clone())
        .to_bytes()
        .unwrap();
    let mut alice = client("alice");
    let gid = group_id();
    alice.create_group(&gid).unwrap();
    assert!(matches!(
        alice.inspect_key_package(&bytes),
        Err(Error::InvalidCredential { .. })
    ));
    assert!(matches!(
        alice.add_members(&gid, &[bytes]),
        Err(Error::InvalidCredential { .. })
    ));
    assert!(!alice.has_pending_commit(&gid).unwrap());
}

#[test]
fn past_epoch_messages_only_when_configured() {
    let gid = group_id();
    let cfg = ClientConfig {
        max_past_epochs: 1,
        ..ClientConfig::default()
    };
    let mut alice = Client::new("alice", cfg.clone()).unwrap();
    alice.create_identity(b"alice-device", 0).unwrap();
    let mut bob = Client::new("bob", cfg).unwrap();
    bob.create_identity(b"bob-device", 0).unwrap();
    alice.create_group(&gid).unwrap();
    let b = alice
        .add_members(&gid, &[bob.key_packages(1).unwrap().remove(0)])
        .unwrap();
    alice.merge_pending_commit(&gid, 0).unwrap();
    bob.join(b.welcome.as_deref().unwrap()).unwrap();

    let in_flight = alice
        .encrypt_message(&gid, &Envelope::text("sent in epoch 1").unwrap())
        .unwrap();
    let upd = bob.self_update(&gid).unwrap();
    bob.merge_pending_commit(&gid, 0).unwrap();
    alice.handle_message(&gid, &upd.commit, 0).unwrap();
    match bob.handle_message(&gid, &in_flight, 0).unwrap() {
        Received::Message(m) => assert_eq!(m.epoch, 1),
        other => panic!("{other:?}"),
    }
    // Commits from past epochs are never accepted.
    assert!(matches!(
        alice.handle_message(&gid, &upd.commit, 0),
        Err(Error::WrongEpoch { .. })
    ));
}

#[test]
fn own_pending_commit_echo_is_recognised() {
    let (gid, mut c) = group_of(2);
    let upd = c[0].self_update(&gid).unwrap();
    assert!(matches!(
        c[0].handle_message(&gid, &upd.commit, 0).unwrap(),
        Received::OwnMessage { .. }
    ));
    assert!(c[0].has_pending_commit(&gid).unwrap());
    c[0].merge_pending_commit(&gid, 0).unwrap();
    c[1].handle_message(&gid, &upd.commit, 0).unwrap();
    assert_in_sync(&gid, &c);
}
