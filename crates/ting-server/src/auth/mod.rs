//! Local accounts: password hashing, session tokens, login throttling.

pub mod password;
pub mod rate_limit;
pub mod token;

/// Normalises and checks a username: 2–64 characters of `a-z 0-9 . _ -`, lower-cased.
pub fn normalise_username(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim().to_ascii_lowercase();
    if !(2..=64).contains(&name.len()) {
        return Err("username must be 2 to 64 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    {
        return Err("username may contain only letters a-z, digits and . _ -");
    }
    Ok(name)
}

/// Checks a new password against the configured minimum length (and a sane maximum).
pub fn check_password(password: &str, min_len: usize) -> Result<(), String> {
    let n = password.chars().count();
    if n < min_len {
        return Err(format!(
            "password must be at least {min_len} characters long"
        ));
    }
    if password.len() > 1024 {
        return Err("password must be at most 1024 bytes long".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(normalise_username(" Alice ").unwrap(), "alice");
        assert!(normalise_username("a").is_err());
        assert!(normalise_username("al ice").is_err());
        assert!(normalise_username("ålice").is_err());
        assert!(check_password("short", 12).is_err());
        assert!(check_password("long enough password", 12).is_ok());
    }
}
