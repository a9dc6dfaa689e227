//! Pairing agreements (结对签约) between a unit's party org and a community's party org, alliances (党建联盟) of
//! units run by a town, and joint party-building projects (党建联建项目) with their planned activities and grade.
//!
//! Scope: place admins see records whose place (the community, or the town for alliances) lies in their subtree;
//! unit admins see those their unit takes part in. Writes other than marking activities done need a place scope.

use serde::Serialize;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{
    PairingStatus, PairingTargets, ProjectGrade, ValidActivity, ValidAlliance, ValidPairing,
    ValidProject, target_activities,
};
use shanzhi_domain::role::Scope;
use shanzhi_domain::{ActivityId, AllianceId, Code, PairingId, ProjectId, Timestamp, UnitId};

use super::{page_of, refusal};
use crate::audit::{Actor, AuditEntry};
use crate::places::Place;
use crate::{Page, PageReq, Store, StoreError, StoreResult};

/// A pairing agreement.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Pairing {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_party_org_name: String,
    pub community_id: i64,
    pub community_name: String,
    pub community_party_org_name: Option<String>,
    pub place_path: String,
    pub term_start: String,
    pub term_end: String,
    /// JSON of [`PairingTargets`].
    pub targets: String,
    pub signed_on: Option<String>,
    /// See [`PairingStatus`].
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Pairing {
    pub fn id(&self) -> PairingId {
        PairingId(self.id)
    }
    pub fn status(&self) -> Option<PairingStatus> {
        PairingStatus::parse(&self.status)
    }
    pub fn status_label(&self) -> &'static str {
        self.status().map(PairingStatus::label).unwrap_or("")
    }
    /// The parsed targets (empty targets if the stored JSON is unreadable).
    pub fn targets(&self) -> PairingTargets {
        serde_json::from_str(&self.targets).unwrap_or_default()
    }
}

macro_rules! pairing_select {
    () => {
        "SELECT pr.id, pr.unit_id, u.name AS unit_name, u.party_org_name AS unit_party_org_name, pr.community_id, \
         c.name AS community_name, c.party_org_name AS community_party_org_name, pr.place_path, pr.term_start, \
         pr.term_end, pr.targets, pr.signed_on, pr.status, pr.created_at, pr.updated_at \
         FROM pairings pr JOIN units u ON u.id = pr.unit_id JOIN places c ON c.id = pr.community_id WHERE 1 = 1"
    };
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairingFilter {
    /// A [`PairingStatus`] code.
    pub status: Option<String>,
    pub unit_id: Option<i64>,
}

/// Progress of a pairing against its targets: activities of its linked projects.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PairingProgress {
    pub pairing_id: i64,
    /// Activities the agreement calls for over its whole term.
    pub target: i64,
    pub planned: i64,
    pub done: i64,
    /// done / target in percent (capped at 100; 100 when there is no target).
    pub percent: i64,
}

/// An alliance with its member units.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Alliance {
    pub id: i64,
    pub name: String,
    pub town_id: i64,
    pub town_name: String,
    pub place_path: String,
    pub description: Option<String>,
    pub created_at: i64,
    #[sqlx(skip)]
    pub units: Vec<AllianceUnit>,
}

/// A unit in an alliance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AllianceUnit {
    pub unit_id: i64,
    pub unit_name: String,
}

/// A joint project.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub category_name: Option<String>,
    pub pairing_id: Option<i64>,
    pub unit_id: i64,
    pub unit_name: String,
    pub community_id: i64,
    pub community_name: String,
    pub place_path: String,
    pub goals: Option<String>,
    pub period_start: String,
    pub period_end: String,
    /// See [`ProjectGrade`].
    pub grade: Option<String>,
    pub graded_at: Option<i64>,
    pub graded_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Project {
    pub fn id(&self) -> ProjectId {
        ProjectId(self.id)
    }
    pub fn grade_label(&self) -> &'static str {
        self.grade
            .as_deref()
            .and_then(ProjectGrade::parse)
            .map(ProjectGrade::label)
            .unwrap_or("")
    }
}

macro_rules! project_select {
    () => {
        "SELECT pj.id, pj.name, pj.category, d.name AS category_name, pj.pairing_id, pj.unit_id, u.name AS unit_name, \
         pj.community_id, c.name AS community_name, pj.place_path, pj.goals, pj.period_start, pj.period_end, pj.grade, \
         pj.graded_at, pj.graded_by, pj.created_at, pj.updated_at FROM projects pj JOIN units u ON u.id = pj.unit_id \
         JOIN places c ON c.id = pj.community_id \
         LEFT JOIN dict_entries d ON d.kind = 'need_category' AND d.code = pj.category WHERE 1 = 1"
    };
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    pub pairing_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// Need-category code.
    pub category: Option<String>,
}

/// A planned activity of a project.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ProjectActivity {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub planned_on: String,
    pub done_on: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// A community in the caller's subtree (place scope only), for pairing and project writes.
    async fn community_for_write(
        &self,
        scope: &Scope,
        id: shanzhi_domain::PlaceId,
    ) -> StoreResult<Place> {
        if !matches!(scope, Scope::Subtree(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let c = self
            .get_place(scope, id)
            .await
            .map_err(|_| StoreError::field("community_id", Code::InvalidPlace))?;
        if c.level() != Some(PlaceLevel::Community) {
            return Err(StoreError::field("community_id", Code::InvalidPlaceLevel));
        }
        Ok(c)
    }

    // ------------------------------------------------------------ pairings

    /// Drafts a pairing agreement between a unit and a community in the caller's subtree.
    pub async fn create_pairing(
        &self,
        actor: &Actor,
        scope: &Scope,
        v: &ValidPairing,
    ) -> StoreResult<PairingId> {
        let c = self.community_for_write(scope, v.community_id).await?;
        if !self.unit_exists(v.unit_id).await? {
            return Err(StoreError::field("unit_id", Code::InvalidUnit));
        }
        let targets =
            serde_json::to_string(&v.targets).map_err(|e| StoreError::Other(e.to_string()))?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO pairings (unit_id, community_id, place_path, term_start, term_end, targets, status, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $7) RETURNING id",
                )
                .bind(v.unit_id.0)
                .bind(c.id)
                .bind(&c.path)
                .bind(&v.term_start)
                .bind(&v.term_end)
                .bind(&targets)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some(id)
            },
            |id| AuditEntry::ok("pairing.create", format!("pairing:{id}"))
                .with_detail(format!("unit:{} community:{}", v.unit_id, c.id))
        )
        .map(PairingId)
    }

    /// One pairing, if in scope.
    pub async fn get_pairing(&self, scope: &Scope, id: PairingId) -> StoreResult<Pairing> {
        let r: Option<Pairing> = rd!(self, |p| {
            let mut qb = crate::qb(p, pairing_select!());
            qb.push(" AND pr.id = ").push_bind(id.0);
            push_scope!(
                qb,
                scope,
                path = "pr.place_path",
                unit = "pr.unit_id",
                member = ""
            );
            qb.build_query_as().fetch_optional(p).await?
        });
        r.ok_or(StoreError::NotFound)
    }

    /// Pairings in scope, newest first.
    pub async fn list_pairings(
        &self,
        scope: &Scope,
        f: &PairingFilter,
        page: PageReq,
    ) -> StoreResult<Page<Pairing>> {
        let status = f.status.clone().filter(|s| !s.is_empty());
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM pairings pr WHERE 1 = 1");
            let mut list = crate::qb(p, pairing_select!());
            for qb in [&mut count, &mut list] {
                push_scope!(
                    qb,
                    scope,
                    path = "pr.place_path",
                    unit = "pr.unit_id",
                    member = ""
                );
                if let Some(s) = &status {
                    qb.push(" AND pr.status = ").push_bind(s.clone());
                }
                if let Some(u) = f.unit_id {
                    qb.push(" AND pr.unit_id = ").push_bind(u);
                }
            }
            list.push(" ORDER BY pr.id DESC LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<Pairing> = list.build_query_as().fetch_all(p).await?;
            Ok(page_of(items, total, page))
        })
    }

    /// Moves a pairing along draft → signed → running → ended | renewed (place scope only). Signing records
    /// `signed_on` (a `YYYY-MM-DD` date; today in Shanghai when not given).
    pub async fn set_pairing_status(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: PairingId,
        to: PairingStatus,
        signed_on: Option<&str>,
    ) -> StoreResult<()> {
        let pr = self.get_pairing(scope, id).await?;
        if !matches!(scope, Scope::Subtree(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let from = pr
            .status()
            .ok_or(StoreError::Refused(Code::IllegalTransition))?;
        let to = from.advance(to).map_err(refusal)?;
        let signed = if to == PairingStatus::Signed {
            Some(match signed_on.map(str::trim).filter(|s| !s.is_empty()) {
                Some(d) => shanzhi_domain::validate::date(d)
                    .map_err(|c| StoreError::field("signed_on", c))?
                    .format("%Y-%m-%d")
                    .to_string(),
                None => Timestamp::now().shanghai_date(),
            })
        } else {
            None
        };
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "UPDATE pairings SET status = $1, signed_on = COALESCE($2, signed_on), updated_at = $3 \
                     WHERE id = $4 AND status = $5",
                )
                .bind(to.as_str())
                .bind(signed.as_deref())
                .bind(now)
                .bind(id.0)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                (n == 1).then_some(())
            },
            |_done| AuditEntry::ok("pairing.status", format!("pairing:{id}")).with_detail(format!(
                "{} -> {}",
                from.as_str(),
                to.as_str()
            )),
            guard = super::changed_meanwhile()
        )
    }

    /// Activities done against the pairing's targets over its term (from the projects linked to it).
    pub async fn pairing_progress(
        &self,
        scope: &Scope,
        id: PairingId,
    ) -> StoreResult<PairingProgress> {
        let pr = self.get_pairing(scope, id).await?;
        let target = i64::from(target_activities(
            &pr.targets(),
            &pr.term_start,
            &pr.term_end,
        ));
        let (planned, done): (i64, i64) = rd!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(a.id), COUNT(a.done_on) FROM project_activities a JOIN projects pj ON pj.id = a.project_id \
             WHERE pj.pairing_id = $1"
        )
        .bind(id.0)
        .fetch_one(p)
        .await?
        });
        let percent = if target == 0 {
            100
        } else {
            (done * 100 / target).min(100)
        };
        Ok(PairingProgress {
            pairing_id: id.0,
            target,
            planned,
            done,
            percent,
        })
    }

    // ------------------------------------------------------------ alliances

    /// Creates an alliance run by a town in the caller's subtree.
    pub async fn create_alliance(
        &self,
        actor: &Actor,
        scope: &Scope,
        v: &ValidAlliance,
    ) -> StoreResult<AllianceId> {
        if !matches!(scope, Scope::Subtree(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let town = self
            .get_place(scope, v.town_id)
            .await
            .map_err(|_| StoreError::field("town_id", Code::InvalidPlace))?;
        if town.level() != Some(PlaceLevel::Town) {
            return Err(StoreError::field("town_id", Code::InvalidPlaceLevel));
        }
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO alliances (name, town_id, place_path, description, created_at) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id",
                )
                .bind(&v.name)
                .bind(town.id)
                .bind(&town.path)
                .bind(v.description.as_deref())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some(id)
            },
            |id| AuditEntry::ok("alliance.create", format!("alliance:{id}")).with_detail(v.name.clone()),
            unique = StoreError::field("name", Code::DuplicateCode)
        )
        .map(AllianceId)
    }

    /// Adds a unit to an alliance in scope (adding twice changes nothing).
    pub async fn add_alliance_unit(
        &self,
        actor: &Actor,
        scope: &Scope,
        alliance: AllianceId,
        unit: UnitId,
    ) -> StoreResult<()> {
        if !matches!(scope, Scope::Subtree(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        self.get_alliance(scope, alliance).await?;
        if !self.unit_exists(unit).await? {
            return Err(StoreError::field("unit_id", Code::InvalidUnit));
        }
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "INSERT INTO alliance_units (alliance_id, unit_id, joined_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (alliance_id, unit_id) DO NOTHING",
                )
                .bind(alliance.0)
                .bind(unit.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                (n == 1).then_some(())
            },
            |_added| AuditEntry::ok("alliance.add_unit", format!("alliance:{alliance}"))
                .with_detail(format!("unit:{unit}")),
            guard = optional
        )?;
        Ok(())
    }

    /// One alliance with its units, if in scope.
    pub async fn get_alliance(&self, scope: &Scope, id: AllianceId) -> StoreResult<Alliance> {
        let mut list = self.alliances(scope, Some(id)).await?;
        list.pop().ok_or(StoreError::NotFound)
    }

    /// Alliances in scope with their units (place admins: towns in their subtree; unit admins: those they are in).
    pub async fn list_alliances(&self, scope: &Scope) -> StoreResult<Vec<Alliance>> {
        self.alliances(scope, None).await
    }

    async fn alliances(&self, scope: &Scope, id: Option<AllianceId>) -> StoreResult<Vec<Alliance>> {
        let mut list: Vec<Alliance> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT a.id, a.name, a.town_id, t.name AS town_name, a.place_path, a.description, a.created_at \
                 FROM alliances a JOIN places t ON t.id = a.town_id WHERE 1 = 1",
            );
            if let Scope::Unit(u) = scope {
                qb.push(" AND EXISTS (SELECT 1 FROM alliance_units x WHERE x.alliance_id = a.id AND x.unit_id = ")
                    .push_bind(u.0)
                    .push(")");
            } else {
                push_scope!(qb, scope, path = "a.place_path", unit = "", member = "");
            }
            if let Some(id) = id {
                qb.push(" AND a.id = ").push_bind(id.0);
            }
            qb.push(" ORDER BY a.place_path, a.name LIMIT 500");
            qb.build_query_as().fetch_all(p).await?
        });
        if list.is_empty() {
            return Ok(list);
        }
        let rows: Vec<(i64, i64, String)> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT au.alliance_id, u.id, u.name FROM alliance_units au JOIN units u ON u.id = au.unit_id \
                 WHERE au.alliance_id IN (",
            );
            let mut sep = qb.separated(", ");
            for a in &list {
                sep.push_bind(a.id);
            }
            qb.push(") ORDER BY au.alliance_id, u.name");
            qb.build_query_as().fetch_all(p).await?
        });
        for (aid, uid, name) in rows {
            if let Some(a) = list.iter_mut().find(|a| a.id == aid) {
                a.units.push(AllianceUnit {
                    unit_id: uid,
                    unit_name: name,
                });
            }
        }
        Ok(list)
    }

    // ------------------------------------------------------------ projects

    /// Creates a joint project between a unit and a community in the caller's subtree, optionally under a
    /// pairing of the same unit and community.
    pub async fn create_project(
        &self,
        actor: &Actor,
        scope: &Scope,
        v: &ValidProject,
    ) -> StoreResult<ProjectId> {
        let c = self.community_for_write(scope, v.community_id).await?;
        if !self.unit_exists(v.unit_id).await? {
            return Err(StoreError::field("unit_id", Code::InvalidUnit));
        }
        self.require_dict("need_category", &v.category, "category")
            .await?;
        if let Some(pid) = v.pairing_id {
            let pr = self
                .get_pairing(scope, pid)
                .await
                .map_err(|_| StoreError::field("pairing_id", Code::InvalidChoice))?;
            if pr.unit_id != v.unit_id.0 || pr.community_id != c.id {
                return Err(StoreError::field("pairing_id", Code::InvalidChoice));
            }
        }
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO projects (name, category, pairing_id, unit_id, community_id, place_path, goals, period_start, \
                     period_end, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                )
                .bind(&v.name)
                .bind(&v.category)
                .bind(v.pairing_id.map(|p| p.0))
                .bind(v.unit_id.0)
                .bind(c.id)
                .bind(&c.path)
                .bind(v.goals.as_deref())
                .bind(&v.period_start)
                .bind(&v.period_end)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some(id)
            },
            |id| AuditEntry::ok("project.create", format!("project:{id}")).with_detail(v.name.clone())
        )
        .map(ProjectId)
    }

    /// One project, if in scope.
    pub async fn get_project(&self, scope: &Scope, id: ProjectId) -> StoreResult<Project> {
        let r: Option<Project> = rd!(self, |p| {
            let mut qb = crate::qb(p, project_select!());
            qb.push(" AND pj.id = ").push_bind(id.0);
            push_scope!(
                qb,
                scope,
                path = "pj.place_path",
                unit = "pj.unit_id",
                member = ""
            );
            qb.build_query_as().fetch_optional(p).await?
        });
        r.ok_or(StoreError::NotFound)
    }

    /// Projects in scope, newest first.
    pub async fn list_projects(
        &self,
        scope: &Scope,
        f: &ProjectFilter,
        page: PageReq,
    ) -> StoreResult<Page<Project>> {
        let category = f.category.clone().filter(|s| !s.is_empty());
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM projects pj WHERE 1 = 1");
            let mut list = crate::qb(p, project_select!());
            for qb in [&mut count, &mut list] {
                push_scope!(
                    qb,
                    scope,
                    path = "pj.place_path",
                    unit = "pj.unit_id",
                    member = ""
                );
                if let Some(x) = f.pairing_id {
                    qb.push(" AND pj.pairing_id = ").push_bind(x);
                }
                if let Some(u) = f.unit_id {
                    qb.push(" AND pj.unit_id = ").push_bind(u);
                }
                if let Some(c) = &category {
                    qb.push(" AND pj.category = ").push_bind(c.clone());
                }
            }
            list.push(" ORDER BY pj.id DESC LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<Project> = list.build_query_as().fetch_all(p).await?;
            Ok(page_of(items, total, page))
        })
    }

    /// Adds a planned activity to a project in scope (place scope, or the project's unit).
    pub async fn add_project_activity(
        &self,
        actor: &Actor,
        scope: &Scope,
        project: ProjectId,
        v: &ValidActivity,
    ) -> StoreResult<ActivityId> {
        if matches!(scope, Scope::Member(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        self.get_project(scope, project).await?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO project_activities (project_id, title, planned_on, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(project.0)
                .bind(&v.title)
                .bind(&v.planned_on)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some(id)
            },
            |id| AuditEntry::ok("project.add_activity", format!("project:{project}"))
                .with_detail(format!("activity:{id}"))
        )
        .map(ActivityId)
    }

    /// The planned activities of a project in scope, by date.
    pub async fn list_project_activities(
        &self,
        scope: &Scope,
        project: ProjectId,
    ) -> StoreResult<Vec<ProjectActivity>> {
        self.get_project(scope, project).await?;
        Ok(rd!(self, |p| sqlx::query_as(
            "SELECT id, project_id, title, planned_on, done_on, created_at FROM project_activities \
             WHERE project_id = $1 ORDER BY planned_on, id"
        )
        .bind(project.0)
        .fetch_all(p)
        .await?))
    }

    /// Marks an activity done on a date (`YYYY-MM-DD`); an activity is done once (`illegal_transition` after).
    pub async fn mark_activity_done(
        &self,
        actor: &Actor,
        scope: &Scope,
        activity: ActivityId,
        done_on: &str,
    ) -> StoreResult<()> {
        if matches!(scope, Scope::Member(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let done_on = shanzhi_domain::validate::date(done_on)
            .map_err(|c| StoreError::field("done_on", c))?
            .format("%Y-%m-%d")
            .to_string();
        let row: Option<(i64, Option<String>)> = rd!(self, |p| sqlx::query_as(
            "SELECT project_id, done_on FROM project_activities WHERE id = $1"
        )
        .bind(activity.0)
        .fetch_optional(p)
        .await?);
        let (project, done) = row.ok_or(StoreError::NotFound)?;
        self.get_project(scope, ProjectId(project)).await?;
        if done.is_some() {
            return Err(StoreError::Refused(Code::IllegalTransition));
        }
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "UPDATE project_activities SET done_on = $1 WHERE id = $2 AND done_on IS NULL",
                )
                .bind(&done_on)
                .bind(activity.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                (n == 1).then_some(())
            },
            |_done| AuditEntry::ok("project.activity_done", format!("project:{project}"))
                .with_detail(format!("activity:{activity} on {done_on}")),
            guard = StoreError::Refused(Code::IllegalTransition)
        )
    }

    /// The community grades a project at its end (优/中/差), once (`illegal_transition` after); place scope only.
    pub async fn grade_project(
        &self,
        actor: &Actor,
        scope: &Scope,
        project: ProjectId,
        grade: ProjectGrade,
    ) -> StoreResult<()> {
        let pj = self.get_project(scope, project).await?;
        if !matches!(scope, Scope::Subtree(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        if pj.grade.is_some() {
            return Err(StoreError::Refused(Code::IllegalTransition));
        }
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "UPDATE projects SET grade = $1, graded_at = $2, graded_by = $3, updated_at = $2 WHERE id = $4 AND grade IS NULL",
                )
                .bind(grade.as_str())
                .bind(now)
                .bind(&actor.name)
                .bind(project.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                (n == 1).then_some(())
            },
            |_done| AuditEntry::ok("project.grade", format!("project:{project}"))
                .with_detail(grade.as_str()),
            guard = StoreError::Refused(Code::IllegalTransition)
        )
    }
}
