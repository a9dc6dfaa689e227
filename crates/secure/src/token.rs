//! Random tokens, SHA-256 helpers and constant-time comparison.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// 32 random bytes, base64url without padding (43 characters).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(crate::rng::bytes::<32>())
}

/// `len` characters drawn uniformly from `alphabet` (at most 256 symbols; rejection sampling, so no symbol is
/// more likely than another). Activation codes use it.
pub fn random_chars(alphabet: &[u8], len: usize) -> String {
    let alphabet = alphabet.get(..alphabet.len().min(256)).unwrap_or_default();
    let n = alphabet.len();
    if n == 0 {
        return String::new();
    }
    // The largest multiple of n that fits in a byte: bytes at or above it are drawn again.
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in crate::rng::bytes::<32>() {
            let b = usize::from(b);
            if b < limit
                && out.len() < len
                && let Some(c) = alphabet.get(b % n)
            {
                out.push(char::from(*c));
            }
        }
    }
    out
}

/// Lowercase hex SHA-256 of the input.
pub fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

/// Constant-time equality of two strings (the running time depends only on
/// the lengths, never on where the contents differ).
pub fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_chars_use_the_alphabet() {
        let a = random_chars(b"ABC234", 40);
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b"ABC234".contains(&b)));
        assert_ne!(a, random_chars(b"ABC234", 40));
    }

    #[test]
    fn tokens_are_random_and_urlsafe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn sha256_known_value() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq("abc", "abc"));
        assert!(ct_eq("", ""));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
    }
}
