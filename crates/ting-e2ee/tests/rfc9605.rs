//! RFC 9605 Appendix C test vectors as known-answer tests.
//!
//! `rfc9605_vectors.json` is the RFC's Appendix C in the JSON form published by the SFrame
//! working group (as shipped in the `sframe` crate's test data). C.2 (the AES-CTR + HMAC AEAD on
//! its own) is covered through C.3, which runs the complete SFrame encryption for all five
//! suites, including the three CTR suites.

use serde_json::Value;
use sframe::CipherSuite;
use sframe::frame::{EncryptedFrameView, MediaFrameView, SingleUseCounter};
use sframe::header::SframeHeader;
use sframe::key::{DecryptionKey, EncryptionKey};
use ting_e2ee::{MediaEpoch, MediaKeys, SframeConfig, hex};

fn vectors() -> Value {
    serde_json::from_str(include_str!("rfc9605_vectors.json")).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn suite(id: u64) -> CipherSuite {
    match id {
        1 => CipherSuite::AesCtr128HmacSha256_80,
        2 => CipherSuite::AesCtr128HmacSha256_64,
        3 => CipherSuite::AesCtr128HmacSha256_32,
        4 => CipherSuite::AesGcm128Sha256,
        5 => CipherSuite::AesGcm256Sha512,
        other => panic!("unknown suite {other}"),
    }
}

#[test]
fn rfc9605_appendix_c_1_header_encoding() {
    let v = vectors();
    let cases = v["header"].as_array().unwrap();
    assert!(cases.len() > 200);
    for case in cases {
        let (kid, ctr, encoded) = (
            case["kid"].as_u64().unwrap(),
            case["ctr"].as_u64().unwrap(),
            h(&case["encoded"]),
        );
        let header = SframeHeader::new(kid, ctr);
        assert_eq!(header.len(), encoded.len(), "kid {kid} ctr {ctr}");
        let mut buf = vec![0u8; header.len()];
        header.serialize(&mut buf).unwrap();
        assert_eq!(buf, encoded, "kid {kid} ctr {ctr}");
        let parsed = SframeHeader::deserialize(&encoded).unwrap();
        assert_eq!((parsed.key_id(), parsed.counter()), (kid, ctr));
    }
}

#[test]
fn rfc9605_appendix_c_3_sframe_encryption() {
    let v = vectors();
    for case in v["sframe"].as_array().unwrap() {
        let cs = suite(case["cipher_suite"].as_u64().unwrap());
        let (kid, ctr) = (case["kid"].as_u64().unwrap(), case["ctr"].as_u64().unwrap());
        let (base_key, metadata, pt, ct) = (
            h(&case["base_key"]),
            h(&case["metadata"]),
            h(&case["pt"]),
            h(&case["ct"]),
        );

        let key = EncryptionKey::derive_from(cs, kid, &base_key).unwrap();
        let frame =
            MediaFrameView::try_with_meta_data(&mut SingleUseCounter::new(ctr), &pt, &metadata)
                .unwrap();
        let mut buf = Vec::new();
        let enc = frame.encrypt_into(&key, &mut buf).unwrap();
        assert_eq!(enc.sframe_cipher_text(), &ct[..], "suite {cs}");

        let dec_key = DecryptionKey::derive_from(cs, kid, &base_key).unwrap();
        let view = EncryptedFrameView::try_with_meta_data(&ct, &metadata).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            view.decrypt_into(&dec_key, &mut out).unwrap().payload(),
            &pt[..],
            "suite {cs}"
        );
    }
}

/// The same vectors through Ting's own media path: header parsing, key id decoding (RFC 9605
/// §5.2 with E = 4), key derivation from the base key and AAD = header || metadata.
#[test]
fn rfc9605_appendix_c_3_through_media_keys() {
    let v = vectors();
    for case in v["sframe"].as_array().unwrap() {
        let id = case["cipher_suite"].as_u64().unwrap();
        if id < 4 {
            continue; // Ting uses the AES-GCM suites only.
        }
        // KID 0x123 with E = 4 is epoch (low bits) 3, sender leaf 0x12 when S = 5 (leaf 18 is
        // the highest member), context 0.
        let epoch = MediaEpoch::new(3, suite(id), h(&case["base_key"]), None, vec![0, 18]).unwrap();
        let mut keys = MediaKeys::new(SframeConfig::default(), 0).unwrap();
        keys.set_epoch(0, epoch).unwrap();
        // Wrong metadata fails authentication (and does not burn the counter).
        assert!(matches!(
            keys.decrypt_frame(0, b"other", &h(&case["ct"])),
            Err(ting_e2ee::Error::Tampered { .. })
        ));
        let got = keys
            .decrypt_frame(0, &h(&case["metadata"]), &h(&case["ct"]))
            .unwrap();
        assert_eq!(got.payload, h(&case["pt"]));
        assert_eq!((got.sender_leaf, got.epoch, got.context), (18, 3, 0));
        // A second delivery is a replay.
        assert!(matches!(
            keys.decrypt_frame(0, &h(&case["metadata"]), &h(&case["ct"])),
            Err(ting_e2ee::Error::Replayed { .. })
        ));
    }
}
