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

/// Failures of a login name are forgotten after this long without another one (so rows for names nobody owns
/// can be pruned, and a real account is treated exactly alike).
pub const FAILURE_MEMORY_HOURS: i64 = 24;
/// Failed logins allowed from one client address within the window.
pub const MAX_ADDRESS_FAILURES: i64 = 30;
pub const ADDRESS_WINDOW_MINUTES: i64 = 10;

/// Failed logins recorded under one key: a login name (an account, or a name no account has) or a client
/// address. The same rules apply to an account and to an unknown name, so lockout cannot tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    pub failures: i64,
    pub first_at: i64,
    pub last_at: i64,
    pub locked_until: Option<i64>,
}

impl Attempts {
    /// A login name is locked for [`LOCK_MINUTES`] from its [`MAX_FAILURES`]th failure in a row.
    pub fn locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| t > now.0)
    }

    /// A login name after one more failure. Failures count in a row until a success (which deletes the record)
    /// or [`FAILURE_MEMORY_HOURS`] without a failure; once the count has reached the limit every further failure
    /// locks again.
    pub fn after_failure(prev: Option<Attempts>, now: Timestamp) -> Attempts {
        let (failures, first_at, locked_until) = match prev {
            Some(p) if !p.forgotten(now) => (p.failures + 1, p.first_at, p.locked_until),
            _ => (1, now.0, None),
        };
        Attempts {
            failures,
            first_at,
            last_at: now.0,
            locked_until: if failures >= MAX_FAILURES {
                Some(now.plus_minutes(LOCK_MINUTES).0)
            } else {
                locked_until
            },
        }
    }

    /// A client address is throttled once it has [`MAX_ADDRESS_FAILURES`] failures within a window of
    /// [`ADDRESS_WINDOW_MINUTES`] that started at its first failure.
    pub fn throttled(&self, now: Timestamp) -> bool {
        now.0 - self.first_at < ADDRESS_WINDOW_MINUTES * 60_000
            && self.failures >= MAX_ADDRESS_FAILURES
    }

    /// A client address after one more failure: a new window starts when the old one has passed.
    pub fn after_address_failure(prev: Option<Attempts>, now: Timestamp) -> Attempts {
        match prev {
            Some(p) if now.0 - p.first_at < ADDRESS_WINDOW_MINUTES * 60_000 => Attempts {
                failures: p.failures + 1,
                first_at: p.first_at,
                last_at: now.0,
                locked_until: None,
            },
            _ => Attempts {
                failures: 1,
                first_at: now.0,
                last_at: now.0,
                locked_until: None,
            },
        }
    }

    /// Whether the record no longer affects anything (and may be deleted).
    pub fn forgotten(&self, now: Timestamp) -> bool {
        now.0 - self.last_at >= FAILURE_MEMORY_HOURS * 3_600_000 && !self.locked(now)
    }
}

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
    fn lockout_after_five_failures_in_a_row() {
        let t0 = Timestamp(1_000_000_000);
        let mut a = None;
        for i in 1..=MAX_FAILURES {
            let next = Attempts::after_failure(a, t0);
            assert_eq!(next.failures, i);
            assert_eq!(next.locked(t0), i == MAX_FAILURES, "failure {i}");
            a = Some(next);
        }
        let a = a.unwrap_or(Attempts::after_failure(None, t0));
        let later = t0.plus_minutes(LOCK_MINUTES);
        assert!(!a.locked(later), "the lock ends");
        // Still counting in a row: the next failure locks again at once.
        assert!(Attempts::after_failure(Some(a), later).locked(later));
        // After a quiet day the count starts again.
        let day = t0.plus_minutes(FAILURE_MEMORY_HOURS * 60);
        assert!(a.forgotten(day));
        let fresh = Attempts::after_failure(Some(a), day);
        assert_eq!((fresh.failures, fresh.locked(day)), (1, false));
    }

    #[test]
    fn address_window() {
        let t0 = Timestamp(1_000_000_000);
        let mut a = None;
        for _ in 0..MAX_ADDRESS_FAILURES {
            assert!(!a.is_some_and(|x: Attempts| x.throttled(t0)));
            a = Some(Attempts::after_address_failure(a, t0));
        }
        let a = a.unwrap_or(Attempts::after_address_failure(None, t0));
        assert!(a.throttled(t0));
        assert!(a.throttled(t0.plus_minutes(ADDRESS_WINDOW_MINUTES - 1)));
        let end = t0.plus_minutes(ADDRESS_WINDOW_MINUTES);
        assert!(!a.throttled(end), "the window ends");
        assert_eq!(Attempts::after_address_failure(Some(a), end).failures, 1);
    }

    #[test]
    fn expiry() {
        let t = Timestamp(0);
        assert!(!expired(t, t.plus_days(90)));
        assert!(expired(t, t.plus_days(91)));
    }
}
