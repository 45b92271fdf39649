//! The key log: an append-only Merkle tree over encoded [`crate::Entry`] records.
//!
//! Hashing is RFC 6962's (as used by c2sp.org/tlog-tiles): a record hashes as
//! `SHA-256(0x00 || record)`, an interior node as `SHA-256(0x01 || left || right)`, and the
//! empty tree as `SHA-256("")`. Proofs are RFC 6962 audit paths and consistency proofs. The
//! tree math is the `tlog_tiles` crate's; this module keeps the stored hashes in memory
//! (about two hashes per record) and maps its errors to the crate's.
//!
//! ```
//! use ting_trust::log::{KeyLog, verify_consistency, verify_inclusion};
//!
//! let mut log = KeyLog::new();
//! for record in [b"a".as_slice(), b"b", b"c"] {
//!     log.append(record);
//! }
//! let old_root = log.root_at(2).unwrap();
//! let proof = log.inclusion_proof(1, 3).unwrap();
//! verify_inclusion(b"b", 1, 3, &log.root(), &proof).unwrap();
//! let proof = log.consistency_proof(2, 3).unwrap();
//! verify_consistency(2, &old_root, 3, &log.root(), &proof).unwrap();
//! ```

use tlog_tiles::tlog::{self, HashReader};

use crate::error::{Error, Result};

/// A SHA-256 hash: a record hash, a node hash or a tree root.
pub type Hash = [u8; 32];

/// The root of the empty tree, `SHA-256("")`.
pub const EMPTY_ROOT: Hash = tlog::EMPTY_HASH.0;

/// Longest proof accepted: proofs of trees of up to 2^64 records are at most 128 hashes long.
pub const MAX_PROOF_LEN: usize = 128;

/// The record hash of `record`: `SHA-256(0x00 || record)`.
pub fn record_hash(record: &[u8]) -> Hash {
    tlog::record_hash(record).0
}

/// The server's copy of the log's tree: every stored hash (records and complete subtrees),
/// so roots, inclusion proofs and consistency proofs of any earlier size can be computed.
/// It does not keep the records themselves (the server's store does).
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    size: u64,
    hashes: Vec<tlog::Hash>,
}

/// Reads stored hashes out of a slice (the `tlog_tiles` storage order).
struct Stored<'a>(&'a [tlog::Hash]);

impl HashReader for Stored<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog::Hash>, tlog::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i))
                    .copied()
                    .ok_or(tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl KeyLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The log holding `records`, in order (to rebuild the tree from the store at start).
    pub fn from_records<I: IntoIterator<Item = impl AsRef<[u8]>>>(records: I) -> Self {
        let mut log = Self::new();
        for r in records {
            log.append(r.as_ref());
        }
        log
    }

    /// Appends a record; returns its index.
    pub fn append(&mut self, record: &[u8]) -> u64 {
        let index = self.size;
        let new = tlog::stored_hashes(index, record, &Stored(&self.hashes))
            .expect("invariant: the hashes of complete subtrees are stored");
        self.hashes.extend(new);
        self.size += 1;
        index
    }

    /// Drops every record from `size` on (to undo appends that turned out to be wrong).
    pub(crate) fn truncate(&mut self, size: u64) {
        if size < self.size {
            let keep = usize::try_from(tlog::stored_hash_count(size))
                .expect("invariant: the stored hashes fit in memory");
            self.hashes.truncate(keep);
            self.size = size;
        }
    }

    /// How many records the log holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.tree_hash(self.size)
    }

    /// The root the log had when it held `size` records.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        if size > self.size {
            return Err(Error::InvalidArgument("size beyond the log"));
        }
        Ok(self.tree_hash(size))
    }

    fn tree_hash(&self, size: u64) -> Hash {
        tlog::tree_hash(size, &Stored(&self.hashes))
            .expect("invariant: the hashes of every earlier tree are stored")
            .0
    }

    /// The proof that record `index` is in the tree of `size` records (`index < size <=
    /// self.size()`).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        if index >= size || size > self.size {
            return Err(Error::InvalidArgument(
                "inclusion proof needs index < size <= log size",
            ));
        }
        let proof = tlog::prove_record(size, index, &Stored(&self.hashes))
            .map_err(|_| Error::InvalidArgument("inclusion proof out of range"))?;
        Ok(proof.into_iter().map(|h| h.0).collect())
    }

    /// The proof that the tree of `new_size` records extends the tree of `old_size` records
    /// (`old_size <= new_size <= self.size()`). Empty when `old_size` is 0 or equals
    /// `new_size`.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
        if old_size > new_size || new_size > self.size {
            return Err(Error::InvalidArgument(
                "consistency proof needs old size <= new size <= log size",
            ));
        }
        if old_size == 0 {
            return Ok(Vec::new());
        }
        let proof = tlog::prove_tree(new_size, old_size, &Stored(&self.hashes))
            .map_err(|_| Error::InvalidArgument("consistency proof out of range"))?;
        Ok(proof.into_iter().map(|h| h.0).collect())
    }
}

fn to_tlog(proof: &[Hash], what: &'static str) -> Result<Vec<tlog::Hash>> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(Error::BadProof { what });
    }
    Ok(proof.iter().map(|h| tlog::Hash(*h)).collect())
}

/// Checks that `record` is the record at `index` of the tree of `size` records whose root is
/// `root`.
pub fn verify_inclusion(
    record: &[u8],
    index: u64,
    size: u64,
    root: &Hash,
    proof: &[Hash],
) -> Result<()> {
    const WHAT: &str = "inclusion";
    let proof = to_tlog(proof, WHAT)?;
    if index >= size {
        return Err(Error::BadProof { what: WHAT });
    }
    tlog::check_record(
        &proof,
        size,
        tlog::Hash(*root),
        index,
        tlog::record_hash(record),
    )
    .map_err(|_| Error::BadProof { what: WHAT })
}

/// Checks that the tree of `new_size` records with root `new_root` extends the tree of
/// `old_size` records with root `old_root`: the log only appended.
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<()> {
    const WHAT: &str = "consistency";
    let proof = to_tlog(proof, WHAT)?;
    if old_size > new_size {
        return Err(Error::BadProof { what: WHAT });
    }
    if old_size == 0 {
        // Every tree extends the empty one.
        return if proof.is_empty() && *old_root == EMPTY_ROOT {
            Ok(())
        } else {
            Err(Error::BadProof { what: WHAT })
        };
    }
    tlog::check_tree(
        &proof,
        new_size,
        tlog::Hash(*new_root),
        old_size,
        tlog::Hash(*old_root),
    )
    .map_err(|_| Error::BadProof { what: WHAT })
}

#[cfg(test)]
mod tests;
