//! Error type shared by every module of this crate.

/// Errors returned by the security primitives.
#[derive(Debug, thiserror::Error)]
pub enum SecureError {
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// The key file is malformed or inconsistent.
    #[error("invalid key file: {0}")]
    KeyFile(String),
    /// Encryption or authenticated decryption failed (wrong key or tampered data).
    #[error("cryptographic operation failed")]
    Crypto,
    /// A stored value references a key id the vault does not know.
    #[error("unknown key id: {0}")]
    UnknownKey(String),
    /// A stored value is not in the expected encoding.
    #[error("invalid encoding")]
    Encoding,
    /// QR code generation failed.
    #[error("QR code error: {0}")]
    Qr(String),
    /// TOTP secret or parameters are invalid.
    #[error("TOTP error: {0}")]
    Totp(String),
}

impl From<std::io::Error> for SecureError {
    fn from(e: std::io::Error) -> Self {
        SecureError::Io(e.to_string())
    }
}
