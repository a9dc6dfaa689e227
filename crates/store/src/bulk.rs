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
}

impl Store {
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
        let mut enc = Vec::with_capacity(rows.len());
        for r in rows {
            let m = r.member;
            enc.push(EncMember {
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
                path: r.community_path.to_string(),
                separated: m.separated_residence,
            });
        }
        let now = Timestamp::now().0;
        let inserted: usize = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let mut inserted = 0usize;
            for (chunk_rows, chunk_enc) in rows.chunks(CHUNK).zip(enc.chunks(CHUNK)) {
                let mut qb = crate::qb(
                    p,
                    "INSERT INTO members (name, mobile_enc, mobile_hash, mobile_masked, id_card_enc, id_card_hash, id_card_masked, unit_id, \
                     community_id, place_path, separated_residence, card_public, created_at, updated_at) ",
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
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                let done = qb.build().execute(&mut *tx).await?;
                inserted += usize::try_from(done.rows_affected()).unwrap_or(0);
                // Skills: resolve ids of this chunk by mobile hash.
                if chunk_rows.iter().any(|r| !r.member.skills.is_empty()) {
                    let mut ids = crate::qb(
                        p,
                        "SELECT id, mobile_hash FROM members WHERE mobile_hash IN (",
                    );
                    let mut sep = ids.separated(", ");
                    for e in chunk_enc {
                        sep.push_bind(e.mobile_hash.clone());
                    }
                    ids.push(")");
                    let found: Vec<(i64, String)> =
                        ids.build_query_as().fetch_all(&mut *tx).await?;
                    let map: std::collections::HashMap<&str, i64> =
                        found.iter().map(|(id, h)| (h.as_str(), *id)).collect();
                    let pairs: Vec<(i64, &str)> = chunk_rows
                        .iter()
                        .zip(chunk_enc)
                        .filter_map(|(r, e)| map.get(e.mobile_hash.as_str()).map(|id| (*id, r)))
                        .flat_map(|(id, r)| r.member.skills.iter().map(move |s| (id, s.as_str())))
                        .collect();
                    for pc in pairs.chunks(CHUNK) {
                        let mut qb = crate::qb(p, "INSERT INTO member_skills (member_id, skill) ");
                        qb.push_values(pc.iter(), |mut b, (id, s)| {
                            b.push_bind(*id).push_bind(s.to_string());
                        });
                        qb.push(" ON CONFLICT DO NOTHING");
                        qb.build().execute(&mut *tx).await?;
                    }
                }
            }
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
        let mut phones = Vec::with_capacity(rows.len());
        for r in rows {
            let enc = r
                .unit
                .contact_phone
                .as_deref()
                .map(|m| self.vault.encrypt(m))
                .transpose()?;
            phones.push((enc, r.unit.contact_phone.as_deref().map(mask::mobile)));
        }
        let now = Timestamp::now().0;
        let inserted: usize = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let mut inserted = 0usize;
            for (chunk, ph) in rows.chunks(CHUNK).zip(phones.chunks(CHUNK)) {
                let mut qb = crate::qb(
                    p,
                    "INSERT INTO units (name, kind, credit_code, place_id, place_path, party_org_name, party_org_level, contact_name, \
                     contact_phone_enc, contact_phone_masked, created_at, updated_at) ",
                );
                qb.push_values(chunk.iter().zip(ph), |mut b, (r, (enc, masked))| {
                    let u = r.unit;
                    b.push_bind(u.name.clone())
                        .push_bind(u.kind.clone())
                        .push_bind(u.credit_code.clone())
                        .push_bind(u.place_id.0)
                        .push_bind(r.place_path.to_string())
                        .push_bind(u.party_org_name.clone())
                        .push_bind(u.party_org_level.as_str())
                        .push_bind(u.contact_name.clone())
                        .push_bind(enc.clone())
                        .push_bind(masked.clone())
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                inserted += usize::try_from(qb.build().execute(&mut *tx).await?.rows_affected())
                    .unwrap_or(0);
            }
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
