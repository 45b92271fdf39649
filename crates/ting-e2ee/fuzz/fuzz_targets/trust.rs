//! Identity material from the server or another device: key-log records
//! (`ting_trust::Entry::decode`: identity statements, device certificates, revocations),
//! device certificates as MLS credential content (`DeviceCertificate::decode`), revocations
//! (`Client::note_revocation`), and both sides of device linking (`Client::link_preview`,
//! `Client::link_approve` on the request, `Client::link_complete` on the response).
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use ting_e2ee::ting_trust::{DeviceCertificate, Entry};
use ting_e2ee::trust::link::LABEL_COMMITMENT;
use ting_e2ee::{Client, ClientConfig, hex};

struct Devices {
    /// A first device: holds the master key, approves links.
    existing: Client,
    /// A new device of the same user waiting for a link response.
    new: Client,
}

fn devices() -> &'static Mutex<Devices> {
    static DEVICES: OnceLock<Mutex<Devices>> = OnceLock::new();
    DEVICES.get_or_init(|| {
        let mut existing = Client::new("dana", ClientConfig::default()).unwrap();
        existing.create_identity(b"dana-laptop", 0).unwrap();
        let mut new = Client::new("dana", ClientConfig::default()).unwrap();
        new.link_request(b"dana-phone", 0, 60_000).unwrap();
        new.link_code("rv").unwrap();
        Mutex::new(Devices { existing, new })
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::decode(data) {
        // The record format is canonical: whatever parses re-encodes to the same bytes.
        assert_eq!(entry.encode(), data);
        let _ = entry.verify(|_, _, _, _| false);
    }
    if let Ok(cert) = DeviceCertificate::decode(data) {
        assert_eq!(cert.encode(), data);
        let _ = cert.verify();
    }

    let mut d = devices().lock().unwrap();
    let _ = d.existing.note_revocation(data);
    // A code whose commitment matches the bytes, so the request itself gets parsed.
    let digest = Sha256::new()
        .chain_update(LABEL_COMMITMENT)
        .chain_update(data)
        .finalize();
    let code = format!("rv.{}", hex::encode(&digest[..10]));
    if d.existing.link_preview(&code, data, 1).is_ok() {
        let _ = d.existing.link_approve(&code, data, 1);
    }
    assert!(
        d.new.link_complete(data, 1).is_err(),
        "random bytes must not open as a link response"
    );
});
