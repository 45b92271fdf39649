use super::*;
use proptest::prelude::*;

fn id() -> impl Strategy<Value = MessageId> {
    any::<[u8; 16]>().prop_map(MessageId)
}

fn text() -> impl Strategy<Value = String> {
    ".{0,40}"
}

fn file_ref() -> impl Strategy<Value = FileRef> {
    (
        (text(), text(), text(), any::<u64>()),
        (
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<[u8; 8]>(),
            any::<u32>(),
        ),
    )
        .prop_map(
            |((blob_id, name, media_type, size), (sha256, key, nonce_prefix, chunk_size))| {
                FileRef {
                    blob_id,
                    name,
                    media_type,
                    size,
                    sha256,
                    key,
                    nonce_prefix,
                    chunk_size,
                }
            },
        )
}

pub(crate) fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (text(), proptest::option::of(id()))
            .prop_map(|(body, reply_to)| Body::Text { body, reply_to }),
        (id(), text()).prop_map(|(target, body)| Body::Edit { target, body }),
        (id(), text(), any::<bool>()).prop_map(|(target, emoji, remove)| Body::Reaction {
            target,
            emoji,
            remove
        }),
        file_ref().prop_map(Body::File),
        text().prop_map(|name| Body::RoomName { name }),
        text().prop_map(|topic| Body::RoomTopic { topic }),
        (id(), proptest::option::of(text()))
            .prop_map(|(target, reason)| Body::Redaction { target, reason }),
        id().prop_map(|up_to| Body::ReadReceipt { up_to }),
        (100u16.., proptest::collection::vec(any::<u8>(), 0..50))
            .prop_map(|(kind, payload)| Body::Unknown { kind, payload }),
    ]
}

proptest! {
    #[test]
    fn envelope_round_trips(id in id(), body in body()) {
        let env = Envelope { id, body };
        let bytes = env.encode();
        prop_assert_eq!(Envelope::decode(&bytes).unwrap(), env.clone());
        let padded = env.to_padded().unwrap();
        prop_assert!(padding::is_bucket(padded.len()));
        prop_assert_eq!(Envelope::from_padded(&padded).unwrap(), env);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Envelope::decode(&bytes);
        let _ = Envelope::from_padded(&bytes);
    }

    #[test]
    fn truncated_envelopes_are_refused(id in id(), body in body(), cut in 1usize..20) {
        let bytes = Envelope { id, body }.encode();
        let cut = cut.min(bytes.len());
        prop_assert!(Envelope::decode(&bytes[..bytes.len() - cut]).is_err());
    }
}

#[test]
fn wire_format_is_stable() {
    let env = Envelope {
        id: MessageId([0xab; 16]),
        body: Body::Text {
            body: "hi".into(),
            reply_to: None,
        },
    };
    let mut expected = vec![1u8];
    expected.extend([0xab; 16]);
    expected.extend([0, 1, 4, 2, b'h', b'i', 0]);
    assert_eq!(env.encode(), expected);
}

#[test]
fn other_versions_trailing_bytes_and_bad_utf8_are_refused() {
    let env = Envelope::text("hi").unwrap();
    let mut bytes = env.encode();
    bytes[0] = 2;
    assert!(matches!(
        Envelope::decode(&bytes),
        Err(Error::Malformed { .. })
    ));
    let mut bytes = env.encode();
    bytes.push(0);
    assert!(Envelope::decode(&bytes).is_err());
    let mut bytes = env.encode();
    let n = bytes.len();
    bytes[n - 3] = 0xff; // inside "hi"
    assert!(Envelope::decode(&bytes).is_err());
}

#[test]
fn unknown_kinds_survive() {
    let env = Envelope {
        id: MessageId([1; 16]),
        body: Body::Unknown {
            kind: 999,
            payload: vec![1, 2, 3],
        },
    };
    assert_eq!(Envelope::decode(&env.encode()).unwrap(), env);
}

#[test]
fn file_ref_debug_redacts_key() {
    let f = FileRef {
        blob_id: "b".into(),
        name: "n".into(),
        media_type: "t".into(),
        size: 1,
        sha256: [0; 32],
        key: [0x42; 32],
        nonce_prefix: [0; 8],
        chunk_size: 1024,
    };
    assert!(!format!("{f:?}").contains("42, 42"));
}
