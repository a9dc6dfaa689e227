//! QR code rendering as standalone SVG.

use qrcode::{EcLevel, QrCode, render::svg};

use crate::SecureError;

/// A standalone SVG document (with `width`, `height` and `viewBox`) showing a
/// QR code for `data`, using error-correction level M.
pub fn svg(data: &str) -> Result<String, SecureError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| SecureError::Qr(e.to_string()))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_svg() {
        let s = svg("otpauth://totp/%E5%96%84%E6%B2%BB:alice?secret=ABC").unwrap();
        assert!(s.starts_with("<svg") || s.starts_with("<?xml"));
        assert!(s.contains("svg"));
        assert!(s.contains("viewBox"));
        assert!(s.contains("width="));
    }

    #[test]
    fn too_long_is_error() {
        let huge = "x".repeat(10_000);
        assert!(matches!(svg(&huge), Err(SecureError::Qr(_))));
    }
}
