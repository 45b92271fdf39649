//! Chat envelope decoding, unpadding, and media epoch export parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ting_e2ee::{Envelope, MediaEpoch};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::decode(data) {
        // Whatever decodes re-encodes to the same bytes (the format is canonical).
        assert_eq!(env.encode(), data);
    }
    let _ = Envelope::from_padded(data);
    if let Ok(epoch) = MediaEpoch::from_bytes(data) {
        assert_eq!(
            MediaEpoch::from_bytes(&epoch.to_bytes()).unwrap().epoch(),
            epoch.epoch()
        );
    }
});
