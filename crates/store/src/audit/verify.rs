//! Verification: the chain walk (each row's hash, each link, gaps in `seal_seq`) and the checkpoints (signature,
//! the chain's hash at each checkpoint, the chain reaching the newest checkpoint, checkpoints missing from the
//! database when compared with an exported file). Every problem is named.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use shanzhi_domain::Timestamp;
use shanzhi_secure::signing::AuditPublicKey;

use super::{AuditRow, Checkpoint, ExportedCheckpoint, GENESIS};
use crate::{Store, StoreError, StoreResult};

/// Unsealed rows older than this mean the sealer is not running.
pub const STALE_AFTER_MS: i64 = 60_000;
/// Per-row problems listed before the rest are only counted.
const MAX_LISTED: usize = 100;

/// One finding of `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblem {
    /// A sealed row's fields no longer match its hash.
    RowEdited { id: i64, seal_seq: i64 },
    /// A row's `prev_hash` is not the previous row's hash (and no rows are missing between them).
    LinkBroken { id: i64, seal_seq: i64 },
    /// Sealed rows are missing inside the chain.
    RowsDeleted { from: i64, to: i64, before_id: i64 },
    /// The chain ends before the newest checkpoint: its newest rows were deleted.
    NewestRowsDeleted {
        count: i64,
        from: i64,
        to: i64,
        checkpoint: i64,
        /// The newest checkpoint that still matches the chain.
        intact: Option<i64>,
    },
    /// No sealed row is left although a checkpoint covers `count` rows.
    AllRowsDeleted { count: i64, checkpoint: i64 },
    /// The chain's hash at a checkpoint is not the signed head: a row was changed and the hashes after it
    /// recomputed. The change lies in `from..=seal_seq`.
    ChainRewritten {
        checkpoint: i64,
        seal_seq: i64,
        from: i64,
        /// Later checkpoints that disagree too.
        later: usize,
    },
    /// A checkpoint's signature is not valid for the signing key (forged or altered).
    CheckpointForged { checkpoint: i64 },
    /// Checkpoints missing from the database (a gap in their numbers, or present in the exported file only).
    CheckpointsDeleted { from: i64, to: i64 },
    /// A checkpoint differs from the exported copy.
    CheckpointAltered { checkpoint: i64 },
    /// A line of the exported file does not verify with its own public key.
    ExportedCheckpointInvalid { checkpoint: i64 },
    /// The exported file was signed by another key than the one in the data directory.
    SigningKeyChanged { exported: String, local: String },
    /// Sealed rows no checkpoint covers (sealing writes both at once, so checkpoints were deleted).
    UncheckpointedRows { count: i64, from: i64, to: i64 },
    /// Unsealed rows older than a minute.
    SealerNotRunning { count: i64, oldest_id: i64 },
}

impl AuditProblem {
    /// A stable snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            AuditProblem::RowEdited { .. } => "row_edited",
            AuditProblem::LinkBroken { .. } => "link_broken",
            AuditProblem::RowsDeleted { .. } => "rows_deleted",
            AuditProblem::NewestRowsDeleted { .. } => "newest_rows_deleted",
            AuditProblem::AllRowsDeleted { .. } => "all_rows_deleted",
            AuditProblem::ChainRewritten { .. } => "chain_rewritten",
            AuditProblem::CheckpointForged { .. } => "checkpoint_forged",
            AuditProblem::CheckpointsDeleted { .. } => "checkpoints_deleted",
            AuditProblem::CheckpointAltered { .. } => "checkpoint_altered",
            AuditProblem::ExportedCheckpointInvalid { .. } => "exported_checkpoint_invalid",
            AuditProblem::SigningKeyChanged { .. } => "signing_key_changed",
            AuditProblem::UncheckpointedRows { .. } => "uncheckpointed_rows",
            AuditProblem::SealerNotRunning { .. } => "sealer_not_running",
        }
    }
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] ", self.name())?;
        match self {
            AuditProblem::RowEdited { id, seal_seq } => write!(
                f,
                "row {id} (seal_seq {seal_seq}) was edited: its contents no longer match its hash"
            ),
            AuditProblem::LinkBroken { id, seal_seq } => write!(
                f,
                "row {id} (seal_seq {seal_seq}) does not link to the row before it (its prev_hash was changed)"
            ),
            AuditProblem::RowsDeleted {
                from,
                to,
                before_id,
            } => write!(
                f,
                "{} row(s) deleted: seal_seq {from}–{to} are missing (just before row {before_id})",
                to - from + 1
            ),
            AuditProblem::NewestRowsDeleted {
                count,
                from,
                to,
                checkpoint,
                intact,
            } => {
                match intact {
                    Some(c) => write!(
                        f,
                        "the newest {count} row(s) after checkpoint {c} are missing"
                    )?,
                    None => write!(f, "the newest {count} row(s) are missing")?,
                }
                write!(
                    f,
                    ": checkpoint {checkpoint} signed the chain up to seal_seq {to}, but it ends at seal_seq {}",
                    from - 1
                )
            }
            AuditProblem::AllRowsDeleted { count, checkpoint } => write!(
                f,
                "every row was deleted: checkpoint {checkpoint} signed a chain of {count} row(s), the log has none"
            ),
            AuditProblem::ChainRewritten {
                checkpoint,
                seal_seq,
                from,
                later,
            } => {
                write!(
                    f,
                    "the chain was rewritten: at seal_seq {seal_seq} its hash is not the head signed in checkpoint \
                     {checkpoint}; a row with seal_seq {from}–{seal_seq} was changed and the hashes after it recomputed"
                )?;
                if *later > 0 {
                    write!(f, " ({later} later checkpoint(s) disagree too)")?;
                }
                Ok(())
            }
            AuditProblem::CheckpointForged { checkpoint } => write!(
                f,
                "checkpoint {checkpoint} has no valid signature of the audit signing key (forged or altered)"
            ),
            AuditProblem::CheckpointsDeleted { from, to } => {
                write!(
                    f,
                    "checkpoint(s) {from}–{to} were deleted from the database"
                )
            }
            AuditProblem::CheckpointAltered { checkpoint } => write!(
                f,
                "checkpoint {checkpoint} in the database differs from the exported copy"
            ),
            AuditProblem::ExportedCheckpointInvalid { checkpoint } => write!(
                f,
                "exported checkpoint {checkpoint} does not verify with the file's public key (the file was altered)"
            ),
            AuditProblem::SigningKeyChanged { exported, local } => write!(
                f,
                "the exported checkpoints were signed by key {exported}, the data directory holds key {local}"
            ),
            AuditProblem::UncheckpointedRows { count, from, to } => write!(
                f,
                "{count} sealed row(s) (seal_seq {from}–{to}) are covered by no checkpoint: checkpoints were deleted"
            ),
            AuditProblem::SealerNotRunning { count, oldest_id } => write!(
                f,
                "{count} row(s) older than a minute are not sealed (oldest: row {oldest_id}); is the sealer running?"
            ),
        }
    }
}

/// The outcome of [`Store::verify_audit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditReport {
    /// Sealed rows walked.
    pub rows: i64,
    /// Checkpoints compared with the chain (database and exported file together).
    pub checkpoints: i64,
    /// Unsealed rows younger than a minute (normal: the sealer runs every second).
    pub pending: i64,
    pub problems: Vec<AuditProblem>,
    /// Per-row problems found beyond the first hundred (counted, not listed).
    pub more: u64,
}

impl AuditReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
    /// Whether a problem with this name was found.
    pub fn has(&self, name: &str) -> bool {
        self.problems.iter().any(|p| p.name() == name)
    }
}

/// Checks the checkpoints on their own (signatures, numbering, the exported copy) and returns the problems and
/// the trusted checkpoints (valid signature), ordered by seq; the exported copy wins over the database's.
pub(crate) fn check_checkpoints(
    db: &[Checkpoint],
    exported: &[ExportedCheckpoint],
    key: &AuditPublicKey,
) -> (Vec<AuditProblem>, Vec<Checkpoint>) {
    let mut problems = Vec::new();
    let mut trusted: BTreeMap<i64, Checkpoint> = BTreeMap::new();
    let mut missing: BTreeSet<i64> = BTreeSet::new();
    let mut expected = 1;
    for c in db {
        if c.seq > expected {
            missing.extend(expected..c.seq);
        }
        expected = expected.max(c.seq + 1);
        if c.signed_by(key) {
            trusted.insert(c.seq, c.clone());
        } else {
            problems.push(AuditProblem::CheckpointForged { checkpoint: c.seq });
        }
    }
    let by_seq: HashMap<i64, &Checkpoint> = db.iter().map(|c| (c.seq, c)).collect();
    let mut key_reported = false;
    for e in exported {
        let c = &e.checkpoint;
        let file_key = match AuditPublicKey::from_hex(&e.public_key) {
            Ok(k) => k,
            Err(_) => {
                problems.push(AuditProblem::ExportedCheckpointInvalid { checkpoint: c.seq });
                continue;
            }
        };
        if file_key != *key && !key_reported {
            key_reported = true;
            problems.push(AuditProblem::SigningKeyChanged {
                exported: file_key.key_id(),
                local: key.key_id(),
            });
        }
        if !c.signed_by(&file_key) {
            problems.push(AuditProblem::ExportedCheckpointInvalid { checkpoint: c.seq });
            continue;
        }
        match by_seq.get(&c.seq) {
            None => {
                missing.insert(c.seq);
            }
            Some(d) if *d != c => {
                problems.push(AuditProblem::CheckpointAltered { checkpoint: c.seq })
            }
            Some(_) => {}
        }
        trusted.insert(c.seq, c.clone());
    }
    // Missing checkpoint numbers, as ranges.
    let mut run: Option<(i64, i64)> = None;
    for s in missing {
        run = match run {
            Some((a, b)) if s == b + 1 => Some((a, s)),
            Some((a, b)) => {
                problems.push(AuditProblem::CheckpointsDeleted { from: a, to: b });
                Some((s, s))
            }
            None => Some((s, s)),
        };
    }
    if let Some((a, b)) = run {
        problems.push(AuditProblem::CheckpointsDeleted { from: a, to: b });
    }
    (problems, trusted.into_values().collect())
}

/// The chain walk over sealed rows in `seal_seq` order; remembers the hash at each checkpoint's position.
pub(crate) struct Walk {
    expected: i64,
    prev: String,
    rows: i64,
    at_checkpoints: HashMap<i64, String>,
    wanted: BTreeSet<i64>,
    problems: Vec<AuditProblem>,
    more: u64,
}

impl Walk {
    pub(crate) fn new(checkpoints: &[Checkpoint]) -> Walk {
        Walk {
            expected: 1,
            prev: GENESIS.to_string(),
            rows: 0,
            at_checkpoints: HashMap::new(),
            wanted: checkpoints.iter().map(|c| c.last_seal_seq).collect(),
            problems: Vec::new(),
            more: 0,
        }
    }

    fn push(&mut self, p: AuditProblem) {
        if self.problems.len() < MAX_LISTED {
            self.problems.push(p);
        } else {
            self.more += 1;
        }
    }

    pub(crate) fn feed(&mut self, r: &AuditRow) {
        let Some(s) = r.seal_seq else { return };
        let gap = s > self.expected;
        if gap {
            self.push(AuditProblem::RowsDeleted {
                from: self.expected,
                to: s - 1,
                before_id: r.id,
            });
        }
        let stored_prev = r.prev_hash.as_deref().unwrap_or("");
        if s < self.expected || (!gap && stored_prev != self.prev) {
            self.push(AuditProblem::LinkBroken {
                id: r.id,
                seal_seq: s,
            });
        }
        let hash = r.hash.clone().unwrap_or_default();
        // Recomputed from the row's own prev_hash, so one edited row is reported once, not for every row after it.
        if shanzhi_secure::chain::link(stored_prev, &r.hash_input(s)) != hash {
            self.push(AuditProblem::RowEdited {
                id: r.id,
                seal_seq: s,
            });
        }
        if self.wanted.contains(&s) {
            self.at_checkpoints.insert(s, hash.clone());
        }
        self.prev = hash;
        self.expected = self.expected.max(s + 1);
        self.rows += 1;
    }

    /// Compares the chain with the trusted checkpoints.
    pub(crate) fn finish(mut self, checkpoints: &[Checkpoint]) -> (i64, Vec<AuditProblem>, u64) {
        let chain_end = self.expected - 1;
        let mut intact: Option<&Checkpoint> = None;
        let mut rewritten: Option<(&Checkpoint, i64)> = None;
        let mut later = 0usize;
        let mut beyond: Option<&Checkpoint> = None;
        for c in checkpoints {
            if c.last_seal_seq > chain_end {
                if beyond.is_none_or(|b| c.last_seal_seq >= b.last_seal_seq) {
                    beyond = Some(c);
                }
                continue;
            }
            match self.at_checkpoints.get(&c.last_seal_seq) {
                // The row is missing: reported as a gap by the walk.
                None => {}
                // The newest checkpoint that matches before anything went wrong.
                Some(h) if *h == c.head_hash && rewritten.is_none() && beyond.is_none() => {
                    intact = Some(c);
                }
                Some(h) if *h == c.head_hash => {}
                Some(_) => {
                    if rewritten.is_none() {
                        let from = intact.map(|i| i.last_seal_seq + 1).unwrap_or(1);
                        rewritten = Some((c, from));
                    } else {
                        later += 1;
                    }
                }
            }
        }
        let mut problems = Vec::new();
        if let Some((c, from)) = rewritten {
            problems.push(AuditProblem::ChainRewritten {
                checkpoint: c.seq,
                seal_seq: c.last_seal_seq,
                from,
                later,
            });
        }
        if let Some(b) = beyond {
            if self.rows == 0 {
                problems.push(AuditProblem::AllRowsDeleted {
                    count: b.last_seal_seq,
                    checkpoint: b.seq,
                });
            } else {
                problems.push(AuditProblem::NewestRowsDeleted {
                    count: b.last_seal_seq - chain_end,
                    from: chain_end + 1,
                    to: b.last_seal_seq,
                    checkpoint: b.seq,
                    intact: intact.map(|c| c.seq),
                });
            }
        }
        let covered = checkpoints
            .iter()
            .map(|c| c.last_seal_seq)
            .max()
            .unwrap_or(0);
        if chain_end > covered {
            problems.push(AuditProblem::UncheckpointedRows {
                count: chain_end - covered,
                from: covered + 1,
                to: chain_end,
            });
        }
        problems.append(&mut self.problems);
        (self.rows, problems, self.more)
    }
}

impl Store {
    /// Verifies the chain and every checkpoint in the database. Does not seal first (see [`Store::seal_audit`]).
    pub async fn verify_audit(&self) -> StoreResult<AuditReport> {
        self.verify_audit_with(&[]).await
    }

    /// Verifies the chain against the checkpoints in the database and those of an exported file, all read in one
    /// consistent snapshot (a sealer running meanwhile does not disturb the result).
    pub async fn verify_audit_with(
        &self,
        exported: &[ExportedCheckpoint],
    ) -> StoreResult<AuditReport> {
        let key = self.audit_public_key();
        let stale_before = Timestamp::now().0 - STALE_AFTER_MS;
        let begin = if self.is_pg() {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        } else {
            "BEGIN"
        };
        rd!(self, |p| {
            let mut tx = p.begin_with(begin).await?;
            let db: Vec<Checkpoint> = sqlx::query_as(
                "SELECT seq, last_seal_seq, head_hash, row_count, at, key_id, signature FROM audit_checkpoints ORDER BY seq",
            )
            .fetch_all(&mut *tx)
            .await?;
            let (mut problems, trusted) = check_checkpoints(&db, exported, &key);
            let mut walk = Walk::new(&trusted);
            let mut last = 0i64;
            loop {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT * FROM audit_log WHERE seal_seq > $1 ORDER BY seal_seq LIMIT 5000",
                )
                .bind(last)
                .fetch_all(&mut *tx)
                .await?;
                let Some(l) = rows.last().and_then(|r| r.seal_seq) else {
                    break;
                };
                for r in &rows {
                    walk.feed(r);
                }
                last = l;
            }
            let (pending,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE seal_seq IS NULL")
                    .fetch_one(&mut *tx)
                    .await?;
            let (stale, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(id) FROM audit_log WHERE seal_seq IS NULL AND at < $1",
            )
            .bind(stale_before)
            .fetch_one(&mut *tx)
            .await?;
            tx.rollback().await?;
            let (rows, mut chain, more) = walk.finish(&trusted);
            chain.append(&mut problems);
            if stale > 0 {
                chain.push(AuditProblem::SealerNotRunning {
                    count: stale,
                    oldest_id: oldest.unwrap_or(0),
                });
            }
            Ok::<_, StoreError>(AuditReport {
                rows,
                checkpoints: trusted.len() as i64,
                pending: pending - stale,
                problems: chain,
                more,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shanzhi_secure::signing::AuditSigningKey;

    fn row(id: i64, seq: i64, prev: &str, action: &str) -> AuditRow {
        let mut r = AuditRow {
            id,
            at: 1,
            actor_id: None,
            actor: "t".into(),
            role: None,
            place: None,
            action: action.into(),
            target: None,
            result: "ok".into(),
            client_addr: None,
            detail: None,
            seal_seq: Some(seq),
            prev_hash: Some(prev.into()),
            hash: None,
        };
        r.hash = Some(shanzhi_secure::chain::link(prev, &r.hash_input(seq)));
        r
    }

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut out: Vec<AuditRow> = Vec::new();
        for i in 1..=n {
            let prev = out
                .last()
                .and_then(|r| r.hash.clone())
                .unwrap_or_else(|| GENESIS.into());
            out.push(row(i, i, &prev, "x"));
        }
        out
    }

    fn checkpoint(k: &AuditSigningKey, seq: i64, rows: &[AuditRow], upto: i64) -> Checkpoint {
        let mut c = Checkpoint {
            seq,
            last_seal_seq: upto,
            head_hash: rows[upto as usize - 1].hash.clone().unwrap(),
            row_count: upto,
            at: 5,
            key_id: k.public().key_id(),
            signature: String::new(),
        };
        c.signature = k.sign(c.message().as_bytes());
        c
    }

    fn run(rows: &[AuditRow], cps: &[Checkpoint], k: &AuditSigningKey) -> Vec<AuditProblem> {
        let (mut p, trusted) = check_checkpoints(cps, &[], &k.public());
        let mut w = Walk::new(&trusted);
        for r in rows {
            w.feed(r);
        }
        let (_, mut out, _) = w.finish(&trusted);
        out.append(&mut p);
        out
    }

    #[test]
    fn an_intact_chain_has_no_problems() {
        let k = AuditSigningKey::ephemeral();
        let rows = chain(10);
        let cps = [checkpoint(&k, 1, &rows, 4), checkpoint(&k, 2, &rows, 10)];
        assert_eq!(run(&rows, &cps, &k), vec![]);
    }

    #[test]
    fn a_rewritten_chain_is_pinned_between_checkpoints() {
        let k = AuditSigningKey::ephemeral();
        let rows = chain(10);
        let cps = [
            checkpoint(&k, 1, &rows, 4),
            checkpoint(&k, 2, &rows, 7),
            checkpoint(&k, 3, &rows, 10),
        ];
        // Change row 6 and recompute every hash from there.
        let mut forged: Vec<AuditRow> = rows[..5].to_vec();
        for i in 6..=10 {
            let prev = forged.last().unwrap().hash.clone().unwrap();
            forged.push(row(i, i, &prev, if i == 6 { "forged" } else { "x" }));
        }
        assert_eq!(
            run(&forged, &cps, &k),
            vec![AuditProblem::ChainRewritten {
                checkpoint: 2,
                seal_seq: 7,
                from: 5,
                later: 1
            }]
        );
    }

    #[test]
    fn deleted_checkpoints_show_as_gaps_or_uncovered_rows() {
        let k = AuditSigningKey::ephemeral();
        let rows = chain(10);
        let cps = [checkpoint(&k, 1, &rows, 4), checkpoint(&k, 3, &rows, 10)];
        assert_eq!(
            run(&rows, &cps, &k),
            vec![AuditProblem::CheckpointsDeleted { from: 2, to: 2 }]
        );
        let p = run(&rows, &cps[..1], &k);
        assert_eq!(
            p,
            vec![AuditProblem::UncheckpointedRows {
                count: 6,
                from: 5,
                to: 10
            }]
        );
    }
}
