//! Password hashing with Argon2id (default parameters m=19456 KiB, t=2, p=1).

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::SecureError;

/// Hashes `password` with Argon2id and a fresh random salt; returns a PHC string.
pub fn hash(password: &str) -> Result<String, SecureError> {
    let salt = crate::rng::bytes::<16>();
    let phc = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|_| SecureError::Crypto)?;
    Ok(phc.to_string())
}

/// Verifies `password` against a PHC string; `false` on mismatch or unparsable hash.
pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// Runs a verification against a fixed dummy hash so that logins for unknown
/// users take about as long as real ones. Always returns `false`.
pub fn verify_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("shanzhi-dummy-password").unwrap_or_default());
    let _ = verify(password, dummy);
    false
}

/// A random initial password that satisfies the 等保 policy (upper, lower, digit, symbol; 16 characters).
pub fn initial_password() -> String {
    let t = crate::token::random_token();
    let core: String = t
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect();
    format!("Sz#{core}7a")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("正确的密码 correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("正确的密码 correct horse", &h));
        assert!(!verify("wrong password", &h));
        assert!(!verify("anything", "not a phc string"));
        // Salted: two hashes of the same password differ.
        assert_ne!(h, hash("正确的密码 correct horse").unwrap());
    }

    #[test]
    fn dummy_is_false() {
        assert!(!verify_dummy("shanzhi-dummy-password"));
        assert!(!verify_dummy("x"));
    }
}
