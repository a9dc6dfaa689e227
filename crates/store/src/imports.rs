//! Support for bulk imports and ledgers (台账): name lookups resolved in bulk, duplicate checks by keyed hash or
//! credit code, the `imports` job table (progress and row report of a background import), and the rows of the
//! member and unit ledgers for the current round. Personal numbers in a ledger are masked unless the caller asks
//! for the full values, which decrypts them and appends one audit row for the export.

use serde::Serialize;
use shanzhi_domain::role::Scope;
use shanzhi_domain::{AccountId, PlaceId, Timestamp};

use shanzhi_domain::jobs::{self as jobs_rules, JobStatus};

use crate::audit::{Actor, AuditEntry};
use crate::jobs::{DEFAULT_MAX_ATTEMPTS, JobLease, NewJob, scope_cols};
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

/// One import: what was uploaded, its counters and row report. Its execution is the linked job (`job_id`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: i64,
    /// members | units
    pub kind: String,
    pub file_name: String,
    /// queued | running | done | failed (the import's outcome; `failed` also when its job gave up)
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
    /// The background job running this import.
    pub job_id: Option<i64>,
    /// The job's state: queued | running | interrupted | done | failed.
    pub job_status: Option<String>,
    #[serde(skip)]
    pub job_lease_until: Option<i64>,
    /// Attempts made so far, and allowed.
    pub attempts: Option<i64>,
    pub max_attempts: Option<i64>,
    /// Short reason of the job's last failure or interruption.
    pub job_error: Option<String>,
}

impl ImportJob {
    /// The job's state as shown (a running job whose lease ran out is interrupted).
    pub fn job_state(&self) -> Option<JobStatus> {
        let stored = JobStatus::parse(self.job_status.as_deref()?)?;
        Some(jobs_rules::effective_status(
            stored,
            self.job_lease_until,
            Timestamp::now().0,
        ))
    }
    fn fill(mut self) -> Self {
        self.job_status = self.job_state().map(|s| s.as_str().to_string());
        self
    }
    /// Ended (written, refused, or given up).
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed")
    }
    /// Cut off (its worker stopped); it will be retried, or fail once its attempts are used up.
    pub fn is_interrupted(&self) -> bool {
        !self.is_finished() && self.job_state() == Some(JobStatus::Interrupted)
    }
    /// The job gave up (attempts used up) before the import could record an outcome.
    pub fn job_gave_up(&self) -> bool {
        self.status == "failed"
            && self.report.is_none()
            && self.job_state() == Some(JobStatus::Failed)
    }
    /// Why the import has no outcome when its job gave up: interrupted too often, or failing.
    pub fn gave_up_code(&self) -> Option<shanzhi_domain::Code> {
        self.job_gave_up().then(|| {
            if self
                .job_error
                .as_deref()
                .is_some_and(|e| e.starts_with("已中断"))
            {
                shanzhi_domain::Code::JobInterrupted
            } else {
                shanzhi_domain::Code::JobFailed
            }
        })
    }
    pub fn status_label(&self) -> &'static str {
        if self.is_interrupted() {
            return "已中断";
        }
        if !self.is_finished() && self.job_state() == Some(JobStatus::Queued) {
            return "排队中";
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
    /// The uploader's scope as recorded (the scope the import runs with).
    pub fn scope(&self) -> Scope {
        match (self.unit_id, self.place_path.as_str()) {
            (Some(u), _) => Scope::Unit(shanzhi_domain::UnitId(u)),
            (None, "/") => Scope::Everything,
            (None, "") => Scope::Nothing,
            (None, p) => Scope::Subtree(p.to_string()),
        }
    }
}

macro_rules! import_cols {
    () => {
        "SELECT i.id, i.kind, i.file_name, \
         CASE WHEN i.status IN ('queued', 'running') AND j.status = 'failed' THEN 'failed' ELSE i.status END AS status, \
         i.total_rows, i.processed_rows, i.inserted, i.skipped, i.error_rows, i.report, i.valid_only, \
         i.created_by, i.created_by_name, i.place_path, i.unit_id, i.created_at, COALESCE(i.finished_at, j.finished_at) AS finished_at, \
         i.job_id, j.status AS job_status, j.lease_until AS job_lease_until, j.attempts, j.max_attempts, j.last_error AS job_error \
         FROM imports i LEFT JOIN jobs j ON j.id = i.job_id WHERE 1 = 1"
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

/// The job an import runs under: its counters and status are written in the transaction that writes its rows.
pub struct ImportFinish<'a> {
    pub import_id: i64,
    /// The attempt's fencing token; `None` outside the runner.
    pub lease: Option<JobLease>,
    /// Builds the outcome from the number of rows actually inserted.
    pub outcome: &'a (dyn Fn(usize) -> ImportOutcome + Send + Sync),
}

/// The part of an [`Actor`] kept with an import job, to run it later as its uploader.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct JobActor {
    pub account_id: Option<i64>,
    pub name: String,
    pub role: Option<String>,
    pub place: Option<String>,
    pub client_addr: Option<String>,
}

impl JobActor {
    pub fn of(a: &Actor) -> Self {
        JobActor {
            account_id: a.account_id.map(|x| x.0),
            name: a.name.clone(),
            role: a.role.map(|r| r.as_str().to_string()),
            place: a.place.clone(),
            client_addr: a.client_addr.clone(),
        }
    }
    pub fn actor(&self) -> Actor {
        Actor {
            account_id: self.account_id.map(AccountId),
            name: self.name.clone(),
            role: self
                .role
                .as_deref()
                .and_then(shanzhi_domain::role::Role::parse),
            place: self.place.clone(),
            client_addr: self.client_addr.clone(),
        }
    }
}

/// Size of one stored chunk of an uploaded file.
const FILE_CHUNK: usize = 1024 * 1024;

async fn read_full(f: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt;
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..]).await?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
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
#[into_params(parameter_in = Query)]
pub struct LedgerFilter {
    /// This place and below (must be in scope).
    pub place_id: Option<i64>,
    /// Members of this unit (member ledger) / this unit (unit ledger).
    pub unit_id: Option<i64>,
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

    /// Records an import and its queued job in one transaction: the import row, the job, the uploaded file (read
    /// from `file` in chunks, encrypted with the vault) and the audit row. Returns the import id.
    pub async fn create_import_job(
        &self,
        actor: &Actor,
        scope: &Scope,
        job: &NewImportJob,
        file: &std::path::Path,
    ) -> StoreResult<i64> {
        use base64::Engine;
        let (path, unit) = scope_cols(scope);
        let now = Timestamp::now().0;
        let new_job = NewJob {
            kind: format!("import_{}", job.kind),
            payload: serde_json::to_string(&JobActor::of(actor))
                .map_err(|e| StoreError::Other(e.to_string()))?,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        };
        let io = |e: std::io::Error| StoreError::Other(format!("upload file: {e}"));
        let mut f = tokio::fs::File::open(file).await.map_err(io)?;
        let mut buf = vec![0u8; FILE_CHUNK];
        let id: i64 = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let job_id = job_insert_in_tx!(tx, &new_job, actor, scope, now);
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO imports (kind, file_name, status, total_rows, processed_rows, inserted, skipped, error_rows, report, \
                 valid_only, created_by, created_by_name, place_path, unit_id, created_at, finished_at, job_id) \
                 VALUES ($1, $2, 'queued', $3, 0, 0, 0, 0, NULL, $4, $5, $6, $7, $8, $9, NULL, $10) RETURNING id",
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
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await?;
            let mut seq = 0i64;
            loop {
                let n = read_full(&mut f, &mut buf).await.map_err(io)?;
                if n == 0 {
                    break;
                }
                let b64 = base64::engine::general_purpose::STANDARD.encode(&buf[..n]);
                let enc = self.vault.encrypt(&b64)?;
                drop(b64);
                sqlx::query("INSERT INTO job_files (job_id, seq, data) VALUES ($1, $2, $3)")
                    .bind(job_id)
                    .bind(seq)
                    .bind(enc)
                    .execute(&mut *tx)
                    .await?;
                seq += 1;
            }
            audit_in_tx!(
                self,
                tx,
                actor,
                &AuditEntry::ok("import.upload", format!("import:{id}")).with_detail(format!(
                    "kind={} rows={} job={job_id}",
                    job.kind, job.total_rows
                ))
            );
            tx.commit().await?;
            id
        });
        self.wake_job_runners();
        Ok(id)
    }

    /// The import a job runs (for the worker; no scope check).
    pub async fn import_for_job(&self, job_id: i64) -> StoreResult<ImportJob> {
        let job: Option<ImportJob> = rd!(self, |p| {
            let mut qb = crate::qb(p, import_cols!());
            qb.push(" AND i.job_id = ").push_bind(job_id);
            qb.build_query_as().fetch_optional(p).await?
        });
        job.map(ImportJob::fill).ok_or(StoreError::NotFound)
    }

    /// Writes the uploaded file of a job, decrypted, to `out` one stored chunk at a time (the whole file is never in
    /// memory). Returns the number of bytes written.
    pub async fn write_job_file(
        &self,
        job_id: i64,
        out: &mut (impl tokio::io::AsyncWrite + Unpin + Send),
    ) -> StoreResult<u64> {
        use base64::Engine;
        use tokio::io::AsyncWriteExt;
        let seqs: Vec<(i64,)> = rd!(self, |p| sqlx::query_as(
            "SELECT seq FROM job_files WHERE job_id = $1 ORDER BY seq"
        )
        .bind(job_id)
        .fetch_all(p)
        .await?);
        if seqs.is_empty() {
            return Err(StoreError::NotFound);
        }
        let io = |e: std::io::Error| StoreError::Other(format!("job file: {e}"));
        let mut written = 0u64;
        for (seq,) in seqs {
            let (enc,): (String,) = rd!(self, |p| sqlx::query_as(
                "SELECT data FROM job_files WHERE job_id = $1 AND seq = $2"
            )
            .bind(job_id)
            .bind(seq)
            .fetch_one(p)
            .await?);
            let b64 = self.vault.decrypt(&enc)?;
            drop(enc);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| StoreError::Other(format!("job file: {e}")))?;
            drop(b64);
            out.write_all(&bytes).await.map_err(io)?;
            written += bytes.len() as u64;
        }
        out.flush().await.map_err(io)?;
        Ok(written)
    }

    /// The uploaded file of a job, decrypted, in memory (tests and small files; the worker uses
    /// [`Self::write_job_file`]).
    pub async fn job_file(&self, job_id: i64) -> StoreResult<Vec<u8>> {
        let mut out = Vec::new();
        self.write_job_file(job_id, &mut out).await?;
        Ok(out)
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

    /// Final state of an import that wrote no rows (refused, nothing new, or stopped by an error): counters, row
    /// report and — under the runner — the job's end (`done`, or `failed` when `job_failed`), in one transaction.
    pub async fn finish_import_job(
        &self,
        actor: &Actor,
        id: i64,
        outcome: &ImportOutcome,
        lease: Option<JobLease>,
        job_failed: bool,
    ) -> StoreResult<()> {
        let now = Timestamp::now().0;
        wr!(self, |p| {
            let mut tx = p.begin().await?;
            import_finish_in_tx!(self, tx, actor, id, outcome, now);
            if let Some(lease) = lease {
                let (status, error) = if job_failed {
                    ("failed", Some("导入未能执行(文件或数据错误,不再重试)"))
                } else {
                    ("done", None)
                };
                job_end_in_tx!(tx, lease, status, error, now);
            }
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
        job.map(ImportJob::fill).ok_or(StoreError::NotFound)
    }

    /// Recent import jobs the caller may see, newest first.
    pub async fn list_import_jobs(
        &self,
        scope: &Scope,
        account: Option<AccountId>,
        limit: i64,
    ) -> StoreResult<Vec<ImportJob>> {
        let rows: Vec<ImportJob> = rd!(self, |p| {
            let mut qb = crate::qb(p, import_cols!());
            import_visibility!(qb, scope, account);
            qb.push(" ORDER BY i.id DESC LIMIT ")
                .push_bind(limit.clamp(1, 200));
            qb.build_query_as().fetch_all(p).await?
        });
        Ok(rows.into_iter().map(ImportJob::fill).collect())
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
            // A unit's own ledger is its roster: only the members who count for it.
            if matches!(scope, Scope::Unit(_)) {
                qb.push(concat!(" AND ", member_counts_for_unit!("m")));
            }
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
                concat!(
                    "SELECT u.id, u.name, d.name AS kind_name, u.credit_code, pl.name AS place_name, u.party_org_name, \
                 u.party_org_level, u.contact_name, u.contact_phone_masked AS contact_phone, \
                 (SELECT COUNT(*) FROM members mm WHERE mm.unit_id = u.id AND ",
                    member_counts_for_unit!("mm"),
                    ") AS member_count, \
                 rp.name AS reg_place, ur.status AS reg_status, ur.submitted_at, u.contact_phone_enc \
                 FROM units u JOIN places pl ON pl.id = u.place_id \
                 LEFT JOIN dict_entries d ON d.kind = 'unit_kind' AND d.code = u.kind \
                 LEFT JOIN unit_registrations ur ON ur.unit_id = u.id AND ur.status <> 'withdrawn' AND ur.round_id = ",
                ),
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
