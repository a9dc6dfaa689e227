//! Password rules of the 等保三级 profile: at least 8 characters from three of four classes; admins must change a
//! password older than 90 days.

use crate::error::Code;
use crate::time::Timestamp;

pub const MAX_AGE_DAYS: i64 = 90;
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// Sessions end after 30 idle minutes and at most 12 hours after login.
pub const SESSION_IDLE_MINUTES: i64 = 30;
pub const SESSION_ABSOLUTE_HOURS: i64 = 12;

/// Checks a new password against the policy.
pub fn check_policy(password: &str) -> Result<(), Code> {
    if password.chars().count() < 8 || password.len() > 128 {
        return Err(Code::WeakPassword);
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|&&b| b).count() >= 3 {
        Ok(())
    } else {
        Err(Code::WeakPassword)
    }
}

/// Whether a password set at `changed_at` has expired for an admin at `now`.
pub fn expired(changed_at: Timestamp, now: Timestamp) -> bool {
    now.0 - changed_at.0 > MAX_AGE_DAYS * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("Shanzhi#2026").is_ok());
        assert!(check_policy("shanzhi2026!").is_ok());
        assert_eq!(check_policy("short1A"), Err(Code::WeakPassword));
        assert_eq!(check_policy("alllowercase"), Err(Code::WeakPassword));
        assert_eq!(check_policy("lower12345"), Err(Code::WeakPassword));
    }

    #[test]
    fn expiry() {
        let t = Timestamp(0);
        assert!(!expired(t, t.plus_days(90)));
        assert!(expired(t, t.plus_days(91)));
    }
}
