//! Loading a client state blob (`Client::load`), both raw bytes and bytes re-labelled with a
//! valid header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ting_e2ee::{Client, StorageKey};

fuzz_target!(|data: &[u8]| {
    let key = StorageKey::new([5; 32]);
    let _ = Client::load(data, &key);
    let mut framed = b"TINGE2EE\x00\x01".to_vec();
    framed.extend_from_slice(data);
    assert!(
        Client::load(&framed, &key).is_err(),
        "random bytes must not authenticate"
    );
});
