//! Stable snake_case error codes, each with its Chinese message. The UI and the JSON API show the same codes.

use serde::Serialize;

macro_rules! codes {
    ($($variant:ident = $code:literal => $msg:literal,)*) => {
        /// A stable error code. `as_str()` is the wire form; `message()` the Chinese text for people.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
            pub fn message(self) -> &'static str {
                match self { $(Code::$variant => $msg,)* }
            }
        }
    };
}

codes! {
    // generic
    NotFound = "not_found" => "没有找到该记录,或您无权查看",
    Forbidden = "forbidden" => "您的角色无权进行此操作",
    Unauthenticated = "unauthenticated" => "请先登录",
    ValidationFailed = "validation_failed" => "填写的内容有误,请按提示修改",
    Conflict = "conflict" => "记录已被他人修改,请刷新后重试",
    BadRequest = "bad_request" => "请求格式不正确",
    CsrfRejected = "csrf_rejected" => "页面已过期或来源不明,请刷新页面后重新提交",
    Internal = "internal_error" => "系统繁忙,请稍后再试",
    RateLimited = "rate_limited" => "操作过于频繁,请稍后再试",
    InvalidCharacters = "invalid_characters" => "内容含有不允许的字符(如控制字符、空字符或换行),请删除后重新填写",
    // auth
    InvalidCredentials = "invalid_credentials" => "用户名或密码错误",
    AccountLocked = "account_locked" => "连续登录失败次数过多,账号已锁定15分钟",
    AccountDisabled = "account_disabled" => "账号已停用,请联系管理员",
    TotpRequired = "totp_required" => "请输入身份验证器中的6位动态码",
    TotpInvalid = "totp_invalid" => "动态码不正确或已过期",
    // activation (issue 8.1): one answer for every mismatch, so a roster cannot be probed
    ActivationFailed = "activation_failed" => "信息与名册不符,请核对姓名、手机号和身份证号后6位(或激活码);仍有问题请联系所在单位或社区",
    ActivationCodeExpired = "activation_code_expired" => "激活码已过期,请联系所在单位或社区重新生成",
    SmsCodeInvalid = "sms_code_invalid" => "短信验证码不正确或已失效,请重新获取",
    AlreadyActivated = "already_activated" => "该党员已激活账号,请直接用手机号和密码登录",
    InvalidActivationFactor = "invalid_activation_factor" => "请填写身份证号后6位(数字或X)或8位激活码",
    TotpEnrollmentRequired = "totp_enrollment_required" => "管理员账号需先在网页上绑定身份验证器",
    PasswordChangeRequired = "password_change_required" => "密码已超过90天未修改,请先修改密码",
    SessionExpired = "session_expired" => "登录已超时,请重新登录",
    WeakPassword = "weak_password" => "密码至少8位,且须包含大写字母、小写字母、数字、符号中的至少三类",
    PasswordMismatch = "password_mismatch" => "两次输入的新密码不一致",
    PasswordReused = "password_reused" => "新密码不能与当前密码相同",
    WrongPassword = "wrong_password" => "当前密码不正确",
    UsernameTaken = "username_taken" => "该用户名已被使用",
    InvalidUsername = "invalid_username" => "用户名为3至32位字母、数字、下划线或短横线",
    InvalidRole = "invalid_role" => "角色不正确,或角色与所属地区/单位不匹配",
    // fields
    Required = "required" => "此项必填",
    TooLong = "too_long" => "内容过长",
    InvalidCreditCode = "invalid_credit_code" => "统一社会信用代码不正确(应为18位,且校验位正确)",
    DuplicateCreditCode = "duplicate_credit_code" => "该统一社会信用代码已登记",
    InvalidIdCard = "invalid_id_card" => "身份证号码不正确(应为18位,且出生日期和校验位正确)",
    DuplicateIdCard = "duplicate_id_card" => "该身份证号码已登记",
    InvalidMobile = "invalid_mobile" => "手机号码不正确(应为1开头的11位数字)",
    DuplicateMobile = "duplicate_mobile" => "该手机号码已登记",
    InvalidPlace = "invalid_place" => "所选地区不存在,或不在您的管辖范围内",
    InvalidPlaceLevel = "invalid_place_level" => "地区层级不正确",
    InvalidUnit = "invalid_unit" => "所选单位不存在,或不在您的管辖范围内",
    InvalidChoice = "invalid_choice" => "所选项不在可选范围内",
    InvalidCode = "invalid_code" => "编码只能包含字母、数字、下划线和短横线,长度1至32位",
    DuplicateCode = "duplicate_code" => "该编码已存在",
    InvalidDate = "invalid_date" => "日期格式应为 YYYY-MM-DD",
    InvalidDateRange = "invalid_date_range" => "结束日期不能早于开始日期",
    InvalidNumber = "invalid_number" => "请输入正确的数字",
    // registration (报到接收)
    RoundNotOpen = "round_not_open" => "当前没有开放的报到轮次",
    RoundOverlap = "round_overlap" => "已有开放中的报到轮次,请先结束后再开启新轮次",
    AlreadyRegistered = "already_registered" => "本轮次您已有有效的报到,不能重复报到",
    MemberAlreadyRegistered = "member_already_registered" => "该党员本轮已报到,无需提醒",
    RemindedRecently = "reminded_recently" => "该党员24小时内已提醒过,请明天再提醒",
    TransferAlreadyPending = "transfer_already_pending" => "已有一项转移在等待新社区接收,请等待处理或先撤回",
    IllegalTransition = "illegal_transition" => "当前状态下不能进行此操作",
    ReasonRequired = "reason_required" => "退回时请填写原因",
    GridRequired = "grid_required" => "接收时请选择所在网格",
    InvalidGrid = "invalid_grid" => "所选网格不属于该社区",
    SameCommunity = "same_community" => "转入社区与当前社区相同",
    TooManyFields = "too_many_fields" => "提交的内容过多",
    // import / export
    ImportHasErrors = "import_has_errors" => "文件中有错误的行,未导入任何数据;请修改后重新上传,或选择“仅导入正确的行”",
    ImportNothingValid = "import_nothing_valid" => "文件中没有可导入的正确行",
    DuplicateInFile = "duplicate_in_file" => "与文件中前面的行重复",
    UnknownCommunity = "unknown_community" => "找不到该社区(村居),或不在您的管辖范围内",
    UnknownUnit = "unknown_unit" => "找不到该单位,或不在您的管辖范围内",
    UnknownSkill = "unknown_skill" => "专长不在字典中",
    UnknownPlace = "unknown_place" => "找不到该街镇或村居,或不在您的管辖范围内",
    UnknownUnitKind = "unknown_unit_kind" => "单位类别不在字典中",
    AmbiguousName = "ambiguous_name" => "该名称对应多条记录,请写明上级(如“马陆镇/樊家村”)或改填统一社会信用代码",
    AlreadyImported = "already_imported" => "已登记,跳过",
    UnitConfirmationPending = "unit_confirmation_pending" => "待单位确认:所在单位的管理员确认后才计入该单位的党员人数和报到率",
    ResidenceOutOfScope = "residence_out_of_scope" => "居住社区不在您的管辖范围内,只能登记居住在本辖区的党员",
    UnitOutOfScope = "unit_out_of_scope" => "只能登记本单位的党员,不能填写其他单位",
    UnsupportedFile = "unsupported_file_format" => "文件格式不支持,请上传 .xlsx 或 .csv 文件",
    // background jobs
    JobInterrupted = "job_interrupted" => "任务多次中断(处理进程停止响应),已停止重试;请重新上传文件,已登记的行会自动跳过",
    JobLeaseLost = "job_lease_lost" => "任务已由其他处理进程接手",
    JobFailed = "job_failed" => "任务执行失败,已停止重试",
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-field validation errors, so a form can be shown again with the typed values and each error beside its field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub code: Code,
    pub message: &'static str,
}

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &'static str, code: Code) {
        if self.get(field).is_none() {
            self.0.push(FieldError {
                field,
                code,
                message: code.message(),
            });
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
    /// Message for a field, or "" — handy in templates.
    pub fn msg(&self, field: &str) -> &'static str {
        self.get(field).map(|e| e.message).unwrap_or("")
    }
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
    pub fn single(field: &'static str, code: Code) -> Self {
        let mut e = Self::new();
        e.add(field, code);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_with_chinese_messages() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_')
            );
            assert!(
                c.message()
                    .chars()
                    .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch))
            );
        }
    }
}
