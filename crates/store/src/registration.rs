//! 报到接收: registration rounds and members' registrations with the communities where they live — submit,
//! accept into a grid (issuing a receipt), return with a reason, withdraw, carry over to a new round, transfer to
//! another community, expire at round end. Every change is a guarded status update plus a row in
//! `registration_events` and one in the audit log, in one transaction; nothing is deleted.
//!
//! Scope: place admins see registrations whose place (the community, or the grid once placed) lies in their
//! subtree; unit admins see those of their unit's members; members their own. Unit registrations, resources and
//! grid partners live in [`units`]; pairings, alliances and joint projects in [`pairing`].

use serde::Serialize;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{
    self as reg, RegistrationEvent, RegistrationStatus, ValidRegistration, ValidRound,
};
use shanzhi_domain::role::Scope;
use shanzhi_domain::{Code, MemberId, PlaceId, RegistrationId, RoundId, Timestamp, UnitId};

use crate::audit::{Actor, AuditEntry, like_escape};
use crate::{Page, PageReq, Store, StoreError, StoreResult};

/// Appends one row to `registration_events` inside an open transaction.
macro_rules! reg_event {
    ($tx:expr, $reg:expr, $at:expr, $actor:expr, $from:expr, $to:expr, $note:expr) => {{
        let from: Option<&str> = $from;
        let note: Option<String> = $note;
        sqlx::query(
            "INSERT INTO registration_events (registration_id, at, actor, from_status, to_status, note) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($reg)
        .bind($at)
        .bind(&$actor.name)
        .bind(from)
        .bind($to)
        .bind(note)
        .execute(&mut *$tx)
        .await?;
    }};
}

pub mod cards;
pub mod pairing;
pub mod units;

/// Turns a refusal from a domain state machine into the store error the caller shows: a field error where a
/// form field is missing, a coded refusal otherwise.
pub(crate) fn refusal(code: Code) -> StoreError {
    match code {
        Code::ReasonRequired => StoreError::field("reason", code),
        Code::GridRequired | Code::InvalidGrid => StoreError::field("grid_id", code),
        c => StoreError::Refused(c),
    }
}

/// A guarded update touched no row: someone else changed the record first.
pub(crate) fn changed_meanwhile() -> StoreError {
    StoreError::Refused(Code::Conflict)
}

pub(crate) fn page_of<T>(items: Vec<T>, total: i64, page: PageReq) -> Page<T> {
    Page::of(items, total, page)
}

pub(crate) fn like(q: &Option<String>) -> Option<String> {
    q.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", like_escape(s)))
}

/// A registration round (e.g. "2026年度").
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Round {
    pub id: i64,
    pub name: String,
    pub year: i64,
    pub starts_on: String,
    pub ends_on: String,
    /// open | closed
    pub status: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
}

impl Round {
    pub fn id(&self) -> RoundId {
        RoundId(self.id)
    }
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
    pub fn status_label(&self) -> &'static str {
        if self.is_open() {
            "进行中"
        } else {
            "已结束"
        }
    }
}

macro_rules! round_cols {
    () => {
        "id, name, year, starts_on, ends_on, status, created_at, closed_at"
    };
}

/// A member's registration with a community, with the names a list or card shows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Registration {
    pub id: i64,
    pub round_id: i64,
    pub round_name: String,
    pub round_year: i64,
    pub member_id: i64,
    pub member_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub party_org_name: String,
    pub community_id: i64,
    pub community_name: String,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub place_path: String,
    /// See [`RegistrationStatus`].
    pub status: String,
    /// Skill codes, comma-separated.
    pub skills: String,
    /// Need-category codes, comma-separated.
    pub intentions: String,
    /// Slot codes, comma-separated (see [`reg::Availability`]).
    pub availability: String,
    pub return_reason: Option<String>,
    pub receipt_no: Option<String>,
    pub carried_from: Option<i64>,
    pub transferred_from: Option<i64>,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub updated_at: i64,
}

impl Registration {
    pub fn id(&self) -> RegistrationId {
        RegistrationId(self.id)
    }
    /// The typed status (an unknown stored value reads as withdrawn, which permits nothing further).
    pub fn status(&self) -> RegistrationStatus {
        RegistrationStatus::parse(&self.status).unwrap_or(RegistrationStatus::Withdrawn)
    }
    pub fn status_label(&self) -> &'static str {
        self.status().label()
    }
    pub fn availability_label(&self) -> String {
        reg::Availability::parse(&self.availability)
            .unwrap_or_default()
            .label()
    }
    pub fn skill_codes(&self) -> Vec<&str> {
        split_codes(&self.skills)
    }
    pub fn intention_codes(&self) -> Vec<&str> {
        split_codes(&self.intentions)
    }
}

fn split_codes(s: &str) -> Vec<&str> {
    s.split(',').filter(|c| !c.is_empty()).collect()
}

macro_rules! reg_select {
    () => {
        "SELECT r.id, r.round_id, rd.name AS round_name, rd.year AS round_year, r.member_id, m.name AS member_name, \
         m.unit_id, u.name AS unit_name, u.party_org_name, r.community_id, c.name AS community_name, r.grid_id, \
         g.name AS grid_name, r.place_path, r.status, r.skills, r.intentions, r.availability, r.return_reason, \
         r.receipt_no, r.carried_from, r.transferred_from, r.submitted_at, r.decided_at, r.decided_by, r.updated_at \
         FROM registrations r JOIN rounds rd ON rd.id = r.round_id JOIN members m ON m.id = r.member_id \
         JOIN units u ON u.id = m.unit_id JOIN places c ON c.id = r.community_id \
         LEFT JOIN places g ON g.id = r.grid_id WHERE 1 = 1"
    };
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationFilter {
    pub round_id: Option<i64>,
    /// A [`RegistrationStatus`] code; `submitted` (待接收) also lists transfers in (`transfer_pending`).
    pub status: Option<String>,
    /// Member name contains.
    pub q: Option<String>,
    /// Registered in this place or below (must be in scope).
    pub place_id: Option<i64>,
    /// Members of this home unit.
    pub unit_id: Option<i64>,
}

/// One step in a registration's history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RegistrationHistoryRow {
    pub id: i64,
    pub registration_id: i64,
    pub community_name: String,
    pub at: i64,
    pub actor: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
}

impl RegistrationHistoryRow {
    pub fn to_label(&self) -> &'static str {
        RegistrationStatus::parse(&self.to_status)
            .map(RegistrationStatus::label)
            .unwrap_or("")
    }
}

/// The receipt (回执) of an accepted registration, for the member and their home unit's admin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub receipt_no: String,
    pub registration_id: i64,
    pub round_name: String,
    pub member_name: String,
    pub unit_name: String,
    pub party_org_name: String,
    pub community_name: String,
    pub grid_name: Option<String>,
    pub accepted_at: Option<i64>,
}

/// Where one member of a unit stands in a round.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnitMemberRegistration {
    pub member_id: i64,
    pub member_name: String,
    pub registration_id: Option<i64>,
    pub status: Option<String>,
    pub community_name: Option<String>,
    pub grid_name: Option<String>,
    /// Where the member lives (decides whether a town or community may see the name).
    #[serde(skip)]
    #[schema(ignore)]
    pub member_path: String,
}

/// A unit's registration rate in a round: who registered where, who has not.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitRegistrationRate {
    pub unit_id: i64,
    pub round_id: i64,
    pub total_members: i64,
    /// Members with an active (submitted, carried or accepted) registration.
    pub registered: i64,
    pub accepted: i64,
    /// registered / total, 0.0 for a unit without members.
    pub rate: f64,
    /// The members the caller may name: all of them for the unit's own admin and the district; for a town or
    /// community where the unit is located, only those who live in its area (the others are only counted).
    pub members: Vec<UnitMemberRegistration>,
    /// Members counted above but not named (they live outside the caller's area).
    pub unnamed_members: i64,
}

impl UnitRegistrationRate {
    /// Members without an active registration in the round.
    pub fn not_registered(&self) -> impl Iterator<Item = &UnitMemberRegistration> {
        self.members.iter().filter(|m| m.registration_id.is_none())
    }
}

impl Store {
    // ------------------------------------------------------------ rounds

    /// Opens a new registration round (one open round at a time; the use case lets only the district), carrying over the last
    /// closed round's accepted registrations when `v.carry_over` is set.
    pub async fn open_round(&self, actor: &Actor, v: &ValidRound) -> StoreResult<RoundId> {
        if self.current_round().await?.is_some() {
            return Err(StoreError::Refused(Code::RoundOverlap));
        }
        let previous = self.list_rounds().await?.into_iter().find(|r| !r.is_open());
        let now = Timestamp::now().0;
        let id: i64 = audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO rounds (name, year, starts_on, ends_on, status, created_at) \
                     VALUES ($1, $2, $3, $4, 'open', $5) RETURNING id",
                )
                .bind(&v.name)
                .bind(i64::from(v.year))
                .bind(&v.starts_on)
                .bind(&v.ends_on)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some(id)
            },
            |id| AuditEntry::ok("round.open", format!("round:{id}")).with_detail(v.name.clone()),
            unique = StoreError::Refused(Code::RoundOverlap)
        )?;
        let id = RoundId(id);
        if v.carry_over
            && let Some(prev) = previous
        {
            self.carry_over(actor, prev.id(), id).await?;
        }
        Ok(id)
    }

    /// Closes an open round; its still-pending (submitted or carried) registrations expire, each with a history
    /// row. Returns how many expired.
    pub async fn close_round(&self, actor: &Actor, id: RoundId) -> StoreResult<u64> {
        let now = Timestamp::now().0;
        let expire: Vec<(RegistrationStatus, &str)> = [
            RegistrationStatus::Submitted,
            RegistrationStatus::Carried,
            RegistrationStatus::TransferPending,
        ]
        .into_iter()
        .map(|from| {
            Ok((
                from,
                reg::next(from, &RegistrationEvent::Expire)
                    .map_err(refusal)?
                    .as_str(),
            ))
        })
        .collect::<StoreResult<_>>()?;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "UPDATE rounds SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'",
                )
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    None
                } else {
                    let mut expired = 0u64;
                    for (from, to) in &expire {
                        let ids: Vec<(i64,)> = sqlx::query_as(
                            "UPDATE registrations SET status = $1, decided_at = $2, updated_at = $2 \
                             WHERE round_id = $3 AND status = $4 RETURNING id",
                        )
                        .bind(*to)
                        .bind(now)
                        .bind(id.0)
                        .bind(from.as_str())
                        .fetch_all(&mut *tx)
                        .await?;
                        for (rid,) in &ids {
                            reg_event!(
                                tx,
                                *rid,
                                now,
                                actor,
                                Some(from.as_str()),
                                *to,
                                Some("轮次结束,未完成的报到自动过期".to_string())
                            );
                        }
                        expired += ids.len() as u64;
                    }
                    Some(expired)
                }
            },
            |expired| AuditEntry::ok("round.close", format!("round:{id}"))
                .with_detail(format!("expired {expired}")),
            guard = StoreError::Refused(Code::RoundNotOpen)
        )
    }

    /// All rounds, newest first (round names and dates are not scoped).
    pub async fn list_rounds(&self) -> StoreResult<Vec<Round>> {
        Ok(rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            round_cols!(),
            " FROM rounds ORDER BY id DESC"
        ))
        .fetch_all(p)
        .await?))
    }

    /// One round by id.
    pub async fn get_round(&self, id: RoundId) -> StoreResult<Round> {
        let r: Option<Round> = rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            round_cols!(),
            " FROM rounds WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(p)
        .await?);
        r.ok_or(StoreError::NotFound)
    }

    /// The open round, if any.
    pub async fn current_round(&self) -> StoreResult<Option<Round>> {
        Ok(rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            round_cols!(),
            " FROM rounds WHERE status = 'open' ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(p)
        .await?))
    }

    /// Copies round `from`'s accepted registrations into the open round `to` as `carried` (same community and
    /// grid), skipping members who already have an active registration in `to` and registrations carried before.
    /// Returns how many were carried. Idempotent.
    pub async fn carry_over(&self, actor: &Actor, from: RoundId, to: RoundId) -> StoreResult<u64> {
        self.get_round(from).await?;
        if !self.get_round(to).await?.is_open() {
            return Err(StoreError::Refused(Code::RoundNotOpen));
        }
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "INSERT INTO registrations (round_id, member_id, community_id, grid_id, place_path, status, skills, \
                     intentions, availability, carried_from, submitted_at, updated_at) \
                     SELECT $1, r.member_id, r.community_id, r.grid_id, r.place_path, 'carried', r.skills, r.intentions, \
                     r.availability, r.id, $3, $3 FROM registrations r WHERE r.round_id = $2 AND r.status = 'accepted' \
                     AND NOT EXISTS (SELECT 1 FROM registrations x WHERE x.round_id = $1 AND x.member_id = r.member_id \
                       AND x.status IN ('submitted', 'accepted', 'carried')) \
                     AND NOT EXISTS (SELECT 1 FROM registrations y WHERE y.round_id = $1 AND y.carried_from = r.id)",
                )
                .bind(to.0)
                .bind(from.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query(
                    "INSERT INTO registration_events (registration_id, at, actor, from_status, to_status, note) \
                     SELECT r.id, $2, $3, NULL, 'carried', '上一轮次已接收的报到延续至本轮,待本人确认' \
                     FROM registrations r WHERE r.round_id = $1 AND r.carried_from IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM registration_events e WHERE e.registration_id = r.id)",
                )
                .bind(to.0)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?;
                Some(n)
            },
            |n| AuditEntry::ok("round.carry_over", format!("round:{to}"))
                .with_detail(format!("from round:{from}, carried {n}"))
        )
    }

    // ------------------------------------------------------------ member registrations

    /// One registration, if in scope.
    pub async fn get_registration(
        &self,
        scope: &Scope,
        id: RegistrationId,
    ) -> StoreResult<Registration> {
        let r: Option<Registration> = rd!(self, |p| {
            let mut qb = crate::qb(p, reg_select!());
            qb.push(" AND r.id = ").push_bind(id.0);
            push_scope!(
                qb,
                scope,
                path = "r.place_path",
                unit = "m.unit_id",
                member = "r.member_id"
            );
            qb.build_query_as().fetch_optional(p).await?
        });
        r.ok_or(StoreError::NotFound)
    }

    /// Registrations in scope, filtered, newest first.
    pub async fn list_registrations(
        &self,
        scope: &Scope,
        f: &RegistrationFilter,
        page: PageReq,
    ) -> StoreResult<Page<Registration>> {
        let q = like(&f.q);
        let status = f.status.clone().filter(|s| !s.is_empty());
        let within = match f.place_id {
            Some(id) => match self.get_place(scope, PlaceId(id)).await {
                Ok(p) => Some(p.path),
                Err(StoreError::NotFound) => return Ok(page_of(vec![], 0, page)),
                Err(e) => return Err(e),
            },
            None => None,
        };
        rd!(self, |p| {
            let mut count = crate::qb(
                p,
                "SELECT COUNT(*) FROM registrations r JOIN members m ON m.id = r.member_id WHERE 1 = 1",
            );
            let mut list = crate::qb(p, reg_select!());
            for qb in [&mut count, &mut list] {
                push_scope!(
                    qb,
                    scope,
                    path = "r.place_path",
                    unit = "m.unit_id",
                    member = "r.member_id"
                );
                if let Some(r) = f.round_id {
                    qb.push(" AND r.round_id = ").push_bind(r);
                }
                if let Some(s) = &status {
                    // 待接收 lists transfers in (转入) too: both wait for the community's decision.
                    if s == RegistrationStatus::Submitted.as_str() {
                        qb.push(" AND r.status IN (")
                            .push_bind(RegistrationStatus::Submitted.as_str())
                            .push(", ")
                            .push_bind(RegistrationStatus::TransferPending.as_str())
                            .push(")");
                    } else {
                        qb.push(" AND r.status = ").push_bind(s.clone());
                    }
                }
                if let Some(u) = f.unit_id {
                    qb.push(" AND m.unit_id = ").push_bind(u);
                }
                if let Some(q) = &q {
                    qb.push(" AND m.name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\'");
                }
                if let Some(path) = &within {
                    let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                    qb.push(" AND r.place_path >= ")
                        .push_bind(lo)
                        .push(" AND r.place_path < ")
                        .push_bind(hi);
                }
            }
            list.push(" ORDER BY r.id DESC LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<Registration> = list.build_query_as().fetch_all(p).await?;
            Ok(page_of(items, total, page))
        })
    }

    /// The community a registration goes to: any community-level place (members choose where they live).
    async fn registration_community(&self, id: PlaceId) -> StoreResult<crate::places::Place> {
        let c = self
            .get_place_unscoped(id)
            .await
            .map_err(|_| StoreError::field("community_id", Code::InvalidPlace))?;
        if c.level() != Some(PlaceLevel::Community) {
            return Err(StoreError::field("community_id", Code::InvalidPlaceLevel));
        }
        Ok(c)
    }

    async fn check_registration_codes(&self, v: &ValidRegistration) -> StoreResult<()> {
        for s in &v.skills {
            self.require_dict("skill", s, "skills").await?;
        }
        for s in &v.intentions {
            self.require_dict("need_category", s, "intentions").await?;
        }
        Ok(())
    }

    /// A member (or an admin who sees the member) registers with a community in the open round. Refused with
    /// `round_not_open` without an open round and `already_registered` when the member has an active
    /// registration in it — guaranteed by a unique index, so it holds under any concurrency.
    pub async fn submit_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        member: MemberId,
        v: &ValidRegistration,
    ) -> StoreResult<RegistrationId> {
        self.get_member(scope, member).await?;
        let community = self.registration_community(v.community_id).await?;
        self.check_registration_codes(v).await?;
        let round = self
            .current_round()
            .await?
            .ok_or(StoreError::Refused(Code::RoundNotOpen))?;
        let now = Timestamp::now().0;
        let skills = v.skills.join(",");
        let intentions = v.intentions.join(",");
        let availability = v.availability.format();
        let submitted = RegistrationStatus::Submitted.as_str();
        let id: i64 = audited_write!(
            self,
            actor,
            |tx| {
                // The round must still be open when the row goes in; on PostgreSQL the share lock waits for a
                // concurrent close_round to finish.
                let open: Option<(i64,)> = if self.is_pg() {
                    sqlx::query_as(
                        "SELECT id FROM rounds WHERE id = $1 AND status = 'open' FOR SHARE",
                    )
                    .bind(round.id)
                    .fetch_optional(&mut *tx)
                    .await?
                } else {
                    sqlx::query_as("SELECT id FROM rounds WHERE id = $1 AND status = 'open'")
                        .bind(round.id)
                        .fetch_optional(&mut *tx)
                        .await?
                };
                match open {
                    None => None,
                    Some(_) => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO registrations (round_id, member_id, community_id, place_path, status, skills, \
                             intentions, availability, submitted_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                        )
                        .bind(round.id)
                        .bind(member.0)
                        .bind(community.id)
                        .bind(&community.path)
                        .bind(submitted)
                        .bind(&skills)
                        .bind(&intentions)
                        .bind(&availability)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                        reg_event!(
                            tx,
                            id,
                            now,
                            actor,
                            None,
                            submitted,
                            Some(community.name.clone())
                        );
                        Some(id)
                    }
                }
            },
            |id| AuditEntry::ok("registration.submit", format!("registration:{id}"))
                .with_detail(format!("member:{member} community:{}", community.id)),
            guard = StoreError::Refused(Code::RoundNotOpen),
            unique = StoreError::Refused(Code::AlreadyRegistered)
        )?;
        Ok(RegistrationId(id))
    }

    /// The owner corrects and resubmits a returned registration (to the same or another community).
    pub async fn resubmit_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: RegistrationId,
        v: &ValidRegistration,
    ) -> StoreResult<()> {
        let r = self.get_registration(scope, id).await?;
        let to = reg::next(r.status(), &RegistrationEvent::Submit).map_err(refusal)?;
        let round = self.get_round(RoundId(r.round_id)).await?;
        if !round.is_open() {
            return Err(StoreError::Refused(Code::RoundNotOpen));
        }
        let community = self.registration_community(v.community_id).await?;
        self.check_registration_codes(v).await?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "UPDATE registrations SET status = $1, community_id = $2, place_path = $3, grid_id = NULL, skills = $4, \
                     intentions = $5, availability = $6, return_reason = NULL, submitted_at = $7, decided_at = NULL, \
                     decided_by = NULL, updated_at = $7 WHERE id = $8 AND status = $9",
                )
                .bind(to.as_str())
                .bind(community.id)
                .bind(&community.path)
                .bind(v.skills.join(","))
                .bind(v.intentions.join(","))
                .bind(v.availability.format())
                .bind(now)
                .bind(id.0)
                .bind(&r.status)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    reg_event!(
                        tx,
                        id.0,
                        now,
                        actor,
                        Some(r.status.as_str()),
                        to.as_str(),
                        Some(community.name.clone())
                    );
                    Some(())
                } else {
                    None
                }
            },
            |_done| AuditEntry::ok("registration.resubmit", format!("registration:{id}")),
            unique = StoreError::Refused(Code::AlreadyRegistered)
        )
    }

    /// The community accepts a submitted registration and places the member in one of its grids (网格式注入):
    /// the member's residence and place become the grid's. Issues and returns the receipt number.
    pub async fn accept_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: RegistrationId,
        grid: Option<PlaceId>,
    ) -> StoreResult<String> {
        let r = self.get_registration(scope, id).await?;
        let to = reg::next(r.status(), &RegistrationEvent::Accept { grid }).map_err(refusal)?;
        let grid = match grid {
            Some(g) => self.get_place_unscoped(g).await.ok(),
            None => None,
        }
        .filter(|g| g.level() == Some(PlaceLevel::Grid) && g.parent_id == Some(r.community_id))
        .ok_or_else(|| refusal(Code::InvalidGrid))?;
        let receipt = r
            .receipt_no
            .clone()
            .unwrap_or_else(|| reg::receipt_no(i32::try_from(r.round_year).unwrap_or(0), r.id));
        self.decide_accept(actor, &r, to, &grid, &receipt, "registration.accept")
            .await?;
        Ok(receipt)
    }

    /// Shared by accept and confirm: the guarded status change, the member's placement, history and audit.
    async fn decide_accept(
        &self,
        actor: &Actor,
        r: &Registration,
        to: RegistrationStatus,
        grid: &crate::places::Place,
        receipt: &str,
        action: &str,
    ) -> StoreResult<()> {
        let now = Timestamp::now().0;
        // A transfer in releases the registration it came from, in the same transaction.
        let release = match r.status() {
            RegistrationStatus::TransferPending => r.transferred_from,
            _ => None,
        };
        let released = RegistrationStatus::TransferredOut.as_str();
        let accepted = RegistrationStatus::Accepted.as_str();
        audited_write!(
            self,
            actor,
            |tx| {
                let before = member_figures!(self, tx, r.member_id);
                // First the old registration of a transfer (so the member has one accepted registration at every
                // moment; if it was withdrawn meanwhile there is nothing to release).
                if let Some(old) = release {
                    let n = sqlx::query(
                        "UPDATE registrations SET status = $1, decided_at = $2, decided_by = $3, updated_at = $2 \
                         WHERE id = $4 AND status = $5",
                    )
                    .bind(released)
                    .bind(now)
                    .bind(&actor.name)
                    .bind(old)
                    .bind(accepted)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        reg_event!(
                            tx,
                            old,
                            now,
                            actor,
                            Some(accepted),
                            released,
                            Some(format!("已转至{},新社区已接收", r.community_name))
                        );
                    }
                }
                let n = sqlx::query(
                    "UPDATE registrations SET status = $1, grid_id = $2, place_path = $3, receipt_no = $4, \
                     return_reason = NULL, decided_at = $5, decided_by = $6, updated_at = $5 WHERE id = $7 AND status = $8",
                )
                .bind(to.as_str())
                .bind(grid.id)
                .bind(&grid.path)
                .bind(receipt)
                .bind(now)
                .bind(&actor.name)
                .bind(r.id)
                .bind(&r.status)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    sqlx::query(
                        "UPDATE members SET community_id = $1, grid_id = $2, place_path = $3, updated_at = $4 WHERE id = $5",
                    )
                    .bind(r.community_id)
                    .bind(grid.id)
                    .bind(&grid.path)
                    .bind(now)
                    .bind(r.member_id)
                    .execute(&mut *tx)
                    .await?;
                    reg_event!(
                        tx,
                        r.id,
                        now,
                        actor,
                        Some(r.status.as_str()),
                        to.as_str(),
                        Some(format!("{} {} 回执 {receipt}", r.community_name, grid.name))
                    );
                    let after = member_figures!(self, tx, r.member_id);
                    stats_in_tx!(tx, after.minus(&before));
                    Some(())
                } else {
                    None
                }
            },
            |_done| AuditEntry::ok(action, format!("registration:{}", r.id))
                .with_detail(format!("grid:{} receipt:{receipt}", grid.id))
        )
    }

    /// Applies a simple status event (no other columns change but the decision fields), guarded by the status
    /// that was read.
    async fn simple_transition(
        &self,
        actor: &Actor,
        r: &Registration,
        event: &RegistrationEvent,
        return_reason: Option<&str>,
        note: Option<String>,
    ) -> StoreResult<()> {
        let to = reg::next(r.status(), event).map_err(refusal)?;
        let now = Timestamp::now().0;
        let action = format!("registration.{}", event.as_str());
        audited_write!(
            self,
            actor,
            |tx| {
                // Withdrawing an accepted registration moves the 报到 figures.
                let before = member_figures!(self, tx, r.member_id);
                let n = sqlx::query(
                    "UPDATE registrations SET status = $1, return_reason = COALESCE($2, return_reason), decided_at = $3, \
                     decided_by = $4, updated_at = $3 WHERE id = $5 AND status = $6",
                )
                .bind(to.as_str())
                .bind(return_reason)
                .bind(now)
                .bind(&actor.name)
                .bind(r.id)
                .bind(&r.status)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    reg_event!(
                        tx,
                        r.id,
                        now,
                        actor,
                        Some(r.status.as_str()),
                        to.as_str(),
                        note.clone()
                    );
                    let after = member_figures!(self, tx, r.member_id);
                    stats_in_tx!(tx, after.minus(&before));
                    Some(())
                } else {
                    None
                }
            },
            |_done| AuditEntry::ok(&action, format!("registration:{}", r.id))
        )
    }

    /// The community returns a submitted registration with a reason the member sees.
    pub async fn return_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: RegistrationId,
        reason: &str,
    ) -> StoreResult<()> {
        let r = self.get_registration(scope, id).await?;
        let reason = reason.trim();
        if reason.chars().count() > 200 {
            return Err(StoreError::field("reason", Code::TooLong));
        }
        let event = RegistrationEvent::Return {
            reason: reason.to_string(),
        };
        self.simple_transition(actor, &r, &event, Some(reason), Some(reason.to_string()))
            .await
    }

    /// The owner withdraws a submitted, carried or accepted registration (recorded, not deleted).
    pub async fn withdraw_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: RegistrationId,
    ) -> StoreResult<()> {
        let r = self.get_registration(scope, id).await?;
        self.simple_transition(actor, &r, &RegistrationEvent::Withdraw, None, None)
            .await
    }

    /// The owner confirms a registration carried over from last round: it is accepted again in the same grid
    /// and gets this round's receipt, which is returned.
    pub async fn confirm_carried(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: RegistrationId,
    ) -> StoreResult<String> {
        let r = self.get_registration(scope, id).await?;
        let to = reg::next(r.status(), &RegistrationEvent::Confirm).map_err(refusal)?;
        let grid = match r.grid_id {
            Some(g) => self.get_place_unscoped(PlaceId(g)).await?,
            None => return Err(refusal(Code::GridRequired)),
        };
        let receipt = reg::receipt_no(i32::try_from(r.round_year).unwrap_or(0), r.id);
        self.decide_accept(actor, &r, to, &grid, &receipt, "registration.confirm")
            .await?;
        Ok(receipt)
    }

    /// A member who moved asks to transfer an accepted registration to another community: a linked registration
    /// waits in the new community's queue as `transfer_pending` (转入) while the old one stays accepted — the
    /// member keeps a community and a valid card until the new community accepts (then the old one becomes
    /// `transferred_out`, see `accept_registration`). Both sides are in the history. Callable by the owner or by an
    /// admin of the old community; one waiting transfer per member and round.
    pub async fn transfer_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: RegistrationId,
        new_community: PlaceId,
    ) -> StoreResult<RegistrationId> {
        let r = self.get_registration(scope, id).await?;
        reg::may_request_transfer(r.status()).map_err(refusal)?;
        let community = self.registration_community(new_community).await?;
        if community.id == r.community_id {
            return Err(StoreError::field("community_id", Code::SameCommunity));
        }
        let now = Timestamp::now().0;
        let accepted = RegistrationStatus::Accepted.as_str();
        let pending = RegistrationStatus::TransferPending.as_str();
        let new_id: i64 = audited_write!(
            self,
            actor,
            |tx| {
                // The old registration must still be accepted (touching it also orders this against a concurrent
                // withdrawal or acceptance of another transfer).
                let n = sqlx::query(
                    "UPDATE registrations SET updated_at = $1 WHERE id = $2 AND status = $3",
                )
                .bind(now)
                .bind(r.id)
                .bind(accepted)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    None
                } else {
                    let (new_id,): (i64,) = sqlx::query_as(
                        "INSERT INTO registrations (round_id, member_id, community_id, place_path, status, skills, \
                         intentions, availability, transferred_from, submitted_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                    )
                    .bind(r.round_id)
                    .bind(r.member_id)
                    .bind(community.id)
                    .bind(&community.path)
                    .bind(pending)
                    .bind(&r.skills)
                    .bind(&r.intentions)
                    .bind(&r.availability)
                    .bind(r.id)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    reg_event!(
                        tx,
                        r.id,
                        now,
                        actor,
                        Some(accepted),
                        accepted,
                        Some(format!("申请转至{},新社区接收后生效", community.name))
                    );
                    reg_event!(
                        tx,
                        new_id,
                        now,
                        actor,
                        None,
                        pending,
                        Some(format!("转入:{} → {}", r.community_name, community.name))
                    );
                    Some(new_id)
                }
            },
            |new_id| AuditEntry::ok("registration.transfer", format!("registration:{}", r.id))
                .with_detail(format!(
                    "to registration:{new_id} community:{}",
                    community.id
                )),
            unique = StoreError::Refused(Code::TransferAlreadyPending)
        )?;
        Ok(RegistrationId(new_id))
    }

    /// The history of a registration, including the other registrations of the same member in the same round
    /// (so a transfer shows both sides), oldest first.
    pub async fn registration_history(
        &self,
        scope: &Scope,
        id: RegistrationId,
    ) -> StoreResult<Vec<RegistrationHistoryRow>> {
        let r = self.get_registration(scope, id).await?;
        Ok(rd!(self, |p| {
            sqlx::query_as(
            "SELECT e.id, e.registration_id, c.name AS community_name, e.at, COALESCE(a.display_name, e.actor) AS actor, \
             e.from_status, e.to_status, e.note \
             FROM registration_events e JOIN registrations r ON r.id = e.registration_id \
             JOIN places c ON c.id = r.community_id LEFT JOIN accounts a ON a.username = e.actor WHERE r.member_id = $1 AND r.round_id = $2 ORDER BY e.id"
        )
        .bind(r.member_id)
        .bind(r.round_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// The receipt (回执) of an accepted registration; visible to the member, their home unit's admin and the
    /// places above it. Not found until accepted.
    pub async fn registration_receipt(
        &self,
        scope: &Scope,
        id: RegistrationId,
    ) -> StoreResult<Receipt> {
        let r = self.get_registration(scope, id).await?;
        let status = r.status();
        match (r.receipt_no, status) {
            (
                Some(receipt_no),
                RegistrationStatus::Accepted | RegistrationStatus::TransferredOut,
            ) => Ok(Receipt {
                receipt_no,
                registration_id: r.id,
                round_name: r.round_name,
                member_name: r.member_name,
                unit_name: r.unit_name,
                party_org_name: r.party_org_name,
                community_name: r.community_name,
                grid_name: r.grid_name,
                accepted_at: r.decided_at,
            }),
            _ => Err(StoreError::NotFound),
        }
    }

    /// For a home unit: each member who counts for it (`member_counts_for_unit!`: not those waiting for the unit's
    /// confirmation) with their registration in a round (where, status), who has not registered, and the rate,
    /// following the unit-rate rule (`shanzhi_domain::role::unit_rate_access`): the unit's own admin and the
    /// district see every name; a town or community where the unit is located sees the counts and the names of
    /// members who live in its area; anyone else gets `NotFound`.
    pub async fn unit_registration_rate(
        &self,
        scope: &Scope,
        unit: UnitId,
        round: RoundId,
    ) -> StoreResult<UnitRegistrationRate> {
        let located = self.get_unit(&Scope::Everything, unit).await?;
        let district = self.root_place().await?.map(|p| p.path).unwrap_or_default();
        let access =
            shanzhi_domain::role::unit_rate_access(scope, unit, &located.place_path, &district)
                .ok_or(StoreError::NotFound)?;
        self.get_round(round).await?;
        let members: Vec<UnitMemberRegistration> = rd!(self, |p| {
            sqlx::query_as(concat!(
            "SELECT m.id AS member_id, m.name AS member_name, r.id AS registration_id, r.status, c.name AS community_name, \
             g.name AS grid_name, m.place_path AS member_path FROM members m \
             LEFT JOIN registrations r ON r.member_id = m.id AND r.round_id = $2 \
               AND r.status IN ('submitted', 'accepted', 'carried') \
             LEFT JOIN places c ON c.id = r.community_id LEFT JOIN places g ON g.id = r.grid_id \
             WHERE m.unit_id = $1 AND ",
            member_counts_for_unit!("m"),
            " ORDER BY m.id"
        ))
        .bind(unit.0)
        .bind(round.0)
        .fetch_all(p)
        .await?
        });
        let total = members.len() as i64;
        let registered = members
            .iter()
            .filter(|m| m.registration_id.is_some())
            .count() as i64;
        let accepted = members
            .iter()
            .filter(|m| m.status.as_deref() == Some("accepted"))
            .count() as i64;
        Ok(UnitRegistrationRate {
            unit_id: unit.0,
            round_id: round.0,
            total_members: total,
            registered,
            accepted,
            rate: if total == 0 {
                0.0
            } else {
                registered as f64 / total as f64
            },
            unnamed_members: members
                .iter()
                .filter(|m| !access.shows_member(&m.member_path))
                .count() as i64,
            members: members
                .into_iter()
                .filter(|m| access.shows_member(&m.member_path))
                .collect(),
        })
    }
}
