//! The sealer: chains unsealed rows and writes a signed checkpoint after each round that sealed rows.

use serde::{Deserialize, Serialize};
use shanzhi_domain::Timestamp;
use shanzhi_secure::signing::AuditPublicKey;

use super::{AuditRow, GENESIS};
use crate::{Store, StoreError, StoreResult};

/// Advisory lock id held by a PostgreSQL sealing transaction (only sealers take it).
const SEAL_LOCK: i64 = 720_101;
/// Rows taken per query; a round seals at most `SEAL_BATCH * SEAL_BATCHES_PER_ROUND` rows.
const SEAL_BATCH: i64 = 2_000;
const SEAL_BATCHES_PER_ROUND: usize = 10;
/// Rows per UPDATE statement (4 bound values each).
const UPDATE_CHUNK: usize = 500;

/// What one sealing round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Rows chained in this round.
    pub sealed: u64,
    /// The checkpoint written (`None` when there was nothing to seal).
    pub checkpoint: Option<i64>,
    /// The chain position of the newest sealed row after the round.
    pub last_seal_seq: i64,
}

/// A signed statement "the chain up to `last_seal_seq` has head `head_hash`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Checkpoint {
    /// 1, 2, 3 … assigned by the sealer.
    pub seq: i64,
    /// The newest row's `seal_seq` covered.
    pub last_seal_seq: i64,
    /// That row's hash.
    pub head_hash: String,
    /// Rows in the chain up to and including `last_seal_seq` (equal to it: `seal_seq` starts at 1, no gaps).
    pub row_count: i64,
    /// UTC milliseconds.
    pub at: i64,
    /// Which public key signs (`AuditPublicKey::key_id`).
    pub key_id: String,
    /// Hex Ed25519 signature of [`Checkpoint::message`].
    pub signature: String,
}

impl Checkpoint {
    /// The signed bytes: every field but the signature, one per line (all numbers or hex, so unambiguous).
    pub fn message(&self) -> String {
        format!(
            "shanzhi audit checkpoint v1\nseq {}\nlast_seal_seq {}\nhead {}\nrows {}\nat {}\nkey {}\n",
            self.seq, self.last_seal_seq, self.head_hash, self.row_count, self.at, self.key_id
        )
    }

    /// Whether the signature is valid for `key`.
    pub fn signed_by(&self, key: &AuditPublicKey) -> bool {
        self.key_id == key.key_id() && key.verify(self.message().as_bytes(), &self.signature)
    }
}

/// One line of an exported checkpoint file (JSON lines): the checkpoint and the public key that signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedCheckpoint {
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
    /// Hex Ed25519 public key.
    pub public_key: String,
}

/// Parses an exported checkpoint file (one JSON object a line; blank lines ignored).
pub fn parse_exported(text: &str) -> Result<Vec<ExportedCheckpoint>, String> {
    let mut out: Vec<ExportedCheckpoint> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let c: ExportedCheckpoint =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(c);
    }
    Ok(out)
}

impl Store {
    /// The public half of the checkpoint signing key.
    pub fn audit_public_key(&self) -> AuditPublicKey {
        self.audit_key.public()
    }

    /// One sealing round: chains the unsealed rows (by id) after the newest sealed row, then writes a signed
    /// checkpoint. Safe to run from several instances at once: on PostgreSQL an advisory transaction lock makes
    /// them take turns; on SQLite the write transaction does. A round with nothing to seal writes nothing.
    pub async fn seal_audit(&self) -> StoreResult<SealReport> {
        let begin = if self.is_pg() {
            "BEGIN"
        } else {
            // Take the write lock up front: a read transaction upgraded later can fail when another process wrote.
            "BEGIN IMMEDIATE"
        };
        wr!(self, |p| {
            let mut tx = p.begin_with(begin).await?;
            if self.is_pg() {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(SEAL_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            let head: Option<(i64, Option<String>)> = sqlx::query_as(
                "SELECT seal_seq, hash FROM audit_log WHERE seal_seq IS NOT NULL ORDER BY seal_seq DESC LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let (mut seq, mut prev) = match head {
                Some((s, h)) => (s, h.unwrap_or_default()),
                None => (0, GENESIS.to_string()),
            };
            let mut sealed = 0u64;
            for _ in 0..SEAL_BATCHES_PER_ROUND {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT * FROM audit_log WHERE seal_seq IS NULL ORDER BY id LIMIT $1",
                )
                .bind(SEAL_BATCH)
                .fetch_all(&mut *tx)
                .await?;
                let n = rows.len();
                let mut links = Vec::with_capacity(n);
                for r in rows {
                    seq += 1;
                    let hash = shanzhi_secure::chain::link(&prev, &r.hash_input(seq));
                    links.push((r.id, seq, std::mem::replace(&mut prev, hash.clone()), hash));
                }
                for chunk in links.chunks(UPDATE_CHUNK) {
                    let mut q = crate::qb(p, "WITH v(id, s, p, h) AS (");
                    q.push_values(chunk, |mut b, (id, s, prev, hash)| {
                        b.push_bind(*id)
                            .push_bind(*s)
                            .push_bind(prev.clone())
                            .push_bind(hash.clone());
                    });
                    q.push(
                        ") UPDATE audit_log SET seal_seq = v.s, prev_hash = v.p, hash = v.h FROM v \
                         WHERE audit_log.id = v.id AND audit_log.seal_seq IS NULL",
                    );
                    let done = q.build().execute(&mut *tx).await?.rows_affected();
                    if done != chunk.len() as u64 {
                        // Cannot happen while sealers take turns; never leave a hole in the chain.
                        return Err(StoreError::Other(format!(
                            "audit sealing: {done} of {} rows updated",
                            chunk.len()
                        )));
                    }
                }
                sealed += n as u64;
                if (n as i64) < SEAL_BATCH {
                    break;
                }
            }
            let mut checkpoint = None;
            if sealed > 0 {
                let (next,): (i64,) =
                    sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_checkpoints")
                        .fetch_one(&mut *tx)
                        .await?;
                let public = self.audit_key.public();
                let mut c = Checkpoint {
                    seq: next,
                    last_seal_seq: seq,
                    head_hash: prev.clone(),
                    row_count: seq,
                    at: Timestamp::now().0,
                    key_id: public.key_id(),
                    signature: String::new(),
                };
                c.signature = self.audit_key.sign(c.message().as_bytes());
                sqlx::query(
                    "INSERT INTO audit_checkpoints (seq, last_seal_seq, head_hash, row_count, at, key_id, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(c.seq)
                .bind(c.last_seal_seq)
                .bind(&c.head_hash)
                .bind(c.row_count)
                .bind(c.at)
                .bind(&c.key_id)
                .bind(&c.signature)
                .execute(&mut *tx)
                .await?;
                checkpoint = Some(c.seq);
            }
            tx.commit().await?;
            Ok::<_, StoreError>(SealReport {
                sealed,
                checkpoint,
                last_seal_seq: seq,
            })
        })
    }

    /// Every checkpoint in the database, oldest first.
    pub async fn list_checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        Ok(rd!(self, |p| {
            sqlx::query_as(
            "SELECT seq, last_seal_seq, head_hash, row_count, at, key_id, signature FROM audit_checkpoints ORDER BY seq"
        )
        .fetch_all(p)
        .await?
        }))
    }

    /// The checkpoints as exported lines, with this instance's public key.
    pub async fn export_checkpoints(&self) -> StoreResult<Vec<ExportedCheckpoint>> {
        let public_key = self.audit_public_key().to_hex();
        Ok(self
            .list_checkpoints()
            .await?
            .into_iter()
            .map(|checkpoint| ExportedCheckpoint {
                checkpoint,
                public_key: public_key.clone(),
            })
            .collect())
    }
}
