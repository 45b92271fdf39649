//! Streaming file decryption of untrusted ciphertext, fed in attacker-chosen pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ting_e2ee::{FileDecryptor, FileRef, FileSecret, file};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let file = FileRef {
        blob_id: "b".into(),
        name: "n".into(),
        media_type: "t".into(),
        size: (u64::from(split) * 37) % 5000,
        sha256: [0; 32],
        key: [1; 32],
        nonce_prefix: [2; 8],
        chunk_size: 1024,
    };
    let mut dec = FileDecryptor::new(&file).unwrap();
    let piece = usize::from(split).max(1);
    for chunk in rest.chunks(piece) {
        if dec.update(chunk).is_err() {
            return;
        }
    }
    assert!(dec.finish().is_err(), "random bytes must not authenticate");
    let _ = file::open_chunk(
        &FileSecret::from_parts([1; 32], [2; 8]),
        0,
        split & 1 == 1,
        rest,
    );
});
