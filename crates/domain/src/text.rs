//! The one rule for text that comes in from outside — JSON bodies, page forms, query strings, uploaded file names
//! and imported cells. The web and import edges call [`clean`] on every string before any handler sees it, so
//! handlers, validators and the database only ever meet text that is:
//!
//! * free of control characters (NUL, DEL, C0/C1 controls), of Unicode line/paragraph separators, of bidi
//!   overrides that make text display differently from what is stored, and of noncharacters — refused with
//!   [`Code::InvalidCharacters`], never silently dropped;
//! * Unicode-normalised to NFC (a name typed as `e` + combining accent equals the precomposed one);
//! * trimmed of surrounding whitespace (including U+3000 full-width space), BOM and zero-width spaces;
//! * at most [`TextKind::max_chars`] characters ([`Code::TooLong`]); fields keep their own, smaller limits.
//!
//! Multi-line fields ([`TextKind::Multiline`]: descriptions, notes, reasons) may keep `\n` and `\t`; `\r\n` and a
//! lone `\r` become `\n`. Secrets ([`TextKind::Secret`]: passwords) are neither trimmed nor normalised — the bytes
//! typed are the bytes hashed — but control characters are refused there too.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::error::Code;

/// How a piece of text is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: names, codes, search terms, filters.
    Line,
    /// Free text that may span lines: descriptions, notes, reasons.
    Multiline,
    /// Passwords: not trimmed, not normalised.
    Secret,
}

impl TextKind {
    /// The upper bound in characters (after normalisation); a backstop above every field's own limit.
    pub const fn max_chars(self) -> usize {
        match self {
            TextKind::Line => 2_000,
            TextKind::Multiline => 20_000,
            TextKind::Secret => 1_024,
        }
    }

    /// The kind of a named input field (JSON key, form field or query parameter). Password fields are secrets;
    /// descriptions, notes, reasons, goals and schedules are multi-line; everything else is one line.
    pub fn of_field(name: &str) -> TextKind {
        const SECRETS: &[&str] = &["password", "current", "new", "confirm"];
        const MULTILINE: &[&str] = &[
            "description",
            "note",
            "notes",
            "reason",
            "goals",
            "schedule",
            "remark",
            "remarks",
            "comment",
            "content",
            "summary",
        ];
        if SECRETS.contains(&name) || name.ends_with("password") {
            TextKind::Secret
        } else if MULTILINE.contains(&name)
            || name.ends_with("_note")
            || name.ends_with("_notes")
            || name.ends_with("_description")
        {
            TextKind::Multiline
        } else {
            TextKind::Line
        }
    }
}

/// Whether a character may never appear in stored text of the given kind.
pub fn is_forbidden(c: char, kind: TextKind) -> bool {
    if kind == TextKind::Multiline && matches!(c, '\n' | '\t' | '\r') {
        return false;
    }
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'                 // line / paragraph separator
            | '\u{202A}'..='\u{202E}'              // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}'              // bidi isolates
            | '\u{FDD0}'..='\u{FDEF}'              // noncharacters
        )
        || (u32::from(c) & 0xFFFE) == 0xFFFE // U+xFFFE / U+xFFFF noncharacters
}

fn is_trimmed(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}')
}

/// Checks and normalises one piece of incoming text (see the module documentation). Borrows when nothing changes.
pub fn clean(input: &str, kind: TextKind) -> Result<Cow<'_, str>, Code> {
    if input.chars().any(|c| is_forbidden(c, kind)) {
        return Err(Code::InvalidCharacters);
    }
    if kind == TextKind::Secret {
        return if input.chars().count() > kind.max_chars() {
            Err(Code::TooLong)
        } else {
            Ok(Cow::Borrowed(input))
        };
    }
    let trimmed = input.trim_matches(is_trimmed);
    let mut out: Cow<'_, str> = if kind == TextKind::Multiline && trimmed.contains('\r') {
        Cow::Owned(trimmed.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(trimmed)
    };
    if is_nfc_quick(out.chars()) != IsNormalized::Yes {
        let nfc: String = out.nfc().collect();
        if nfc != out {
            // Normalisation can move a trimmable mark to an edge only in theory; trim again to be exact.
            out = Cow::Owned(nfc.trim_matches(is_trimmed).to_string());
        }
    }
    if out.chars().count() > kind.max_chars() {
        return Err(Code::TooLong);
    }
    Ok(out)
}

/// [`clean`] for the kind of a named field ([`TextKind::of_field`]).
pub fn clean_field<'a>(field: &str, input: &'a str) -> Result<Cow<'a, str>, Code> {
    clean(input, TextKind::of_field(field))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn nul_and_controls_are_refused_everywhere() {
        for kind in [TextKind::Line, TextKind::Multiline, TextKind::Secret] {
            for bad in [
                "qu_admin\u{0}",
                "\u{0}",
                "a\u{7}b",
                "a\u{1b}[31m",
                "x\u{7f}",
                "x\u{85}y",
                "x\u{9b}y",
                "a\u{2028}b",
                "a\u{202e}cod.exe",
                "a\u{2066}b",
                "a\u{fdd0}",
                "a\u{fffe}",
                "a\u{1ffff}",
            ] {
                assert_eq!(
                    clean(bad, kind),
                    Err(Code::InvalidCharacters),
                    "{bad:?} {kind:?}"
                );
            }
        }
    }

    #[test]
    fn line_refuses_newlines_and_tabs_multiline_keeps_them() {
        assert_eq!(clean("a\nb", TextKind::Line), Err(Code::InvalidCharacters));
        assert_eq!(clean("a\tb", TextKind::Line), Err(Code::InvalidCharacters));
        assert_eq!(
            clean("a\r\nb", TextKind::Line),
            Err(Code::InvalidCharacters)
        );
        assert_eq!(
            clean(" a\n\tb \n", TextKind::Multiline).as_deref(),
            Ok("a\n\tb")
        );
        assert_eq!(
            clean("一\r\n二\r三", TextKind::Multiline).as_deref(),
            Ok("一\n二\n三")
        );
    }

    #[test]
    fn trims_including_full_width_space_bom_and_zero_width_space() {
        assert_eq!(clean("  张三  ", TextKind::Line).as_deref(), Ok("张三"));
        assert_eq!(
            clean("\u{3000}张三\u{3000}", TextKind::Line).as_deref(),
            Ok("张三")
        );
        assert_eq!(
            clean("\u{feff}张三\u{200b}", TextKind::Line).as_deref(),
            Ok("张三")
        );
        assert_eq!(clean("\u{a0}x\u{a0}", TextKind::Line).as_deref(), Ok("x"));
        assert_eq!(clean("   ", TextKind::Line).as_deref(), Ok(""));
        // Inner spaces stay.
        assert_eq!(
            clean("马陆镇 樊家村", TextKind::Line).as_deref(),
            Ok("马陆镇 樊家村")
        );
    }

    #[test]
    fn normalises_to_nfc() {
        // "é" as e + U+0301 becomes U+00E9.
        assert_eq!(
            clean("Jose\u{301}", TextKind::Line).as_deref(),
            Ok("Jos\u{e9}")
        );
        // Hangul jamo compose.
        assert_eq!(
            clean("\u{1100}\u{1161}", TextKind::Line).as_deref(),
            Ok("\u{ac00}")
        );
        // CJK compatibility ideograph U+F900 has a canonical decomposition to U+8C48.
        assert_eq!(clean("\u{f900}", TextKind::Line).as_deref(), Ok("\u{8c48}"));
        // Already NFC: borrowed, untouched.
        assert!(matches!(
            clean("樊家村", TextKind::Line),
            Ok(Cow::Borrowed("樊家村"))
        ));
    }

    #[test]
    fn secrets_are_not_trimmed_or_normalised() {
        assert_eq!(
            clean(" Pa ss#1 ", TextKind::Secret).as_deref(),
            Ok(" Pa ss#1 ")
        );
        assert_eq!(
            clean("e\u{301}", TextKind::Secret).as_deref(),
            Ok("e\u{301}")
        );
        assert_eq!(
            clean("a\tb", TextKind::Secret),
            Err(Code::InvalidCharacters)
        );
    }

    #[test]
    fn length_limits() {
        let ok = "字".repeat(TextKind::Line.max_chars());
        assert!(clean(&ok, TextKind::Line).is_ok());
        let long = format!("{ok}字");
        assert_eq!(clean(&long, TextKind::Line), Err(Code::TooLong));
        // Surrounding whitespace does not count.
        assert!(clean(&format!("  {ok}  "), TextKind::Line).is_ok());
        let secret = "a".repeat(TextKind::Secret.max_chars() + 1);
        assert_eq!(clean(&secret, TextKind::Secret), Err(Code::TooLong));
        let note = "行\n".repeat(TextKind::Multiline.max_chars() / 2);
        assert!(clean(&note, TextKind::Multiline).is_ok());
    }

    #[test]
    fn field_kinds() {
        for f in ["password", "new_password", "current", "new", "confirm"] {
            assert_eq!(TextKind::of_field(f), TextKind::Secret, "{f}");
        }
        for f in [
            "description",
            "note",
            "reason",
            "goals",
            "targets_note",
            "schedule",
        ] {
            assert_eq!(TextKind::of_field(f), TextKind::Multiline, "{f}");
        }
        for f in ["name", "username", "q", "code", "mobile", "totp", "_csrf"] {
            assert_eq!(TextKind::of_field(f), TextKind::Line, "{f}");
        }
    }

    /// A small deterministic generator (xorshift) for property-style checks without extra dependencies.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn char(&mut self) -> char {
            // Mostly interesting ranges: ASCII incl. controls, Latin + combining marks, CJK, spaces, specials.
            let pools: &[(u32, u32)] = &[
                (0x00, 0x7f),
                (0x80, 0x24f),
                (0x300, 0x36f),
                (0x1100, 0x11ff),
                (0x2000, 0x206f),
                (0x3000, 0x303f),
                (0x4e00, 0x4eff),
                (0xac00, 0xac40),
                (0xf900, 0xf9ff),
                (0xfdd0, 0xfdef),
                (0xfe00, 0xffff),
                (0x1f300, 0x1f3ff),
            ];
            let (lo, hi) = pools[(self.next() % pools.len() as u64) as usize];
            let cp = lo + (self.next() % u64::from(hi - lo + 1)) as u32;
            char::from_u32(cp).unwrap_or('x')
        }
        fn string(&mut self) -> String {
            let len = (self.next() % 24) as usize;
            (0..len).map(|_| self.char()).collect()
        }
    }

    #[test]
    fn property_accepted_text_is_clean_normalised_and_stable() {
        let mut g = Gen(0x5eed_1234_abcd_0001);
        let mut accepted = 0;
        let mut refused = 0;
        for _ in 0..20_000 {
            let s = g.string();
            for kind in [TextKind::Line, TextKind::Multiline, TextKind::Secret] {
                match clean(&s, kind) {
                    Ok(out) => {
                        accepted += 1;
                        // Nothing forbidden survives, in any kind.
                        assert!(!out.chars().any(|c| is_forbidden(c, kind)), "{s:?}");
                        assert!(!out.contains('\0'));
                        if kind == TextKind::Secret {
                            assert_eq!(out, s.as_str(), "secrets are untouched");
                            continue;
                        }
                        // NFC, trimmed, and idempotent: cleaning again changes nothing.
                        assert_eq!(out.nfc().collect::<String>(), out.as_ref(), "{s:?}");
                        assert_eq!(out.trim_matches(is_trimmed), out.as_ref(), "{s:?}");
                        assert_eq!(clean(&out, kind).as_deref(), Ok(out.as_ref()), "{s:?}");
                        if kind == TextKind::Multiline {
                            assert!(!out.contains('\r'));
                        } else {
                            assert!(!out.contains(['\n', '\t']));
                        }
                    }
                    Err(Code::InvalidCharacters) => {
                        refused += 1;
                        assert!(s.chars().any(|c| is_forbidden(c, kind)), "{s:?}");
                    }
                    Err(other) => panic!("unexpected {other:?} for {s:?}"),
                }
            }
        }
        assert!(
            accepted > 1_000 && refused > 1_000,
            "{accepted} / {refused}"
        );
    }

    #[test]
    fn property_whitespace_padding_never_changes_the_result() {
        let mut g = Gen(0x0bad_cafe_f00d_0042);
        for _ in 0..5_000 {
            let s = g.string();
            let padded = format!(" \u{3000}{s}\u{feff} ");
            for kind in [TextKind::Line, TextKind::Multiline] {
                assert_eq!(
                    clean(&s, kind).map(Cow::into_owned),
                    clean(&padded, kind).map(Cow::into_owned),
                    "{s:?}"
                );
            }
        }
    }
}
