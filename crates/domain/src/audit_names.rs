//! What the audit log's action codes and refusal reasons mean, in Chinese, for the people who read it. The codes
//! stay stable in the database and the API; pages show these labels, and the auditor may filter by them.

use crate::error::Code;

/// The things an action is done to (the part before the first `.`).
const OBJECTS: &[(&str, &str)] = &[
    ("account", "账号"),
    ("activation", "账号激活"),
    ("activation_code", "激活码"),
    ("alliance", "党建联盟"),
    ("dict", "字典"),
    ("export", "导出"),
    ("grid_partner", "网格合伙人"),
    ("import", "导入"),
    ("login", "登录"),
    ("logout", "退出登录"),
    ("member", "党员"),
    ("member_card", "党员亮身份卡"),
    ("pairing", "结对签约"),
    ("place", "地区"),
    ("project", "党建联建项目"),
    ("registration", "党员报到"),
    ("resource", "资源"),
    ("round", "报到轮次"),
    ("social_org", "社会组织"),
    ("unit", "驻区单位"),
    ("unit_registration", "单位报到"),
];

/// What is done (the rest of the code).
const VERBS: &[(&str, &str)] = &[
    ("accept", "接收"),
    ("activate", "激活"),
    ("activity_done", "活动完成"),
    ("add_activity", "添加活动"),
    ("add_role", "添加角色"),
    ("add_unit", "加入单位"),
    ("carry_over", "结转"),
    ("close", "关闭"),
    ("confirm", "确认"),
    ("create", "新建"),
    ("delete", "删除"),
    ("disable", "停用"),
    ("enable", "启用"),
    ("export_own_data", "导出本人数据"),
    ("finish", "完成"),
    ("grade", "评定"),
    ("issue", "发放"),
    ("link", "关联"),
    ("members", "党员"),
    ("members.reveal", "党员台账(含完整号码)"),
    ("off", "关闭"),
    ("on", "开启"),
    ("open", "开启"),
    ("password_change", "修改密码"),
    ("password_rehash", "升级密码存储"),
    ("remind", "提醒报到"),
    ("remind_all", "提醒全部未报到"),
    ("remove_role", "移除角色"),
    ("resubmit", "重新提交"),
    ("return", "退回"),
    ("reveal_personal", "查看完整号码"),
    ("save", "保存"),
    ("status", "变更状态"),
    ("submit", "提交"),
    ("totp", "动态码验证"),
    ("totp_enable", "绑定身份验证器"),
    ("totp_pending", "待绑定身份验证器"),
    ("transfer", "转出"),
    ("units", "驻区单位"),
    ("units.reveal", "单位台账(含完整号码)"),
    ("unit_confirm", "单位确认"),
    ("unit_decline", "单位不予确认"),
    ("unregistered.reveal", "未报到名单(含完整号码)"),
    ("unregistered_reveal", "查看未报到名单完整号码"),
    ("unlink", "解除关联"),
    ("unlock", "解锁"),
    ("update", "修改"),
    ("upload", "上传"),
    ("withdraw", "撤回"),
];

/// The object of an entry as people read it: `unit_registration:12` → `单位报到 #12`, `account:unknown` → `账号`;
/// an unknown kind is shown as it is.
pub fn target_label(target: &str) -> String {
    let (kind, id) = target.split_once(':').unwrap_or((target, ""));
    let kind_label = match kind {
        "grid" => Some("网格"),
        "activity" => Some("项目活动"),
        "client" => Some("客户端"),
        other => lookup(OBJECTS, other),
    };
    match (kind_label, id) {
        (Some(k), id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => {
            format!("{k} #{id}")
        }
        (Some(k), _) => k.to_string(),
        (None, _) => target.to_string(),
    }
}

fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// `member.create` → `党员 · 新建`; `login` → `登录`. An unknown code is shown as it is (never hidden).
pub fn action_label(code: &str) -> String {
    let (object, verb) = match code.split_once('.') {
        Some((o, v)) => (o, Some(v)),
        None => (code, None),
    };
    match (lookup(OBJECTS, object), verb) {
        (Some(o), None) => o.to_string(),
        (Some(o), Some(v)) => match lookup(VERBS, v) {
            Some(v) => format!("{o} · {v}"),
            None => code.to_string(),
        },
        (None, _) => code.to_string(),
    }
}

/// Every action code whose Chinese label contains `text` (the auditor types 导出 or 报到), from the dictionary's
/// combinations. Codes that were never written are harmless in a filter.
pub fn codes_matching(text: &str) -> Vec<String> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (o, ol) in OBJECTS {
        if ol.contains(text) {
            out.push((*o).to_string());
        }
        for (v, vl) in VERBS {
            let label = format!("{ol} · {vl}");
            if label.contains(text) {
                out.push(format!("{o}.{v}"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A stored result (`ok`, `denied:invalid_credentials`, `denied:invalid_credentials;locked`) in words.
pub fn result_label(result: &str) -> String {
    if result == "ok" {
        return "成功".to_string();
    }
    let Some(reason) = result.strip_prefix("denied:") else {
        return if result == "denied" {
            "拒绝".into()
        } else {
            result.to_string()
        };
    };
    let words: Vec<&str> = reason
        .split(';')
        .map(|r| match r {
            "locked" => "账号已锁定",
            other => Code::ALL
                .iter()
                .find(|c| c.as_str() == other)
                .map(|c| c.message())
                .unwrap_or(other),
        })
        .collect();
    format!("拒绝:{}", words.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(super::target_label("unit_registration:12"), "单位报到 #12");
        assert_eq!(super::target_label("account:unknown"), "账号");
        assert_eq!(super::target_label("social_org:3"), "社会组织 #3");
        assert_eq!(super::target_label("weird"), "weird");
    }

    #[test]
    fn labels() {
        assert_eq!(action_label("member.create"), "党员 · 新建");
        assert_eq!(action_label("login"), "登录");
        assert_eq!(
            action_label("export.members.reveal"),
            "导出 · 党员台账(含完整号码)"
        );
        assert_eq!(
            action_label("brand_new.thing"),
            "brand_new.thing",
            "unknown codes stay visible"
        );
        assert_eq!(result_label("ok"), "成功");
        assert_eq!(
            result_label("denied:invalid_credentials;locked"),
            "拒绝:用户名或密码错误;账号已锁定"
        );
    }

    #[test]
    fn chinese_filters_find_codes() {
        let export = codes_matching("导出");
        assert!(export.contains(&"export.members.reveal".to_string()));
        assert!(export.contains(&"account.export_own_data".to_string()));
        let reg = codes_matching("党员报到");
        assert!(
            reg.contains(&"registration".to_string())
                && reg.contains(&"registration.accept".to_string())
        );
        assert!(codes_matching("  ").is_empty());
        assert!(codes_matching("没有这个操作").is_empty());
    }
}
