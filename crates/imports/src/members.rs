//! Member rows: 姓名, 手机号, 身份证号, 所在单位, 居住社区, 专长, 户居分离.

use std::collections::HashMap;

use shanzhi_domain::org::{DictKind, ValidMember};
use shanzhi_domain::role::Scope;
use shanzhi_domain::{Code, PlaceId, UnitId, validate};
use shanzhi_sheets::Table;
use shanzhi_store::bulk::BulkMember;
use shanzhi_store::{Actor, Store};

use crate::{
    Found, ImportError, NameIndex, Options, Report, RowProblems, decide, skipped_row, summary,
};

struct Cols {
    name: usize,
    mobile: usize,
    id_card: Option<usize>,
    unit: usize,
    community: usize,
    skills: Option<usize>,
    separated: Option<usize>,
}

/// A row that passed every check.
struct Good {
    line: usize,
    member: ValidMember,
    path: String,
    mobile_hash: String,
    id_hash: Option<String>,
}

/// Splits "医疗健康、法律服务" (also , ; ， ； / and spaces).
fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(['、', ',', '，', ';', '；', '/', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
}

fn yes_no(s: &str) -> Option<bool> {
    match s.trim() {
        "" | "否" | "N" | "n" | "no" | "No" | "NO" | "0" | "FALSE" | "false" => Some(false),
        "是" | "Y" | "y" | "yes" | "Yes" | "YES" | "1" | "TRUE" | "true" => Some(true),
        _ => None,
    }
}

pub(crate) async fn import(
    store: &Store,
    actor: &Actor,
    scope: &Scope,
    table: &Table,
    opts: Options,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<Report, ImportError> {
    let req = table.require(&["姓名", "手机号", "所在单位", "居住社区"])?;
    let (Some(&name), Some(&mobile), Some(&unit), Some(&community)) =
        (req.first(), req.get(1), req.get(2), req.get(3))
    else {
        return Err(ImportError::Refused(Code::BadRequest));
    };
    let cols = Cols {
        name,
        mobile,
        id_card: table.column("身份证号"),
        unit,
        community,
        skills: table.column("专长"),
        separated: table.column("户居分离"),
    };

    // Communities among the importer's scope; a unit admin's members may live anywhere.
    let place_scope = match scope {
        Scope::Unit(_) => Scope::Everything,
        Scope::Subtree(_) | Scope::Everything => scope.clone(),
        Scope::Member(_) | Scope::Oversight | Scope::Nothing => {
            return Err(ImportError::Refused(Code::Forbidden));
        }
    };
    let mut communities: NameIndex<(i64, String)> = NameIndex::default();
    for p in store.import_places(&place_scope, &["community"]).await? {
        communities.insert(&p.name, (p.id, p.path.clone()));
        if let Some(parent) = &p.parent_name {
            communities.insert(&format!("{parent}/{}", p.name), (p.id, p.path.clone()));
        }
    }
    let mut units_by_name: NameIndex<i64> = NameIndex::default();
    let mut units_by_code: HashMap<String, i64> = HashMap::new();
    for u in store.import_units(scope).await? {
        units_by_name.insert(&u.name, u.id);
        units_by_code.insert(u.credit_code.to_ascii_uppercase(), u.id);
    }
    let mut skills: HashMap<String, String> = HashMap::new();
    for d in store.list_dict(DictKind::Skill, true).await? {
        skills.insert(d.name.clone(), d.code.clone());
        skills.insert(d.code.clone(), d.code);
    }

    let vault = store.vault();
    let mut report = Report {
        kind: "members".into(),
        total_rows: table.rows.len(),
        ok_rows: 0,
        error_rows: 0,
        skipped: 0,
        inserted: 0,
        written: false,
        code: None,
        summary: String::new(),
        rows: Vec::new(),
    };
    let mut seen_mobile: HashMap<String, usize> = HashMap::new();
    let mut seen_id: HashMap<String, usize> = HashMap::new();
    let mut good: Vec<Good> = Vec::with_capacity(table.rows.len());

    for (i, row) in table.rows.iter().enumerate() {
        if i % 500 == 0 {
            progress(i);
        }
        let mut e = RowProblems::default();
        let name = validate::text(row.get(cols.name), 40)
            .map_err(|c| e.add("姓名", c))
            .ok();
        let mobile = validate::mobile(row.get(cols.mobile))
            .map_err(|c| e.add("手机号", c))
            .ok();
        if let Some(m) = &mobile {
            if let Some(first) = seen_mobile.get(m) {
                e.add_text(
                    "手机号",
                    Code::DuplicateInFile,
                    format!("与第{first}行重复"),
                );
            } else {
                seen_mobile.insert(m.clone(), row.line);
            }
        }
        let id_raw = cols.id_card.map(|c| row.get(c)).unwrap_or("");
        let id_card = if id_raw.trim().is_empty() {
            None
        } else {
            match validate::id_card(id_raw) {
                Ok(id) => {
                    if let Some(first) = seen_id.get(&id) {
                        e.add_text(
                            "身份证号",
                            Code::DuplicateInFile,
                            format!("与第{first}行重复"),
                        );
                    } else {
                        seen_id.insert(id.clone(), row.line);
                    }
                    Some(id)
                }
                Err(c) => {
                    e.add("身份证号", c);
                    None
                }
            }
        };
        let unit_text = row.get(cols.unit).trim();
        let unit_id = if unit_text.is_empty() {
            e.add("所在单位", Code::Required);
            None
        } else if let Some(id) = units_by_code.get(&unit_text.to_ascii_uppercase()) {
            Some(*id)
        } else {
            match units_by_name.find(unit_text) {
                Found::One(id) => Some(id),
                Found::None => {
                    e.add("所在单位", Code::UnknownUnit);
                    None
                }
                Found::Many => {
                    e.add("所在单位", Code::AmbiguousName);
                    None
                }
            }
        };
        let community_text = row.get(cols.community).trim();
        let community = if community_text.is_empty() {
            e.add("居住社区", Code::Required);
            None
        } else {
            match communities.find(community_text) {
                Found::One(c) => Some(c),
                Found::None => {
                    e.add("居住社区", Code::UnknownCommunity);
                    None
                }
                Found::Many => {
                    e.add("居住社区", Code::AmbiguousName);
                    None
                }
            }
        };
        let mut skill_codes: Vec<String> = Vec::new();
        if let Some(c) = cols.skills {
            for s in split_list(row.get(c)) {
                match skills.get(s) {
                    Some(code) if !skill_codes.contains(code) => skill_codes.push(code.clone()),
                    Some(_) => {}
                    None => {
                        e.add_text("专长", Code::UnknownSkill, format!("「{s}」不在专长字典中"))
                    }
                }
            }
            if skill_codes.len() > 20 {
                e.add("专长", Code::TooManyFields);
            }
        }
        let separated = match cols.separated.map(|c| row.get(c)) {
            None => false,
            Some(v) => yes_no(v).unwrap_or_else(|| {
                e.add_text("户居分离", Code::InvalidChoice, "请填写“是”或“否”".into());
                false
            }),
        };
        let display = row.get(cols.name);
        match (name, mobile, unit_id, community) {
            (Some(name), Some(mobile), Some(unit_id), Some((cid, path))) if e.is_empty() => {
                good.push(Good {
                    line: row.line,
                    mobile_hash: vault.search_hash(&mobile),
                    id_hash: id_card.as_deref().map(|i| vault.search_hash(i)),
                    member: ValidMember {
                        name,
                        mobile,
                        id_card,
                        unit_id: UnitId(unit_id),
                        community_id: PlaceId(cid),
                        skills: skill_codes,
                        separated_residence: separated,
                    },
                    path,
                });
            }
            _ => {
                report.error_rows += 1;
                report.rows.push(e.into_report(row.line, display));
            }
        }
    }
    progress(table.rows.len());

    // Against the database: a known mobile is skipped; a known ID card with a new mobile is an error.
    let mobile_hashes: Vec<String> = good.iter().map(|g| g.mobile_hash.clone()).collect();
    let existing = store.existing_member_hashes(&mobile_hashes).await?;
    let id_hashes: Vec<String> = good.iter().filter_map(|g| g.id_hash.clone()).collect();
    let existing_ids = store.existing_id_card_hashes(&id_hashes).await?;
    let mut to_write: Vec<Good> = Vec::with_capacity(good.len());
    for g in good {
        if existing.contains(&g.mobile_hash) {
            report.skipped += 1;
            report.rows.push(skipped_row(g.line, &g.member.name));
        } else if g.id_hash.as_ref().is_some_and(|h| existing_ids.contains(h)) {
            let mut e = RowProblems::default();
            e.add("身份证号", Code::DuplicateIdCard);
            report.error_rows += 1;
            report.rows.push(e.into_report(g.line, &g.member.name));
        } else {
            to_write.push(g);
        }
    }
    report.ok_rows = to_write.len();
    if decide(&mut report, opts) {
        let rows: Vec<BulkMember> = to_write
            .iter()
            .map(|g| BulkMember {
                member: &g.member,
                community_path: &g.path,
            })
            .collect();
        let inserted = store
            .bulk_insert_members(actor, "import.members", &rows)
            .await?;
        report.inserted = inserted;
        // Rows someone else registered meanwhile were skipped by the database.
        report.skipped += to_write.len().saturating_sub(inserted);
        report.written = inserted > 0;
        report.summary = summary(&report, true);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_yes_no() {
        let v: Vec<&str> = split_list("医疗健康、法律服务, 信息技术；").collect();
        assert_eq!(v, vec!["医疗健康", "法律服务", "信息技术"]);
        assert_eq!(yes_no("是"), Some(true));
        assert_eq!(yes_no(""), Some(false));
        assert_eq!(yes_no("也许"), None);
    }
}
