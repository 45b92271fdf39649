use super::*;
use crate::{Client, ClientConfig, Error};

fn first(user: &str) -> Client {
    let mut c = Client::new(user, ClientConfig::default()).unwrap();
    c.create_identity(b"d1", 0).unwrap();
    c
}

#[test]
fn keys_round_trip_as_typed() {
    for seed in [[0u8; 32], [0xff; 32], [0x5a; 32]] {
        let text = encode_key(&seed);
        assert_eq!(text.len(), 52 + 12, "{}", *text);
        assert_eq!(*decode_key(&text).unwrap(), seed);
        let sloppy = text.to_lowercase().replace('-', " ").replace('0', "o");
        assert_eq!(*decode_key(&sloppy).unwrap(), seed);
    }
    assert!(decode_key("ABCD").is_err());
    assert!(decode_key(&"U".repeat(52)).is_err(), "U is not a digit");
}

#[test]
fn the_recovery_key_restores_the_identity_on_a_new_device() {
    let laptop = first("alice");
    let master = laptop.certificate().unwrap().body.master_key;
    let kit = laptop.create_recovery().unwrap();
    let mut phone = Client::new("alice", ClientConfig::default()).unwrap();
    let cert = phone
        .recover(&kit.key, &kit.backup, &master, b"d2", 5)
        .unwrap();
    assert_eq!(cert.body.master_key, master);
    assert_eq!(phone.identity_key(), laptop.identity_key());
    assert!(phone.has_master_key());
    phone.key_packages(1).unwrap();
}

#[test]
fn wrong_keys_foreign_and_stale_backups_are_refused() {
    let laptop = first("alice");
    let master = laptop.certificate().unwrap().body.master_key;
    let kit = laptop.create_recovery().unwrap();
    let other = laptop.create_recovery().unwrap();
    let fresh = || Client::new("alice", ClientConfig::default()).unwrap();
    // Another recovery key.
    assert!(matches!(
        fresh().recover(&other.key, &kit.backup, &master, b"d2", 5),
        Err(Error::Recovery { .. })
    ));
    // A tampered backup.
    let mut bad = kit.backup.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert!(matches!(
        fresh().recover(&kit.key, &bad, &master, b"d2", 5),
        Err(Error::Recovery { .. })
    ));
    // bob's backup under bob's key, presented to alice: the user id is bound in.
    let bob = first("bob");
    let bobs = bob.create_recovery().unwrap();
    let bob_master = bob.certificate().unwrap().body.master_key;
    assert!(
        fresh()
            .recover(&bobs.key, &bobs.backup, &bob_master, b"d2", 5)
            .is_err()
    );
    // The key log shows another master key (the backup is from before a reset).
    let reset = first("alice").certificate().unwrap().body.master_key;
    let mut c = fresh();
    assert!(matches!(
        c.recover(&kit.key, &kit.backup, &reset, b"d2", 5),
        Err(Error::Recovery { .. })
    ));
    assert!(c.identity_key().is_none(), "nothing taken");
    // A device that has an identity does not recover over it.
    assert!(
        first("alice")
            .recover(&kit.key, &kit.backup, &master, b"d2", 5)
            .is_err()
    );
}
