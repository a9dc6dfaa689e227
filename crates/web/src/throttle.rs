//! Failed-login throttling per client address, on top of the per-account lockout: it slows password spraying across
//! many accounts from one address. The address is the TCP peer (never a forwarded header, which clients forge). The
//! counts live in this instance's memory; with several instances each applies its own limit.

use std::collections::HashMap;
use std::sync::Mutex;

use shanzhi_domain::Timestamp;

/// Failures allowed from one address within the window.
pub const MAX_FAILURES: u32 = 30;
pub const WINDOW_MINUTES: i64 = 10;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (i64, u32)>>,
}

impl LoginThrottle {
    /// Whether this address has used up its failures for the current window.
    pub fn blocked(&self, addr: Option<&str>, now: Timestamp) -> bool {
        let Some(addr) = addr else { return false };
        let Ok(map) = self.failures.lock() else {
            return false;
        };
        map.get(addr)
            .is_some_and(|(start, n)| now.0 - start < WINDOW_MINUTES * 60_000 && *n >= MAX_FAILURES)
    }

    /// Records a failed login from this address.
    pub fn failed(&self, addr: Option<&str>, now: Timestamp) {
        let Some(addr) = addr else { return };
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        // Forget old windows so the map cannot grow without bound.
        if map.len() > 10_000 {
            map.retain(|_, (start, _)| now.0 - *start < WINDOW_MINUTES * 60_000);
        }
        let entry = map.entry(addr.to_string()).or_insert((now.0, 0));
        if now.0 - entry.0 >= WINDOW_MINUTES * 60_000 {
            *entry = (now.0, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_within_the_window_only() {
        let t = LoginThrottle::default();
        let now = Timestamp(1_000_000);
        for _ in 0..MAX_FAILURES {
            assert!(!t.blocked(Some("10.0.0.1"), now));
            t.failed(Some("10.0.0.1"), now);
        }
        assert!(t.blocked(Some("10.0.0.1"), now));
        assert!(
            !t.blocked(Some("10.0.0.2"), now),
            "other addresses are unaffected"
        );
        assert!(
            !t.blocked(Some("10.0.0.1"), now.plus_minutes(WINDOW_MINUTES)),
            "the window ends"
        );
        assert!(!t.blocked(None, now));
    }
}
