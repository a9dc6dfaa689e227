//! 组团式报到: a unit registers with its town and/or communities, lists its resources (资源清单), and a community
//! links accepted units to grids as grid partners (网格合伙人).
//!
//! Scope: place admins see unit registrations, resources and grid partners whose place lies in their subtree;
//! unit admins see their own unit's.

use serde::Serialize;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{
    UnitRegistrationEvent, UnitRegistrationStatus, ValidResource, ValidUnitRegistration,
};
use shanzhi_domain::role::Scope;
use shanzhi_domain::{Code, PlaceId, ResourceId, Timestamp, UnitId, UnitRegistrationId, mask};

use super::{changed_meanwhile, page_of, refusal};
use crate::audit::{Actor, AuditEntry};
use crate::{Page, PageReq, Store, StoreError, StoreResult};

/// A unit's registration with a town or community.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnitRegistration {
    pub id: i64,
    pub round_id: i64,
    pub round_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub party_org_name: String,
    pub place_id: i64,
    pub place_name: String,
    pub place_level: String,
    pub place_path: String,
    /// See [`UnitRegistrationStatus`].
    pub status: String,
    pub contact_name: String,
    pub contact_phone_masked: Option<String>,
    pub note: Option<String>,
    pub return_reason: Option<String>,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    /// Who decided, by display name (never a login name).
    pub decided_by: Option<String>,
    pub updated_at: i64,
}

impl UnitRegistration {
    pub fn id(&self) -> UnitRegistrationId {
        UnitRegistrationId(self.id)
    }
    /// The typed status (an unknown stored value reads as withdrawn, which permits nothing further).
    pub fn status(&self) -> UnitRegistrationStatus {
        UnitRegistrationStatus::parse(&self.status).unwrap_or(UnitRegistrationStatus::Withdrawn)
    }
    pub fn status_label(&self) -> &'static str {
        self.status().label()
    }
}

macro_rules! unit_reg_select {
    () => {
        "SELECT ur.id, ur.round_id, rd.name AS round_name, ur.unit_id, u.name AS unit_name, u.party_org_name, \
         ur.place_id, pl.name AS place_name, pl.level AS place_level, ur.place_path, ur.status, ur.contact_name, \
         ur.contact_phone_masked, ur.note, ur.return_reason, ur.submitted_at, ur.decided_at, \
         COALESCE(da.display_name, ur.decided_by) AS decided_by, ur.updated_at \
         FROM unit_registrations ur JOIN rounds rd ON rd.id = ur.round_id JOIN units u ON u.id = ur.unit_id \
         JOIN places pl ON pl.id = ur.place_id LEFT JOIN accounts da ON da.username = ur.decided_by WHERE 1 = 1"
    };
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitRegistrationFilter {
    pub round_id: Option<i64>,
    /// A [`UnitRegistrationStatus`] code.
    pub status: Option<String>,
    pub unit_id: Option<i64>,
}

/// A resource a unit offers.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Resource {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_registration_id: Option<i64>,
    pub place_path: String,
    pub title: String,
    pub description: Option<String>,
    pub capacity: i64,
    pub schedule: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! resource_select {
    () => {
        "SELECT rs.id, rs.unit_id, u.name AS unit_name, rs.unit_registration_id, rs.place_path, rs.title, rs.description, \
         rs.capacity, rs.schedule, rs.active, rs.created_at, rs.updated_at FROM resources rs JOIN units u ON u.id = rs.unit_id \
         WHERE 1 = 1"
    };
}

/// A unit linked to a grid as its partner.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct GridPartner {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub grid_id: i64,
    pub grid_name: String,
    pub place_path: String,
    pub created_at: i64,
}

impl Store {
    /// One unit registration, if in scope.
    pub async fn get_unit_registration(
        &self,
        scope: &Scope,
        id: UnitRegistrationId,
    ) -> StoreResult<UnitRegistration> {
        let r: Option<UnitRegistration> = rd!(self, |p| {
            let mut qb = crate::qb(p, unit_reg_select!());
            qb.push(" AND ur.id = ").push_bind(id.0);
            push_scope!(
                qb,
                scope,
                path = "ur.place_path",
                unit = "ur.unit_id",
                member = ""
            );
            qb.build_query_as().fetch_optional(p).await?
        });
        r.ok_or(StoreError::NotFound)
    }

    /// Unit registrations in scope, newest first.
    pub async fn list_unit_registrations(
        &self,
        scope: &Scope,
        f: &UnitRegistrationFilter,
        page: PageReq,
    ) -> StoreResult<Page<UnitRegistration>> {
        let status = f.status.clone().filter(|s| !s.is_empty());
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM unit_registrations ur WHERE 1 = 1");
            let mut list = crate::qb(p, unit_reg_select!());
            for qb in [&mut count, &mut list] {
                push_scope!(
                    qb,
                    scope,
                    path = "ur.place_path",
                    unit = "ur.unit_id",
                    member = ""
                );
                if let Some(r) = f.round_id {
                    qb.push(" AND ur.round_id = ").push_bind(r);
                }
                if let Some(s) = &status {
                    qb.push(" AND ur.status = ").push_bind(s.clone());
                }
                if let Some(u) = f.unit_id {
                    qb.push(" AND ur.unit_id = ").push_bind(u);
                }
            }
            list.push(" ORDER BY ur.id DESC LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<UnitRegistration> = list.build_query_as().fetch_all(p).await?;
            Ok(page_of(items, total, page))
        })
    }

    /// A unit (in scope; a unit admin only their own) registers with a town or community in the open round.
    /// One active registration per unit, place and round (`already_registered`).
    pub async fn submit_unit_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        unit: UnitId,
        v: &ValidUnitRegistration,
    ) -> StoreResult<UnitRegistrationId> {
        if matches!(scope, Scope::Member(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        self.get_unit(scope, unit).await?;
        let place = self
            .get_place_unscoped(v.place_id)
            .await
            .map_err(|_| StoreError::field("place_id", Code::InvalidPlace))?;
        if !matches!(
            place.level(),
            Some(PlaceLevel::Town | PlaceLevel::Community)
        ) {
            return Err(StoreError::field("place_id", Code::InvalidPlaceLevel));
        }
        let round = self
            .current_round()
            .await?
            .ok_or(StoreError::Refused(Code::RoundNotOpen))?;
        let phone_enc = v
            .contact_phone
            .as_deref()
            .map(|p| self.vault.encrypt(p))
            .transpose()?;
        let phone_masked = v.contact_phone.as_deref().map(mask::mobile);
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO unit_registrations (round_id, unit_id, place_id, place_path, status, contact_name, \
                     contact_phone_enc, contact_phone_masked, note, submitted_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $9, $9) RETURNING id",
                )
                .bind(round.id)
                .bind(unit.0)
                .bind(place.id)
                .bind(&place.path)
                .bind(&v.contact_name)
                .bind(phone_enc.as_deref())
                .bind(phone_masked.as_deref())
                .bind(v.note.as_deref())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some(id)
            },
            |id| AuditEntry::ok("unit_registration.submit", format!("unit_registration:{id}"))
                .with_detail(format!("unit:{unit} place:{}", place.id)),
            unique = StoreError::Refused(Code::AlreadyRegistered)
        )
        .map(UnitRegistrationId)
    }

    /// Applies an event to a unit registration, guarded by the status that was read.
    async fn unit_registration_transition(
        &self,
        actor: &Actor,
        r: &UnitRegistration,
        event: &UnitRegistrationEvent,
        return_reason: Option<&str>,
        action: &str,
    ) -> StoreResult<()> {
        let to = r.status().next(event).map_err(refusal)?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let before = unit_figures!(self, tx, r.unit_id);
                let n = sqlx::query(
                    "UPDATE unit_registrations SET status = $1, return_reason = COALESCE($2, return_reason), decided_at = $3, \
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
                    let after = unit_figures!(self, tx, r.unit_id);
                    stats_in_tx!(tx, after.minus(&before));
                    Some(())
                } else {
                    None
                }
            },
            |_done| AuditEntry::ok(action, format!("unit_registration:{}", r.id)),
            guard = changed_meanwhile(),
            unique = StoreError::Refused(Code::AlreadyRegistered)
        )
    }

    async fn reviewed_unit_registration(
        &self,
        scope: &Scope,
        id: UnitRegistrationId,
    ) -> StoreResult<UnitRegistration> {
        let r = self.get_unit_registration(scope, id).await?;
        match scope {
            Scope::Subtree(_) => Ok(r),
            _ => Err(StoreError::Refused(Code::Forbidden)),
        }
    }

    /// The town or community accepts a unit's registration.
    pub async fn accept_unit_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: UnitRegistrationId,
    ) -> StoreResult<()> {
        let r = self.reviewed_unit_registration(scope, id).await?;
        self.unit_registration_transition(
            actor,
            &r,
            &UnitRegistrationEvent::Accept,
            None,
            "unit_registration.accept",
        )
        .await
    }

    /// The town or community returns a unit's registration with a reason.
    pub async fn return_unit_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: UnitRegistrationId,
        reason: &str,
    ) -> StoreResult<()> {
        let r = self.reviewed_unit_registration(scope, id).await?;
        let reason = reason.trim();
        if reason.chars().count() > 200 {
            return Err(StoreError::field("reason", Code::TooLong));
        }
        self.unit_registration_transition(
            actor,
            &r,
            &UnitRegistrationEvent::Return {
                reason: reason.to_string(),
            },
            Some(reason),
            "unit_registration.return",
        )
        .await
    }

    /// The unit withdraws its registration (unit scope only; recorded, not deleted).
    pub async fn withdraw_unit_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: UnitRegistrationId,
    ) -> StoreResult<()> {
        let r = self.get_unit_registration(scope, id).await?;
        if !matches!(scope, Scope::Unit(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        self.unit_registration_transition(
            actor,
            &r,
            &UnitRegistrationEvent::Withdraw,
            None,
            "unit_registration.withdraw",
        )
        .await
    }

    /// The unit resubmits a returned registration.
    pub async fn resubmit_unit_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: UnitRegistrationId,
    ) -> StoreResult<()> {
        let r = self.get_unit_registration(scope, id).await?;
        if !matches!(scope, Scope::Unit(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        self.unit_registration_transition(
            actor,
            &r,
            &UnitRegistrationEvent::Submit,
            None,
            "unit_registration.resubmit",
        )
        .await
    }

    // ------------------------------------------------------------ resources

    /// One resource, if in scope.
    pub async fn get_resource(&self, scope: &Scope, id: ResourceId) -> StoreResult<Resource> {
        let r: Option<Resource> = rd!(self, |p| {
            let mut qb = crate::qb(p, resource_select!());
            qb.push(" AND rs.id = ").push_bind(id.0);
            push_scope!(
                qb,
                scope,
                path = "rs.place_path",
                unit = "rs.unit_id",
                member = ""
            );
            qb.build_query_as().fetch_optional(p).await?
        });
        r.ok_or(StoreError::NotFound)
    }

    /// Active resources in scope, optionally of one unit, by unit then title.
    pub async fn list_resources(
        &self,
        scope: &Scope,
        unit: Option<UnitId>,
    ) -> StoreResult<Vec<Resource>> {
        Ok(rd!(self, |p| {
            let mut qb = crate::qb(p, concat!(resource_select!(), " AND rs.active"));
            push_scope!(
                qb,
                scope,
                path = "rs.place_path",
                unit = "rs.unit_id",
                member = ""
            );
            if let Some(u) = unit {
                qb.push(" AND rs.unit_id = ").push_bind(u.0);
            }
            qb.push(" ORDER BY rs.unit_id, rs.title, rs.id LIMIT 1000");
            qb.build_query_as().fetch_all(p).await?
        }))
    }

    /// Creates (`id` = None) or updates a resource of a unit the caller sees (not members). A linked unit
    /// registration must be the same unit's; the resource is then offered at that registration's place.
    pub async fn save_resource(
        &self,
        actor: &Actor,
        scope: &Scope,
        unit: UnitId,
        id: Option<ResourceId>,
        v: &ValidResource,
    ) -> StoreResult<ResourceId> {
        if matches!(scope, Scope::Member(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let u = self.get_unit(scope, unit).await?;
        if let Some(id) = id
            && self.get_resource(scope, id).await?.unit_id != unit.0
        {
            return Err(StoreError::NotFound);
        }
        let place_path = match v.unit_registration_id {
            Some(ur) => {
                let r = self
                    .get_unit_registration(&Scope::Unit(unit), ur)
                    .await
                    .map_err(|_| StoreError::field("unit_registration_id", Code::InvalidChoice))?;
                r.place_path
            }
            None => u.place_path,
        };
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| Some(match id {
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO resources (unit_id, unit_registration_id, place_path, title, description, capacity, \
                         schedule, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8) RETURNING id",
                    )
                    .bind(unit.0)
                    .bind(v.unit_registration_id.map(|r| r.0))
                    .bind(&place_path)
                    .bind(&v.title)
                    .bind(v.description.as_deref())
                    .bind(v.capacity)
                    .bind(v.schedule.as_deref())
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    id
                }
                Some(id) => {
                    sqlx::query(
                        "UPDATE resources SET unit_registration_id = $1, place_path = $2, title = $3, description = $4, \
                         capacity = $5, schedule = $6, updated_at = $7 WHERE id = $8",
                    )
                    .bind(v.unit_registration_id.map(|r| r.0))
                    .bind(&place_path)
                    .bind(&v.title)
                    .bind(v.description.as_deref())
                    .bind(v.capacity)
                    .bind(v.schedule.as_deref())
                    .bind(now)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                    id.0
                }
            }),
            |id| AuditEntry::ok("resource.save", format!("resource:{id}")).with_detail(v.title.clone())
        )
        .map(ResourceId)
    }

    /// Retires a resource: it leaves the lists but stays on record.
    pub async fn delete_resource(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: ResourceId,
    ) -> StoreResult<()> {
        if matches!(scope, Scope::Member(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        self.get_resource(scope, id).await?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query("UPDATE resources SET active = FALSE, updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                Some(())
            },
            |_done| AuditEntry::ok("resource.delete", format!("resource:{id}"))
        )
    }

    // ------------------------------------------------------------ grid partners

    /// Links a unit to a grid as its partner. The grid must be in the caller's subtree and the unit must have an
    /// accepted registration with the grid's community (or its town). Linking twice changes nothing.
    pub async fn link_grid_partner(
        &self,
        actor: &Actor,
        scope: &Scope,
        unit: UnitId,
        grid: PlaceId,
    ) -> StoreResult<()> {
        if !matches!(scope, Scope::Subtree(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let g = self
            .get_place(scope, grid)
            .await
            .map_err(|_| StoreError::field("grid_id", Code::InvalidPlace))?;
        if g.level() != Some(PlaceLevel::Grid) {
            return Err(StoreError::field("grid_id", Code::InvalidPlaceLevel));
        }
        let ancestors: Vec<i64> = shanzhi_domain::place::path_ids(&g.path)
            .into_iter()
            .map(|p| p.0)
            .collect();
        let accepted: Vec<(i64,)> = rd!(self, |p| sqlx::query_as(
            "SELECT place_id FROM unit_registrations WHERE unit_id = $1 AND status = 'accepted'"
        )
        .bind(unit.0)
        .fetch_all(p)
        .await?);
        if !accepted.iter().any(|(pid,)| ancestors.contains(pid)) {
            return Err(StoreError::field("unit_id", Code::InvalidUnit));
        }
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "INSERT INTO grid_partners (unit_id, grid_id, place_path, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (unit_id, grid_id) DO NOTHING",
                )
                .bind(unit.0)
                .bind(g.id)
                .bind(&g.path)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                (n == 1).then_some(())
            },
            |_linked| AuditEntry::ok("grid_partner.link", format!("unit:{unit}"))
                .with_detail(format!("grid:{}", g.id)),
            guard = optional
        )?;
        Ok(())
    }

    /// Removes a grid partner link (the audit log keeps the record). Not found when not linked or out of scope.
    pub async fn unlink_grid_partner(
        &self,
        actor: &Actor,
        scope: &Scope,
        unit: UnitId,
        grid: PlaceId,
    ) -> StoreResult<()> {
        if !matches!(scope, Scope::Subtree(_)) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let g = self.get_place(scope, grid).await?;
        audited_write!(
            self,
            actor,
            |tx| {
                let n =
                    sqlx::query("DELETE FROM grid_partners WHERE unit_id = $1 AND grid_id = $2")
                        .bind(unit.0)
                        .bind(g.id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                (n == 1).then_some(())
            },
            |_unlinked| AuditEntry::ok("grid_partner.unlink", format!("unit:{unit}"))
                .with_detail(format!("grid:{}", g.id)),
            guard = StoreError::NotFound
        )
    }

    /// Grid partners in scope (place admins: grids in their subtree; unit admins: their unit's links).
    pub async fn list_grid_partners(&self, scope: &Scope) -> StoreResult<Vec<GridPartner>> {
        Ok(rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT gp.id, gp.unit_id, u.name AS unit_name, gp.grid_id, g.name AS grid_name, gp.place_path, gp.created_at \
                 FROM grid_partners gp JOIN units u ON u.id = gp.unit_id JOIN places g ON g.id = gp.grid_id WHERE 1 = 1",
            );
            push_scope!(
                qb,
                scope,
                path = "gp.place_path",
                unit = "gp.unit_id",
                member = ""
            );
            qb.push(" ORDER BY gp.place_path, u.name LIMIT 1000");
            qb.build_query_as().fetch_all(p).await?
        }))
    }
}
