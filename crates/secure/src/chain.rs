//! Hash chain links for the tamper-evident audit log.

use sha2::{Digest, Sha256};

/// Lowercase hex `sha256(prev_hash || "\n" || canonical)`.
pub fn link(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sensitive() {
        let a = link("", "event-1");
        assert_eq!(a, link("", "event-1"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, link("", "event-2"));
        assert_ne!(a, link("x", "event-1"));
        // The separator prevents boundary shifting between the two inputs.
        assert_ne!(link("ab", "c"), link("a", "bc"));
        let b = link(&a, "event-2");
        assert_ne!(b, link(&link("", "event-X"), "event-2"));
    }
}
