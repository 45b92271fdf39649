use super::*;
use proptest::prelude::*;

fn secret() -> FileSecret {
    FileSecret::from_parts([7; 32], [9; 8])
}

fn encrypt_all(data: &[u8], chunk_size: u32, pieces: &[usize]) -> (Vec<u8>, FileRef) {
    let s = secret();
    let mut enc = FileEncryptor::new(&s, chunk_size).unwrap();
    let mut ct = Vec::new();
    let mut rest = data;
    for &p in pieces.iter().cycle().take(10_000) {
        if rest.is_empty() {
            break;
        }
        let n = p.clamp(1, rest.len());
        ct.extend(enc.update(&rest[..n]).unwrap());
        rest = &rest[n..];
    }
    ct.extend(enc.update(rest).unwrap());
    let (last, info) = enc.finish().unwrap();
    ct.extend(last);
    let s2 = secret();
    let file = FileEncryptor::new(&s2, chunk_size).unwrap().file_ref(
        &info,
        "blob",
        "a.bin",
        "application/octet-stream",
    );
    (ct, file)
}

fn decrypt_all(ct: &[u8], file: &FileRef, pieces: &[usize]) -> Result<Vec<u8>> {
    let mut dec = FileDecryptor::new(file)?;
    let mut out = Vec::new();
    let mut rest = ct;
    for &p in pieces.iter().cycle().take(10_000) {
        if rest.is_empty() {
            break;
        }
        let n = p.clamp(1, rest.len());
        out.extend(dec.update(&rest[..n])?);
        rest = &rest[n..];
    }
    out.extend(dec.update(rest)?);
    dec.finish()?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn chunk_framing_round_trips(
        data in proptest::collection::vec(any::<u8>(), 0..5000),
        chunk in 1024u32..2048,
        enc_pieces in proptest::collection::vec(1usize..3000, 1..5),
        dec_pieces in proptest::collection::vec(1usize..3000, 1..5),
    ) {
        let (ct, file) = encrypt_all(&data, chunk, &enc_pieces);
        prop_assert_eq!(ct.len() as u64, ciphertext_len(data.len() as u64, chunk).unwrap());
        prop_assert_eq!(file.size, data.len() as u64);
        let sha: [u8; 32] = Sha256::digest(&data).into();
        prop_assert_eq!(file.sha256, sha);
        prop_assert_eq!(decrypt_all(&ct, &file, &dec_pieces).unwrap(), data);
    }

    #[test]
    fn any_truncation_is_detected(data in proptest::collection::vec(any::<u8>(), 0..4000), cut in 1usize..4100) {
        let (ct, file) = encrypt_all(&data, 1024, &[700]);
        let cut = cut.min(ct.len());
        prop_assert!(decrypt_all(&ct[..ct.len() - cut], &file, &[333]).is_err());
    }

    #[test]
    fn any_bit_flip_is_detected(data in proptest::collection::vec(any::<u8>(), 1..3000), pos in any::<prop::sample::Index>()) {
        let (mut ct, file) = encrypt_all(&data, 1024, &[512]);
        let i = pos.index(ct.len());
        ct[i] ^= 0x01;
        prop_assert!(decrypt_all(&ct, &file, &[4096]).is_err());
    }
}

#[test]
fn empty_file_is_one_tag_only_chunk() {
    let (ct, file) = encrypt_all(&[], DEFAULT_CHUNK_SIZE, &[1]);
    assert_eq!(ct.len(), TAG_LEN);
    assert_eq!(decrypt_all(&ct, &file, &[1]).unwrap(), Vec::<u8>::new());
}

#[test]
fn exact_multiple_of_chunk_size_ends_with_a_full_final_chunk() {
    let data = vec![5u8; 4096];
    let (ct, file) = encrypt_all(&data, 1024, &[4096]);
    assert_eq!(ct.len(), 4 * (1024 + TAG_LEN));
    assert_eq!(decrypt_all(&ct, &file, &[100]).unwrap(), data);
    // Dropping the last whole chunk is detected (it is missing, and the one before is not final).
    assert!(matches!(
        decrypt_all(&ct[..3 * (1024 + TAG_LEN)], &file, &[100]),
        Err(Error::FileIntegrity { .. })
    ));
}

#[test]
fn reordered_chunks_and_final_flag_abuse_fail() {
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let (ct, file) = encrypt_all(&data, 1024, &[3000]);
    let c = 1024 + TAG_LEN;
    let mut swapped = ct.clone();
    swapped[..c].copy_from_slice(&ct[c..2 * c]);
    swapped[c..2 * c].copy_from_slice(&ct[..c]);
    assert!(matches!(
        decrypt_all(&swapped, &file, &[5000]),
        Err(Error::Tampered { .. })
    ));

    // A non-final chunk cannot be passed off as final.
    let s = secret();
    let chunk0 = seal_chunk(&s, 0, false, &data[..1024]).unwrap();
    assert!(open_chunk(&s, 0, true, &chunk0).is_err());
    assert_eq!(open_chunk(&s, 0, false, &chunk0).unwrap(), &data[..1024]);
}

#[test]
fn wrong_hash_or_size_in_file_ref_fails() {
    let data = vec![1u8; 2000];
    let (ct, mut file) = encrypt_all(&data, 1024, &[2000]);
    file.sha256[0] ^= 1;
    assert!(matches!(
        decrypt_all(&ct, &file, &[2000]),
        Err(Error::FileIntegrity { .. })
    ));
    let (ct, mut file) = encrypt_all(&data, 1024, &[2000]);
    file.size += 1;
    assert!(decrypt_all(&ct, &file, &[2000]).is_err());
    let (ct, file) = encrypt_all(&data, 1024, &[2000]);
    let mut extended = ct.clone();
    extended.push(0);
    assert!(matches!(
        decrypt_all(&extended, &file, &[5000]),
        Err(Error::FileIntegrity { .. })
    ));
}

#[test]
fn chunk_size_bounds() {
    assert!(FileEncryptor::new(&secret(), 100).is_err());
    assert!(FileEncryptor::new(&secret(), MAX_CHUNK_SIZE + 1).is_err());
    let (_, mut file) = encrypt_all(b"x", 1024, &[1]);
    file.chunk_size = 0;
    assert!(FileDecryptor::new(&file).is_err());
}
