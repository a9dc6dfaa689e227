//! The place tree: 区 > 街镇 > 村居 > 网格. "This place and below" is a range scan over the materialised path.

use serde::Serialize;
use shanzhi_domain::org::ValidPlace;
use shanzhi_domain::place::{self, PartyOrgLevel, PlaceLevel};
use shanzhi_domain::role::Scope;
use shanzhi_domain::{Code, PlaceId, Timestamp};

use crate::audit::{Actor, AuditEntry, like_escape};
use crate::{Page, PageReq, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Place {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub level: String,
    pub code: String,
    pub name: String,
    pub path: String,
    pub party_org_name: Option<String>,
    pub party_org_level: Option<String>,
}

impl Place {
    pub fn id(&self) -> PlaceId {
        PlaceId(self.id)
    }
    pub fn level(&self) -> Option<PlaceLevel> {
        PlaceLevel::parse(&self.level)
    }
    pub fn level_label(&self) -> &'static str {
        self.level().map(PlaceLevel::label).unwrap_or("")
    }
    pub fn party_org_level_label(&self) -> &'static str {
        self.party_org_level
            .as_deref()
            .and_then(PartyOrgLevel::parse)
            .map(PartyOrgLevel::label)
            .unwrap_or("")
    }
}

/// A child in the drill-down, with counts for its subtree.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlaceSummary {
    #[serde(flatten)]
    pub place: Place,
    pub children: i64,
    /// Units located in this place and below.
    pub units: i64,
    /// Members living in this place and below.
    pub members: i64,
    /// Of those members, how many have an accepted registration in the latest round (已报到).
    pub registered: i64,
    /// Units with an accepted 组团报到 in this place or below in the latest round, wherever they are located.
    pub units_registered: i64,
}

impl PlaceSummary {
    /// 未报到: members living here without an accepted registration in the latest round.
    pub fn unregistered(&self) -> i64 {
        (self.members - self.registered).max(0)
    }
    /// 报到率 as people read it (`62.5%`), or `—` without members.
    pub fn rate_label(&self) -> String {
        shanzhi_domain::registration::rate_label(self.registered, self.members)
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaceFilter {
    /// Children of this place.
    pub parent_id: Option<i64>,
    /// district | town | community | grid
    pub level: Option<String>,
    /// Name or code contains.
    pub q: Option<String>,
}

macro_rules! place_cols {
    () => {
        "id, parent_id, level, code, name, path, party_org_name, party_org_level"
    };
}

impl Store {
    /// One place, if it is inside the caller's subtree.
    pub async fn get_place(&self, scope: &Scope, id: PlaceId) -> StoreResult<Place> {
        let place: Option<Place> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                concat!("SELECT ", place_cols!(), " FROM places WHERE id = "),
            );
            qb.push_bind(id.0);
            push_scope!(qb, scope, path = "path", unit = "", member = "");
            qb.build_query_as().fetch_optional(p).await?
        });
        place.ok_or(StoreError::NotFound)
    }

    /// Any place by id, without scope: only for public pickers and breadcrumbs of places already in scope.
    pub async fn get_place_unscoped(&self, id: PlaceId) -> StoreResult<Place> {
        let place: Option<Place> = rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            place_cols!(),
            " FROM places WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(p)
        .await?);
        place.ok_or(StoreError::NotFound)
    }

    pub async fn place_by_code(&self, code: &str) -> StoreResult<Option<Place>> {
        Ok(rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            place_cols!(),
            " FROM places WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(p)
        .await?))
    }

    /// The root place (the district), if created.
    pub async fn root_place(&self) -> StoreResult<Option<Place>> {
        Ok(rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            place_cols!(),
            " FROM places WHERE parent_id IS NULL ORDER BY id LIMIT 1"
        ))
        .fetch_optional(p)
        .await?))
    }

    /// Ancestors of a place, root first (for breadcrumbs), stopping at the caller's own top.
    pub async fn place_ancestors(&self, scope: &Scope, place: &Place) -> StoreResult<Vec<Place>> {
        let mut out = Vec::new();
        for id in place::path_ids(&place.path) {
            if id.0 == place.id {
                break;
            }
            if let Ok(p) = self.get_place(scope, id).await {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The top places a scope sees: for a subtree, its root.
    pub async fn scope_roots(&self, scope: &Scope) -> StoreResult<Vec<Place>> {
        match scope {
            Scope::Subtree(path) => Ok(rd!(self, |p| sqlx::query_as(concat!(
                "SELECT ",
                place_cols!(),
                " FROM places WHERE path = $1"
            ))
            .bind(path)
            .fetch_all(p)
            .await?)),
            Scope::Everything => Ok(self.root_place().await?.into_iter().collect()),
            _ => Ok(Vec::new()),
        }
    }

    /// Places in scope, filtered, paginated, ordered by code.
    pub async fn list_places(
        &self,
        scope: &Scope,
        f: &PlaceFilter,
        page: PageReq,
    ) -> StoreResult<Page<Place>> {
        let q =
            f.q.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| format!("%{}%", like_escape(s)));
        let level = f
            .level
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM places WHERE 1 = 1");
            let mut list = crate::qb(
                p,
                concat!("SELECT ", place_cols!(), " FROM places WHERE 1 = 1"),
            );
            for qb in [&mut count, &mut list] {
                push_scope!(qb, scope, path = "path", unit = "", member = "");
                if let Some(parent) = f.parent_id {
                    qb.push(" AND parent_id = ").push_bind(parent);
                }
                if let Some(l) = &level {
                    qb.push(" AND level = ").push_bind(l.clone());
                }
                if let Some(q) = &q {
                    qb.push(" AND (name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\' OR code LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\')");
                }
            }
            list.push(" ORDER BY path LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<Place> = list.build_query_as().fetch_all(p).await?;
            Ok(Page::of(items, total, page))
        })
    }

    /// Figures for a place's subtree (child places, units and members located within it, 报到 in the latest
    /// round), read from the rollups (`crate::stats`): one row lookup however large the subtree.
    pub async fn place_summary(&self, place: Place) -> StoreResult<PlaceSummary> {
        let (children, units, members, registered, units_registered): (i64, i64, i64, i64, i64) = rd!(
            self,
            |p| {
                sqlx::query_as(
                    "SELECT COALESCE(s.children, 0), COALESCE(s.units, 0), COALESCE(s.members, 0), \
                     COALESCE(r.registered, 0), COALESCE(r.units_registered, 0) \
                     FROM places p LEFT JOIN place_stats s ON s.place_id = p.id \
                     LEFT JOIN place_round_stats r ON r.place_id = p.id AND r.round_id = (SELECT MAX(id) FROM rounds) \
                     WHERE p.id = $1",
                )
                .bind(place.id)
                .fetch_optional(p)
                .await?
                .unwrap_or_default()
            }
        );
        Ok(PlaceSummary {
            place,
            children,
            units,
            members,
            registered,
            units_registered,
        })
    }

    /// [`Self::place_summary`] for several places at once: the figures of all of them in one query (a place
    /// page lists 25 children; one lookup each was most of its time). Keeps the order of `places`.
    pub async fn place_summaries(&self, places: Vec<Place>) -> StoreResult<Vec<PlaceSummary>> {
        if places.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, i64, i64, i64, i64, i64)> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT p.id, COALESCE(s.children, 0), COALESCE(s.units, 0), COALESCE(s.members, 0), \
                 COALESCE(r.registered, 0), COALESCE(r.units_registered, 0) \
                 FROM places p LEFT JOIN place_stats s ON s.place_id = p.id \
                 LEFT JOIN place_round_stats r ON r.place_id = p.id AND r.round_id = (SELECT MAX(id) FROM rounds) \
                 WHERE p.id IN (",
            );
            let mut sep = qb.separated(", ");
            for place in &places {
                sep.push_bind(place.id);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(p).await?
        });
        Ok(places
            .into_iter()
            .map(|place| {
                let (children, units, members, registered, units_registered) = rows
                    .iter()
                    .find(|r| r.0 == place.id)
                    .map_or((0, 0, 0, 0, 0), |r| (r.1, r.2, r.3, r.4, r.5));
                PlaceSummary {
                    place,
                    children,
                    units,
                    members,
                    registered,
                    units_registered,
                }
            })
            .collect())
    }

    /// The figures of [`Self::place_summary`] counted from the rows, for checking the rollups (tests, and
    /// whoever doubts them); slow at district scale.
    pub async fn place_summary_recount(&self, place: Place) -> StoreResult<PlaceSummary> {
        let (lo, hi) = place::subtree_range(&place.path);
        // 已报到 counts members by where they live: accepting a registration moves the member into the grid, so a
        // member counts where they registered. The latest round is the one reported.
        let (children, units, members, registered, units_registered): (i64, i64, i64, i64, i64) = rd!(
            self,
            |p| {
                sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM places WHERE parent_id = $1), \
                    (SELECT COUNT(*) FROM units WHERE place_path >= $2 AND place_path < $3), \
                    (SELECT COUNT(*) FROM members WHERE place_path >= $2 AND place_path < $3), \
                    (SELECT COUNT(*) FROM members m WHERE m.place_path >= $2 AND m.place_path < $3 \
                       AND EXISTS (SELECT 1 FROM registrations r WHERE r.member_id = m.id AND r.status = 'accepted' \
                         AND r.round_id = (SELECT MAX(id) FROM rounds))), \
                    (SELECT COUNT(DISTINCT ur.unit_id) FROM unit_registrations ur WHERE ur.place_path >= $2 \
                       AND ur.place_path < $3 AND ur.status = 'accepted' AND ur.round_id = (SELECT MAX(id) FROM rounds))"
            )
            .bind(place.id)
            .bind(&lo)
            .bind(&hi)
            .fetch_one(p)
            .await?
            }
        );
        Ok(PlaceSummary {
            place,
            children,
            units,
            members,
            registered,
            units_registered,
        })
    }

    /// Public search of communities by name (for a member choosing where they live). Names only; no scope needed.
    pub async fn search_communities(&self, q: &str, limit: i64) -> StoreResult<Vec<Place>> {
        let pattern = format!("%{}%", like_escape(q.trim()));
        Ok(rd!(self, |p| {
            sqlx::query_as(concat!("SELECT ", place_cols!(), " FROM places WHERE level = 'community' AND name LIKE $1 ESCAPE '\\' ORDER BY name LIMIT $2"))
        .bind(pattern)
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }

    /// Creates a place under `parent` (which must be in scope), or the district root when `parent` is `None`
    /// and no root exists yet.
    pub async fn create_place(
        &self,
        actor: &Actor,
        scope: &Scope,
        parent: Option<PlaceId>,
        v: &ValidPlace,
    ) -> StoreResult<PlaceId> {
        let (level, parent_row) = match parent {
            Some(pid) => {
                let parent = self
                    .get_place(scope, pid)
                    .await
                    .map_err(|_| StoreError::field("parent_id", Code::InvalidPlace))?;
                let level = parent
                    .level()
                    .and_then(PlaceLevel::child)
                    .ok_or(StoreError::field("parent_id", Code::InvalidPlaceLevel))?;
                (level, Some(parent))
            }
            None => {
                if self.root_place().await?.is_some() {
                    return Err(StoreError::field("parent_id", Code::InvalidPlaceLevel));
                }
                (PlaceLevel::District, None)
            }
        };
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO places (parent_id, level, code, name, path, party_org_name, party_org_level, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                )
                .bind(parent_row.as_ref().map(|p| p.id))
                .bind(level.as_str())
                .bind(&v.code)
                .bind(&v.name)
                .bind(format!("#{}", v.code))
                .bind(v.party_org_name.as_deref())
                .bind(v.party_org_level.map(|l| l.as_str()))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let path = match &parent_row {
                    Some(parent) => place::child_path(&parent.path, PlaceId(id)),
                    None => place::root_path(PlaceId(id)),
                };
                sqlx::query("UPDATE places SET path = $1 WHERE id = $2")
                    .bind(&path)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(parent) = &parent_row {
                    let mut added = crate::stats::Figures::default();
                    added.child_of(parent.id);
                    stats_in_tx!(tx, added);
                }
                Some(id)
            },
            |id| AuditEntry::ok("place.create", format!("place:{id}")).with_detail(v.name.clone()),
            unique = StoreError::field("code", Code::DuplicateCode)
        )
        .map(PlaceId)
    }

    pub async fn update_place(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: PlaceId,
        v: &ValidPlace,
    ) -> StoreResult<()> {
        self.get_place(scope, id).await?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query("UPDATE places SET code = $1, name = $2, party_org_name = $3, party_org_level = $4, updated_at = $5 WHERE id = $6")
                .bind(&v.code)
                .bind(&v.name)
                .bind(v.party_org_name.as_deref())
                .bind(v.party_org_level.map(|l| l.as_str()))
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
                Some(())
            },
            |_done| AuditEntry::ok("place.update", format!("place:{id}")),
            unique = StoreError::field("code", Code::DuplicateCode)
        )
    }
}

/// A place for a picker.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlaceOption {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub path: String,
}

impl Store {
    /// Places of the given levels inside the scope, for select boxes (capped at 3,000).
    pub async fn place_options(
        &self,
        scope: &Scope,
        levels: &[PlaceLevel],
    ) -> StoreResult<Vec<PlaceOption>> {
        rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT id, name, level, path FROM places WHERE level IN (",
            );
            let mut sep = qb.separated(", ");
            for l in levels {
                sep.push_bind(l.as_str());
            }
            qb.push(")");
            push_scope!(qb, scope, path = "path", unit = "", member = "");
            qb.push(" ORDER BY path LIMIT 3000");
            Ok(qb.build_query_as().fetch_all(p).await?)
        })
    }
}
