//! Bulk writes for imports and the district-scale demo: many rows in one transaction, many rows per statement.
//! All-or-nothing: an error rolls the whole batch back. Rows whose unique key already exists are skipped, so
//! running the same batch twice changes nothing.

use shanzhi_domain::org::{ValidMember, ValidUnit};
use shanzhi_domain::{Timestamp, mask};

use crate::audit::{Actor, AuditEntry};
use crate::imports::ImportFinish;
use crate::{Store, StoreResult};

/// Writes an import's final counters and row report inside a transaction, with its audit row.
macro_rules! import_finish_in_tx {
    ($store:expr, $tx:expr, $actor:expr, $id:expr, $outcome:expr, $now:expr) => {{
        let outcome: &$crate::imports::ImportOutcome = $outcome;
        let id: i64 = $id;
        let status = if outcome.failed { "failed" } else { "done" };
        sqlx::query(
            "UPDATE imports SET status = $1, processed_rows = total_rows, inserted = $2, skipped = $3, error_rows = $4, \
             report = $5, finished_at = $6 WHERE id = $7",
        )
        .bind(status)
        .bind(outcome.inserted)
        .bind(outcome.skipped)
        .bind(outcome.error_rows)
        .bind(&outcome.report)
        .bind($now)
        .bind(id)
        .execute(&mut *$tx)
        .await?;
        audit_in_tx!(
            $store,
            $tx,
            $actor,
            &$crate::audit::AuditEntry::ok("import.finish", format!("import:{id}")).with_detail(format!(
                "status={status} inserted={} skipped={} errors={}",
                outcome.inserted, outcome.skipped, outcome.error_rows
            ))
        );
    }};
}

/// Inside the write transaction: the import's outcome and its job's end, when the rows come from an import job.
macro_rules! finish_with_rows {
    ($store:expr, $tx:expr, $actor:expr, $finish:expr, $inserted:expr, $now:expr) => {{
        if let Some(f) = $finish {
            let outcome = (f.outcome)($inserted);
            import_finish_in_tx!($store, $tx, $actor, f.import_id, &outcome, $now);
            if let Some(lease) = f.lease {
                job_end_in_tx!($tx, lease, "done", None, $now);
            }
        }
    }};
}

/// A member row with its residence community resolved.
pub struct BulkMember<'a> {
    pub member: &'a ValidMember,
    pub community_path: &'a str,
}

/// A unit row with its place resolved.
pub struct BulkUnit<'a> {
    pub unit: &'a ValidUnit,
    pub place_path: &'a str,
}

/// An owned member row, for a streamed write ([`Store::bulk_insert_members_stream`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MemberRow {
    pub member: ValidMember,
    pub community_path: String,
    /// The home unit was named by someone other than its admin or the district: the member waits for the unit's
    /// confirmation (`shanzhi_domain::roster::roster_write`).
    #[serde(default)]
    pub unit_pending: bool,
}

/// An owned unit row, for a streamed write ([`Store::bulk_insert_units_stream`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UnitRow {
    pub unit: ValidUnit,
    pub place_path: String,
}

/// Where a streamed write pulls its rows from, one bounded batch at a time, inside its transaction.
pub trait RowBatches<T>: Send {
    /// The next batch; `Ok(None)` once every row was given. An error rolls the whole write back.
    fn next_batch(&mut self) -> impl Future<Output = StoreResult<Option<Vec<T>>>> + Send;
}

const CHUNK: usize = 400;

struct EncMember {
    name: String,
    mobile_enc: String,
    mobile_hash: String,
    mobile_masked: String,
    id_enc: Option<String>,
    id_hash: Option<String>,
    id_masked: Option<String>,
    unit_id: i64,
    community_id: i64,
    path: String,
    separated: bool,
    skills: Vec<String>,
    unit_pending: bool,
}

struct EncUnit {
    unit: ValidUnit,
    place_path: String,
    phone_enc: Option<String>,
    phone_masked: Option<String>,
}

/// Inserts one chunk of encrypted members (and their skills) in the open transaction; evaluates to the number
/// of new members. Adds the new members to `$figures` (a [`crate::stats::Figures`]).
macro_rules! insert_members_chunk {
    ($p:ident, $tx:ident, $chunk:expr, $now:expr, $proposer:expr, $figures:ident) => {{
        let chunk_enc: &[EncMember] = $chunk;
        let proposer: &str = $proposer;
        let mut qb = crate::qb(
            $p,
            "INSERT INTO members (name, mobile_enc, mobile_hash, mobile_masked, id_card_enc, id_card_hash, id_card_masked, unit_id, \
             community_id, place_path, separated_residence, card_public, unit_confirmed, unit_proposed_by, unit_proposed_at, \
             created_at, updated_at) ",
        );
        qb.push_values(chunk_enc.iter(), |mut b, e| {
            b.push_bind(e.name.clone())
                .push_bind(e.mobile_enc.clone())
                .push_bind(e.mobile_hash.clone())
                .push_bind(e.mobile_masked.clone())
                .push_bind(e.id_enc.clone())
                .push_bind(e.id_hash.clone())
                .push_bind(e.id_masked.clone())
                .push_bind(e.unit_id)
                .push_bind(e.community_id)
                .push_bind(e.path.clone())
                .push_bind(e.separated)
                .push_bind(true)
                .push_bind(!e.unit_pending)
                .push_bind(e.unit_pending.then(|| proposer.to_string()))
                .push_bind(e.unit_pending.then_some($now))
                .push_bind($now)
                .push_bind($now);
        });
        qb.push(" ON CONFLICT DO NOTHING RETURNING place_path");
        let paths: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
        let inserted = paths.len();
        let mut added = $crate::stats::Figures::default();
        for (path,) in &paths {
            added.members_at(path, 1);
        }
        $figures.add(added);
        // Skills: resolve ids of this chunk by mobile hash.
        if chunk_enc.iter().any(|e| !e.skills.is_empty()) {
            let mut ids = crate::qb($p, "SELECT id, mobile_hash FROM members WHERE mobile_hash IN (");
            let mut sep = ids.separated(", ");
            for e in chunk_enc {
                sep.push_bind(e.mobile_hash.clone());
            }
            ids.push(")");
            let found: Vec<(i64, String)> = ids.build_query_as().fetch_all(&mut *$tx).await?;
            let map: std::collections::HashMap<&str, i64> =
                found.iter().map(|(id, h)| (h.as_str(), *id)).collect();
            let pairs: Vec<(i64, &str)> = chunk_enc
                .iter()
                .filter_map(|e| map.get(e.mobile_hash.as_str()).map(|id| (*id, e)))
                .flat_map(|(id, e)| e.skills.iter().map(move |s| (id, s.as_str())))
                .collect();
            for pc in pairs.chunks(CHUNK) {
                let mut qb = crate::qb($p, "INSERT INTO member_skills (member_id, skill) ");
                qb.push_values(pc.iter(), |mut b, (id, s)| {
                    b.push_bind(*id).push_bind(s.to_string());
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *$tx).await?;
            }
        }
        inserted
    }};
}

/// Inserts one chunk of units in the open transaction; evaluates to the number of new units. Adds them to
/// `$figures`.
macro_rules! insert_units_chunk {
    ($p:ident, $tx:ident, $chunk:expr, $now:expr, $figures:ident) => {{
        let chunk: &[EncUnit] = $chunk;
        let mut qb = crate::qb(
            $p,
            "INSERT INTO units (name, kind, credit_code, place_id, place_path, party_org_name, party_org_level, contact_name, \
             contact_phone_enc, contact_phone_masked, created_at, updated_at) ",
        );
        qb.push_values(chunk.iter(), |mut b, e| {
            let u = &e.unit;
            b.push_bind(u.name.clone())
                .push_bind(u.kind.clone())
                .push_bind(u.credit_code.clone())
                .push_bind(u.place_id.0)
                .push_bind(e.place_path.clone())
                .push_bind(u.party_org_name.clone())
                .push_bind(u.party_org_level.as_str())
                .push_bind(u.contact_name.clone())
                .push_bind(e.phone_enc.clone())
                .push_bind(e.phone_masked.clone())
                .push_bind($now)
                .push_bind($now);
        });
        qb.push(" ON CONFLICT DO NOTHING RETURNING place_path");
        let paths: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
        let mut added = $crate::stats::Figures::default();
        for (path,) in &paths {
            added.units_at(path, 1);
        }
        $figures.add(added);
        paths.len()
    }};
}

impl Store {
    fn enc_member(
        &self,
        m: &ValidMember,
        community_path: &str,
        unit_pending: bool,
    ) -> StoreResult<EncMember> {
        Ok(EncMember {
            name: m.name.clone(),
            mobile_enc: self.vault.encrypt(&m.mobile)?,
            mobile_hash: self.vault.search_hash(&m.mobile),
            mobile_masked: mask::mobile(&m.mobile),
            id_enc: m
                .id_card
                .as_deref()
                .map(|i| self.vault.encrypt(i))
                .transpose()?,
            id_hash: m.id_card.as_deref().map(|i| self.vault.search_hash(i)),
            id_masked: m.id_card.as_deref().map(mask::id_card),
            unit_id: m.unit_id.0,
            community_id: m.community_id.0,
            path: community_path.to_string(),
            separated: m.separated_residence,
            skills: m.skills.clone(),
            unit_pending,
        })
    }

    fn enc_unit(&self, unit: ValidUnit, place_path: String) -> StoreResult<EncUnit> {
        let phone_enc = unit
            .contact_phone
            .as_deref()
            .map(|m| self.vault.encrypt(m))
            .transpose()?;
        let phone_masked = unit.contact_phone.as_deref().map(mask::mobile);
        Ok(EncUnit {
            unit,
            place_path,
            phone_enc,
            phone_masked,
        })
    }

    /// Inserts members (skipping mobiles already registered); returns how many were new.
    pub async fn bulk_insert_members(
        &self,
        actor: &Actor,
        action: &str,
        rows: &[BulkMember<'_>],
    ) -> StoreResult<usize> {
        self.bulk_insert_members_for(actor, action, rows, None)
            .await
    }

    /// [`Self::bulk_insert_members`] for an import: with `finish`, the import's counters and report and its job's
    /// end are written in the same transaction as the rows (never rows without the status, nor the reverse).
    pub async fn bulk_insert_members_for(
        &self,
        actor: &Actor,
        action: &str,
        rows: &[BulkMember<'_>],
        finish: Option<&ImportFinish<'_>>,
    ) -> StoreResult<usize> {
        let enc = rows
            .iter()
            .map(|r| self.enc_member(r.member, r.community_path, false))
            .collect::<StoreResult<Vec<_>>>()?;
        let now = Timestamp::now().0;
        let proposer = actor.place_or_name();
        let inserted: usize = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let mut figures = crate::stats::Figures::default();
            let mut inserted = 0usize;
            for chunk in enc.chunks(CHUNK) {
                inserted += insert_members_chunk!(p, tx, chunk, now, &proposer, figures);
            }
            stats_in_tx!(tx, figures);
            audit_in_tx!(
                self,
                tx,
                actor,
                &AuditEntry::ok(action, "members")
                    .with_detail(format!("rows={} inserted={inserted}", rows.len()))
            );
            finish_with_rows!(self, tx, actor, finish, inserted, now);
            tx.commit().await?;
            inserted
        });
        Ok(inserted)
    }

    /// [`Self::bulk_insert_members_for`] with the rows pulled batch by batch from `rows` while the transaction is
    /// open, so only one batch is in memory at a time. All-or-nothing like the slice form: an error from the
    /// source or the database rolls every batch back. Returns (rows given, rows new).
    pub async fn bulk_insert_members_stream(
        &self,
        actor: &Actor,
        action: &str,
        rows: &mut impl RowBatches<MemberRow>,
        finish: Option<&ImportFinish<'_>>,
    ) -> StoreResult<(usize, usize)> {
        let now = Timestamp::now().0;
        let proposer = actor.place_or_name();
        let counts: (usize, usize) = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let mut figures = crate::stats::Figures::default();
            let (mut given, mut inserted) = (0usize, 0usize);
            while let Some(batch) = rows.next_batch().await? {
                given += batch.len();
                let enc = batch
                    .iter()
                    .map(|r| self.enc_member(&r.member, &r.community_path, r.unit_pending))
                    .collect::<StoreResult<Vec<_>>>()?;
                drop(batch);
                for chunk in enc.chunks(CHUNK) {
                    inserted += insert_members_chunk!(p, tx, chunk, now, &proposer, figures);
                }
            }
            stats_in_tx!(tx, figures);
            audit_in_tx!(
                self,
                tx,
                actor,
                &AuditEntry::ok(action, "members")
                    .with_detail(format!("rows={given} inserted={inserted}"))
            );
            finish_with_rows!(self, tx, actor, finish, inserted, now);
            tx.commit().await?;
            (given, inserted)
        });
        Ok(counts)
    }

    /// Inserts units (skipping credit codes already registered); returns how many were new.
    pub async fn bulk_insert_units(
        &self,
        actor: &Actor,
        action: &str,
        rows: &[BulkUnit<'_>],
    ) -> StoreResult<usize> {
        self.bulk_insert_units_for(actor, action, rows, None).await
    }

    /// [`Self::bulk_insert_units`] for an import (see [`Self::bulk_insert_members_for`]).
    pub async fn bulk_insert_units_for(
        &self,
        actor: &Actor,
        action: &str,
        rows: &[BulkUnit<'_>],
        finish: Option<&ImportFinish<'_>>,
    ) -> StoreResult<usize> {
        let enc = rows
            .iter()
            .map(|r| self.enc_unit(r.unit.clone(), r.place_path.to_string()))
            .collect::<StoreResult<Vec<_>>>()?;
        let now = Timestamp::now().0;
        let inserted: usize = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let mut figures = crate::stats::Figures::default();
            let mut inserted = 0usize;
            for chunk in enc.chunks(CHUNK) {
                inserted += insert_units_chunk!(p, tx, chunk, now, figures);
            }
            stats_in_tx!(tx, figures);
            audit_in_tx!(
                self,
                tx,
                actor,
                &AuditEntry::ok(action, "units")
                    .with_detail(format!("rows={} inserted={inserted}", rows.len()))
            );
            finish_with_rows!(self, tx, actor, finish, inserted, now);
            tx.commit().await?;
            inserted
        });
        Ok(inserted)
    }

    /// [`Self::bulk_insert_units_for`] with the rows pulled batch by batch (see
    /// [`Self::bulk_insert_members_stream`]). Returns (rows given, rows new).
    pub async fn bulk_insert_units_stream(
        &self,
        actor: &Actor,
        action: &str,
        rows: &mut impl RowBatches<UnitRow>,
        finish: Option<&ImportFinish<'_>>,
    ) -> StoreResult<(usize, usize)> {
        let now = Timestamp::now().0;
        let counts: (usize, usize) = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let mut figures = crate::stats::Figures::default();
            let (mut given, mut inserted) = (0usize, 0usize);
            while let Some(batch) = rows.next_batch().await? {
                given += batch.len();
                let enc = batch
                    .into_iter()
                    .map(|r| self.enc_unit(r.unit, r.place_path))
                    .collect::<StoreResult<Vec<_>>>()?;
                for chunk in enc.chunks(CHUNK) {
                    inserted += insert_units_chunk!(p, tx, chunk, now, figures);
                }
            }
            stats_in_tx!(tx, figures);
            audit_in_tx!(
                self,
                tx,
                actor,
                &AuditEntry::ok(action, "units")
                    .with_detail(format!("rows={given} inserted={inserted}"))
            );
            finish_with_rows!(self, tx, actor, finish, inserted, now);
            tx.commit().await?;
            (given, inserted)
        });
        Ok(counts)
    }

    /// Existing mobile hashes among `hashes` (for import duplicate checks).
    pub async fn existing_member_hashes(
        &self,
        hashes: &[String],
    ) -> StoreResult<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in hashes.chunks(CHUNK) {
            let found: Vec<(String,)> = rd!(self, |p| {
                let mut qb = crate::qb(p, "SELECT mobile_hash FROM members WHERE mobile_hash IN (");
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
}
