//! Argon2id password hashes in PHC string format. Hashing runs on the blocking pool.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};

/// Cost parameters for new hashes.
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
}

fn hasher(cost: Cost) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password (blocking; call through [`hash_async`] from async code).
pub fn hash(password: &str, cost: Cost) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher(cost)?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?
        .to_string())
}

/// Verifies a password against a stored PHC hash; parameters come from the hash itself.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// [`hash`] on the blocking pool.
pub async fn hash_async(password: String, cost: Cost) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password, cost)).await?
}

/// [`verify`] on the blocking pool. With `phc = None` it verifies against a dummy hash so an
/// unknown username takes as long as a wrong password.
pub async fn verify_async(password: String, phc: Option<String>, cost: Cost) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            let _ = hash(&password, cost);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let cost = Cost {
            memory_kib: 256,
            iterations: 1,
        };
        let h = hash("correct horse battery", cost).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong", &h));
        assert!(!verify("x", "not a hash"));
    }
}
