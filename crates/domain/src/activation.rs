//! Getting in (issue 8.1): a member imported by their unit or community activates their own account from the
//! roster with name + registered mobile + a second factor the district chooses — the last six characters of the ID
//! number when one is on file, or a one-time activation code printed on the unit's or community's activation
//! sheet — and then sets a password.
//!
//! Every mismatch (no such mobile, another name, a wrong factor, a used code) is answered with the same
//! `activation_failed`, so nobody can probe who is on a roster. Only someone holding the right code learns that it
//! has expired. Failures count per mobile and per client address with the login rules
//! ([`crate::password::Attempts`]); past the limit the answer is `rate_limited`.

use crate::error::{Code, FieldErrors};

/// Characters of an activation code: digits and capitals without the ones that look alike on a phone keyboard or
/// a printed slip (0/O, 1/I/L).
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of an activation code (shown as two groups of four: `K7QM-3XPA`).
pub const CODE_LEN: usize = 8;
/// An activation code works for this many days after it was issued.
pub const CODE_VALID_DAYS: i64 = 30;
/// The district's setting (key in `settings`) naming the [`FactorPolicy`].
pub const FACTOR_SETTING: &str = "activation_factor";
/// How many members one activation sheet may hold at most.
pub const MAX_SHEET: i64 = 2000;

/// The district's setting (key in `settings`): `on` asks for a one-time SMS code after step 1 (sent to the
/// roster's mobile), before the password is set. Anything else (or no setting) is off.
pub const SMS_SETTING: &str = "activation_sms";
/// Digits of an SMS code.
pub const SMS_CODE_LEN: usize = 6;
/// An SMS code works for this many minutes after it was sent.
pub const SMS_CODE_VALID_MINUTES: i64 = 5;
/// Wrong entries one SMS code survives; then it is dead and a new one must be sent.
pub const SMS_MAX_TRIES: i64 = 5;
/// At most one SMS to a mobile within this many seconds …
pub const SMS_MOBILE_GAP_SECS: i64 = 60;
/// … and at most this many within an hour.
pub const SMS_MOBILE_PER_HOUR: i64 = 5;
/// At most this many SMS codes sent for one client address within an hour (any mobiles).
pub const SMS_ADDR_PER_HOUR: i64 = 20;
/// What `sms_codes.purpose` says for an activation code.
pub const SMS_PURPOSE: &str = "activation";

/// Whether the district's `activation_sms` setting asks for an SMS code.
pub fn sms_enabled(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim() == "on")
}

/// The text of the SMS carrying `code`.
pub fn sms_text(code: &str) -> String {
    format!(
        "【善治】您的激活验证码为{code},{SMS_CODE_VALID_MINUTES}分钟内有效。如非本人操作请忽略,切勿告诉他人。"
    )
}

/// An SMS code as typed (spaces ignored), when it has the right form (six digits); anything else can never match.
pub fn normalize_sms_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == SMS_CODE_LEN && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// What was sent lately, as the store counts it (milliseconds, like [`crate::Timestamp`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SmsSent {
    /// When the last code went to this mobile.
    pub mobile_last_at: Option<i64>,
    /// Codes sent to this mobile in the last hour.
    pub mobile_last_hour: i64,
    /// Codes sent for this client address in the last hour.
    pub addr_last_hour: i64,
}

/// Whether another SMS may go out now: one per mobile per [`SMS_MOBILE_GAP_SECS`], [`SMS_MOBILE_PER_HOUR`] per
/// mobile and [`SMS_ADDR_PER_HOUR`] per address within an hour; otherwise `rate_limited`.
pub fn may_send_sms(sent: &SmsSent, now: i64) -> Result<(), Code> {
    let too_soon = sent
        .mobile_last_at
        .is_some_and(|at| now - at < SMS_MOBILE_GAP_SECS * 1000);
    if too_soon
        || sent.mobile_last_hour >= SMS_MOBILE_PER_HOUR
        || sent.addr_last_hour >= SMS_ADDR_PER_HOUR
    {
        return Err(Code::RateLimited);
    }
    Ok(())
}

/// Which second factor the district accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FactorPolicy {
    /// The last six characters of the ID number when one is on file, or an activation code (the default).
    #[default]
    IdLast6OrCode,
    /// Only an activation code, for everyone.
    CodeOnly,
}

impl FactorPolicy {
    /// The setting's value; anything unknown (or no setting) is the default.
    pub fn parse(value: Option<&str>) -> FactorPolicy {
        match value {
            Some("code") => FactorPolicy::CodeOnly,
            _ => FactorPolicy::IdLast6OrCode,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FactorPolicy::IdLast6OrCode => "id_last6_or_code",
            FactorPolicy::CodeOnly => "code",
        }
    }

    /// The label of the factor field on the activation form.
    pub fn label(self) -> &'static str {
        match self {
            FactorPolicy::IdLast6OrCode => "身份证号后6位或激活码",
            FactorPolicy::CodeOnly => "激活码",
        }
    }
}

/// Which factor an activation used (recorded in the audit detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorUsed {
    IdLast6,
    Code,
}

impl FactorUsed {
    pub fn as_str(self) -> &'static str {
        match self {
            FactorUsed::IdLast6 => "id_last6",
            FactorUsed::Code => "code",
        }
    }
}

/// A typed activation code in its stored form (capitals, no separators), or `None` when it cannot be one.
pub fn normalize_code(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == CODE_LEN && s.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(s)
}

/// An activation code as printed: `K7QM3XPA` → `K7QM-3XPA`.
pub fn format_code(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}-{b}"),
        _ => code.to_string(),
    }
}

/// Typed last six characters of an ID number in their compared form (`x` → `X`), or `None`.
pub fn normalize_id_last6(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit() || b == b'X')).then_some(s)
}

/// Whether `typed` (normalised by [`normalize_id_last6`]) is the end of `id_card`, compared without an early exit.
pub fn id_last6_matches(id_card: &str, typed: &str) -> bool {
    let id = id_card.trim().to_ascii_uppercase();
    let Some(tail) = id.len().checked_sub(6).and_then(|i| id.get(i..)) else {
        return false;
    };
    tail.len() == typed.len()
        && tail
            .bytes()
            .zip(typed.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The first step of an activation as typed: who (name + mobile) and the factor.
#[derive(Debug, Clone, Default)]
pub struct ActivationInput {
    pub name: String,
    pub mobile: String,
    pub factor: String,
}

/// [`ActivationInput`] after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidActivation {
    pub name: String,
    /// The mobile in its normal form.
    pub mobile: String,
    pub factor: TypedFactor,
}

/// What the factor field held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedFactor {
    IdLast6(String),
    Code(String),
}

impl ActivationInput {
    /// Per-field checks of the form only (required, a mobile number, a factor of a possible shape); whether it
    /// matches the roster is decided by [`decide`].
    pub fn validate(&self, policy: FactorPolicy) -> Result<ValidActivation, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = crate::validate::text(&self.name, 40)
            .map_err(|c| e.add("name", c))
            .unwrap_or_default();
        let mobile = crate::validate::mobile(&self.mobile)
            .map_err(|c| e.add("mobile", c))
            .unwrap_or_default();
        let factor = if self.factor.trim().is_empty() {
            e.add("factor", Code::Required);
            None
        } else if let Some(code) = normalize_code(&self.factor) {
            Some(TypedFactor::Code(code))
        } else if let (FactorPolicy::IdLast6OrCode, Some(t)) =
            (policy, normalize_id_last6(&self.factor))
        {
            Some(TypedFactor::IdLast6(t))
        } else {
            e.add("factor", Code::InvalidActivationFactor);
            None
        };
        match factor {
            Some(factor) if e.is_empty() => Ok(ValidActivation {
                name,
                mobile,
                factor,
            }),
            _ => Err(e),
        }
    }
}

/// The roster's side of an activation: the member record found by the mobile, if any.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub name: String,
    /// The full ID number, when one is on file.
    pub id_card: Option<String>,
    /// Whether an account is bound to the member already.
    pub activated: bool,
    /// The member's current activation code, if one was issued.
    pub code: Option<IssuedCode>,
}

/// An issued activation code as the store keeps it (only a keyed hash of the code).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// Whether the typed code's keyed hash equals the stored one.
    pub matches: bool,
    pub expires_at: i64,
    pub used: bool,
}

/// Decides an activation attempt: the factor used, or the one answer for every mismatch (`activation_failed`),
/// `activation_code_expired` for the right code past its date, `already_activated` once the right person with the
/// right factor already has an account.
pub fn decide(
    policy: FactorPolicy,
    typed: &ValidActivation,
    entry: Option<&RosterEntry>,
    now: crate::Timestamp,
) -> Result<FactorUsed, Code> {
    let Some(entry) = entry.filter(|e| e.name.trim() == typed.name) else {
        return Err(Code::ActivationFailed);
    };
    let used = match &typed.factor {
        TypedFactor::IdLast6(t) => {
            let ok = policy == FactorPolicy::IdLast6OrCode
                && entry
                    .id_card
                    .as_deref()
                    .is_some_and(|id| id_last6_matches(id, t));
            if !ok {
                return Err(Code::ActivationFailed);
            }
            FactorUsed::IdLast6
        }
        TypedFactor::Code(_) => {
            let Some(code) = entry.code.as_ref().filter(|c| c.matches) else {
                return Err(Code::ActivationFailed);
            };
            if entry.activated {
                return Err(Code::AlreadyActivated);
            }
            if code.used {
                return Err(Code::ActivationFailed);
            }
            if code.expires_at <= now.0 {
                return Err(Code::ActivationCodeExpired);
            }
            FactorUsed::Code
        }
    };
    if entry.activated {
        return Err(Code::AlreadyActivated);
    }
    Ok(used)
}

/// The password chosen in the second step: the policy of [`crate::password::check_policy`], typed twice.
pub fn check_new_password(password: &str, confirm: &str) -> Result<(), FieldErrors> {
    if let Err(c) = crate::password::check_policy(password) {
        return Err(FieldErrors::single("password", c));
    }
    if password != confirm {
        return Err(FieldErrors::single("confirm", Code::PasswordMismatch));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::Timestamp;

    fn input(name: &str, factor: &str) -> ValidActivation {
        ActivationInput {
            name: name.into(),
            mobile: "13900001234".into(),
            factor: factor.into(),
        }
        .validate(FactorPolicy::IdLast6OrCode)
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn entry(id_card: Option<&str>, code: Option<IssuedCode>, activated: bool) -> RosterEntry {
        RosterEntry {
            name: "陈晓梅".into(),
            id_card: id_card.map(String::from),
            activated,
            code,
        }
    }

    const ID: &str = "31011419900101123X";

    #[test]
    fn codes_are_easy_to_type() {
        assert_eq!(normalize_code("k7qm-3xpa").as_deref(), Some("K7QM3XPA"));
        assert_eq!(normalize_code(" K7QM 3XPA ").as_deref(), Some("K7QM3XPA"));
        assert_eq!(normalize_code("K7QM3XP0"), None, "0 is not in the alphabet");
        assert_eq!(normalize_code("K7QM3XP"), None);
        assert_eq!(format_code("K7QM3XPA"), "K7QM-3XPA");
        for c in [b'0', b'O', b'1', b'I', b'L'] {
            assert!(!CODE_ALPHABET.contains(&c));
        }
    }

    #[test]
    fn validation() {
        let bad = ActivationInput::default()
            .validate(FactorPolicy::IdLast6OrCode)
            .unwrap_err();
        assert_eq!(bad.get("name").map(|e| e.code), Some(Code::Required));
        assert_eq!(bad.get("factor").map(|e| e.code), Some(Code::Required));
        let six = ActivationInput {
            name: "陈晓梅".into(),
            mobile: "13900001234".into(),
            factor: "23x".into(),
        };
        assert_eq!(
            six.validate(FactorPolicy::IdLast6OrCode)
                .unwrap_err()
                .get("factor")
                .map(|e| e.code),
            Some(Code::InvalidActivationFactor)
        );
        let id6 = ActivationInput {
            factor: "01123x".into(),
            ..six
        };
        assert!(id6.validate(FactorPolicy::IdLast6OrCode).is_ok());
        assert!(
            id6.validate(FactorPolicy::CodeOnly).is_err(),
            "the district may require the code"
        );
    }

    #[test]
    fn one_answer_for_every_mismatch() {
        let now = Timestamp(1_000);
        let e = entry(Some(ID), None, false);
        assert_eq!(
            decide(
                FactorPolicy::IdLast6OrCode,
                &input("陈晓梅", "01123X"),
                Some(&e),
                now
            ),
            Ok(FactorUsed::IdLast6)
        );
        for (name, factor, entry) in [
            ("陈晓梅", "011230", Some(&e)),
            ("王伟", "01123X", Some(&e)),
            ("陈晓梅", "01123X", None),
            ("陈晓梅", "K7QM3XPA", Some(&e)),
        ] {
            assert_eq!(
                decide(
                    FactorPolicy::IdLast6OrCode,
                    &input(name, factor),
                    entry,
                    now
                ),
                Err(Code::ActivationFailed),
                "{name} {factor}"
            );
        }
        assert_eq!(
            decide(
                FactorPolicy::CodeOnly,
                &input("陈晓梅", "01123X"),
                Some(&e),
                now
            ),
            Err(Code::ActivationFailed)
        );
        let done = entry(Some(ID), None, true);
        assert_eq!(
            decide(
                FactorPolicy::IdLast6OrCode,
                &input("陈晓梅", "01123X"),
                Some(&done),
                now
            ),
            Err(Code::AlreadyActivated)
        );
    }

    #[test]
    fn codes_expire_and_work_once() {
        let now = Timestamp(1_000);
        let code = |matches, expires_at, used| IssuedCode {
            matches,
            expires_at,
            used,
        };
        let typed = input("陈晓梅", "K7QM3XPA");
        let ok = entry(None, Some(code(true, 2_000, false)), false);
        assert_eq!(
            decide(FactorPolicy::CodeOnly, &typed, Some(&ok), now),
            Ok(FactorUsed::Code)
        );
        let wrong = entry(None, Some(code(false, 2_000, false)), false);
        let used = entry(None, Some(code(true, 2_000, true)), false);
        let old = entry(None, Some(code(true, 500, false)), false);
        assert_eq!(
            decide(FactorPolicy::CodeOnly, &typed, Some(&wrong), now),
            Err(Code::ActivationFailed)
        );
        assert_eq!(
            decide(FactorPolicy::CodeOnly, &typed, Some(&used), now),
            Err(Code::ActivationFailed)
        );
        assert_eq!(
            decide(FactorPolicy::CodeOnly, &typed, Some(&old), now),
            Err(Code::ActivationCodeExpired)
        );
    }

    #[test]
    fn id_tail() {
        assert!(id_last6_matches(ID, "01123X"));
        assert!(!id_last6_matches(ID, "011230"));
        assert!(!id_last6_matches("123", "000123"));
        assert_eq!(normalize_id_last6("01123x").as_deref(), Some("01123X"));
        assert_eq!(normalize_id_last6("0112"), None);
    }

    #[test]
    fn new_password() {
        assert!(check_new_password("Shanzhi#2026", "Shanzhi#2026").is_ok());
        assert!(check_new_password("Shanzhi#2026", "Shanzhi#2027").is_err());
        assert!(check_new_password("short", "short").is_err());
    }

    #[test]
    fn sms_rules() {
        assert!(sms_enabled(Some("on")) && !sms_enabled(Some("off")) && !sms_enabled(None));
        assert_eq!(normalize_sms_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize_sms_code("12345a"), None);
        assert_eq!(normalize_sms_code("1234567"), None);
        assert!(sms_text("123456").contains("123456"));
        let now = 10_000_000;
        assert!(may_send_sms(&SmsSent::default(), now).is_ok());
        let recent = SmsSent {
            mobile_last_at: Some(now - 59_000),
            mobile_last_hour: 1,
            addr_last_hour: 1,
        };
        assert_eq!(may_send_sms(&recent, now), Err(Code::RateLimited));
        let later = SmsSent {
            mobile_last_at: Some(now - 61_000),
            ..recent
        };
        assert!(may_send_sms(&later, now).is_ok());
        let hourly = SmsSent {
            mobile_last_hour: SMS_MOBILE_PER_HOUR,
            ..later
        };
        assert_eq!(may_send_sms(&hourly, now), Err(Code::RateLimited));
        let addr = SmsSent {
            addr_last_hour: SMS_ADDR_PER_HOUR,
            ..later
        };
        assert_eq!(may_send_sms(&addr, now), Err(Code::RateLimited));
    }
}
