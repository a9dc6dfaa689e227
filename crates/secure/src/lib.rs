//! Security primitives for 善治 (shanzhi): a personal-data vault (AES-256-GCM +
//! keyed search hash), password hashing (Argon2id), random tokens, TOTP, QR
//! codes and the hash chain used by the audit log.

pub mod chain;
mod error;
pub mod password;
pub mod qr;
mod rng;
pub mod token;
pub mod totp;
mod vault;

pub use error::SecureError;
pub use vault::Vault;
