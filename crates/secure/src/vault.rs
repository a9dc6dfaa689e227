//! Personal-data vault: AES-256-GCM encryption of sensitive fields (phone and
//! ID numbers) with key rotation, plus an HMAC-SHA256 "search hash" that lets
//! callers look values up by exact match without decrypting.
//!
//! Key file format (UTF-8 text, one entry per line, blank lines ignored):
//!
//! ```text
//! enc k1 <base64 of 32 bytes>
//! enc k2 <base64 of 32 bytes>     <- the last `enc` line is the active key
//! hmac <base64 of 32 bytes>       <- exactly one
//! ```

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::SecureError;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Personal-data vault holding the encryption keys and the search-hash key.
#[derive(Clone)]
pub struct Vault {
    /// `(key id, cipher)` in file order; the last one is active.
    keys: Vec<(String, Aes256Gcm)>,
    /// HMAC-SHA256 keyed with the search key (key already absorbed).
    search: Hmac<Sha256>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Vault")
            .field("keys", &ids)
            .finish_non_exhaustive()
    }
}

/// Parsed key file contents.
struct KeyFile {
    enc: Vec<(String, [u8; 32])>,
    hmac: [u8; 32],
}

fn decode_key(b64: &str, line_no: usize) -> Result<[u8; 32], SecureError> {
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| SecureError::KeyFile(format!("line {line_no}: key is not valid base64")))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| SecureError::KeyFile(format!("line {line_no}: key must be 32 bytes")))
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 32
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn parse(text: &str) -> Result<KeyFile, SecureError> {
    let mut enc: Vec<(String, [u8; 32])> = Vec::new();
    let mut hmac = None;
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [] => {}
            ["enc", kid, key] => {
                if !valid_kid(kid) {
                    return Err(SecureError::KeyFile(format!(
                        "line {line_no}: invalid key id"
                    )));
                }
                if enc.iter().any(|(k, _)| k == kid) {
                    return Err(SecureError::KeyFile(format!(
                        "line {line_no}: duplicate key id {kid}"
                    )));
                }
                enc.push(((*kid).to_owned(), decode_key(key, line_no)?));
            }
            ["hmac", key] => {
                if hmac.is_some() {
                    return Err(SecureError::KeyFile(format!(
                        "line {line_no}: more than one hmac line"
                    )));
                }
                hmac = Some(decode_key(key, line_no)?);
            }
            _ => {
                return Err(SecureError::KeyFile(format!(
                    "line {line_no}: unrecognised entry"
                )));
            }
        }
    }
    let hmac = hmac.ok_or_else(|| SecureError::KeyFile("missing hmac line".into()))?;
    if enc.is_empty() {
        return Err(SecureError::KeyFile("no enc key".into()));
    }
    Ok(KeyFile { enc, hmac })
}

fn enc_line(kid: &str, key: &[u8; 32]) -> String {
    format!("enc {kid} {}\n", STANDARD.encode(key))
}

fn read_key_file(path: &Path) -> Result<KeyFile, SecureError> {
    let text = fs::read_to_string(path)
        .map_err(|e| SecureError::Io(format!("{}: {e}", path.display())))?;
    parse(&text)
}

impl Vault {
    fn from_keys(enc: Vec<(String, [u8; 32])>, hmac_key: &[u8; 32]) -> Vault {
        let keys = enc
            .into_iter()
            .map(|(kid, key)| (kid, Aes256Gcm::new(&key.into())))
            .collect();
        // HMAC zero-pads keys shorter than the block size, so padding the
        // 32-byte key to the 64-byte SHA-256 block gives the identical MAC.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(hmac_key);
        let search = <Hmac<Sha256> as KeyInit>::new(&block.into());
        Vault { keys, search }
    }

    /// Opens the key file, creating it with one fresh key (id `k1`) and a
    /// fresh search key if it does not exist. A new file gets mode 0600 and
    /// its parent directories are created. A malformed file is refused with
    /// [`SecureError::KeyFile`]; it is never regenerated.
    pub fn open_or_create(path: &Path) -> Result<Vault, SecureError> {
        if !path.exists() {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                crate::create_private_dir(parent)?;
            }
            let enc_key = crate::rng::bytes::<32>();
            let hmac_key = crate::rng::bytes::<32>();
            let text = format!(
                "{}hmac {}\n",
                enc_line("k1", &enc_key),
                STANDARD.encode(hmac_key)
            );
            // create_new: never clobber a file that appeared concurrently.
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| SecureError::Io(format!("{}: {e}", path.display())))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        let kf = read_key_file(path)?;
        Ok(Vault::from_keys(kf.enc, &kf.hmac))
    }

    /// Appends a new key (id `k{n+1}`, n = number of existing keys) to the
    /// key file and makes it active; older keys still decrypt. Creates the
    /// file first if it is missing. Returns the new key id.
    pub fn rotate(path: &Path) -> Result<String, SecureError> {
        Vault::open_or_create(path)?;
        let kf = read_key_file(path)?;
        let mut n = kf.enc.len() + 1;
        let mut kid = format!("k{n}");
        while kf.enc.iter().any(|(k, _)| *k == kid) {
            n += 1;
            kid = format!("k{n}");
        }
        let existing = fs::read(path)?;
        let mut line = String::new();
        if existing.last().is_some_and(|b| *b != b'\n') {
            line.push('\n');
        }
        line.push_str(&enc_line(&kid, &crate::rng::bytes::<32>()));
        let mut file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| SecureError::Io(format!("{}: {e}", path.display())))?;
        file.write_all(line.as_bytes())?;
        file.sync_all()?;
        Ok(kid)
    }

    /// In-memory vault with random keys (for tests).
    pub fn ephemeral() -> Vault {
        Vault::from_keys(
            vec![("k1".to_owned(), crate::rng::bytes::<32>())],
            &crate::rng::bytes::<32>(),
        )
    }

    /// Id of the key used for new encryptions.
    pub fn active_key_id(&self) -> &str {
        self.keys.last().map(|(id, _)| id.as_str()).unwrap_or("")
    }

    /// Encrypts with the active key; returns `"<kid>:<base64(nonce12 || ciphertext)>"`
    /// using a fresh random nonce. The key id is bound as associated data.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, SecureError> {
        let (kid, cipher) = self.keys.last().ok_or(SecureError::Crypto)?;
        let nonce_bytes = crate::rng::bytes::<NONCE_LEN>();
        let nonce = Nonce::from(nonce_bytes);
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| SecureError::Crypto)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce_bytes);
        blob.extend_from_slice(&ct);
        Ok(format!("{kid}:{}", STANDARD.encode(blob)))
    }

    /// Decrypts a value produced by [`Vault::encrypt`] with any known key.
    pub fn decrypt(&self, stored: &str) -> Result<String, SecureError> {
        let (kid, b64) = stored.split_once(':').ok_or(SecureError::Encoding)?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .ok_or_else(|| SecureError::UnknownKey(kid.to_owned()))?;
        let blob = STANDARD.decode(b64).map_err(|_| SecureError::Encoding)?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(SecureError::Encoding);
        }
        let (nonce_bytes, ct) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce_bytes).map_err(|_| SecureError::Encoding)?;
        let pt = cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ct,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| SecureError::Crypto)?;
        String::from_utf8(pt).map_err(|_| SecureError::Encoding)
    }

    /// `hex(HMAC-SHA256(search_key, value))`: deterministic, for exact-match
    /// lookups. Callers must normalise the value first.
    pub fn search_hash(&self, value: &str) -> String {
        let mut mac = self.search.clone();
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// `hex(HMAC-SHA256(k_purpose, value))` where `k_purpose = HMAC-SHA256(search_key, "shanzhi-derive\0" ||
    /// purpose)`: a keyed hash for another use (CSRF tokens, login-attempt keys) that every instance sharing the
    /// key file computes alike, yet never equals a search hash or another purpose's value.
    pub fn purpose_mac(&self, purpose: &str, value: &str) -> String {
        hex::encode(self.purpose_mac_bytes(purpose, value))
    }

    /// [`Vault::purpose_mac`] as base64url without padding (43 characters; for tokens shown in pages, where a
    /// long run of digits would look like a personal number).
    pub fn purpose_token(&self, purpose: &str, value: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.purpose_mac_bytes(purpose, value))
    }

    fn purpose_mac_bytes(&self, purpose: &str, value: &str) -> Vec<u8> {
        let mut derive = self.search.clone();
        derive.update(b"shanzhi-derive\0");
        derive.update(purpose.as_bytes());
        let key = derive.finalize().into_bytes();
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&key);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn roundtrip() {
        let v = Vault::ephemeral();
        let s = v.encrypt("13800138000").unwrap();
        assert!(s.starts_with("k1:"));
        assert_eq!(v.decrypt(&s).unwrap(), "13800138000");
        assert_eq!(v.decrypt(&v.encrypt("").unwrap()).unwrap(), "");
        let id = "11010519491231002X 张三";
        assert_eq!(v.decrypt(&v.encrypt(id).unwrap()).unwrap(), id);
    }

    #[test]
    fn nonces_differ() {
        let v = Vault::ephemeral();
        assert_ne!(v.encrypt("same").unwrap(), v.encrypt("same").unwrap());
    }

    #[test]
    fn tampering_fails() {
        let v = Vault::ephemeral();
        let s = v.encrypt("13800138000").unwrap();
        let (kid, b64) = s.split_once(':').unwrap();
        let mut blob = STANDARD.decode(b64).unwrap();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        let bad = format!("{kid}:{}", STANDARD.encode(&blob));
        assert!(matches!(v.decrypt(&bad), Err(SecureError::Crypto)));
        blob[last] ^= 1;
        blob[NONCE_LEN] ^= 0x80;
        let bad = format!("{kid}:{}", STANDARD.encode(&blob));
        assert!(matches!(v.decrypt(&bad), Err(SecureError::Crypto)));
        assert!(matches!(
            v.decrypt(&format!("k9:{b64}")),
            Err(SecureError::UnknownKey(k)) if k == "k9"
        ));
        assert!(matches!(v.decrypt("nocolon"), Err(SecureError::Encoding)));
        assert!(matches!(v.decrypt("k1:!!!"), Err(SecureError::Encoding)));
        assert!(matches!(v.decrypt("k1:AAAA"), Err(SecureError::Encoding)));
        // A different vault cannot decrypt.
        assert!(Vault::ephemeral().decrypt(&s).is_err());
    }

    #[test]
    fn file_created_with_0600_and_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/keys.txt");
        let v = Vault::open_or_create(&path).unwrap();
        assert_eq!(v.active_key_id(), "k1");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let s = v.encrypt("hello").unwrap();
        let v2 = Vault::open_or_create(&path).unwrap();
        assert_eq!(v2.decrypt(&s).unwrap(), "hello");
        assert_eq!(v.search_hash("x"), v2.search_hash("x"));
    }

    #[test]
    fn rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.txt");
        let v1 = Vault::open_or_create(&path).unwrap();
        let old = v1.encrypt("old value").unwrap();
        assert_eq!(Vault::rotate(&path).unwrap(), "k2");
        let v2 = Vault::open_or_create(&path).unwrap();
        assert_eq!(v2.active_key_id(), "k2");
        assert_eq!(v2.decrypt(&old).unwrap(), "old value");
        let new = v2.encrypt("new value").unwrap();
        assert!(new.starts_with("k2:"));
        assert_eq!(v2.decrypt(&new).unwrap(), "new value");
        assert_eq!(v1.search_hash("a"), v2.search_hash("a"));
        assert_eq!(Vault::rotate(&path).unwrap(), "k3");
        let v3 = Vault::open_or_create(&path).unwrap();
        assert_eq!(v3.decrypt(&old).unwrap(), "old value");
        assert_eq!(v3.decrypt(&new).unwrap(), "new value");
        assert_eq!(
            format!("{v3:?}"),
            r#"Vault { keys: ["k1", "k2", "k3"], .. }"#
        );
    }

    #[test]
    fn malformed_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let good_key = STANDARD.encode([7u8; 32]);
        let cases = [
            String::new(),
            "garbage\n".to_owned(),
            format!("enc k1 {good_key}\n"),
            format!("hmac {good_key}\n"),
            format!("enc k1 short\nhmac {good_key}\n"),
            format!("enc k1 {}\nhmac {good_key}\n", STANDARD.encode([1u8; 16])),
            format!("enc k1 {good_key}\nenc k1 {good_key}\nhmac {good_key}\n"),
            format!("enc k1 {good_key}\nhmac {good_key}\nhmac {good_key}\n"),
            format!("enc k:1 {good_key}\nhmac {good_key}\n"),
        ];
        for (i, text) in cases.iter().enumerate() {
            let path = dir.path().join(format!("bad{i}"));
            fs::write(&path, text).unwrap();
            let res = Vault::open_or_create(&path);
            assert!(
                matches!(res, Err(SecureError::KeyFile(_))),
                "case {i} accepted"
            );
            assert!(Vault::rotate(&path).is_err());
            assert_eq!(&fs::read_to_string(&path).unwrap(), text);
        }
        let path = dir.path().join("good");
        fs::write(&path, format!("enc k1 {good_key}\n\nhmac {good_key}")).unwrap();
        assert!(Vault::open_or_create(&path).is_ok());
        assert_eq!(Vault::rotate(&path).unwrap(), "k2");
        assert_eq!(Vault::open_or_create(&path).unwrap().active_key_id(), "k2");
    }

    #[test]
    fn search_hash_properties() {
        let a = Vault::ephemeral();
        let b = Vault::ephemeral();
        let h = a.search_hash("13800138000");
        assert_eq!(h, a.search_hash("13800138000"));
        assert_eq!(h.len(), 64);
        assert_ne!(h, a.search_hash("13800138001"));
        assert_ne!(h, b.search_hash("13800138000"));
    }

    #[test]
    fn search_hash_matches_plain_hmac() {
        // Padding the key to the block size must equal HMAC with the raw key.
        let key = [42u8; 32];
        let v = Vault::from_keys(vec![("k1".into(), [0u8; 32])], &key);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(b"value");
        assert_eq!(
            v.search_hash("value"),
            hex::encode(mac.finalize().into_bytes())
        );
    }

    #[test]
    fn purpose_macs_are_keyed_and_separated() {
        let a = Vault::ephemeral();
        let h = a.purpose_mac("csrf", "token");
        assert_eq!(h.len(), 64);
        assert_eq!(h, a.purpose_mac("csrf", "token"));
        assert_ne!(h, a.purpose_mac("login", "token"));
        assert_ne!(h, a.search_hash("token"));
        assert_ne!(h, Vault::ephemeral().purpose_mac("csrf", "token"));
        assert_eq!(a.purpose_token("csrf", "token").len(), 43);
    }

    #[test]
    fn debug_hides_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.txt");
        let v = Vault::open_or_create(&path).unwrap();
        let dbg = format!("{v:?}");
        assert_eq!(dbg, r#"Vault { keys: ["k1"], .. }"#);
        let text = fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let key = line.split_whitespace().last().unwrap();
            assert!(!dbg.contains(key));
        }
    }
}
