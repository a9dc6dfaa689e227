//! Support for bulk imports and ledgers (台账): name lookups resolved in bulk, duplicate checks by keyed hash or
//! credit code, the `imports` job table (progress and row report of a background import), and the rows of the
//! member and unit ledgers for the current round. Personal numbers in a ledger are masked unless the caller asks
//! for the full values, which decrypts them and appends one audit row for the export.

use serde::Serialize;
use shanzhi_domain::role::Scope;
use shanzhi_domain::{AccountId, PlaceId, Timestamp};

use crate::audit::{Actor, AuditEntry};
use crate::{Store, StoreError, StoreResult};

const CHUNK: usize = 400;
/// Upper bound on the rows of one ledger export.
pub const LEDGER_MAX_ROWS: i64 = 200_000;

/// A place an import row may name, with its parent's name (to tell equal names apart).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlaceKey {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub path: String,
    pub parent_name: Option<String>,
}

/// A unit an import row may name (by name or credit code).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnitKey {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
}

/// One import job.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: i64,
    /// members | units
    pub kind: String,
    pub file_name: String,
    /// queued | running | done | failed
    pub status: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub inserted: i64,
    pub skipped: i64,
    pub error_rows: i64,
    /// The row report as JSON text (bad and skipped rows with their reasons).
    #[serde(skip)]
    pub report: Option<String>,
    pub valid_only: bool,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub place_path: String,
    pub unit_id: Option<i64>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// A job still queued or running after this long was cut off (e.g. by a restart) and will not finish.
const STALE_AFTER_MS: i64 = 60 * 60 * 1000;

impl ImportJob {
    /// Ended, or cut off (still "running" long after it started).
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed") || self.is_stale()
    }
    pub fn is_stale(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
            && Timestamp::now().0 - self.created_at > STALE_AFTER_MS
    }
    pub fn status_label(&self) -> &'static str {
        if self.is_stale() {
            return "已中断";
        }
        match self.status.as_str() {
            "queued" => "排队中",
            "running" => "导入中",
            "done" => "已完成",
            "failed" => "未导入",
            _ => "",
        }
    }
    pub fn kind_label(&self) -> &'static str {
        match self.kind.as_str() {
            "members" => "在职党员",
            "units" => "驻区单位",
            _ => "",
        }
    }
    pub fn created_shanghai(&self) -> String {
        Timestamp(self.created_at).shanghai()
    }
    /// Percentage of rows checked so far (0–100).
    pub fn percent(&self) -> i64 {
        if self.total_rows <= 0 {
            if self.is_finished() { 100 } else { 0 }
        } else {
            (self.processed_rows * 100 / self.total_rows).clamp(0, 100)
        }
    }
}

macro_rules! import_cols {
    () => {
        "SELECT id, kind, file_name, status, total_rows, processed_rows, inserted, skipped, error_rows, report, valid_only, \
         created_by, created_by_name, place_path, unit_id, created_at, finished_at FROM imports i WHERE 1 = 1"
    };
}

/// Adds " AND (uploader OR within the caller's scope)" for the imports table.
macro_rules! import_visibility {
    ($qb:expr, $scope:expr, $account:expr) => {{
        $qb.push(" AND (i.created_by = ")
            .push_bind($account.map(|a: AccountId| a.0).unwrap_or(-1));
        $qb.push(" OR (1 = 1");
        push_scope!(
            $qb,
            $scope,
            path = "i.place_path",
            unit = "i.unit_id",
            member = ""
        );
        $qb.push("))");
    }};
}

/// A new import job.
#[derive(Debug, Clone)]
pub struct NewImportJob {
    pub kind: String,
    pub file_name: String,
    pub total_rows: i64,
    pub valid_only: bool,
    pub created_by: Option<AccountId>,
}

/// The final counters of an import job.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub failed: bool,
    pub inserted: i64,
    pub skipped: i64,
    pub error_rows: i64,
    pub report: String,
}

/// One member in the member ledger, with where they stand in the current round.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerMember {
    pub id: i64,
    pub name: String,
    /// Masked unless the ledger was asked for full values.
    pub mobile: String,
    pub id_card: Option<String>,
    pub unit_name: String,
    pub party_org_name: String,
    pub community_name: String,
    pub grid_name: Option<String>,
    pub separated_residence: bool,
    pub reg_status: Option<String>,
    pub reg_community: Option<String>,
    pub reg_grid: Option<String>,
    pub receipt_no: Option<String>,
    pub submitted_at: Option<i64>,
    #[sqlx(default)]
    pub mobile_enc: String,
    #[sqlx(default)]
    pub id_card_enc: Option<String>,
}

/// One unit (or one of its registrations in the current round) in the unit ledger.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerUnit {
    pub id: i64,
    pub name: String,
    pub kind_name: Option<String>,
    pub credit_code: String,
    pub place_name: String,
    pub party_org_name: String,
    pub party_org_level: String,
    pub contact_name: Option<String>,
    /// Masked unless the ledger was asked for full values.
    pub contact_phone: Option<String>,
    pub member_count: i64,
    pub reg_place: Option<String>,
    pub reg_status: Option<String>,
    pub submitted_at: Option<i64>,
    #[sqlx(default)]
    pub contact_phone_enc: Option<String>,
}

/// Filters of the ledgers.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct LedgerFilter {
    /// This place and below (must be in scope).
    pub place_id: Option<i64>,
    /// Members of this unit (member ledger) / this unit (unit ledger).
    pub unit_id: Option<i64>,
}

fn scope_cols(scope: &Scope) -> (String, Option<i64>) {
    match scope {
        Scope::Subtree(p) => (p.clone(), None),
        Scope::Everything => ("/".to_string(), None),
        Scope::Unit(u) => (String::new(), Some(u.0)),
        Scope::Member(_) | Scope::Oversight | Scope::Nothing => (String::new(), None),
    }
}

impl Store {
    // ------------------------------------------------------------ lookups for imports

    /// Places of the given levels inside the scope (all of them for [`Scope::Everything`]).
    pub async fn import_places(
        &self,
        scope: &Scope,
        levels: &[&str],
    ) -> StoreResult<Vec<PlaceKey>> {
        rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT pl.id, pl.name, pl.level, pl.path, pa.name AS parent_name FROM places pl \
                 LEFT JOIN places pa ON pa.id = pl.parent_id WHERE pl.level IN (",
            );
            let mut sep = qb.separated(", ");
            for l in levels {
                sep.push_bind(l.to_string());
            }
            qb.push(")");
            push_scope!(qb, scope, path = "pl.path", unit = "", member = "");
            qb.push(" ORDER BY pl.id");
            Ok(qb.build_query_as().fetch_all(p).await?)
        })
    }

    /// Units an import row may name: all of them, or only the caller's own unit for a unit scope.
    pub async fn import_units(&self, scope: &Scope) -> StoreResult<Vec<UnitKey>> {
        rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT u.id, u.name, u.credit_code FROM units u WHERE 1 = 1",
            );
            match scope {
                Scope::Unit(u) => {
                    qb.push(" AND u.id = ").push_bind(u.0);
                }
                Scope::Subtree(_) | Scope::Everything => {}
                Scope::Member(_) | Scope::Oversight | Scope::Nothing => {
                    qb.push(" AND 1 = 0");
                }
            }
            qb.push(" ORDER BY u.id");
            Ok(qb.build_query_as().fetch_all(p).await?)
        })
    }

    /// Existing ID-card hashes among `hashes`.
    pub async fn existing_id_card_hashes(
        &self,
        hashes: &[String],
    ) -> StoreResult<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in hashes.chunks(CHUNK) {
            let found: Vec<(String,)> = rd!(self, |p| {
                let mut qb = crate::qb(
                    p,
                    "SELECT id_card_hash FROM members WHERE id_card_hash IN (",
                );
                let mut sep = qb.separated(", ");
                for h in chunk {
                    sep.push_bind(h.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            out.extend(found.into_iter().map(|r| r.0));
        }
        Ok(out)
    }

    /// Existing credit codes among `codes`.
    pub async fn existing_credit_codes(
        &self,
        codes: &[String],
    ) -> StoreResult<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in codes.chunks(CHUNK) {
            let found: Vec<(String,)> = rd!(self, |p| {
                let mut qb = crate::qb(p, "SELECT credit_code FROM units WHERE credit_code IN (");
                let mut sep = qb.separated(", ");
                for c in chunk {
                    sep.push_bind(c.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            out.extend(found.into_iter().map(|r| r.0));
        }
        Ok(out)
    }

    // ------------------------------------------------------------ import jobs

    /// Records a queued import job for the caller's scope.
    pub async fn create_import_job(
        &self,
        actor: &Actor,
        scope: &Scope,
        job: &NewImportJob,
    ) -> StoreResult<i64> {
        let (path, unit) = scope_cols(scope);
        let now = Timestamp::now().0;
        let id: i64 = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO imports (kind, file_name, status, total_rows, processed_rows, inserted, skipped, error_rows, report, \
                 valid_only, created_by, created_by_name, place_path, unit_id, created_at, finished_at) \
                 VALUES ($1, $2, 'queued', $3, 0, 0, 0, 0, NULL, $4, $5, $6, $7, $8, $9, NULL) RETURNING id",
            )
            .bind(&job.kind)
            .bind(&job.file_name)
            .bind(job.total_rows)
            .bind(job.valid_only)
            .bind(job.created_by.map(|a| a.0))
            .bind(&actor.name)
            .bind(&path)
            .bind(unit)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            audit_in_tx!(
                self,
                tx,
                actor,
                &AuditEntry::ok("import.upload", format!("import:{id}"))
                    .with_detail(format!("kind={} rows={}", job.kind, job.total_rows))
            );
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Progress of a running job (rows checked so far).
    pub async fn set_import_progress(&self, id: i64, processed: i64) -> StoreResult<()> {
        wr!(self, |p| {
            sqlx::query(
                "UPDATE imports SET status = 'running', processed_rows = $1 WHERE id = $2 AND status IN ('queued', 'running')",
            )
            .bind(processed)
            .bind(id)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// Final state of a job: counters and the row report.
    pub async fn finish_import_job(
        &self,
        actor: &Actor,
        id: i64,
        outcome: &ImportOutcome,
    ) -> StoreResult<()> {
        let now = Timestamp::now().0;
        let status = if outcome.failed { "failed" } else { "done" };
        wr!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE imports SET status = $1, processed_rows = total_rows, inserted = $2, skipped = $3, error_rows = $4, \
                 report = $5, finished_at = $6 WHERE id = $7",
            )
            .bind(status)
            .bind(outcome.inserted)
            .bind(outcome.skipped)
            .bind(outcome.error_rows)
            .bind(&outcome.report)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit_in_tx!(
                self,
                tx,
                actor,
                &AuditEntry::ok("import.finish", format!("import:{id}")).with_detail(format!(
                    "status={status} inserted={} skipped={} errors={}",
                    outcome.inserted, outcome.skipped, outcome.error_rows
                ))
            );
            tx.commit().await?;
        });
        Ok(())
    }

    /// One import job, visible to its uploader and to admins whose scope covers the uploader's.
    pub async fn get_import_job(
        &self,
        scope: &Scope,
        account: Option<AccountId>,
        id: i64,
    ) -> StoreResult<ImportJob> {
        let job: Option<ImportJob> = rd!(self, |p| {
            let mut qb = crate::qb(p, import_cols!());
            qb.push(" AND i.id = ").push_bind(id);
            import_visibility!(qb, scope, account);
            qb.build_query_as().fetch_optional(p).await?
        });
        job.ok_or(StoreError::NotFound)
    }

    /// Recent import jobs the caller may see, newest first.
    pub async fn list_import_jobs(
        &self,
        scope: &Scope,
        account: Option<AccountId>,
        limit: i64,
    ) -> StoreResult<Vec<ImportJob>> {
        rd!(self, |p| {
            let mut qb = crate::qb(p, import_cols!());
            import_visibility!(qb, scope, account);
            qb.push(" ORDER BY i.id DESC LIMIT ")
                .push_bind(limit.clamp(1, 200));
            Ok(qb.build_query_as().fetch_all(p).await?)
        })
    }

    // ------------------------------------------------------------ ledgers

    async fn ledger_within(
        &self,
        scope: &Scope,
        place_id: Option<i64>,
    ) -> StoreResult<Option<String>> {
        match place_id {
            Some(id) => Ok(Some(self.get_place(scope, PlaceId(id)).await?.path)),
            None => Ok(None),
        }
    }

    /// Members in scope (optionally within a place / of a unit) with their registration in the current round.
    /// With `reveal` the full numbers are decrypted and the export is audited as a full-value view.
    pub async fn member_ledger(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        reveal: Option<&Actor>,
    ) -> StoreResult<Vec<LedgerMember>> {
        let within = self.ledger_within(scope, f.place_id).await?;
        let round = self.current_round().await?.map(|r| r.id).unwrap_or(-1);
        let mut rows: Vec<LedgerMember> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT m.id, m.name, m.mobile_masked AS mobile, m.id_card_masked AS id_card, u.name AS unit_name, \
                 u.party_org_name, c.name AS community_name, g.name AS grid_name, m.separated_residence, \
                 r.status AS reg_status, rc.name AS reg_community, rg.name AS reg_grid, r.receipt_no, r.submitted_at, \
                 m.mobile_enc, m.id_card_enc \
                 FROM members m JOIN units u ON u.id = m.unit_id JOIN places c ON c.id = m.community_id \
                 LEFT JOIN places g ON g.id = m.grid_id \
                 LEFT JOIN registrations r ON r.member_id = m.id AND r.status IN ('submitted', 'carried', 'accepted') AND r.round_id = ",
            );
            qb.push_bind(round);
            qb.push(
                " LEFT JOIN places rc ON rc.id = r.community_id LEFT JOIN places rg ON rg.id = r.grid_id WHERE 1 = 1",
            );
            member_visible!(qb, scope);
            if let Some(path) = &within {
                let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                qb.push(" AND m.place_path >= ")
                    .push_bind(lo)
                    .push(" AND m.place_path < ")
                    .push_bind(hi);
            }
            if let Some(u) = f.unit_id {
                qb.push(" AND m.unit_id = ").push_bind(u);
            }
            qb.push(" ORDER BY c.name, m.id LIMIT ")
                .push_bind(LEDGER_MAX_ROWS);
            qb.build_query_as().fetch_all(p).await?
        });
        for r in &mut rows {
            let enc = std::mem::take(&mut r.mobile_enc);
            let id_enc = r.id_card_enc.take();
            if reveal.is_some() {
                r.mobile = self.vault.decrypt(&enc)?;
                r.id_card = id_enc.map(|e| self.vault.decrypt(&e)).transpose()?;
            }
        }
        if let Some(actor) = reveal {
            self.append_audit(
                actor,
                &AuditEntry::ok("export.members.reveal", "members")
                    .with_detail(format!("rows={} full personal numbers", rows.len())),
            )
            .await?;
        }
        Ok(rows)
    }

    /// Units in scope (the same rule as `get_unit`/`list_units`: located there, or the caller's own unit) with
    /// their registrations in the current round — one row per registration, or one row for a unit without any.
    /// Units that registered here but are located elsewhere are on the unit-registration pages, not in this ledger.
    pub async fn unit_ledger(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        reveal: Option<&Actor>,
    ) -> StoreResult<Vec<LedgerUnit>> {
        let within = self.ledger_within(scope, f.place_id).await?;
        let round = self.current_round().await?.map(|r| r.id).unwrap_or(-1);
        let mut rows: Vec<LedgerUnit> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT u.id, u.name, d.name AS kind_name, u.credit_code, pl.name AS place_name, u.party_org_name, \
                 u.party_org_level, u.contact_name, u.contact_phone_masked AS contact_phone, \
                 (SELECT COUNT(*) FROM members mm WHERE mm.unit_id = u.id) AS member_count, \
                 rp.name AS reg_place, ur.status AS reg_status, ur.submitted_at, u.contact_phone_enc \
                 FROM units u JOIN places pl ON pl.id = u.place_id \
                 LEFT JOIN dict_entries d ON d.kind = 'unit_kind' AND d.code = u.kind \
                 LEFT JOIN unit_registrations ur ON ur.unit_id = u.id AND ur.status <> 'withdrawn' AND ur.round_id = ",
            );
            qb.push_bind(round);
            qb.push(" LEFT JOIN places rp ON rp.id = ur.place_id WHERE 1 = 1");
            unit_visible!(qb, scope);
            if let Some(path) = &within {
                let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                qb.push(" AND (u.place_path >= ")
                    .push_bind(lo.clone())
                    .push(" AND u.place_path < ")
                    .push_bind(hi.clone())
                    .push(" OR ur.place_path >= ")
                    .push_bind(lo)
                    .push(" AND ur.place_path < ")
                    .push_bind(hi)
                    .push(")");
            }
            if let Some(u) = f.unit_id {
                qb.push(" AND u.id = ").push_bind(u);
            }
            qb.push(" ORDER BY u.name, u.id, ur.id LIMIT ")
                .push_bind(LEDGER_MAX_ROWS);
            qb.build_query_as().fetch_all(p).await?
        });
        for r in &mut rows {
            let enc = r.contact_phone_enc.take();
            if reveal.is_some() {
                r.contact_phone = enc.map(|e| self.vault.decrypt(&e)).transpose()?;
            }
        }
        if let Some(actor) = reveal {
            self.append_audit(
                actor,
                &AuditEntry::ok("export.units.reveal", "units")
                    .with_detail(format!("rows={} full contact phones", rows.len())),
            )
            .await?;
        }
        Ok(rows)
    }
}
