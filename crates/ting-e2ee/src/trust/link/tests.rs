//! Linking as an operator would attack it: swapped requests, replayed and foreign responses,
//! expired codes, another user's device.

use crate::{Client, ClientConfig, Error};

fn alice_laptop() -> Client {
    let mut c = Client::new("alice", ClientConfig::default()).unwrap();
    c.create_identity(b"laptop", 0).unwrap();
    c
}

fn new_phone(now: u64) -> (Client, Vec<u8>, String) {
    let mut phone = Client::new("alice", ClientConfig::default()).unwrap();
    let request = phone.link_request(b"phone", now, 60_000).unwrap();
    let code = phone.link_code("0123abcd").unwrap();
    (phone, request, code)
}

#[test]
fn linking_gives_the_new_device_the_identity() {
    let laptop = alice_laptop();
    let (mut phone, request, code) = new_phone(1000);
    let preview = laptop.link_preview(&code, &request, 1001).unwrap();
    assert_eq!(preview.device_id, "phone");
    assert_eq!(preview.device_fingerprint, phone.own_device_fingerprint());
    let response = laptop.link_approve(&code, &request, 1002).unwrap();
    let cert = phone.link_complete(&response, 1003).unwrap();
    cert.verify().unwrap();
    assert_eq!(
        cert.body.master_key,
        laptop.certificate().unwrap().body.master_key
    );
    assert!(phone.has_master_key());
    assert_eq!(phone.identity_key(), laptop.identity_key());
    // A replay of the same response is refused: the one-time key is gone.
    assert!(matches!(
        phone.link_complete(&response, 1004),
        Err(Error::Link { .. })
    ));
    // And the phone now publishes key packages the laptop accepts.
    let kp = phone.key_packages(1).unwrap().remove(0);
    laptop.inspect_key_package(&kp).unwrap();
}

#[test]
fn a_request_swapped_by_the_server_is_refused() {
    let laptop = alice_laptop();
    let (_phone, _request, code) = new_phone(1000);
    // The server hands the laptop another request (its own device, its own one-time key).
    let (_evil, evil_request, _) = new_phone(1000);
    assert!(matches!(
        laptop.link_preview(&code, &evil_request, 1001),
        Err(Error::Link { .. })
    ));
    assert!(laptop.link_approve(&code, &evil_request, 1001).is_err());
}

#[test]
fn a_response_for_another_device_cannot_be_opened() {
    let laptop = alice_laptop();
    let (mut phone, _request, _code) = new_phone(1000);
    // Two devices race one rendezvous: the laptop approves the other one's request.
    let (_other, other_request, other_code) = new_phone(1000);
    let response = laptop
        .link_approve(&other_code, &other_request, 1001)
        .unwrap();
    assert!(matches!(
        phone.link_complete(&response, 1002),
        Err(Error::Link { .. })
    ));
    assert!(!phone.has_master_key());
}

#[test]
fn expired_and_foreign_requests_are_refused() {
    let laptop = alice_laptop();
    let (_phone, request, code) = new_phone(1000);
    assert!(matches!(
        laptop.link_approve(&code, &request, 1000 + 60_000),
        Err(Error::Link { .. })
    ));
    let mut bobs = Client::new("bob", ClientConfig::default()).unwrap();
    let bob_request = bobs.link_request(b"bob-phone", 1000, 60_000).unwrap();
    let bob_code = bobs.link_code("rdv").unwrap();
    assert!(matches!(
        laptop.link_approve(&bob_code, &bob_request, 1001),
        Err(Error::Link { .. })
    ));
    // The new device refuses a late response too.
    let (mut late, request, code) = new_phone(1000);
    let response = laptop.link_approve(&code, &request, 1001).unwrap();
    assert!(matches!(
        late.link_complete(&response, 1000 + 60_000),
        Err(Error::Link { .. })
    ));
    // Garbage codes are refused, not panicked on.
    assert!(laptop.link_preview("nonsense", &request, 1001).is_err());
    assert!(laptop.link_preview("x.zz", &request, 1001).is_err());
}
