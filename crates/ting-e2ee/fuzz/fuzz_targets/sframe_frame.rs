//! SFrame header / key id parsing and frame decryption (`MediaKeys::decrypt_frame`,
//! `MediaKeyId::decode`).
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use ting_e2ee::sframe::SframeCipherSuite;
use ting_e2ee::sframe::kid::MediaKeyId;
use ting_e2ee::{MediaEpoch, MediaKeys, SframeConfig};

fn keys() -> &'static Mutex<MediaKeys> {
    static KEYS: OnceLock<Mutex<MediaKeys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut k = MediaKeys::new(SframeConfig::default(), 1).unwrap();
        for epoch in 1..=3 {
            let e = MediaEpoch::new(
                epoch,
                SframeCipherSuite::AesGcm128Sha256,
                vec![epoch as u8; 16],
                Some(0),
                vec![0, 1, 5],
            )
            .unwrap();
            k.set_epoch(epoch * 10, e).unwrap();
        }
        Mutex::new(k)
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() >= 10 {
        let kid = u64::from_be_bytes(data[..8].try_into().unwrap());
        if let Ok(id) = MediaKeyId::decode(kid, data[8] % 17, data[9] % 48) {
            assert_eq!(id.encode(data[8] % 17, data[9] % 48).ok(), Some(kid));
        }
    }
    let (meta, frame) = data.split_at(
        data.len()
            .min(usize::from(data.first().copied().unwrap_or(0) % 8)),
    );
    let mut k = keys().lock().unwrap();
    assert!(
        k.decrypt_frame(25, meta, frame).is_err(),
        "random bytes must not authenticate"
    );
});
