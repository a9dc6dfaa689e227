//! The audit checkpoint signing key: an Ed25519 key kept in its own file in the data directory, apart from the
//! database, so whoever can rewrite the database cannot forge a checkpoint.
//!
//! Key file format (UTF-8 text): one line `ed25519 <base64 of the 32-byte secret seed>`.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::SecureError;

/// The private signing key (never printed).
pub struct AuditSigningKey {
    key: SigningKey,
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSigningKey")
            .field("key_id", &self.public().key_id())
            .finish_non_exhaustive()
    }
}

/// A public key that checks checkpoint signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditPublicKey {
    key: VerifyingKey,
}

impl fmt::Debug for AuditPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditPublicKey({})", self.to_hex())
    }
}

impl AuditSigningKey {
    /// Opens the key file, creating it (mode 0600, parent directories 0700) with a fresh key if it does not
    /// exist. A malformed file is refused, never regenerated.
    pub fn open_or_create(path: &Path) -> Result<AuditSigningKey, SecureError> {
        if !path.exists() {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                crate::create_private_dir(parent)?;
            }
            let seed = crate::rng::bytes::<32>();
            let text = format!("ed25519 {}\n", STANDARD.encode(seed));
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| SecureError::Io(format!("{}: {e}", path.display())))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        let text = fs::read_to_string(path)
            .map_err(|e| SecureError::Io(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    fn parse(text: &str) -> Result<AuditSigningKey, SecureError> {
        let mut found = None;
        for (idx, line) in text.lines().enumerate() {
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                [] => {}
                ["ed25519", b64] if found.is_none() => {
                    let bytes = STANDARD.decode(b64).map_err(|_| {
                        SecureError::KeyFile(format!("line {}: key is not valid base64", idx + 1))
                    })?;
                    let seed = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                        SecureError::KeyFile(format!("line {}: key must be 32 bytes", idx + 1))
                    })?;
                    found = Some(seed);
                }
                _ => {
                    return Err(SecureError::KeyFile(format!(
                        "line {}: unrecognised entry",
                        idx + 1
                    )));
                }
            }
        }
        let seed = found.ok_or_else(|| SecureError::KeyFile("missing ed25519 line".into()))?;
        Ok(AuditSigningKey {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A random in-memory key (for tests).
    pub fn ephemeral() -> AuditSigningKey {
        AuditSigningKey {
            key: SigningKey::from_bytes(&crate::rng::bytes::<32>()),
        }
    }

    pub fn public(&self) -> AuditPublicKey {
        AuditPublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// Lowercase hex of the 64-byte signature over `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.key.sign(message).to_bytes())
    }
}

impl AuditPublicKey {
    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<AuditPublicKey, SecureError> {
        let bytes = hex::decode(s.trim()).map_err(|_| SecureError::Encoding)?;
        let bytes = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| SecureError::Encoding)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| SecureError::Encoding)?;
        Ok(AuditPublicKey { key })
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// A short name for the key: the first 8 bytes of SHA-256 of the public key, in hex.
    pub fn key_id(&self) -> String {
        let digest = Sha256::digest(self.key.to_bytes());
        hex::encode(&digest[..8])
    }

    /// Whether `signature_hex` is a valid signature of `message` by this key (strict verification).
    pub fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Ok(bytes) = hex::decode(signature_hex) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&bytes) else {
            return false;
        };
        self.key.verify_strict(message, &sig).is_ok() && self.key.verify(message, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_private_and_reloaded_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("audit-signing.key");
        let k1 = AuditSigningKey::open_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dmode, 0o700);
        let k2 = AuditSigningKey::open_or_create(&path).unwrap();
        assert_eq!(k1.public(), k2.public());
        assert!(!format!("{k1:?}").contains(&fs::read_to_string(&path).unwrap()[8..20]));
    }

    #[test]
    fn signatures_verify_only_for_the_signed_message_and_key() {
        let k = AuditSigningKey::ephemeral();
        let sig = k.sign(b"checkpoint 1");
        let pk = AuditPublicKey::from_hex(&k.public().to_hex()).unwrap();
        assert!(pk.verify(b"checkpoint 1", &sig));
        assert!(!pk.verify(b"checkpoint 2", &sig));
        assert!(
            !AuditSigningKey::ephemeral()
                .public()
                .verify(b"checkpoint 1", &sig)
        );
        assert!(!pk.verify(b"checkpoint 1", "zz"));
        assert!(!pk.verify(b"checkpoint 1", &"0".repeat(128)));
        assert_eq!(pk.key_id().len(), 16);
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(AuditSigningKey::parse("").is_err());
        assert!(AuditSigningKey::parse("ed25519 AAAA\n").is_err());
        assert!(AuditSigningKey::parse("rsa xyz\n").is_err());
    }
}
