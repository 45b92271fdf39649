//! The test plays the operator: it registers devices of its own, resets identities and
//! replays revocations; clients must refuse or warn.

use crate::{Client, ClientConfig, Error, GroupId, IdentityAlert, Received};

fn first_device(user: &str, device: &str) -> Client {
    let mut c = Client::new(user, ClientConfig::default()).unwrap();
    c.create_identity(device.as_bytes(), 0).unwrap();
    c
}

fn room() -> GroupId {
    GroupId::new(*b"room").unwrap()
}

/// alice and bob in one group, created by alice.
fn pair() -> (Client, Client) {
    let mut alice = first_device("alice", "a1");
    let mut bob = first_device("bob", "b1");
    alice.create_group(&room()).unwrap();
    let kp = bob.key_packages(1).unwrap().remove(0);
    let bundle = alice.add_members(&room(), &[kp]).unwrap();
    alice.merge_pending_commit(&room(), 0).unwrap();
    bob.join(bundle.welcome.as_deref().unwrap()).unwrap();
    (alice, bob)
}

#[test]
fn an_uncertified_device_publishes_nothing() {
    let mut c = Client::new("alice", ClientConfig::default()).unwrap();
    assert!(matches!(c.key_packages(1), Err(Error::NotCertified)));
    assert!(matches!(c.create_group(&room()), Err(Error::NotCertified)));
}

#[test]
fn a_device_the_operator_registers_for_alice_is_refused_by_everyone() {
    let (mut alice, mut bob) = pair();
    // The operator logs in as alice from a device of its own. It cannot get a certificate
    // from alice's master key, so it makes up an identity of its own.
    let mut operator = first_device("alice", "evil");
    let kp = operator.key_packages(1).unwrap().remove(0);
    // alice's own device does not add it to her room ...
    assert!(matches!(
        alice.add_members(&room(), std::slice::from_ref(&kp)),
        Err(Error::IdentityChanged { ref user_id }) if user_id == "alice"
    ));
    // ... and bob, who pinned alice's key when he joined, does not either.
    assert!(matches!(
        bob.inspect_key_package(&kp),
        Err(Error::IdentityChanged { .. })
    ));
    assert!(bob.add_members(&room(), &[kp]).is_err());
}

#[test]
fn a_key_package_whose_certificate_names_another_key_is_refused() {
    use openmls::prelude::{
        Ciphersuite, Credential, CredentialType, CredentialWithKey, KeyPackage, MlsMessageOut,
    };
    use openmls_basic_credential::SignatureKeyPair;
    let (alice, bob) = pair();
    // The operator copies alice's real certificate into a key package signed by its own key.
    let provider = openmls_rust_crypto::OpenMlsRustCrypto::default();
    let suite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
    let signer = SignatureKeyPair::new(suite.signature_algorithm()).unwrap();
    let cred = CredentialWithKey {
        credential: Credential::new(
            CredentialType::Other(crate::CREDENTIAL_TING_CERTIFICATE),
            alice.certificate().unwrap().encode(),
        ),
        signature_key: signer.to_public_vec().into(),
    };
    let kp = KeyPackage::builder()
        .leaf_node_capabilities(crate::mls::key_package::leaf_capabilities())
        .build(suite, &provider, &signer, cred)
        .unwrap();
    let bytes = MlsMessageOut::from(kp.key_package().clone())
        .to_bytes()
        .unwrap();
    assert!(matches!(
        bob.inspect_key_package(&bytes),
        Err(Error::InvalidCredential { .. })
    ));
}

#[test]
fn a_reset_identity_warns_contacts_and_blocks_those_who_verified() {
    let (mut alice, mut bob) = pair();
    let mut carol = first_device("carol", "c1");
    // carol joins; bob verifies alice's identity key (safety numbers compared).
    let kp = carol.key_packages(1).unwrap().remove(0);
    let bundle = alice.add_members(&room(), &[kp]).unwrap();
    alice.merge_pending_commit(&room(), 0).unwrap();
    bob.handle_message(&room(), &bundle.commit, 0).unwrap();
    carol.join(bundle.welcome.as_deref().unwrap()).unwrap();
    let alice_key = alice.identity_key().unwrap();
    bob.mark_verified("alice", &alice_key).unwrap();

    // alice loses everything and starts over (or the operator claims she did).
    let mut alice2 = Client::new("alice", ClientConfig::default()).unwrap();
    let reset = alice2.reset_identity(b"a2", 1).unwrap();
    assert_eq!(reset.statement.kind, ting_trust::IdentityKind::Reset);
    let kp = alice2.key_packages(1).unwrap().remove(0);

    // Nobody re-adds her automatically: carol must acknowledge first.
    assert!(matches!(
        carol.add_members(&room(), std::slice::from_ref(&kp)),
        Err(Error::IdentityChanged { .. })
    ));
    // carol learns the new key from the key log (here: from the new device itself).
    let new_key = alice2.identity_key().unwrap();
    carol
        .acknowledge_identity_change("alice", &new_key)
        .unwrap();
    let bundle = carol.add_members(&room(), &[kp]).unwrap();
    carol.merge_pending_commit(&room(), 0).unwrap();

    // bob verified the old key: he is warned and cannot send until he acknowledges.
    let Received::Commit(commit) = bob.handle_message(&room(), &bundle.commit, 0).unwrap() else {
        panic!("commit expected")
    };
    assert!(matches!(
        commit.alerts.as_slice(),
        [IdentityAlert::Changed { user_id, was_verified: true, .. }] if user_id == "alice"
    ));
    assert_eq!(bob.blocked_by(&room()).unwrap(), vec!["alice".to_owned()]);
    assert!(matches!(
        bob.encrypt_message(&room(), &crate::Envelope::text("hi").unwrap()),
        Err(Error::IdentityChanged { .. })
    ));
    // alice's surviving old device raises the alarm about her own identity.
    let Received::Commit(commit) = alice.handle_message(&room(), &bundle.commit, 0).unwrap() else {
        panic!("commit expected")
    };
    assert!(matches!(
        commit.alerts.as_slice(),
        [IdentityAlert::OwnIdentityReset { .. }]
    ));

    bob.acknowledge_identity_change("alice", &new_key).unwrap();
    assert!(bob.blocked_by(&room()).unwrap().is_empty());
    bob.encrypt_message(&room(), &crate::Envelope::text("hi").unwrap())
        .unwrap();
}

#[test]
fn safety_numbers_do_not_change_when_a_device_is_linked() {
    let (mut alice, mut bob) = pair();
    let before = bob.safety_number(&room(), "alice").unwrap().digits();
    // alice links a second device properly.
    let mut phone = Client::new("alice", ClientConfig::default()).unwrap();
    let request = phone.link_request(b"a2", 0, 60_000).unwrap();
    let code = phone.link_code("rdv1").unwrap();
    let response = alice.link_approve(&code, &request, 1).unwrap();
    phone.link_complete(&response, 2).unwrap();
    let kp = phone.key_packages(1).unwrap().remove(0);
    let bundle = alice.add_members(&room(), &[kp]).unwrap();
    alice.merge_pending_commit(&room(), 0).unwrap();
    let Received::Commit(c) = bob.handle_message(&room(), &bundle.commit, 0).unwrap() else {
        panic!()
    };
    assert!(c.alerts.is_empty());
    assert_eq!(c.change.added.len(), 1);
    assert_eq!(
        bob.safety_number(&room(), "alice").unwrap().digits(),
        before
    );
}

#[test]
fn a_revoked_device_is_never_added_again() {
    let (mut alice, mut bob) = pair();
    let mut phone = Client::new("alice", ClientConfig::default()).unwrap();
    let request = phone.link_request(b"a2", 0, 60_000).unwrap();
    let code = phone.link_code("rdv1").unwrap();
    let response = alice.link_approve(&code, &request, 1).unwrap();
    let cert = phone.link_complete(&response, 2).unwrap();
    let kp = phone.key_packages(1).unwrap().remove(0);
    let revocation = alice.revoke_device(&cert.encode(), 3).unwrap();
    bob.note_revocation(&revocation.encode()).unwrap();
    assert!(matches!(
        bob.inspect_key_package(&kp),
        Err(Error::RevokedDevice { .. })
    ));
    assert!(matches!(
        alice.add_members(&room(), &[kp]),
        Err(Error::RevokedDevice { .. })
    ));
    // A revocation signed by someone else's key is not believed.
    let mut mallory = first_device("alice", "m");
    let forged = mallory.revoke_device(&alice.certificate().unwrap().encode(), 4);
    assert!(
        forged.is_err(),
        "mallory's key did not certify alice's device"
    );
    let own = mallory
        .revoke_device(&mallory.certificate().unwrap().encode(), 4)
        .unwrap();
    // bob pinned alice's real key, so mallory's revocation is refused.
    assert!(bob.note_revocation(&own.encode()).is_err());
}

#[test]
fn trust_survives_save_and_load() {
    let (_alice, mut bob) = pair();
    let key = bob.pin("alice").unwrap().identity_key.clone();
    bob.mark_verified("alice", &key).unwrap();
    let storage = crate::StorageKey::new([3; 32]);
    let loaded = Client::load(&bob.save(&storage).unwrap(), &storage).unwrap();
    assert_eq!(loaded.pins(), bob.pins());
    assert_eq!(loaded.identity_key(), bob.identity_key());
    assert!(loaded.has_master_key());
    assert_eq!(loaded.certificate(), bob.certificate());
}

#[test]
fn a_reset_seen_in_the_key_log_blocks_sending_to_a_verified_contact() {
    let (mut alice, mut bob) = pair();
    let bobs = bob.identity_key().unwrap();
    alice.mark_verified("bob", &bobs).unwrap();
    // The same key again changes nothing.
    let same = bob.certificate().unwrap().body.master_key;
    assert_eq!(alice.observe_identity("bob", &same), None);
    // bob (or the operator) publishes a reset: a new master key in the log.
    let mut reset = Client::new("bob", ClientConfig::default()).unwrap();
    let new = reset.reset_identity(b"b2", 0).unwrap();
    let alert = alice.observe_identity("bob", &new.statement.master_key);
    assert!(matches!(
        alert,
        Some(IdentityAlert::Changed { ref user_id, was_verified: true, .. }) if user_id == "bob"
    ));
    assert_eq!(alice.blocked_by(&room()).unwrap(), vec!["bob".to_owned()]);
    let text = crate::Envelope::text("hi").unwrap();
    assert!(matches!(
        alice.encrypt_message(&room(), &text),
        Err(Error::IdentityChanged { .. })
    ));
    // bob's surviving old device learns its identity was reset elsewhere.
    assert!(matches!(
        bob.observe_identity("bob", &new.statement.master_key),
        Some(IdentityAlert::OwnIdentityReset { .. })
    ));
    let current = reset.identity_key().unwrap();
    alice.acknowledge_identity_change("bob", &current).unwrap();
    assert!(alice.blocked_by(&room()).unwrap().is_empty());
    alice.encrypt_message(&room(), &text).unwrap();
}

#[test]
fn a_welcome_whose_tree_holds_an_uncertified_leaf_is_refused() {
    use openmls::prelude::tls_codec::Deserialize as _;
    use openmls::prelude::{
        Ciphersuite, Credential, CredentialType, CredentialWithKey, MlsGroup, MlsMessageBodyIn,
        MlsMessageIn, ProtocolVersion,
    };
    use openmls_basic_credential::SignatureKeyPair;
    let (alice, _) = pair();
    let mut carol = first_device("carol", "c1");
    // The operator builds a group itself: its own leaf carries alice's real certificate with
    // the operator's key, so no certificate vouches for it. It adds carol's honest device.
    let provider = openmls_rust_crypto::OpenMlsRustCrypto::default();
    let suite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
    let signer = SignatureKeyPair::new(suite.signature_algorithm()).unwrap();
    let cred = CredentialWithKey {
        credential: Credential::new(
            CredentialType::Other(crate::CREDENTIAL_TING_CERTIFICATE),
            alice.certificate().unwrap().encode(),
        ),
        signature_key: signer.to_public_vec().into(),
    };
    let config = crate::mls::group::create_config(
        &ClientConfig::default(),
        crate::CipherSuite::from_openmls(suite),
    )
    .unwrap();
    let mut group = MlsGroup::new(&provider, &signer, &config, cred).unwrap();
    let kp_bytes = carol.key_packages(1).unwrap().remove(0);
    let kp = match MlsMessageIn::tls_deserialize_exact(&kp_bytes[..])
        .unwrap()
        .extract()
    {
        MlsMessageBodyIn::KeyPackage(k) => k
            .validate(
                openmls_traits::OpenMlsProvider::crypto(&provider),
                ProtocolVersion::Mls10,
            )
            .unwrap(),
        _ => unreachable!(),
    };
    let (_, welcome, _) = group.add_members(&provider, &signer, &[kp]).unwrap();
    group.merge_pending_commit(&provider).unwrap();
    let welcome = welcome.to_bytes().unwrap();
    assert!(matches!(
        carol.join(&welcome),
        Err(Error::InvalidCredential { .. })
    ));
    assert!(carol.group_ids().is_empty(), "nothing joined");
    assert!(carol.pin("alice").is_none(), "nothing pinned");
}

#[test]
fn messages_carry_the_senders_key_log_position() {
    let (mut alice, mut bob) = pair();
    let text = crate::Envelope::text("hi").unwrap();
    // Nothing set: nothing carried.
    let msg = alice.encrypt_message(&room(), &text).unwrap();
    match bob.handle_message(&room(), &msg, 0).unwrap() {
        Received::Message(m) => assert_eq!(m.log_position, None),
        other => panic!("{other:?}"),
    }
    let position = crate::LogPosition {
        size: 42,
        root: [7; 32],
    };
    alice.set_log_position(Some(position));
    for _ in 0..2 {
        let msg = alice.encrypt_message(&room(), &text).unwrap();
        match bob.handle_message(&room(), &msg, 0).unwrap() {
            Received::Message(m) => assert_eq!(m.log_position, Some(position)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        crate::LogPosition::decode(&position.encode()),
        Some(position)
    );
    assert_eq!(crate::LogPosition::decode(b"TLP1short"), None);
    assert_eq!(crate::LogPosition::decode(b""), None);
}

#[test]
fn a_commit_adding_a_device_whose_revocation_this_member_knows_is_refused() {
    let (mut alice, mut bob) = pair();
    let mut carol = first_device("carol", "c1");
    let kp = carol.key_packages(1).unwrap().remove(0);
    let bundle = alice.add_members(&room(), &[kp]).unwrap();
    alice.merge_pending_commit(&room(), 0).unwrap();
    bob.handle_message(&room(), &bundle.commit, 0).unwrap();
    carol.join(bundle.welcome.as_deref().unwrap()).unwrap();
    // alice links a phone, then revokes it; bob learns of the revocation, carol does not (the
    // server withheld it from her).
    let mut phone = Client::new("alice", ClientConfig::default()).unwrap();
    let request = phone.link_request(b"a2", 0, 60_000).unwrap();
    let code = phone.link_code("rdv1").unwrap();
    let response = alice.link_approve(&code, &request, 1).unwrap();
    let cert = phone.link_complete(&response, 2).unwrap();
    let revocation = alice.revoke_device(&cert.encode(), 3).unwrap();
    bob.note_revocation(&revocation.encode()).unwrap();
    // carol adds the revoked phone: bob refuses the commit and his group stays as it was.
    let kp = phone.key_packages(1).unwrap().remove(0);
    let bundle = carol.add_members(&room(), &[kp]).unwrap();
    let epoch = bob.epoch(&room()).unwrap();
    let members = bob.members(&room()).unwrap().len();
    assert!(matches!(
        bob.handle_message(&room(), &bundle.commit, 0),
        Err(Error::RevokedDevice { .. })
    ));
    assert_eq!(bob.epoch(&room()).unwrap(), epoch);
    assert_eq!(bob.members(&room()).unwrap().len(), members);
}
