//! Member rows: 姓名, 手机号, 身份证号, 所在单位, 居住社区, 专长, 户居分离.

use std::collections::HashMap;

use shanzhi_domain::org::{DictKind, ValidMember};
use shanzhi_domain::role::Scope;
use shanzhi_domain::roster::roster_write;
use shanzhi_domain::{Code, PlaceId, UnitId, validate};
use shanzhi_sheets::Row;
use shanzhi_store::bulk::MemberRow;
use shanzhi_store::imports::ImportFinish;
use shanzhi_store::{Actor, Store, StoreResult};

use crate::engine::{Importer, Staged};
use crate::{
    Found, ImportError, Kind, NameIndex, RowProblems, RowReport, pending_row, skipped_row,
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

/// The member import: columns and lookups of one file.
pub(crate) struct Members {
    cols: Cols,
    communities: NameIndex<(i64, String)>,
    units_by_name: NameIndex<i64>,
    units_by_code: HashMap<String, i64>,
    skills: HashMap<String, String>,
    /// The importer's scope and the district's path, for the roster rule.
    scope: Scope,
    district: String,
    /// For the vault's search hashes.
    store: Store,
}

/// Mobiles and ID-card numbers seen so far in the file, with the first line of each.
#[derive(Default)]
pub(crate) struct Seen {
    mobile: HashMap<String, usize>,
    id: HashMap<String, usize>,
}

/// A row that passed every check.
pub(crate) struct Good {
    line: usize,
    row: MemberRow,
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

impl Importer for Members {
    type Good = Good;
    type Row = MemberRow;
    type Seen = Seen;
    const KIND: Kind = Kind::Members;

    async fn prepare(
        store: &Store,
        scope: &Scope,
        headers: &[String],
    ) -> Result<Self, ImportError> {
        // Names resolve among every community and unit of the district; whether a row may name them is the
        // roster rule (`shanzhi_domain::roster::roster_write`), applied row by row with its own codes.
        if !matches!(
            scope,
            Scope::Unit(_) | Scope::Subtree(_) | Scope::Everything
        ) {
            return Err(ImportError::Refused(Code::Forbidden));
        }
        let req = shanzhi_sheets::require(headers, &["姓名", "手机号", "所在单位", "居住社区"])?;
        let (Some(&name), Some(&mobile), Some(&unit), Some(&community)) =
            (req.first(), req.get(1), req.get(2), req.get(3))
        else {
            return Err(ImportError::Refused(Code::BadRequest));
        };
        let column = |h: &str| shanzhi_sheets::column(headers, h);
        let cols = Cols {
            name,
            mobile,
            id_card: column("身份证号"),
            unit,
            community,
            skills: column("专长"),
            separated: column("户居分离"),
        };

        let mut communities: NameIndex<(i64, String)> = NameIndex::default();
        for p in store
            .import_places(&Scope::Everything, &["community"])
            .await?
        {
            communities.insert(&p.name, (p.id, p.path.clone()));
            if let Some(parent) = &p.parent_name {
                communities.insert(&format!("{parent}/{}", p.name), (p.id, p.path.clone()));
            }
        }
        let mut units_by_name: NameIndex<i64> = NameIndex::default();
        let mut units_by_code: HashMap<String, i64> = HashMap::new();
        for u in store.import_units(&Scope::Everything).await? {
            units_by_name.insert(&u.name, u.id);
            units_by_code.insert(u.credit_code.to_ascii_uppercase(), u.id);
        }
        let mut skills: HashMap<String, String> = HashMap::new();
        for d in store.list_dict(DictKind::Skill, true).await? {
            skills.insert(d.name.clone(), d.code.clone());
            skills.insert(d.code.clone(), d.code);
        }
        let district = store
            .root_place()
            .await?
            .map(|p| p.path)
            .unwrap_or_default();
        Ok(Members {
            cols,
            communities,
            units_by_name,
            units_by_code,
            skills,
            scope: scope.clone(),
            district,
            store: store.clone(),
        })
    }

    fn check(&self, row: &Row, mut seen: Option<&mut Seen>) -> Result<Good, RowReport> {
        let cols = &self.cols;
        let mut e = RowProblems::default();
        let name = validate::text(row.get(cols.name), 40)
            .map_err(|c| e.add("姓名", c))
            .ok();
        let mobile = validate::mobile(row.get(cols.mobile))
            .map_err(|c| e.add("手机号", c))
            .ok();
        if let (Some(m), Some(seen)) = (&mobile, seen.as_deref_mut()) {
            if let Some(first) = seen.mobile.get(m) {
                e.add_text(
                    "手机号",
                    Code::DuplicateInFile,
                    format!("与第{first}行重复"),
                );
            } else {
                seen.mobile.insert(m.clone(), row.line);
            }
        }
        let id_raw = cols.id_card.map(|c| row.get(c)).unwrap_or("");
        let id_card = if id_raw.trim().is_empty() {
            None
        } else {
            match validate::id_card(id_raw) {
                Ok(id) => {
                    if let Some(seen) = seen {
                        if let Some(first) = seen.id.get(&id) {
                            e.add_text(
                                "身份证号",
                                Code::DuplicateInFile,
                                format!("与第{first}行重复"),
                            );
                        } else {
                            seen.id.insert(id.clone(), row.line);
                        }
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
        } else if let Some(id) = self.units_by_code.get(&unit_text.to_ascii_uppercase()) {
            Some(*id)
        } else {
            match self.units_by_name.find(unit_text) {
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
            match self.communities.find(community_text) {
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
                match self.skills.get(s) {
                    Some(code) if !skill_codes.contains(code) => skill_codes.push(code.clone()),
                    Some(_) => {}
                    None => e.add_text(
                        "专长",
                        Code::UnknownSkill,
                        format!("「{}」不在专长字典中", shanzhi_domain::jobs::quote(s)),
                    ),
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
        // The roster rule: the residence within a place admin's area, a unit admin's own unit only; a unit named
        // by a town or community waits for the unit's confirmation.
        let mut unit_pending = false;
        if let (Some(unit), Some((_, path))) = (unit_id, &community) {
            match roster_write(&self.scope, UnitId(unit), path, &self.district) {
                Ok(link) => unit_pending = !link.counts(),
                Err(c @ Code::ResidenceOutOfScope) => e.add("居住社区", c),
                Err(c) => e.add("所在单位", c),
            }
        }
        match (name, mobile, unit_id, community) {
            (Some(name), Some(mobile), Some(unit_id), Some((cid, path))) if e.is_empty() => {
                Ok(Good {
                    line: row.line,
                    mobile_hash: self.store.vault().search_hash(&mobile),
                    id_hash: id_card
                        .as_deref()
                        .map(|i| self.store.vault().search_hash(i)),
                    row: MemberRow {
                        member: ValidMember {
                            name,
                            mobile,
                            id_card,
                            unit_id: UnitId(unit_id),
                            community_id: PlaceId(cid),
                            skills: skill_codes,
                            separated_residence: separated,
                        },
                        community_path: path,
                        unit_pending,
                    },
                })
            }
            _ => Err(e.into_report(row.line, row.get(cols.name))),
        }
    }

    /// A known mobile is skipped; a known ID card with a new mobile is an error; a new member whose unit waits for
    /// its confirmation is written and reported as 待单位确认.
    async fn against_db(
        &self,
        store: &Store,
        goods: Vec<Good>,
    ) -> Result<(usize, Vec<RowReport>), ImportError> {
        let mobile_hashes: Vec<String> = goods.iter().map(|g| g.mobile_hash.clone()).collect();
        let existing = store.existing_member_hashes(&mobile_hashes).await?;
        let id_hashes: Vec<String> = goods.iter().filter_map(|g| g.id_hash.clone()).collect();
        let existing_ids = store.existing_id_card_hashes(&id_hashes).await?;
        let mut ok = 0;
        let mut others = Vec::new();
        for g in goods {
            if existing.contains(&g.mobile_hash) {
                others.push(skipped_row(g.line, &g.row.member.name));
            } else if g.id_hash.as_ref().is_some_and(|h| existing_ids.contains(h)) {
                let mut e = RowProblems::default();
                e.add("身份证号", Code::DuplicateIdCard);
                others.push(e.into_report(g.line, &g.row.member.name));
            } else {
                ok += 1;
                if g.row.unit_pending {
                    others.push(pending_row(g.line, &g.row.member.name));
                }
            }
        }
        Ok((ok, others))
    }

    fn into_row(good: Good) -> MemberRow {
        good.row
    }

    async fn write(
        store: &Store,
        actor: &Actor,
        rows: &mut Staged<MemberRow>,
        finish: Option<&ImportFinish<'_>>,
    ) -> StoreResult<(usize, usize)> {
        store
            .bulk_insert_members_stream(actor, "import.members", rows, finish)
            .await
    }
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
