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

/// A PNG image of the QR code for `data` (level M): `scale` pixels per module, a four-module quiet zone, black on
/// white, 8-bit grayscale — for posters printed outside the browser.
pub fn png(data: &str, scale: u32) -> Result<Vec<u8>, SecureError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| SecureError::Qr(e.to_string()))?;
    let modules = u32::try_from(code.width()).map_err(|e| SecureError::Qr(e.to_string()))?;
    let colors = code.to_colors();
    let quiet = 4;
    let scale = scale.clamp(1, 40);
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let i = u32::try_from(i).map_err(|e| SecureError::Qr(e.to_string()))?;
        let (mx, my) = (i % modules + quiet, i / modules + quiet);
        for y in my * scale..(my + 1) * scale {
            let row = (y * side) as usize;
            pixels[row + (mx * scale) as usize..row + ((mx + 1) * scale) as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut out, side, side);
        encoder.set_color(::png::ColorType::Grayscale);
        encoder.set_depth(::png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| SecureError::Qr(e.to_string()))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| SecureError::Qr(e.to_string()))?;
    }
    Ok(out)
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
    fn renders_png() {
        let p = png("http://127.0.0.1/join/fanjia", 8).unwrap();
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = ::png::Decoder::new(std::io::Cursor::new(p));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width % 8, 0);
    }

    #[test]
    fn too_long_is_error() {
        let huge = "x".repeat(10_000);
        assert!(matches!(svg(&huge), Err(SecureError::Qr(_))));
    }
}
