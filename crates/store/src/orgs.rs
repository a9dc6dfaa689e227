//! 驻区单位, 在职党员 and 社会组织. Personal numbers are stored encrypted (`*_enc`), found by a keyed hash
//! (`*_hash`) and shown masked (`*_masked`); the full value only leaves through `reveal_member_personal`, which is
//! audited.

use serde::Serialize;
use shanzhi_domain::org::{ValidMember, ValidMemberEdit, ValidSocialOrg, ValidUnit};
use shanzhi_domain::place::{PartyOrgLevel, PlaceLevel};
use shanzhi_domain::role::Scope;
use shanzhi_domain::roster::UnitLink;
use shanzhi_domain::{Code, MemberId, PlaceId, SocialOrgId, Timestamp, UnitId, mask};

use crate::audit::{Actor, AuditEntry, like_escape};
use crate::places::Place;
use crate::{Page, PageReq, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Unit {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub kind_name: Option<String>,
    pub credit_code: String,
    pub place_id: i64,
    pub place_name: String,
    pub place_path: String,
    pub party_org_name: String,
    pub party_org_level: String,
    pub contact_name: Option<String>,
    pub contact_phone_masked: Option<String>,
    pub member_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Unit {
    pub fn party_org_level_label(&self) -> &'static str {
        PartyOrgLevel::parse(&self.party_org_level)
            .map(PartyOrgLevel::label)
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    /// Name or credit code contains.
    pub q: Option<String>,
    /// Unit kind code.
    pub kind: Option<String>,
    /// Located in this place or below.
    pub place_id: Option<i64>,
}

/// `member_count` counts the members who count for the unit (`member_counts_for_unit!`).
const UNIT_SELECT: &str = concat!(
    "SELECT u.id, u.name, u.kind, d.name AS kind_name, u.credit_code, u.place_id, pl.name AS place_name, \
    u.place_path, u.party_org_name, u.party_org_level, u.contact_name, u.contact_phone_masked, \
    (SELECT COUNT(*) FROM members mm WHERE mm.unit_id = u.id AND ",
    member_counts_for_unit!("mm"),
    ") AS member_count, u.created_at, u.updated_at \
    FROM units u JOIN places pl ON pl.id = u.place_id \
    LEFT JOIN dict_entries d ON d.kind = 'unit_kind' AND d.code = u.kind WHERE 1 = 1"
);

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub mobile_masked: String,
    pub id_card_masked: Option<String>,
    pub unit_id: i64,
    pub unit_name: String,
    pub party_org_name: String,
    pub community_id: i64,
    pub community_name: String,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub place_path: String,
    pub separated_residence: bool,
    pub card_public: bool,
    /// Whether the member counts for the home unit: false while the link, named by a town or community, waits
    /// for the unit's admin, and after the unit declined it.
    pub unit_confirmed: bool,
    /// Who named the home unit when it waits (or waited) for the unit: the place of the writer's role binding,
    /// e.g. `甲一村`.
    pub unit_proposed_by: Option<String>,
    pub unit_proposed_at: Option<i64>,
    /// When the unit declined the member (the member then no longer belongs to the unit's roster).
    pub unit_declined_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(skip)]
    pub skills: Vec<String>,
}

impl Member {
    /// 单位确认 state for people: empty when confirmed.
    pub fn unit_link_label(&self) -> &'static str {
        match (self.unit_confirmed, self.unit_declined_at) {
            (true, _) => "",
            (false, None) => "待单位确认",
            (false, Some(_)) => "单位未确认",
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    /// Name contains.
    pub q: Option<String>,
    /// Exact mobile number (searched through the keyed hash).
    pub mobile: Option<String>,
    pub unit_id: Option<i64>,
    /// Lives in this place or below.
    pub place_id: Option<i64>,
    /// Skill code.
    pub skill: Option<String>,
}

const MEMBER_SELECT: &str = "SELECT m.id, m.name, m.mobile_masked, m.id_card_masked, m.unit_id, u.name AS unit_name, \
    u.party_org_name, m.community_id, c.name AS community_name, m.grid_id, g.name AS grid_name, m.place_path, \
    m.separated_residence, m.card_public, m.unit_confirmed, m.unit_proposed_by, m.unit_proposed_at, m.unit_declined_at, \
    m.created_at, m.updated_at \
    FROM members m JOIN units u ON u.id = m.unit_id JOIN places c ON c.id = m.community_id \
    LEFT JOIN places g ON g.id = m.grid_id WHERE 1 = 1";

/// Full personal numbers, for roles that need them (each reveal is audited).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonalNumbers {
    pub mobile: String,
    pub id_card: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SocialOrg {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub place_id: i64,
    pub place_name: String,
    pub place_path: String,
    pub contact_name: Option<String>,
    pub contact_phone_masked: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SocialOrgFilter {
    pub q: Option<String>,
    pub place_id: Option<i64>,
}

const SOCIAL_SELECT: &str = "SELECT s.id, s.name, s.credit_code, s.place_id, pl.name AS place_name, s.place_path, \
    s.contact_name, s.contact_phone_masked, s.created_at, s.updated_at FROM social_orgs s JOIN places pl ON pl.id = s.place_id WHERE 1 = 1";

/// Encrypted form of an optional phone: (enc, masked).
fn phone_cols(store: &Store, phone: Option<&str>) -> StoreResult<(Option<String>, Option<String>)> {
    match phone {
        Some(p) => Ok((Some(store.vault.encrypt(p)?), Some(mask::mobile(p)))),
        None => Ok((None, None)),
    }
}

fn like(q: &Option<String>) -> Option<String> {
    q.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", like_escape(s)))
}

impl Store {
    /// The place a write targets must be inside the caller's subtree; unit and member scopes may name any place.
    async fn place_for_write(
        &self,
        scope: &Scope,
        id: PlaceId,
        field: &'static str,
    ) -> StoreResult<Place> {
        let place = match scope {
            Scope::Subtree(_) => self.get_place(scope, id).await,
            Scope::Unit(_) | Scope::Member(_) | Scope::Everything => {
                self.get_place_unscoped(id).await
            }
            _ => Err(StoreError::NotFound),
        };
        place.map_err(|_| StoreError::field(field, Code::InvalidPlace))
    }

    async fn subtree_filter_path(
        &self,
        scope: &Scope,
        place_id: Option<i64>,
    ) -> StoreResult<Option<String>> {
        match place_id {
            Some(id) => Ok(Some(self.get_place(scope, PlaceId(id)).await?.path)),
            None => Ok(None),
        }
    }

    // ---------------------------------------------------------------- units

    pub async fn get_unit(&self, scope: &Scope, id: UnitId) -> StoreResult<Unit> {
        let unit: Option<Unit> = rd!(self, |p| {
            let mut qb = crate::qb(p, UNIT_SELECT);
            qb.push(" AND u.id = ").push_bind(id.0);
            unit_visible!(qb, scope);
            qb.build_query_as().fetch_optional(p).await?
        });
        unit.ok_or(StoreError::NotFound)
    }

    /// Any unit by id without scope (for resolving a member's home unit in pickers).
    pub async fn unit_exists(&self, id: UnitId) -> StoreResult<bool> {
        let r: Option<(i64,)> = rd!(self, |p| sqlx::query_as(
            "SELECT id FROM units WHERE id = $1"
        )
        .bind(id.0)
        .fetch_optional(p)
        .await?);
        Ok(r.is_some())
    }

    pub async fn list_units(
        &self,
        scope: &Scope,
        f: &UnitFilter,
        page: PageReq,
    ) -> StoreResult<Page<Unit>> {
        let q = like(&f.q);
        let kind = f.kind.clone().filter(|s| !s.is_empty());
        let within = match self.subtree_filter_path(scope, f.place_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => {
                return Ok(Page::empty(page));
            }
            Err(e) => return Err(e),
        };
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM units u WHERE 1 = 1");
            let mut list = crate::qb(p, UNIT_SELECT);
            for qb in [&mut count, &mut list] {
                unit_visible!(qb, scope);
                if let Some(q) = &q {
                    qb.push(" AND (u.name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\' OR u.credit_code LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\')");
                }
                if let Some(k) = &kind {
                    qb.push(" AND u.kind = ").push_bind(k.clone());
                }
                if let Some(path) = &within {
                    let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                    qb.push(" AND u.place_path >= ")
                        .push_bind(lo)
                        .push(" AND u.place_path < ")
                        .push_bind(hi);
                }
            }
            list.push(" ORDER BY u.name, u.id LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<Unit> = list.build_query_as().fetch_all(p).await?;
            Ok(Page::of(items, total, page))
        })
    }

    pub async fn create_unit(
        &self,
        actor: &Actor,
        scope: &Scope,
        v: &ValidUnit,
    ) -> StoreResult<UnitId> {
        let place = self.place_for_write(scope, v.place_id, "place_id").await?;
        self.require_dict("unit_kind", &v.kind, "kind").await?;
        let (phone_enc, phone_masked) = phone_cols(self, v.contact_phone.as_deref())?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO units (name, kind, credit_code, place_id, place_path, party_org_name, party_org_level, contact_name, \
                     contact_phone_enc, contact_phone_masked, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11) RETURNING id",
                )
                .bind(&v.name)
                .bind(&v.kind)
                .bind(&v.credit_code)
                .bind(place.id)
                .bind(&place.path)
                .bind(&v.party_org_name)
                .bind(v.party_org_level.as_str())
                .bind(v.contact_name.as_deref())
                .bind(phone_enc.as_deref())
                .bind(phone_masked.as_deref())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let mut added = crate::stats::Figures::default();
                added.units_at(&place.path, 1);
                stats_in_tx!(tx, added);
                Some(id)
            },
            |id| AuditEntry::ok("unit.create", format!("unit:{id}")).with_detail(v.name.clone()),
            unique = StoreError::field("credit_code", Code::DuplicateCreditCode)
        )
        .map(UnitId)
    }

    pub async fn update_unit(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: UnitId,
        v: &ValidUnit,
    ) -> StoreResult<()> {
        let current = self.get_unit(scope, id).await?;
        let place = if current.place_id == v.place_id.0 {
            self.get_place_unscoped(v.place_id).await?
        } else {
            self.place_for_write(scope, v.place_id, "place_id").await?
        };
        self.require_dict("unit_kind", &v.kind, "kind").await?;
        let (phone_enc, phone_masked) = phone_cols(self, v.contact_phone.as_deref())?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let before = unit_figures!(self, tx, id.0);
                sqlx::query(
                    "UPDATE units SET name = $1, kind = $2, credit_code = $3, place_id = $4, place_path = $5, party_org_name = $6, \
                     party_org_level = $7, contact_name = $8, contact_phone_enc = COALESCE($9, contact_phone_enc), contact_phone_masked = COALESCE($10, contact_phone_masked), updated_at = $11 WHERE id = $12",
                )
                .bind(&v.name)
                .bind(&v.kind)
                .bind(&v.credit_code)
                .bind(place.id)
                .bind(&place.path)
                .bind(&v.party_org_name)
                .bind(v.party_org_level.as_str())
                .bind(v.contact_name.as_deref())
                .bind(phone_enc.as_deref())
                .bind(phone_masked.as_deref())
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
                let after = unit_figures!(self, tx, id.0);
                stats_in_tx!(tx, after.minus(&before));
                Some(())
            },
            |_done| AuditEntry::ok("unit.update", format!("unit:{id}")),
            unique = StoreError::field("credit_code", Code::DuplicateCreditCode)
        )
    }

    // ---------------------------------------------------------------- members

    async fn fill_skills(&self, members: &mut [Member]) -> StoreResult<()> {
        if members.is_empty() {
            return Ok(());
        }
        let rows: Vec<(i64, String)> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT ms.member_id, COALESCE(d.name, ms.skill) FROM member_skills ms \
                LEFT JOIN dict_entries d ON d.kind = 'skill' AND d.code = ms.skill WHERE ms.member_id IN (",
            );
            let mut sep = qb.separated(", ");
            for m in members.iter() {
                sep.push_bind(m.id);
            }
            qb.push(") ORDER BY ms.member_id, ms.skill");
            qb.build_query_as().fetch_all(p).await?
        });
        for (id, skill) in rows {
            if let Some(m) = members.iter_mut().find(|m| m.id == id) {
                m.skills.push(skill);
            }
        }
        Ok(())
    }

    pub async fn get_member(&self, scope: &Scope, id: MemberId) -> StoreResult<Member> {
        let member: Option<Member> = rd!(self, |p| {
            let mut qb = crate::qb(p, MEMBER_SELECT);
            qb.push(" AND m.id = ").push_bind(id.0);
            member_visible!(qb, scope);
            qb.build_query_as().fetch_optional(p).await?
        });
        let mut member = [member.ok_or(StoreError::NotFound)?];
        self.fill_skills(&mut member).await?;
        let [m] = member;
        Ok(m)
    }

    /// Skill codes of a member (for edit forms).
    pub async fn member_skill_codes(&self, id: MemberId) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = rd!(self, |p| sqlx::query_as(
            "SELECT skill FROM member_skills WHERE member_id = $1 ORDER BY skill"
        )
        .bind(id.0)
        .fetch_all(p)
        .await?);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn list_members(
        &self,
        scope: &Scope,
        f: &MemberFilter,
        page: PageReq,
    ) -> StoreResult<Page<Member>> {
        let q = like(&f.q);
        let mobile_hash = match f.mobile.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(m) => match shanzhi_domain::validate::mobile(m) {
                Ok(m) => Some(self.vault.search_hash(&m)),
                Err(_) => Some(String::new()),
            },
            None => None,
        };
        let skill = f.skill.clone().filter(|s| !s.is_empty());
        let within = match self.subtree_filter_path(scope, f.place_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => {
                return Ok(Page::empty(page));
            }
            Err(e) => return Err(e),
        };
        // Without a search the total is the rollup of the place the list covers; with one (or for a unit's
        // members) the matches are counted up to `TOTAL_CAP`.
        let plain = q.is_none() && mobile_hash.is_none() && f.unit_id.is_none() && skill.is_none();
        let rollup_place = match (&within, scope) {
            _ if !plain => None,
            (Some(path), _) | (None, Scope::Subtree(path)) => {
                shanzhi_domain::place::path_ids(path).last().copied()
            }
            _ => None,
        };
        // The key of the member a keyset page continues after (a member gone meanwhile ends the list).
        let after: Option<(i64, String)> = match page.after {
            Some(id) => {
                let path: Option<(String,)> = rd!(self, |p| sqlx::query_as(
                    "SELECT place_path FROM members WHERE id = $1"
                )
                .bind(id)
                .fetch_optional(p)
                .await?);
                match path {
                    Some((path,)) => Some((id, path)),
                    None => return Ok(Page::empty(page)),
                }
            }
            None => None,
        };
        let mut result: Page<Member> = rd!(self, |p| {
            let mut count = crate::qb(
                p,
                "SELECT COUNT(*) FROM (SELECT 1 FROM members m WHERE 1 = 1",
            );
            let mut list = crate::qb(p, MEMBER_SELECT);
            for qb in [&mut count, &mut list] {
                member_visible!(qb, scope);
                if let Some(q) = &q {
                    qb.push(" AND m.name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\'");
                }
                if let Some(h) = &mobile_hash {
                    qb.push(" AND m.mobile_hash = ").push_bind(h.clone());
                }
                if let Some(u) = f.unit_id {
                    qb.push(" AND m.unit_id = ").push_bind(u);
                }
                if let Some(s) = &skill {
                    qb.push(" AND EXISTS (SELECT 1 FROM member_skills ms WHERE ms.member_id = m.id AND ms.skill = ").push_bind(s.clone()).push(")");
                }
                if let Some(path) = &within {
                    let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                    qb.push(" AND m.place_path >= ")
                        .push_bind(lo)
                        .push(" AND m.place_path < ")
                        .push_bind(hi);
                }
            }
            count
                .push(" LIMIT ")
                .push_bind(crate::page::TOTAL_CAP + 1)
                .push(") t");
            // Keyset: the list is ordered by (place_path, id), which the index returns in order; a page after a
            // member starts at that member's key instead of skipping rows.
            // Spelt out instead of a row-value comparison, which SQLite answers by walking the index from the
            // start of the scope (3 ms 40,000 members deep against 0.2 ms this way, measured with the SQL alone).
            if let Some((after, path)) = &after {
                list.push(" AND (m.place_path > ")
                    .push_bind(path.clone())
                    .push(" OR (m.place_path = ")
                    .push_bind(path.clone())
                    .push(" AND m.id > ")
                    .push_bind(*after)
                    .push("))");
            }
            list.push(" ORDER BY m.place_path, m.id LIMIT ")
                .push_bind(page.limit() + 1);
            if page.after.is_none() {
                list.push(" OFFSET ").push_bind(page.offset());
            }
            let mut items: Vec<Member> = list.build_query_as().fetch_all(p).await?;
            let more = items.len() > page.per_page as usize;
            items.truncate(page.per_page as usize);
            let next_after = if more {
                items.last().map(|m| m.id)
            } else {
                None
            };
            let page = match rollup_place {
                Some(place) => {
                    let total: Option<(i64,)> =
                        sqlx::query_as("SELECT members FROM place_stats WHERE place_id = $1")
                            .bind(place.0)
                            .fetch_optional(p)
                            .await?;
                    Page::of(items, total.map_or(0, |t| t.0), page)
                }
                None => {
                    let (counted,): (i64,) = count.build_query_as().fetch_one(p).await?;
                    Page::of(items, counted, page).with_capped_total(counted)
                }
            };
            Page { next_after, ..page }
        });
        self.fill_skills(&mut result.items).await?;
        Ok(result)
    }

    /// Looks up what a member record refers to: the home unit must exist, the residence community must be a
    /// community visible in `places`, every skill an active dictionary entry. Returns the community. Which places
    /// (and which units) a caller may name is the use case's decision, not the store's.
    pub async fn member_refs(
        &self,
        places: &Scope,
        unit_id: UnitId,
        community_id: PlaceId,
        skills: &[String],
    ) -> StoreResult<Place> {
        if !self.unit_exists(unit_id).await? {
            return Err(StoreError::field("unit_id", Code::InvalidUnit));
        }
        let community = self
            .get_place(places, community_id)
            .await
            .map_err(|_| StoreError::field("community_id", Code::InvalidPlace))?;
        if community.level() != Some(PlaceLevel::Community) {
            return Err(StoreError::field("community_id", Code::InvalidPlaceLevel));
        }
        for s in skills {
            self.require_dict("skill", s, "skills").await?;
        }
        Ok(community)
    }

    fn map_member_unique(e: sqlx::Error) -> StoreError {
        if StoreError::unique_on(&e, "mobile_hash") {
            StoreError::field("mobile", Code::DuplicateMobile)
        } else if StoreError::unique_on(&e, "id_card_hash") {
            StoreError::field("id_card", Code::DuplicateIdCard)
        } else {
            e.into()
        }
    }

    /// Writes a new member living in `community` (looked up by [`Store::member_refs`]); with a pending `link` the
    /// member waits for the home unit's confirmation (`shanzhi_domain::roster::roster_write` decides).
    pub async fn create_member(
        &self,
        actor: &Actor,
        community: &Place,
        v: &ValidMember,
        link: UnitLink,
    ) -> StoreResult<MemberId> {
        let pending = !link.counts();
        let proposer = pending.then(|| actor.place_or_name());
        let mobile_enc = self.vault.encrypt(&v.mobile)?;
        let mobile_hash = self.vault.search_hash(&v.mobile);
        let id_enc = v
            .id_card
            .as_deref()
            .map(|i| self.vault.encrypt(i))
            .transpose()?;
        let id_hash = v.id_card.as_deref().map(|i| self.vault.search_hash(i));
        let id_masked = v.id_card.as_deref().map(mask::id_card);
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO members (name, mobile_enc, mobile_hash, mobile_masked, id_card_enc, id_card_hash, id_card_masked, unit_id, \
                     community_id, grid_id, place_path, separated_residence, card_public, unit_confirmed, unit_proposed_by, \
                     unit_proposed_at, created_at, updated_at) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,NULL,$10,$11,TRUE,$13,$14,$15,$12,$12) RETURNING id",
                )
                .bind(&v.name)
                .bind(&mobile_enc)
                .bind(&mobile_hash)
                .bind(mask::mobile(&v.mobile))
                .bind(id_enc.as_deref())
                .bind(id_hash.as_deref())
                .bind(id_masked.as_deref())
                .bind(v.unit_id.0)
                .bind(community.id)
                .bind(&community.path)
                .bind(v.separated_residence)
                .bind(now)
                .bind(!pending)
                .bind(proposer.as_deref())
                .bind(pending.then_some(now))
                .fetch_one(&mut *tx)
                .await?;
                for s in &v.skills {
                    sqlx::query("INSERT INTO member_skills (member_id, skill) VALUES ($1, $2)")
                        .bind(id)
                        .bind(s)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut added = crate::stats::Figures::default();
                added.members_at(&community.path, 1);
                stats_in_tx!(tx, added);
                Some(id)
            },
            |id| AuditEntry::ok("member.create", format!("member:{id}")),
            unique = |e| Self::map_member_unique(e)
        )
        .map(MemberId)
    }

    /// Updates `current` to live in `community` (looked up by [`Store::member_refs`]). A `None` mobile or ID
    /// number keeps the stored value; moving to another community clears the grid placement. `link` is the state
    /// of a newly named home unit (`None`: the unit is unchanged and so is its confirmation).
    pub async fn update_member(
        &self,
        actor: &Actor,
        current: &Member,
        community: &Place,
        v: &ValidMemberEdit,
        link: Option<UnitLink>,
    ) -> StoreResult<()> {
        let (confirmed, proposer, proposed_at, declined_at) = match link {
            None => (
                current.unit_confirmed,
                current.unit_proposed_by.clone(),
                current.unit_proposed_at,
                current.unit_declined_at,
            ),
            Some(UnitLink::Confirmed) => (true, None, None, None),
            Some(UnitLink::Pending) => (
                false,
                Some(actor.place_or_name()),
                Some(Timestamp::now().0),
                None,
            ),
        };
        let id = MemberId(current.id);
        let moved = current.community_id != community.id;
        let (grid_id, path) = if moved {
            (None, community.path.clone())
        } else {
            (current.grid_id, current.place_path.clone())
        };
        let mobile_enc = v
            .mobile
            .as_deref()
            .map(|m| self.vault.encrypt(m))
            .transpose()?;
        let mobile_hash = v.mobile.as_deref().map(|m| self.vault.search_hash(m));
        let mobile_masked = v.mobile.as_deref().map(mask::mobile);
        let id_enc = v
            .id_card
            .as_deref()
            .map(|i| self.vault.encrypt(i))
            .transpose()?;
        let id_hash = v.id_card.as_deref().map(|i| self.vault.search_hash(i));
        let id_masked = v.id_card.as_deref().map(mask::id_card);
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let before = member_figures!(self, tx, id.0);
                sqlx::query(
                    "UPDATE members SET name = $1, mobile_enc = COALESCE($2, mobile_enc), mobile_hash = COALESCE($3, mobile_hash), \
                     mobile_masked = COALESCE($4, mobile_masked), id_card_enc = COALESCE($5, id_card_enc), id_card_hash = COALESCE($6, id_card_hash), \
                     id_card_masked = COALESCE($7, id_card_masked), unit_id = $8, community_id = $9, grid_id = $10, place_path = $11, separated_residence = $12, \
                     updated_at = $13, unit_confirmed = $15, unit_proposed_by = $16, unit_proposed_at = $17, unit_declined_at = $18 WHERE id = $14",
                )
                .bind(&v.name)
                .bind(mobile_enc.as_deref())
                .bind(mobile_hash.as_deref())
                .bind(mobile_masked.as_deref())
                .bind(id_enc.as_deref())
                .bind(id_hash.as_deref())
                .bind(id_masked.as_deref())
                .bind(v.unit_id.0)
                .bind(community.id)
                .bind(grid_id)
                .bind(&path)
                .bind(v.separated_residence)
                .bind(now)
                .bind(id.0)
                .bind(confirmed)
                .bind(proposer.as_deref())
                .bind(proposed_at)
                .bind(declined_at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM member_skills WHERE member_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                for s in &v.skills {
                    sqlx::query("INSERT INTO member_skills (member_id, skill) VALUES ($1, $2)")
                        .bind(id.0)
                        .bind(s)
                        .execute(&mut *tx)
                        .await?;
                }
                let after = member_figures!(self, tx, id.0);
                stats_in_tx!(tx, after.minus(&before));
                Some(())
            },
            |_done| AuditEntry::ok("member.update", format!("member:{id}")),
            unique = |e| Self::map_member_unique(e)
        )
    }

    /// Decrypts a member's numbers for a role that needs them, and audits the view.
    pub async fn reveal_member_personal(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: MemberId,
    ) -> StoreResult<PersonalNumbers> {
        self.get_member(scope, id).await?;
        let (mobile_enc, id_enc): (String, Option<String>) = rd!(self, |p| sqlx::query_as(
            "SELECT mobile_enc, id_card_enc FROM members WHERE id = $1"
        )
        .bind(id.0)
        .fetch_one(p)
        .await?);
        let numbers = PersonalNumbers {
            mobile: self.vault.decrypt(&mobile_enc)?,
            id_card: id_enc.map(|e| self.vault.decrypt(&e)).transpose()?,
        };
        self.append_audit(
            actor,
            &AuditEntry::ok("member.reveal_personal", format!("member:{id}")),
        )
        .await?;
        Ok(numbers)
    }

    // ---------------------------------------------------------------- social organisations

    pub async fn get_social_org(&self, scope: &Scope, id: SocialOrgId) -> StoreResult<SocialOrg> {
        let s: Option<SocialOrg> = rd!(self, |p| {
            let mut qb = crate::qb(p, SOCIAL_SELECT);
            qb.push(" AND s.id = ").push_bind(id.0);
            push_scope!(qb, scope, path = "s.place_path", unit = "", member = "");
            qb.build_query_as().fetch_optional(p).await?
        });
        s.ok_or(StoreError::NotFound)
    }

    pub async fn list_social_orgs(
        &self,
        scope: &Scope,
        f: &SocialOrgFilter,
        page: PageReq,
    ) -> StoreResult<Page<SocialOrg>> {
        let q = like(&f.q);
        let within = match self.subtree_filter_path(scope, f.place_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => {
                return Ok(Page::empty(page));
            }
            Err(e) => return Err(e),
        };
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM social_orgs s WHERE 1 = 1");
            let mut list = crate::qb(p, SOCIAL_SELECT);
            for qb in [&mut count, &mut list] {
                push_scope!(qb, scope, path = "s.place_path", unit = "", member = "");
                if let Some(q) = &q {
                    qb.push(" AND (s.name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\' OR s.credit_code LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\')");
                }
                if let Some(path) = &within {
                    let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                    qb.push(" AND s.place_path >= ")
                        .push_bind(lo)
                        .push(" AND s.place_path < ")
                        .push_bind(hi);
                }
            }
            list.push(" ORDER BY s.name, s.id LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<SocialOrg> = list.build_query_as().fetch_all(p).await?;
            Ok(Page::of(items, total, page))
        })
    }

    pub async fn save_social_org(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: Option<SocialOrgId>,
        v: &ValidSocialOrg,
    ) -> StoreResult<SocialOrgId> {
        if let Some(id) = id {
            self.get_social_org(scope, id).await?;
        }
        let place = self.place_for_write(scope, v.place_id, "place_id").await?;
        let (phone_enc, phone_masked) = phone_cols(self, v.contact_phone.as_deref())?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| Some(match id {
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO social_orgs (name, credit_code, place_id, place_path, contact_name, contact_phone_enc, contact_phone_masked, \
                         created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id",
                    )
                    .bind(&v.name)
                    .bind(&v.credit_code)
                    .bind(place.id)
                    .bind(&place.path)
                    .bind(v.contact_name.as_deref())
                    .bind(phone_enc.as_deref())
                    .bind(phone_masked.as_deref())
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    id
                }
                Some(id) => {
                    sqlx::query(
                        "UPDATE social_orgs SET name = $1, credit_code = $2, place_id = $3, place_path = $4, contact_name = $5, \
                         contact_phone_enc = COALESCE($6, contact_phone_enc), contact_phone_masked = COALESCE($7, contact_phone_masked), updated_at = $8 WHERE id = $9",
                    )
                    .bind(&v.name)
                    .bind(&v.credit_code)
                    .bind(place.id)
                    .bind(&place.path)
                    .bind(v.contact_name.as_deref())
                    .bind(phone_enc.as_deref())
                    .bind(phone_masked.as_deref())
                    .bind(now)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                    id.0
                }
            }),
            |saved| match id {
                None => AuditEntry::ok("social_org.create", format!("social_org:{saved}"))
                    .with_detail(v.name.clone()),
                Some(id) => AuditEntry::ok("social_org.update", format!("social_org:{id}")),
            },
            unique = StoreError::field("credit_code", Code::DuplicateCreditCode)
        )
        .map(SocialOrgId)
    }
}

impl Store {
    /// Units in scope for select boxes (capped at 3,000): (id, name).
    pub async fn unit_options(&self, scope: &Scope) -> StoreResult<Vec<(i64, String)>> {
        rd!(self, |p| {
            let mut qb = crate::qb(p, "SELECT u.id, u.name FROM units u WHERE 1 = 1");
            unit_visible!(qb, scope);
            qb.push(" ORDER BY u.name LIMIT 3000");
            Ok(qb.build_query_as().fetch_all(p).await?)
        })
    }
}

impl Store {
    /// A unit's id by its credit code (any scope; for binding accounts).
    pub async fn unit_by_credit_code(&self, code: &str) -> StoreResult<Option<UnitId>> {
        let r: Option<(i64,)> = rd!(self, |p| sqlx::query_as(
            "SELECT id FROM units WHERE credit_code = $1"
        )
        .bind(code.trim().to_ascii_uppercase())
        .fetch_optional(p)
        .await?);
        Ok(r.map(|r| UnitId(r.0)))
    }

    /// A member's id by mobile number (through the keyed hash; for binding accounts).
    pub async fn member_by_mobile(&self, mobile: &str) -> StoreResult<Option<MemberId>> {
        let Ok(m) = shanzhi_domain::validate::mobile(mobile) else {
            return Ok(None);
        };
        let r: Option<(i64,)> = rd!(self, |p| sqlx::query_as(
            "SELECT id FROM members WHERE mobile_hash = $1"
        )
        .bind(self.vault.search_hash(&m))
        .fetch_optional(p)
        .await?);
        Ok(r.map(|r| MemberId(r.0)))
    }
}

/// How many members one confirmation or decline may name (a page of the queue).
pub const UNIT_LINK_BATCH_MAX: usize = 200;

impl Store {
    /// Members waiting for `unit`'s confirmation (named by a town or community, not yet confirmed or declined),
    /// among those `scope` sees, name containing `q`, oldest proposal first.
    pub async fn pending_unit_members(
        &self,
        scope: &Scope,
        unit: UnitId,
        q: &Option<String>,
        page: PageReq,
    ) -> StoreResult<Page<Member>> {
        let q = like(q);
        let mut result: Page<Member> = rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM members m WHERE 1 = 1");
            let mut list = crate::qb(p, MEMBER_SELECT);
            for qb in [&mut count, &mut list] {
                member_visible!(qb, scope);
                qb.push(" AND m.unit_id = ").push_bind(unit.0);
                qb.push(" AND NOT m.unit_confirmed AND m.unit_declined_at IS NULL");
                if let Some(q) = &q {
                    qb.push(" AND m.name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\'");
                }
            }
            list.push(" ORDER BY m.unit_proposed_at, m.id LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<Member> = list.build_query_as().fetch_all(p).await?;
            Page::of(items, total, page)
        });
        self.fill_skills(&mut result.items).await?;
        Ok(result)
    }

    /// The unit's decision on members waiting for it: `confirm` makes them count for the unit; otherwise they are
    /// declined (the record stays with its residence, off the unit's roster). Members of `ids` not waiting for
    /// `unit` are left alone; none at all is `not_found`. Returns how many were decided. Who may decide is the use
    /// case's rule (`shanzhi_domain::roster::may_confirm_unit_link`).
    pub async fn decide_unit_links(
        &self,
        actor: &Actor,
        unit: UnitId,
        ids: &[MemberId],
        confirm: bool,
    ) -> StoreResult<usize> {
        if ids.is_empty() || ids.len() > UNIT_LINK_BATCH_MAX {
            return Err(StoreError::Refused(Code::BadRequest));
        }
        let now = Timestamp::now().0;
        let action = if confirm {
            "member.unit_confirm"
        } else {
            "member.unit_decline"
        };
        let target = match ids {
            [one] => format!("member:{one}"),
            _ => format!("unit:{unit}"),
        };
        let detail = ids
            .iter()
            .map(|m| m.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        audited_write!(
            self,
            actor,
            |tx| {
                let mut decided = 0usize;
                for id in ids {
                    let done = if confirm {
                        sqlx::query(
                            "UPDATE members SET unit_confirmed = TRUE, updated_at = $1 WHERE id = $2 AND unit_id = $3 \
                             AND NOT unit_confirmed AND unit_declined_at IS NULL",
                        )
                        .bind(now)
                        .bind(id.0)
                        .bind(unit.0)
                        .execute(&mut *tx)
                        .await?
                    } else {
                        sqlx::query(
                            "UPDATE members SET unit_declined_at = $1, updated_at = $1 WHERE id = $2 AND unit_id = $3 \
                             AND NOT unit_confirmed AND unit_declined_at IS NULL",
                        )
                        .bind(now)
                        .bind(id.0)
                        .bind(unit.0)
                        .execute(&mut *tx)
                        .await?
                    };
                    decided += usize::try_from(done.rows_affected()).unwrap_or(0);
                }
                (decided > 0).then_some(decided)
            },
            |n| AuditEntry::ok(action, target.clone())
                .with_detail(format!("decided={n} members={detail}")),
            guard = StoreError::NotFound
        )
    }
}
