//! The append-only, hash-chained audit log. Each row's hash covers the previous row's hash and the row's own
//! canonical text, so editing or deleting any row breaks the chain from there on; `verify_audit` finds the first
//! broken link. Entries for a write are appended in the same transaction as the write.

use serde::Serialize;
use shanzhi_domain::{AccountId, Timestamp, role::Role};

use crate::{Page, PageReq, Store, StoreError, StoreResult};

/// Who is acting, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub account_id: Option<AccountId>,
    pub name: String,
    pub role: Option<Role>,
    /// Place or unit name of the role binding.
    pub place: Option<String>,
    pub client_addr: Option<String>,
}

impl Actor {
    /// The operator at the command line.
    pub fn system(name: &str) -> Actor {
        Actor {
            name: name.to_string(),
            ..Actor::default()
        }
    }
}

/// One audit row to append. Never put secrets or full personal numbers in `target` or `detail`.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: String,
    pub target: Option<String>,
    pub result: String,
    pub detail: Option<String>,
}

impl AuditEntry {
    pub fn ok(action: &str, target: impl Into<String>) -> Self {
        AuditEntry {
            action: action.into(),
            target: Some(target.into()),
            result: "ok".into(),
            detail: None,
        }
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn failed(action: &str, target: impl Into<String>, reason: &str) -> Self {
        AuditEntry {
            action: action.into(),
            target: Some(target.into()),
            result: format!("denied:{reason}"),
            detail: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub role: Option<String>,
    pub place: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub result: String,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    pub fn at_shanghai(&self) -> String {
        Timestamp(self.at).shanghai()
    }
    pub fn role_label(&self) -> &'static str {
        self.role
            .as_deref()
            .and_then(Role::parse)
            .map(Role::label)
            .unwrap_or("")
    }
}

/// The text a row's hash covers.
#[allow(clippy::too_many_arguments)]
pub(crate) fn canonical(
    at: i64,
    actor_id: Option<i64>,
    actor: &str,
    role: Option<&str>,
    place: Option<&str>,
    action: &str,
    target: Option<&str>,
    result: &str,
    client: Option<&str>,
    detail: Option<&str>,
) -> String {
    let o = |s: Option<&str>| s.unwrap_or("").replace('|', "\\|");
    format!(
        "{at}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        actor_id.map(|i| i.to_string()).unwrap_or_default(),
        actor.replace('|', "\\|"),
        o(role),
        o(place),
        action.replace('|', "\\|"),
        o(target),
        result.replace('|', "\\|"),
        o(client),
        o(detail)
    )
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends an audit row inside an open transaction `$tx` (a `sqlx::Transaction`). On PostgreSQL an advisory
/// transaction lock serialises appenders so the chain stays linear; SQLite has a single writer already.
macro_rules! audit_in_tx {
    ($store:expr, $tx:expr, $actor:expr, $entry:expr) => {{
        let actor: &$crate::audit::Actor = $actor;
        let entry: &$crate::audit::AuditEntry = $entry;
        if $store.is_pg() {
            sqlx::query("SELECT pg_advisory_xact_lock(720101)").execute(&mut *$tx).await?;
        }
        let prev: Option<(String,)> =
            sqlx::query_as("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&mut *$tx).await?;
        let prev = prev.map(|p| p.0).unwrap_or_else(|| $crate::audit::GENESIS.to_string());
        let at = shanzhi_domain::Timestamp::now().0;
        let actor_id = actor.account_id.map(|a| a.0);
        let role = actor.role.map(|r| r.as_str());
        let canonical = $crate::audit::canonical(
            at,
            actor_id,
            &actor.name,
            role,
            actor.place.as_deref(),
            &entry.action,
            entry.target.as_deref(),
            &entry.result,
            actor.client_addr.as_deref(),
            entry.detail.as_deref(),
        );
        let hash = shanzhi_secure::chain::link(&prev, &canonical);
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor, role, place, action, target, result, client_addr, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(at)
        .bind(actor_id)
        .bind(&actor.name)
        .bind(role)
        .bind(actor.place.as_deref())
        .bind(&entry.action)
        .bind(entry.target.as_deref())
        .bind(&entry.result)
        .bind(actor.client_addr.as_deref())
        .bind(entry.detail.as_deref())
        .bind(prev)
        .bind(hash)
        .execute(&mut *$tx)
        .await?;
    }};
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Actor username contains.
    pub actor: Option<String>,
    /// Action starts with, e.g. `login` or `member.`.
    pub action: Option<String>,
    /// `ok` or `denied`.
    pub result: Option<String>,
    /// From this Shanghai date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Up to and including this Shanghai date.
    pub to: Option<String>,
}

/// The first row whose hash does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub id: i64,
    pub reason: &'static str,
}

impl Store {
    /// Appends one audit row in its own transaction (logins, views of full personal numbers, refusals).
    pub async fn append_audit(&self, actor: &Actor, entry: &AuditEntry) -> StoreResult<()> {
        wr!(self, |p| {
            let mut tx = p.begin().await?;
            audit_in_tx!(self, tx, actor, entry);
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn list_audit(&self, f: &AuditFilter, page: PageReq) -> StoreResult<Page<AuditRow>> {
        let from = f
            .from
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(Timestamp::from_shanghai_date);
        let to =
            f.to.as_deref()
                .filter(|s| !s.is_empty())
                .and_then(Timestamp::from_shanghai_date)
                .map(|t| t.plus_days(1));
        let actor = f
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", like_escape(s)));
        let action = f
            .action
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("{}%", like_escape(s)));
        let result = f
            .result
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("{}%", like_escape(s)));
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM audit_log WHERE 1 = 1");
            let mut list = crate::qb(p, "SELECT * FROM audit_log WHERE 1 = 1");
            for qb in [&mut count, &mut list] {
                if let Some(a) = &actor {
                    qb.push(" AND actor LIKE ")
                        .push_bind(a.clone())
                        .push(" ESCAPE '\\'");
                }
                if let Some(a) = &action {
                    qb.push(" AND action LIKE ")
                        .push_bind(a.clone())
                        .push(" ESCAPE '\\'");
                }
                if let Some(r) = &result {
                    qb.push(" AND result LIKE ")
                        .push_bind(r.clone())
                        .push(" ESCAPE '\\'");
                }
                if let Some(t) = from {
                    qb.push(" AND at >= ").push_bind(t.0);
                }
                if let Some(t) = to {
                    qb.push(" AND at < ").push_bind(t.0);
                }
            }
            list.push(" ORDER BY id DESC LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<AuditRow> = list.build_query_as().fetch_all(p).await?;
            Ok(Page::of(items, total, page))
        })
    }

    /// Walks the whole chain. `Ok(n)` when all `n` rows link; `Err(first broken link)` otherwise.
    pub async fn verify_audit(&self) -> StoreResult<Result<usize, BrokenLink>> {
        let mut prev = GENESIS.to_string();
        let mut last_id = 0i64;
        let mut n = 0usize;
        loop {
            let rows: Vec<AuditRow> = rd!(self, |p| sqlx::query_as(
                "SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT 5000"
            )
            .bind(last_id)
            .fetch_all(p)
            .await?);
            if rows.is_empty() {
                return Ok(Ok(n));
            }
            for r in rows {
                if r.prev_hash != prev {
                    return Ok(Err(BrokenLink {
                        id: r.id,
                        reason: "prev_hash does not match the previous row (a row was deleted or changed)",
                    }));
                }
                let c = canonical(
                    r.at,
                    r.actor_id,
                    &r.actor,
                    r.role.as_deref(),
                    r.place.as_deref(),
                    &r.action,
                    r.target.as_deref(),
                    &r.result,
                    r.client_addr.as_deref(),
                    r.detail.as_deref(),
                );
                if shanzhi_secure::chain::link(&prev, &c) != r.hash {
                    return Ok(Err(BrokenLink {
                        id: r.id,
                        reason: "hash does not match the row's contents (the row was edited)",
                    }));
                }
                prev = r.hash;
                last_id = r.id;
                n += 1;
            }
        }
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl From<BrokenLink> for StoreError {
    fn from(b: BrokenLink) -> Self {
        StoreError::Other(format!("audit chain broken at row {}: {}", b.id, b.reason))
    }
}
