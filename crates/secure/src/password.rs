//! Password hashing with Argon2id (current parameters m=19456 KiB, t=2, p=1).
//!
//! A [`Worker`] owns one Argon2 memory buffer and reuses it for every hash and verification, so a fixed set of
//! workers (one per thread) holds a fixed amount of memory however many logins arrive. The free functions
//! allocate a fresh buffer per call; they are for the CLI and tests.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use crate::SecureError;

/// Output length of new hashes, in bytes.
const OUTPUT_LEN: usize = 32;
/// Largest Argon2 memory a stored hash may ask for (1 GiB); anything above is refused as unverifiable.
const MAX_BLOCKS: usize = 1024 * 1024;

/// The parameters new hashes use; a stored hash with other parameters is re-hashed at the next login.
pub fn current_params() -> Params {
    Params::DEFAULT
}

/// One hashing worker's state: a reusable Argon2 memory buffer and the dummy hash used for unknown users.
#[derive(Default)]
pub struct Worker {
    blocks: Vec<Block>,
    dummy: Option<String>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

impl Worker {
    pub fn new() -> Worker {
        Worker::default()
    }

    /// Memory for `n` blocks, growing the buffer once if needed (it never shrinks, so it is allocated once).
    fn memory(&mut self, n: usize) -> Option<&mut [Block]> {
        if n > MAX_BLOCKS {
            return None;
        }
        if self.blocks.len() < n {
            self.blocks.resize(n, Block::new());
        }
        self.blocks.get_mut(..n)
    }

    /// Hashes with the current parameters and the given salt; returns a PHC string.
    fn hash_with(
        &mut self,
        password: &str,
        salt: &[u8],
        params: Params,
    ) -> Result<String, SecureError> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; OUTPUT_LEN];
        let memory = self
            .memory(params.block_count())
            .ok_or(SecureError::Crypto)?;
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
            .map_err(|_| SecureError::Crypto)?;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Hashes `password` with Argon2id, the current parameters and a fresh random salt; returns a PHC string.
    pub fn hash(&mut self, password: &str) -> Result<String, SecureError> {
        let salt = crate::rng::bytes::<16>();
        self.hash_with(password, &salt, current_params())
    }

    /// Verifies `password` against a PHC string with that string's own parameters; `false` on mismatch or an
    /// unparsable hash.
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let Ok(version) = Version::try_from(parsed.version.unwrap_or(0x13)) else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        let Some(memory) = self.memory(params.block_count()) else {
            return false;
        };
        if argon
            .hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, memory)
            .is_err()
        {
            return false;
        }
        ct_eq_bytes(&out, expected.as_bytes())
    }

    /// Runs a verification against a fixed dummy hash so that logins for unknown users (and locked accounts)
    /// take about as long as real ones. Always returns `false`.
    pub fn verify_dummy(&mut self, password: &str) -> bool {
        let dummy = match self.dummy.take() {
            Some(d) => d,
            None => self.hash("shanzhi-dummy-password").unwrap_or_default(),
        };
        let _ = self.verify(password, &dummy);
        self.dummy = Some(dummy);
        false
    }
}

fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Whether a stored PHC string was made with other than the current algorithm, version or parameters (or cannot
/// be read), so that it should be replaced by a fresh hash once the password is known to be right.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let current = current_params();
    let same_params = Params::try_from(&parsed).is_ok_and(|p| {
        p.m_cost() == current.m_cost()
            && p.t_cost() == current.t_cost()
            && p.p_cost() == current.p_cost()
            && p.output_len().unwrap_or(OUTPUT_LEN) == OUTPUT_LEN
    });
    !(parsed.algorithm.as_str() == "argon2id" && parsed.version == Some(0x13) && same_params)
}

/// Hashes `password` with Argon2id and a fresh random salt; returns a PHC string (allocates its own memory).
pub fn hash(password: &str) -> Result<String, SecureError> {
    Worker::new().hash(password)
}

/// Hashes with explicit parameters (m KiB, t passes, p lanes): for tests and for operators checking the
/// re-hash on parameter change.
pub fn hash_with_params(password: &str, m: u32, t: u32, p: u32) -> Result<String, SecureError> {
    let params = Params::new(m, t, p, Some(OUTPUT_LEN)).map_err(|_| SecureError::Crypto)?;
    let salt = crate::rng::bytes::<16>();
    Worker::new().hash_with(password, &salt, params)
}

/// Verifies `password` against a PHC string; `false` on mismatch or unparsable hash (allocates its own memory).
pub fn verify(password: &str, phc: &str) -> bool {
    Worker::new().verify(password, phc)
}

/// [`Worker::verify_dummy`] with a fresh worker. Always returns `false`.
pub fn verify_dummy(password: &str) -> bool {
    Worker::new().verify_dummy(password)
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
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hash_and_verify() {
        let h = hash("正确的密码 correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("正确的密码 correct horse", &h));
        assert!(!verify("wrong password", &h));
        assert!(!verify("anything", "not a phc string"));
        // Salted: two hashes of the same password differ.
        assert_ne!(h, hash("正确的密码 correct horse").unwrap());
    }

    #[test]
    fn compatible_with_the_argon2_crate() {
        let ours = hash("pw-1").unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pw-1", ours.as_str())
                .is_ok()
        );
        let salt = crate::rng::bytes::<16>();
        let theirs = Argon2::default()
            .hash_password_with_salt(b"pw-2", &salt)
            .unwrap()
            .to_string();
        assert!(verify("pw-2", &theirs));
        assert!(!verify("pw-3", &theirs));
        assert!(!needs_rehash(&theirs));
    }

    #[test]
    fn one_worker_reuses_its_buffer() {
        let mut w = Worker::new();
        let h = w.hash("a").unwrap();
        let ptr = w.blocks.as_ptr();
        assert!(w.verify("a", &h));
        assert!(!w.verify("b", &h));
        assert!(!w.verify_dummy("a"));
        // A smaller hash fits in the same buffer.
        let small = hash_with_params("c", 4096, 1, 1).unwrap();
        assert!(w.verify("c", &small));
        assert_eq!(w.blocks.as_ptr(), ptr, "no reallocation");
        assert_eq!(w.blocks.len(), current_params().block_count());
    }

    #[test]
    fn rehash_when_parameters_change() {
        let old = hash_with_params("x", 8192, 1, 1).unwrap();
        assert!(old.contains("m=8192,t=1,p=1"));
        assert!(verify("x", &old));
        assert!(needs_rehash(&old));
        assert!(!needs_rehash(&hash("x").unwrap()));
        assert!(needs_rehash("garbage"));
    }

    #[test]
    fn dummy_is_false() {
        assert!(!verify_dummy("shanzhi-dummy-password"));
        assert!(!verify_dummy("x"));
    }
}
