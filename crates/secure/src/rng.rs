//! Single entry point for randomness (the operating system CSPRNG via `getrandom`).

/// Returns `N` bytes from the operating system CSPRNG.
///
/// A failing OS random source is unrecoverable: continuing with predictable
/// bytes would silently break every key, nonce and token, so we abort loudly.
#[allow(clippy::expect_used)]
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("operating system random source failed");
    buf
}
