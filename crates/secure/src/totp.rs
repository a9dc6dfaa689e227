//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps).

use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::SecureError;

/// Issuer shown in authenticator apps.
const ISSUER: &str = "善治";

/// A new random 160-bit secret, base32 (RFC 4648, no padding).
pub fn new_secret() -> String {
    Secret::new_stack(crate::rng::bytes::<20>()).to_base32()
}

/// Builds the TOTP generator; tolerates lowercase, spaces and `=` padding in the secret.
fn build(secret_b32: &str, account: Option<&str>) -> Result<Totp, SecureError> {
    let cleaned: String = secret_b32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let secret = Secret::try_from_base32(&cleaned).map_err(|e| SecureError::Totp(e.to_string()))?;
    let mut builder = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret);
    if let Some(account) = account {
        builder = builder.with_issuer(Some(ISSUER)).with_account_name(account);
    }
    builder
        .build()
        .map_err(|e| SecureError::Totp(e.to_string()))
}

/// `otpauth://totp/...` provisioning URL (issuer "善治", SHA1, 6 digits, 30 s).
/// The account name must not contain `:`.
pub fn otpauth_url(secret_b32: &str, account: &str) -> Result<String, SecureError> {
    if account.is_empty() {
        return Err(SecureError::Totp("account name is empty".into()));
    }
    build(secret_b32, Some(account))?
        .to_url()
        .map_err(|e| SecureError::Totp(e.to_string()))
}

/// Accepts the code for `unix_time` and for one step before or after.
/// Returns `false` for an invalid secret or malformed code.
pub fn verify(secret_b32: &str, code: &str, unix_time: u64) -> bool {
    verify_step(secret_b32, code, unix_time).is_some()
}

/// Like [`verify`], but returns the time step (unix time / 30) the code belongs to, so that the caller can refuse
/// a step it has already accepted (RFC 6238 §5.2: a code is accepted once).
pub fn verify_step(secret_b32: &str, code: &str, unix_time: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    build(secret_b32, None).ok()?.check(code, unix_time)
}

/// The 6-digit code valid at `unix_time`.
pub fn code_at(secret_b32: &str, unix_time: u64) -> Result<String, SecureError> {
    Ok(build(secret_b32, None)?.generate(unix_time).to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B test secret ("12345678901234567890").
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 2_000_000_000).unwrap(), "279037");
    }

    #[test]
    fn roundtrip_with_skew() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        let t = 1_700_000_000;
        let code = code_at(&s, t).unwrap();
        assert_eq!(code.len(), 6);
        assert!(verify(&s, &code, t));
        assert!(verify(&s, &code, t + 30));
        assert!(verify(&s, &code, t - 30));
        assert!(!verify(&s, &code, t + 300));
        assert!(!verify(&s, &code, t - 300));
        assert!(!verify(&s, "abcdef", t));
        assert!(!verify("not base32!", &code, t));
        assert_eq!(verify_step(&s, &code, t), Some(t / 30));
        assert_eq!(verify_step(&s, &code, t + 30), Some(t / 30));
        assert_eq!(verify_step(&s, "000000x", t), None);
        // Lowercase secret is accepted too.
        assert!(verify(&s.to_lowercase(), &code, t));
    }

    #[test]
    fn url() {
        let s = new_secret();
        let url = otpauth_url(&s, "alice").unwrap();
        assert!(url.starts_with("otpauth://totp/"));
        assert!(url.contains(&format!("secret={s}")));
        assert!(url.contains("issuer="));
        assert!(url.contains("alice"));
        assert!(otpauth_url(&s, "bad:name").is_err());
        assert!(otpauth_url("", "alice").is_err());
    }
}
