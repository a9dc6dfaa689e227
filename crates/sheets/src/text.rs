//! Small text helpers.

/// Trim whitespace (including U+3000 full-width space and NBSP), BOM and zero-width spaces.
pub(crate) fn clean(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}'))
}

/// Normalised form used to compare headers.
pub(crate) fn header_key(s: &str) -> String {
    let s = clean(s).trim_matches(|c: char| matches!(c, '*' | '＊') || c.is_whitespace());
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{feff}' | '\u{200b}'))
        .map(|c| match c {
            '\u{FF08}' => '(',
            '\u{FF09}' => ')',
            other => other,
        })
        .collect()
}

/// Display width of one character: 2 for CJK / full-width / wide emoji, 0 for controls and
/// zero-width marks, otherwise 1.
pub(crate) fn char_width(c: char) -> usize {
    let cp = u32::from(c);
    if c.is_control() || matches!(cp, 0x200B..=0x200F | 0xFEFF | 0x0300..=0x036F) {
        return 0;
    }
    let wide = matches!(cp,
        0x1100..=0x115F            // Hangul Jamo
        | 0x2E80..=0x303E          // CJK radicals, punctuation (、。「」…)
        | 0x3041..=0x33FF          // kana, bopomofo, CJK compatibility
        | 0x3400..=0x4DBF          // CJK extension A
        | 0x4E00..=0x9FFF          // CJK unified ideographs
        | 0xA000..=0xA4CF          // Yi
        | 0xAC00..=0xD7A3          // Hangul syllables
        | 0xF900..=0xFAFF          // CJK compatibility ideographs
        | 0xFE10..=0xFE19          // vertical forms
        | 0xFE30..=0xFE6F          // CJK compatibility forms, small forms
        | 0xFF01..=0xFF60          // full-width ASCII (,:()…)
        | 0xFFE0..=0xFFE6          // full-width signs (¥ …)
        | 0x1F300..=0x1F64F        // emoji
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD        // CJK extensions B+
    );
    if wide { 2 } else { 1 }
}

/// Excel column letter(s) for a 0-based column index: 0 → "A", 26 → "AA".
pub(crate) fn column_letter(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'A' + (col % 26) as u8));
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.iter().rev().collect()
}

/// Natural text of a spreadsheet number: integers without ".0", never scientific notation,
/// rounded to Excel's 15 significant digits to hide binary noise (0.1+0.2 → "0.3").
pub(crate) fn format_number(f: f64) -> String {
    if !f.is_finite() {
        return String::new();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    // `Display` for f64 never uses exponent notation.
    let s = format!("{rounded}");
    if s == "-0" { "0".to_string() } else { s }
}

/// Excel-style date text from calendar parts.
pub(crate) fn format_datetime(parts: (u16, u8, u8, u8, u8, u8, u16), serial: f64) -> String {
    let (y, mo, d, h, mi, s, _ms) = parts;
    if serial.abs() < 1.0 {
        // Time only.
        return format!("{h:02}:{mi:02}:{s:02}");
    }
    if h == 0 && mi == 0 && s == 0 {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}
