//! Dictionaries the district admin edits: skills, unit kinds, need categories.

use serde::Serialize;
use shanzhi_domain::org::{DictKind, ValidDictEntry, seed_dictionary};
use shanzhi_domain::{Code, DictEntryId};

use crate::audit::{Actor, AuditEntry};
use crate::{Store, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DictEntry {
    pub id: i64,
    pub kind: String,
    pub code: String,
    pub name: String,
    pub sort: i64,
    pub active: bool,
}

impl Store {
    /// Entries of one kind; `active_only` for pickers.
    pub async fn list_dict(
        &self,
        kind: DictKind,
        active_only: bool,
    ) -> StoreResult<Vec<DictEntry>> {
        Ok(rd!(self, |p| {
            sqlx::query_as(
            "SELECT id, kind, code, name, sort, active FROM dict_entries WHERE kind = $1 AND (active OR NOT $2) ORDER BY sort, code"
        )
        .bind(kind.as_str())
        .bind(active_only)
        .fetch_all(p)
        .await?
        }))
    }

    pub async fn get_dict_entry(&self, id: DictEntryId) -> StoreResult<DictEntry> {
        let e: Option<DictEntry> = rd!(self, |p| sqlx::query_as(
            "SELECT id, kind, code, name, sort, active FROM dict_entries WHERE id = $1"
        )
        .bind(id.0)
        .fetch_optional(p)
        .await?);
        e.ok_or(StoreError::NotFound)
    }

    /// Fails with a field error unless `code` is an active entry of `kind`.
    pub(crate) async fn require_dict(
        &self,
        kind: &str,
        code: &str,
        field: &'static str,
    ) -> StoreResult<()> {
        let found: Option<(i64,)> = rd!(self, |p| sqlx::query_as(
            "SELECT id FROM dict_entries WHERE kind = $1 AND code = $2 AND active"
        )
        .bind(kind)
        .bind(code)
        .fetch_optional(p)
        .await?);
        if found.is_some() {
            Ok(())
        } else {
            Err(StoreError::field(field, Code::InvalidChoice))
        }
    }

    pub async fn create_dict_entry(
        &self,
        actor: &Actor,
        kind: DictKind,
        v: &ValidDictEntry,
    ) -> StoreResult<DictEntryId> {
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as("INSERT INTO dict_entries (kind, code, name, sort, active) VALUES ($1,$2,$3,$4,$5) RETURNING id")
                    .bind(kind.as_str())
                    .bind(&v.code)
                    .bind(&v.name)
                    .bind(v.sort)
                    .bind(v.active)
                    .fetch_one(&mut *tx)
                    .await?;
                Some(id)
            },
            |_id| AuditEntry::ok("dict.create", format!("dict:{}:{}", kind.as_str(), v.code)),
            unique = StoreError::field("code", Code::DuplicateCode)
        )
        .map(DictEntryId)
    }

    /// Renames, re-sorts or (de)activates an entry. The code is fixed once used, so records keep their meaning.
    pub async fn update_dict_entry(
        &self,
        actor: &Actor,
        id: DictEntryId,
        v: &ValidDictEntry,
    ) -> StoreResult<()> {
        let current = self.get_dict_entry(id).await?;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query(
                    "UPDATE dict_entries SET name = $1, sort = $2, active = $3 WHERE id = $4",
                )
                .bind(&v.name)
                .bind(v.sort)
                .bind(v.active)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
                Some(())
            },
            |_done| AuditEntry::ok(
                "dict.update",
                format!("dict:{}:{}", current.kind, current.code)
            )
        )
    }

    /// Inserts the seed dictionary where missing (idempotent).
    pub async fn seed_dictionaries(&self) -> StoreResult<()> {
        // Not `audited_write!`: seeding at start-up is no one's action and writes no audit row.
        wr!(self, |p| {
            let mut tx = p.begin().await?;
            for (i, (kind, code, name)) in seed_dictionary().into_iter().enumerate() {
                sqlx::query("INSERT INTO dict_entries (kind, code, name, sort, active) VALUES ($1,$2,$3,$4,TRUE) ON CONFLICT (kind, code) DO NOTHING")
                    .bind(kind.as_str())
                    .bind(code)
                    .bind(name)
                    .bind(i64::try_from(i).unwrap_or(0) * 10)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
