//! Unit rows: 单位名称, 单位类别, 统一社会信用代码, 所在街镇或村居, 党组织名称, 党组织层级, 联系人, 联系电话.

use std::collections::HashMap;

use shanzhi_domain::org::{DictKind, ValidUnit};
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::role::Scope;
use shanzhi_domain::{Code, PlaceId, validate};
use shanzhi_sheets::Table;
use shanzhi_store::bulk::BulkUnit;
use shanzhi_store::imports::ImportFinish;
use shanzhi_store::{Actor, Store};

use crate::{
    ForJob, Found, ImportError, NameIndex, Options, Report, RowProblems, decide, outcome_of,
    skipped_row, written,
};

struct Good {
    line: usize,
    unit: ValidUnit,
    path: String,
}

fn level(s: &str) -> Option<PartyOrgLevel> {
    let s = s.trim();
    PartyOrgLevel::parse(s).or_else(|| PartyOrgLevel::ALL.into_iter().find(|l| l.label() == s))
}

pub(crate) async fn import(
    store: &Store,
    actor: &Actor,
    scope: &Scope,
    table: &Table,
    opts: Options,
    progress: &(dyn Fn(usize) + Send + Sync),
    job: Option<ForJob>,
) -> Result<(Report, bool), ImportError> {
    // Units are registered by place admins (a unit admin cannot create other units).
    if !matches!(scope, Scope::Subtree(_) | Scope::Everything) {
        return Err(ImportError::Refused(Code::Forbidden));
    }
    let req = table.require(&[
        "单位名称",
        "单位类别",
        "统一社会信用代码",
        "所在街镇或村居",
        "党组织名称",
        "党组织层级",
    ])?;
    let [c_name, c_kind, c_code, c_place, c_org, c_level] = req.as_slice() else {
        return Err(ImportError::Refused(Code::BadRequest));
    };
    let c_contact = table.column("联系人");
    let c_phone = table.column("联系电话");

    let mut places: NameIndex<(i64, String)> = NameIndex::default();
    for p in store.import_places(scope, &["town", "community"]).await? {
        places.insert(&p.name, (p.id, p.path.clone()));
        if let Some(parent) = &p.parent_name {
            places.insert(&format!("{parent}/{}", p.name), (p.id, p.path.clone()));
        }
    }
    let mut kinds: HashMap<String, String> = HashMap::new();
    for d in store.list_dict(DictKind::UnitKind, true).await? {
        kinds.insert(d.name.clone(), d.code.clone());
        kinds.insert(d.code.clone(), d.code);
    }

    let mut report = Report {
        kind: "units".into(),
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
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut good: Vec<Good> = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i % 500 == 0 {
            progress(i);
        }
        let mut e = RowProblems::default();
        let name = validate::text(row.get(*c_name), 80)
            .map_err(|c| e.add("单位名称", c))
            .ok();
        let kind_text = row.get(*c_kind).trim();
        let kind = if kind_text.is_empty() {
            e.add("单位类别", Code::Required);
            None
        } else {
            let k = kinds.get(kind_text).cloned();
            if k.is_none() {
                e.add("单位类别", Code::UnknownUnitKind);
            }
            k
        };
        let credit_code = match validate::credit_code(row.get(*c_code)) {
            Ok(code) => {
                if let Some(first) = seen.get(&code) {
                    e.add_text(
                        "统一社会信用代码",
                        Code::DuplicateInFile,
                        format!("与第{first}行重复"),
                    );
                } else {
                    seen.insert(code.clone(), row.line);
                }
                Some(code)
            }
            Err(c) => {
                e.add("统一社会信用代码", c);
                None
            }
        };
        let place_text = row.get(*c_place).trim();
        let place = if place_text.is_empty() {
            e.add("所在街镇或村居", Code::Required);
            None
        } else {
            match places.find(place_text) {
                Found::One(p) => Some(p),
                Found::None => {
                    e.add("所在街镇或村居", Code::UnknownPlace);
                    None
                }
                Found::Many => {
                    e.add("所在街镇或村居", Code::AmbiguousName);
                    None
                }
            }
        };
        let org = validate::text(row.get(*c_org), 80)
            .map_err(|c| e.add("党组织名称", c))
            .ok();
        let lvl = level(row.get(*c_level));
        if lvl.is_none() {
            e.add_text(
                "党组织层级",
                Code::InvalidChoice,
                "请填写“党委”“党总支”或“党支部”".into(),
            );
        }
        let contact_name = validate::optional_text(c_contact.map(|c| row.get(c)).unwrap_or(""), 40)
            .map_err(|c| e.add("联系人", c))
            .ok()
            .flatten();
        let phone_raw = c_phone.map(|c| row.get(c)).unwrap_or("");
        let contact_phone = if phone_raw.trim().is_empty() {
            None
        } else {
            validate::mobile(phone_raw)
                .map_err(|c| e.add("联系电话", c))
                .ok()
        };
        match (name, kind, credit_code, place, org, lvl) {
            (
                Some(name),
                Some(kind),
                Some(credit_code),
                Some((place_id, path)),
                Some(party_org_name),
                Some(party_org_level),
            ) if e.is_empty() => good.push(Good {
                line: row.line,
                unit: ValidUnit {
                    name,
                    kind,
                    credit_code,
                    place_id: PlaceId(place_id),
                    party_org_name,
                    party_org_level,
                    contact_name,
                    contact_phone,
                },
                path,
            }),
            _ => {
                report.error_rows += 1;
                report.rows.push(e.into_report(row.line, row.get(*c_name)));
            }
        }
    }
    progress(table.rows.len());

    let codes: Vec<String> = good.iter().map(|g| g.unit.credit_code.clone()).collect();
    let existing = store.existing_credit_codes(&codes).await?;
    let mut to_write = Vec::with_capacity(good.len());
    for g in good {
        if existing.contains(&g.unit.credit_code) {
            report.skipped += 1;
            report.rows.push(skipped_row(g.line, &g.unit.name));
        } else {
            to_write.push(g);
        }
    }
    report.ok_rows = to_write.len();
    let mut recorded = false;
    if decide(&mut report, opts) {
        let rows: Vec<BulkUnit> = to_write
            .iter()
            .map(|g| BulkUnit {
                unit: &g.unit,
                place_path: &g.path,
            })
            .collect();
        let n = to_write.len();
        let outcome = |inserted: usize| {
            let mut r = report.clone();
            written(&mut r, n, inserted);
            outcome_of(&r)
        };
        let finish = job.map(|j| ImportFinish {
            import_id: j.import_id,
            lease: j.lease,
            outcome: &outcome,
        });
        let inserted = store
            .bulk_insert_units_for(actor, "import.units", &rows, finish.as_ref())
            .await?;
        recorded = finish.is_some();
        written(&mut report, n, inserted);
    }
    Ok((report, recorded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_org_levels_by_label_or_code() {
        assert_eq!(level("党总支"), Some(PartyOrgLevel::GeneralBranch));
        assert_eq!(level("branch"), Some(PartyOrgLevel::Branch));
        assert_eq!(level("支部"), None);
    }
}
