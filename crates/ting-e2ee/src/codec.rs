//! A small, bounds-checked binary codec shared by the envelope, the state blob and the media
//! epoch export.
//!
//! Integers are big-endian. Variable-length byte strings and lists carry a QUIC-style varint
//! length prefix (RFC 9000 §16, the same encoding MLS uses for its vectors). Every read checks
//! the remaining length first, so no input can make the reader panic or allocate more than the
//! input's own size.

use crate::error::{Error, Result};

/// Appends encoded values to a byte vector.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    /// QUIC varint (up to 2^62 - 1). Lengths of in-memory data always fit.
    pub(crate) fn varint(&mut self, v: u64) {
        if v < 1 << 6 {
            self.u8(v as u8);
        } else if v < 1 << 14 {
            self.u16(0x4000 | v as u16);
        } else if v < 1 << 30 {
            self.u32(0x8000_0000 | v as u32);
        } else {
            self.u64(0xc000_0000_0000_0000 | (v & 0x3fff_ffff_ffff_ffff));
        }
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u64);
        self.raw(bytes);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub(crate) fn opt_bytes(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            None => self.u8(0),
            Some(b) => {
                self.u8(1);
                self.bytes(b);
            }
        }
    }
}

/// Reads encoded values from a byte slice; every method fails with [`Error::Malformed`] instead
/// of reading past the end.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the structure in error messages.
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    pub(crate) fn malformed(&self) -> Error {
        Error::Malformed { what: self.what }
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.malformed())
        }
    }

    pub(crate) fn raw(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(self.malformed());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.raw(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.raw(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.malformed()),
        }
    }

    /// QUIC varint; non-minimal encodings are refused so every value has one encoding.
    pub(crate) fn varint(&mut self) -> Result<u64> {
        let first = *self.buf.first().ok_or_else(|| self.malformed())?;
        let (value, min) = match first >> 6 {
            0 => (u64::from(self.u8()?), 0),
            1 => (u64::from(self.u16()? & 0x3fff), 1 << 6),
            2 => (u64::from(self.u32()? & 0x3fff_ffff), 1 << 14),
            _ => (self.u64()? & 0x3fff_ffff_ffff_ffff, 1 << 30),
        };
        if value < min {
            return Err(self.malformed());
        }
        Ok(value)
    }

    /// A length prefix, checked against the bytes actually left.
    pub(crate) fn len(&mut self) -> Result<usize> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.buf.len() => Ok(n),
            _ => Err(self.malformed()),
        }
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len()?;
        self.raw(n)
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| self.malformed())
    }

    pub(crate) fn opt_bytes(&mut self) -> Result<Option<&'a [u8]>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.bytes()?)),
            _ => Err(self.malformed()),
        }
    }

    /// A list count; each element needs at least `min_elem_len` bytes, so a huge count in a
    /// short input is refused before anything is allocated.
    pub(crate) fn count(&mut self, min_elem_len: usize) -> Result<usize> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_elem_len.max(1)) <= self.buf.len() => Ok(n),
            _ => Err(self.malformed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint_round_trips(v in 0u64..(1 << 62)) {
            let mut w = Writer::new();
            w.varint(v);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes, "test");
            prop_assert_eq!(r.varint().unwrap(), v);
            r.finish().unwrap();
        }

        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes, "test");
            let _ = r.varint();
            let _ = r.bytes();
            let _ = r.string();
            let _ = r.count(4);
        }
    }

    #[test]
    fn non_minimal_varint_is_refused() {
        let mut r = Reader::new(&[0x40, 0x01], "test");
        assert!(r.varint().is_err());
    }

    #[test]
    fn length_beyond_input_is_refused() {
        let mut r = Reader::new(&[0x05, 1, 2], "test");
        assert!(r.bytes().is_err());
    }
}
