//! Security primitives for 善治 (shanzhi): a personal-data vault (AES-256-GCM +
//! keyed search hash), password hashing (Argon2id), random tokens, TOTP, QR
//! codes, the hash chain used by the audit log and its checkpoint signing key.

pub mod chain;
mod error;
pub mod password;
pub mod qr;
mod rng;
pub mod signing;
pub mod token;
pub mod totp;
mod vault;

pub use error::SecureError;
pub use vault::Vault;

/// Creates a directory (and its missing parents) with mode 0700; an existing directory is left as it is.
pub fn create_private_dir(path: &std::path::Path) -> Result<(), SecureError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| SecureError::Io(format!("{}: {e}", path.display())))
}
