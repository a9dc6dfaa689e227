//! Getting in (issue 8.1): a member on a unit's or community's roster activates their own account — name +
//! registered mobile + the district's second factor (last six of the ID number, or the activation code from the
//! sheet) — and sets a password. This is public, like the login: no [`Caller`], only the client address, which
//! (with the mobile) is what failures are counted under. Unit admins (their unit's members) and community admins
//! (the members living in their community) list who has not activated yet and issue activation sheets.
//!
//! When the district's setting `activation_sms` is on, step 1 also sends a one-time 6-digit code by SMS to the
//! roster's mobile (through the [`crate::sms::SmsSender`] the [`Cases`] hold), and step 2 needs it: a wrong,
//! expired, used or worn-out code answers `sms_code_invalid`.
//!
//! The rules (factor, code format, one answer for every mismatch, SMS limits) are in
//! `shanzhi_domain::activation`.

use shanzhi_domain::activation::{
    self as rules, ActivationInput, CODE_ALPHABET, CODE_LEN, CODE_VALID_DAYS, FactorPolicy,
    FactorUsed, MAX_SHEET, SMS_CODE_LEN, SMS_CODE_VALID_MINUTES, SMS_PURPOSE, TypedFactor,
};
use shanzhi_domain::role::Action;
use shanzhi_domain::{AccountId, Code, MemberId, Timestamp, mask};
use shanzhi_sheets::{Column, write_xlsx};
use shanzhi_store::activation::{Activation as NewActivation, PendingMember};
use shanzhi_store::{Actor, AuditEntry, LoginKeys, Page, PageReq};

use crate::accounts::PasswordHasher;
use crate::{AppError, Caller, CaseResult, Cases};

/// The activation use cases.
pub struct Activation<'a>(&'a Cases);

impl Cases {
    pub fn activation(&self) -> Activation<'_> {
        Activation(self)
    }
}

/// The account an activation created.
#[derive(Debug, Clone)]
pub struct Activated {
    pub account_id: AccountId,
    pub member_id: MemberId,
}

/// One slip of an activation sheet; the code is shown only here, once.
#[derive(Debug, Clone)]
pub struct Slip {
    pub member_id: MemberId,
    /// Partly masked (`王*伟`): the slip may lie on a desk.
    pub name: String,
    pub mobile_masked: String,
    pub unit_name: String,
    pub community_name: String,
    /// As printed: `K7QM-3XPA`.
    pub code: String,
    pub expires_at: Timestamp,
}

/// A member found and the factor accepted, before the account is made.
struct Verified {
    member_id: MemberId,
    name: String,
    factor: FactorUsed,
    keys: LoginKeys,
    /// The mobile in its normal form.
    mobile: String,
}

fn attempt_actor(keys: &LoginKeys, client: Option<&str>) -> Actor {
    Actor {
        account_id: None,
        name: format!("激活#{}", keys.subject.get(..6).unwrap_or_default()),
        role: None,
        place: None,
        client_addr: client.map(String::from),
    }
}

impl Activation<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// The factor the district accepts (setting `activation_factor`: `code` for the code only; default: ID number
    /// or code).
    pub async fn policy(&self) -> CaseResult<FactorPolicy> {
        Ok(FactorPolicy::parse(
            self.store()
                .get_setting(rules::FACTOR_SETTING)
                .await?
                .as_deref(),
        ))
    }

    /// Checks name + mobile + factor against the roster. Failures count per mobile and per address; past the
    /// limit every attempt is `rate_limited` before anything is looked up. Every attempt that reaches the roster
    /// is audited (under a keyed hash of the mobile, never the mobile).
    async fn verify(&self, input: &ActivationInput, client: Option<&str>) -> CaseResult<Verified> {
        let policy = self.policy().await?;
        let typed = input.validate(policy)?;
        let store = self.store();
        let now = Timestamp::now();
        let keys = store.activation_keys(&typed.mobile, client);
        let actor = attempt_actor(&keys, client);
        let state = store.login_state(&keys, now).await?;
        if state.locked || state.throttled {
            store
                .append_audit(
                    &actor,
                    &AuditEntry::failed("activation", "client", "rate_limited"),
                )
                .await?;
            return Err(AppError::new(Code::RateLimited));
        }
        let code = match &typed.factor {
            TypedFactor::Code(c) => Some(c.as_str()),
            TypedFactor::IdLast6(_) => None,
        };
        let found = store.activation_entry(&typed.mobile, code).await?;
        let decided = rules::decide(policy, &typed, found.as_ref().map(|(_, e)| e), now);
        match (decided, found) {
            (Ok(factor), Some((member_id, entry))) => Ok(Verified {
                member_id,
                name: entry.name,
                factor,
                keys,
                mobile: typed.mobile,
            }),
            (Err(code), found) => {
                if code != Code::AlreadyActivated {
                    store.login_failed(&keys, now).await?;
                }
                let target = match (&found, code) {
                    (Some((id, _)), Code::AlreadyActivated | Code::ActivationCodeExpired) => {
                        format!("member:{id}")
                    }
                    _ => "member:unknown".to_string(),
                };
                store
                    .append_audit(
                        &actor,
                        &AuditEntry::failed("activation", target, code.as_str()),
                    )
                    .await?;
                Err(AppError::new(code))
            }
            (Ok(_), None) => Err(AppError::new(Code::ActivationFailed)),
        }
    }

    /// Whether the district asks for an SMS code (setting `activation_sms`, default off).
    pub async fn sms_required(&self) -> CaseResult<bool> {
        Ok(rules::sms_enabled(
            self.store()
                .get_setting(rules::SMS_SETTING)
                .await?
                .as_deref(),
        ))
    }

    /// Step 1: whether name + mobile + factor match the roster (nothing is written but a failure's count). When
    /// the district asks for an SMS code, a new one is sent to the roster's mobile (also how a code is sent
    /// again); sending is limited per mobile and per address (`rate_limited`). Returns whether a code was sent.
    pub async fn check(&self, input: &ActivationInput, client: Option<&str>) -> CaseResult<bool> {
        let v = self.verify(input, client).await?;
        if !self.sms_required().await? {
            return Ok(false);
        }
        self.send_sms_code(&v, client).await?;
        Ok(true)
    }

    /// Stores a new SMS code (unless the sending limits say wait) and sends it.
    async fn send_sms_code(&self, v: &Verified, client: Option<&str>) -> CaseResult<()> {
        let store = self.store();
        let keys = store.sms_keys(&v.mobile, client);
        let code = shanzhi_secure::token::random_chars(b"0123456789", SMS_CODE_LEN);
        let actor = attempt_actor(&v.keys, client);
        let target = format!("member:{}", v.member_id);
        let expires_at = Timestamp::now().plus_minutes(SMS_CODE_VALID_MINUTES);
        let issued = store
            .issue_sms_code(&actor, &keys, SMS_PURPOSE, &code, expires_at, &target)
            .await;
        if let Err(shanzhi_store::StoreError::Refused(Code::RateLimited)) = issued {
            store
                .append_audit(
                    &actor,
                    &AuditEntry::failed("sms_code.send", target, "rate_limited"),
                )
                .await?;
            return Err(AppError::new(Code::RateLimited));
        }
        issued?;
        self.0
            .sms
            .send(&v.mobile, &rules::sms_text(&code))
            .await
            .map_err(AppError::internal)
    }

    /// Step 2: checks again (and, when the district asks for one, uses up the SMS code: `sms_code_invalid`
    /// otherwise), then creates the member's account (role `member`, bound to the record) with the chosen
    /// password, consuming the activation code when it was the factor — one audited transaction.
    pub async fn activate(
        &self,
        input: &ActivationInput,
        password: &str,
        confirm: &str,
        sms_code: &str,
        client: Option<&str>,
        hasher: &impl PasswordHasher,
    ) -> CaseResult<Activated> {
        let v = self.verify(input, client).await?;
        rules::check_new_password(password, confirm)?;
        if self.sms_required().await? {
            let store = self.store();
            let keys = store.sms_keys(&v.mobile, client);
            let typed = rules::normalize_sms_code(sms_code);
            if !store
                .use_sms_code(&keys, SMS_PURPOSE, typed.as_deref())
                .await?
            {
                store
                    .append_audit(
                        &attempt_actor(&v.keys, client),
                        &AuditEntry::failed(
                            "activation",
                            format!("member:{}", v.member_id),
                            Code::SmsCodeInvalid.as_str(),
                        ),
                    )
                    .await?;
                return Err(AppError::new(Code::SmsCodeInvalid));
            }
        }
        let password_hash = hasher.hash(password).await?;
        let actor = Actor {
            account_id: None,
            name: format!("member{}", v.member_id),
            role: None,
            place: None,
            client_addr: client.map(String::from),
        };
        let account_id = self
            .store()
            .activate_member(
                &actor,
                &NewActivation {
                    member_id: v.member_id,
                    display_name: v.name,
                    password_hash,
                    by_code: v.factor == FactorUsed::Code,
                    factor: v.factor.as_str(),
                },
            )
            .await?;
        self.store().activation_succeeded(&v.keys).await?;
        Ok(Activated {
            account_id,
            member_id: v.member_id,
        })
    }

    /// Members in the caller's scope (a unit admin: the unit's members; a community admin: those living in the
    /// community) who have no account yet.
    pub async fn pending(
        &self,
        c: &Caller,
        q: &str,
        page: PageReq,
    ) -> CaseResult<Page<PendingMember>> {
        c.require(Action::ActivationIssue)?;
        Ok(self.store().activation_pending(c.scope(), q, page).await?)
    }

    /// Issues a new activation code to every member in scope without an account whose name contains `q` (at most
    /// [`MAX_SHEET`]); older codes of these members stop working. Returns the slips, the only time the codes are
    /// shown. Audited as one sheet.
    pub async fn issue(&self, c: &Caller, q: &str) -> CaseResult<Vec<Slip>> {
        c.require(Action::ActivationIssue)?;
        let all = PageReq {
            page: 1,
            per_page: u32::try_from(MAX_SHEET).unwrap_or(u32::MAX),
            after: None,
        };
        let members = self
            .store()
            .activation_pending(c.scope(), q, all)
            .await?
            .items;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let expires_at = Timestamp::now().plus_days(CODE_VALID_DAYS);
        let codes: Vec<(MemberId, String)> = members
            .iter()
            .map(|m| {
                (
                    MemberId(m.id),
                    shanzhi_secure::token::random_chars(CODE_ALPHABET, CODE_LEN),
                )
            })
            .collect();
        self.store()
            .issue_activation_codes(c.actor(), &codes, expires_at)
            .await?;
        Ok(members
            .into_iter()
            .zip(codes)
            .map(|(m, (member_id, code))| Slip {
                member_id,
                name: mask::name(&m.name),
                mobile_masked: m.mobile_masked,
                unit_name: m.unit_name,
                community_name: m.community_name,
                code: rules::format_code(&code),
                expires_at,
            })
            .collect())
    }

    /// The slips as an .xlsx sheet (one row per member; the activation page's address in the header).
    pub fn sheet_xlsx(&self, slips: &[Slip], url: &str) -> CaseResult<Vec<u8>> {
        let columns = [
            Column::new("姓名"),
            Column::new("手机号"),
            Column::new("所在单位"),
            Column::new("居住社区"),
            Column::new("激活码"),
            Column::new("有效期至"),
            Column::new(format!("激活网址:{url}")),
        ];
        let rows: Vec<Vec<String>> = slips
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.mobile_masked.clone(),
                    s.unit_name.clone(),
                    s.community_name.clone(),
                    s.code.clone(),
                    s.expires_at.shanghai_date(),
                    String::new(),
                ]
            })
            .collect();
        write_xlsx("激活码", &columns, &rows).map_err(AppError::internal)
    }
}
