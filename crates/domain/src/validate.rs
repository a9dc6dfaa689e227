//! Checks on identifiers people type: 统一社会信用代码 (GB 32100-2015), 居民身份证号码 (GB 11643-1999), mobile
//! numbers, usernames, dictionary codes and free text lengths. Each returns the normalised value or a [`Code`].

use crate::error::Code;

const CREDIT_CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8] = b"10X98765432";

fn credit_value(c: u8) -> Option<u32> {
    CREDIT_CHARSET
        .iter()
        .position(|&x| x == c)
        .map(|p| p as u32)
}

/// The check character for the first 17 characters of a credit code, if they are all in the charset.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &c) in b.iter().enumerate() {
        sum += credit_value(c)? * CREDIT_WEIGHTS[i];
    }
    let check = (31 - sum % 31) % 31;
    CREDIT_CHARSET.get(check as usize).map(|&c| c as char)
}

/// Validates a 统一社会信用代码: 18 characters from the GB 32100 charset with a correct check character.
/// Lower-case letters and surrounding spaces are accepted and normalised.
pub fn credit_code(input: &str) -> Result<String, Code> {
    let s: String = input.trim().to_ascii_uppercase();
    if s.is_empty() {
        return Err(Code::Required);
    }
    if s.len() != 18 || !s.is_ascii() {
        return Err(Code::InvalidCreditCode);
    }
    let check = credit_code_check_char(&s[..17]).ok_or(Code::InvalidCreditCode)?;
    if s.as_bytes()[17] as char != check {
        return Err(Code::InvalidCreditCode);
    }
    Ok(s)
}

/// The check character for the first 17 digits of an ID number.
pub fn id_card_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    ID_CHECK.get((sum % 11) as usize).map(|&c| c as char)
}

/// Validates an 18-digit 居民身份证号码: digits, a real birth date, and the check character (X allowed).
pub fn id_card(input: &str) -> Result<String, Code> {
    let s = input.trim().to_ascii_uppercase();
    if s.is_empty() {
        return Err(Code::Required);
    }
    if s.len() != 18 || !s.is_ascii() {
        return Err(Code::InvalidIdCard);
    }
    let check = id_card_check_char(&s[..17]).ok_or(Code::InvalidIdCard)?;
    if s.as_bytes()[17] as char != check {
        return Err(Code::InvalidIdCard);
    }
    let birth = &s[6..14];
    let date =
        chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").map_err(|_| Code::InvalidIdCard)?;
    let year = chrono::Datelike::year(&date);
    if !(1900..=2100).contains(&year) {
        return Err(Code::InvalidIdCard);
    }
    Ok(s)
}

/// Validates a mainland mobile number: 11 digits starting 13–19. Spaces, dashes and a +86 prefix are dropped.
pub fn mobile(input: &str) -> Result<String, Code> {
    let mut s: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if s.is_empty() {
        return Err(Code::Required);
    }
    if let Some(rest) = s.strip_prefix("+86") {
        s = rest.to_string();
    }
    let b = s.as_bytes();
    if b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
    {
        Ok(s)
    } else {
        Err(Code::InvalidMobile)
    }
}

/// Username: 3–32 ASCII letters, digits, `_`, `-`, `.`; stored lower-case.
pub fn username(input: &str) -> Result<String, Code> {
    let s = input.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(s)
    } else {
        Err(Code::InvalidUsername)
    }
}

/// A dictionary or place code: 1–32 ASCII letters, digits, `_`, `-`.
pub fn code(input: &str) -> Result<String, Code> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Code::Required);
    }
    let ok = s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(Code::InvalidCode)
    }
}

/// Required free text, trimmed, at most `max` characters.
pub fn text(input: &str, max: usize) -> Result<String, Code> {
    let s = input.trim();
    if s.is_empty() {
        Err(Code::Required)
    } else if s.chars().count() > max {
        Err(Code::TooLong)
    } else {
        Ok(s.to_string())
    }
}

/// Optional free text: `None` when blank.
pub fn optional_text(input: &str, max: usize) -> Result<Option<String>, Code> {
    match text(input, max) {
        Ok(s) => Ok(Some(s)),
        Err(Code::Required) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A `YYYY-MM-DD` date.
pub fn date(input: &str) -> Result<chrono::NaiveDate, Code> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Code::Required);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Code::InvalidDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes() {
        // Built from a prefix with its computed check character.
        let prefix = "91310114MA1GT35K7";
        let c = credit_code_check_char(prefix).unwrap_or('?');
        let full = format!("{prefix}{c}");
        assert_eq!(credit_code(&full), Ok(full.clone()));
        assert_eq!(credit_code(&full.to_lowercase()), Ok(full.clone()));
        // Any other check character is refused.
        for other in "0123456789ABCDEFGHJKLMNPQRTUWXY"
            .chars()
            .filter(|&x| x != c)
        {
            assert_eq!(
                credit_code(&format!("{prefix}{other}")),
                Err(Code::InvalidCreditCode)
            );
        }
        assert_eq!(credit_code("12345"), Err(Code::InvalidCreditCode));
        assert_eq!(
            credit_code("9131011IMA1GT35K70"),
            Err(Code::InvalidCreditCode)
        ); // I is not in the charset
        assert_eq!(credit_code("  "), Err(Code::Required));
        assert_eq!(
            credit_code("统一社会信用代码统一社会信用代码统一"),
            Err(Code::InvalidCreditCode)
        );
    }

    #[test]
    fn known_public_credit_code_checks() {
        // The check character rule: (31 - sum mod 31) mod 31 over the charset.
        assert_eq!(credit_code_check_char("00000000000000000"), Some('0'));
        assert_eq!(credit_code_check_char("10000000000000000"), Some('Y')); // sum 1 -> check 30 -> 'Y'
    }

    #[test]
    fn id_cards() {
        // The GB 11643 example number.
        assert_eq!(
            id_card("11010519491231002X"),
            Ok("11010519491231002X".to_string())
        );
        assert_eq!(
            id_card("11010519491231002x"),
            Ok("11010519491231002X".to_string())
        );
        assert_eq!(id_card("110105194912310021"), Err(Code::InvalidIdCard));
        // Check digit right but impossible date (Feb 30).
        let first = "31011419900230123";
        let c = id_card_check_char(first).unwrap_or('?');
        assert_eq!(id_card(&format!("{first}{c}")), Err(Code::InvalidIdCard));
        assert_eq!(id_card("1234"), Err(Code::InvalidIdCard));
        assert_eq!(id_card(""), Err(Code::Required));
    }

    #[test]
    fn mobiles() {
        assert_eq!(mobile("138 1234 5678"), Ok("13812345678".into()));
        assert_eq!(mobile("+86-139-0000-1111"), Ok("13900001111".into()));
        assert_eq!(mobile("12812345678"), Err(Code::InvalidMobile));
        assert_eq!(mobile("1381234567"), Err(Code::InvalidMobile));
        assert_eq!(mobile("1381234567a"), Err(Code::InvalidMobile));
        assert_eq!(mobile(""), Err(Code::Required));
    }

    #[test]
    fn usernames_codes_texts() {
        assert_eq!(username(" Admin_1 "), Ok("admin_1".into()));
        assert_eq!(username("ab"), Err(Code::InvalidUsername));
        assert_eq!(username("张三"), Err(Code::InvalidUsername));
        assert_eq!(code("elder_care"), Ok("elder_care".into()));
        assert_eq!(code("a b"), Err(Code::InvalidCode));
        assert_eq!(text("  嘉定  ", 10), Ok("嘉定".into()));
        assert_eq!(text("一二三", 2), Err(Code::TooLong));
        assert_eq!(optional_text(" ", 2), Ok(None));
        assert_eq!(date("2026-02-30"), Err(Code::InvalidDate));
    }
}
