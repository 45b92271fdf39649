//! The openmls provider: RustCrypto primitives + an in-memory key/value store whose contents
//! the client state blob persists.

use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::{OpenMlsProvider, random::OpenMlsRand};

use crate::error::{Error, Result};

/// openmls provider owned by one [`crate::Client`]. No `Debug`: the storage holds secrets.
#[derive(Default)]
pub(crate) struct Provider {
    crypto: RustCrypto,
    storage: MemoryStorage,
}

impl Provider {
    pub(crate) fn with_storage(storage: MemoryStorage) -> Self {
        Self {
            crypto: RustCrypto::default(),
            storage,
        }
    }

    /// `N` random bytes from the provider's CSPRNG.
    pub(crate) fn random<const N: usize>(&self) -> Result<[u8; N]> {
        self.crypto
            .random_array::<N>()
            .map_err(|e| Error::internal("random", format!("{e:?}")))
    }
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        &self.crypto
    }
}

/// `N` random bytes from the operating system (the browser's `crypto.getRandomValues` with the
/// `js` feature), for helpers that live outside a [`crate::Client`].
pub(crate) fn os_random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| Error::internal("os randomness", e))?;
    Ok(out)
}
