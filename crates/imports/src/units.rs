//! Unit rows: 单位名称, 单位类别, 统一社会信用代码, 所在街镇或村居, 党组织名称, 党组织层级, 联系人, 联系电话.

use std::collections::HashMap;

use shanzhi_domain::org::{DictKind, ValidUnit};
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::role::Scope;
use shanzhi_domain::{Code, PlaceId, validate};
use shanzhi_sheets::Row;
use shanzhi_store::bulk::UnitRow;
use shanzhi_store::imports::ImportFinish;
use shanzhi_store::{Actor, Store, StoreResult};

use crate::engine::{Importer, Staged};
use crate::{Found, ImportError, Kind, NameIndex, RowProblems, RowReport, skipped_row};

struct Cols {
    name: usize,
    kind: usize,
    code: usize,
    place: usize,
    org: usize,
    level: usize,
    contact: Option<usize>,
    phone: Option<usize>,
}

/// The unit import: columns and lookups of one file.
pub(crate) struct Units {
    cols: Cols,
    places: NameIndex<(i64, String)>,
    kinds: HashMap<String, String>,
}

/// A row that passed every check.
pub(crate) struct Good {
    line: usize,
    row: UnitRow,
}

fn level(s: &str) -> Option<PartyOrgLevel> {
    let s = s.trim();
    PartyOrgLevel::parse(s).or_else(|| PartyOrgLevel::ALL.into_iter().find(|l| l.label() == s))
}

impl Importer for Units {
    type Good = Good;
    type Row = UnitRow;
    /// Credit codes seen so far in the file, with the first line of each.
    type Seen = HashMap<String, usize>;
    const KIND: Kind = Kind::Units;

    async fn prepare(
        store: &Store,
        scope: &Scope,
        headers: &[String],
    ) -> Result<Self, ImportError> {
        // Units are registered by place admins (a unit admin cannot create other units).
        if !matches!(scope, Scope::Subtree(_) | Scope::Everything) {
            return Err(ImportError::Refused(Code::Forbidden));
        }
        let req = shanzhi_sheets::require(
            headers,
            &[
                "单位名称",
                "单位类别",
                "统一社会信用代码",
                "所在街镇或村居",
                "党组织名称",
                "党组织层级",
            ],
        )?;
        let [name, kind, code, place, org, level] = req.as_slice() else {
            return Err(ImportError::Refused(Code::BadRequest));
        };
        let cols = Cols {
            name: *name,
            kind: *kind,
            code: *code,
            place: *place,
            org: *org,
            level: *level,
            contact: shanzhi_sheets::column(headers, "联系人"),
            phone: shanzhi_sheets::column(headers, "联系电话"),
        };

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
        Ok(Units {
            cols,
            places,
            kinds,
        })
    }

    fn check(
        &self,
        row: &Row,
        seen: Option<&mut HashMap<String, usize>>,
    ) -> Result<Good, RowReport> {
        let c = &self.cols;
        let mut e = RowProblems::default();
        let name = validate::text(row.get(c.name), 80)
            .map_err(|c| e.add("单位名称", c))
            .ok();
        let kind_text = row.get(c.kind).trim();
        let kind = if kind_text.is_empty() {
            e.add("单位类别", Code::Required);
            None
        } else {
            let k = self.kinds.get(kind_text).cloned();
            if k.is_none() {
                e.add("单位类别", Code::UnknownUnitKind);
            }
            k
        };
        let credit_code = match validate::credit_code(row.get(c.code)) {
            Ok(code) => {
                if let Some(seen) = seen {
                    if let Some(first) = seen.get(&code) {
                        e.add_text(
                            "统一社会信用代码",
                            Code::DuplicateInFile,
                            format!("与第{first}行重复"),
                        );
                    } else {
                        seen.insert(code.clone(), row.line);
                    }
                }
                Some(code)
            }
            Err(code) => {
                e.add("统一社会信用代码", code);
                None
            }
        };
        let place_text = row.get(c.place).trim();
        let place = if place_text.is_empty() {
            e.add("所在街镇或村居", Code::Required);
            None
        } else {
            match self.places.find(place_text) {
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
        let org = validate::text(row.get(c.org), 80)
            .map_err(|c| e.add("党组织名称", c))
            .ok();
        let lvl = level(row.get(c.level));
        if lvl.is_none() {
            e.add_text(
                "党组织层级",
                Code::InvalidChoice,
                "请填写“党委”“党总支”或“党支部”".into(),
            );
        }
        let contact_name = validate::optional_text(c.contact.map(|i| row.get(i)).unwrap_or(""), 40)
            .map_err(|c| e.add("联系人", c))
            .ok()
            .flatten();
        let phone_raw = c.phone.map(|i| row.get(i)).unwrap_or("");
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
            ) if e.is_empty() => Ok(Good {
                line: row.line,
                row: UnitRow {
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
                    place_path: path,
                },
            }),
            _ => Err(e.into_report(row.line, row.get(c.name))),
        }
    }

    /// A known credit code is skipped.
    async fn against_db(
        &self,
        store: &Store,
        goods: Vec<Good>,
    ) -> Result<(usize, Vec<RowReport>), ImportError> {
        let codes: Vec<String> = goods
            .iter()
            .map(|g| g.row.unit.credit_code.clone())
            .collect();
        let existing = store.existing_credit_codes(&codes).await?;
        let mut ok = 0;
        let mut others = Vec::new();
        for g in goods {
            if existing.contains(&g.row.unit.credit_code) {
                others.push(skipped_row(g.line, &g.row.unit.name));
            } else {
                ok += 1;
            }
        }
        Ok((ok, others))
    }

    fn into_row(good: Good) -> UnitRow {
        good.row
    }

    async fn write(
        store: &Store,
        actor: &Actor,
        rows: &mut Staged<UnitRow>,
        finish: Option<&ImportFinish<'_>>,
    ) -> StoreResult<(usize, usize)> {
        store
            .bulk_insert_units_stream(actor, "import.units", rows, finish)
            .await
    }
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
