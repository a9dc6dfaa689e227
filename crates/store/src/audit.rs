//! The append-only, tamper-evident audit log.
//!
//! Writers only insert: a row is appended in the same transaction as the write it records, with no lock and no
//! read of the previous hash (`seal_seq`, `prev_hash` and `hash` stay NULL: the row is *unsealed*). A **sealer**
//! ([`Store::seal_audit`], every second in `shanzhi serve`/`demo`) then chains the unsealed rows in an order it
//! assigns itself (`seal_seq` = 1, 2, 3 …, taking unsealed rows by id; on PostgreSQL a row with a lower id may commit
//! later and simply gets a later `seal_seq`). Each row's hash covers the previous row's hash and the row's fields,
//! length-prefixed ([`hash_input`]). Only sealers serialise (PostgreSQL: an advisory lock held by the sealing
//! transaction; SQLite: its single writer). Every round that sealed rows also writes a **checkpoint** signed with an
//! Ed25519 key kept in the data directory, apart from the database; `verify` checks the chain against every
//! checkpoint, so rewriting the chain or deleting its newest rows is found even by someone who can rewrite the
//! whole database (but not the key file). Exported checkpoints (`shanzhi audit checkpoints --out`) also expose
//! deleted checkpoints.

mod seal;
mod verify;

use serde::Serialize;
use shanzhi_domain::{AccountId, Timestamp, role::Role};

use crate::{Page, PageReq, Store};

pub use seal::{Checkpoint, ExportedCheckpoint, SealReport, parse_exported};
pub use verify::{AuditProblem, AuditReport, STALE_AFTER_MS};

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
    /// Where the actor acts from, for people: the place or unit of the role binding (`甲一村`); the name only for
    /// system work, which has no binding. Never a login name of a person.
    pub fn place_or_name(&self) -> String {
        self.place.clone().unwrap_or_else(|| self.name.clone())
    }

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
    /// Position in the chain, assigned by the sealer; `None` while the row is not sealed yet.
    pub seal_seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
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
    /// The action in Chinese (`党员 · 新建`), from the domain's dictionary.
    pub fn action_label(&self) -> String {
        shanzhi_domain::audit_names::action_label(&self.action)
    }
    /// The object in Chinese (`单位报到 #12`).
    pub fn target_label(&self) -> String {
        self.target
            .as_deref()
            .map(shanzhi_domain::audit_names::target_label)
            .unwrap_or_default()
    }
    /// The result in Chinese (`成功`, `拒绝:用户名或密码错误`).
    pub fn result_label(&self) -> String {
        shanzhi_domain::audit_names::result_label(&self.result)
    }
    pub fn is_sealed(&self) -> bool {
        self.seal_seq.is_some()
    }
    /// The hash this row gets when chained after `prev` at its `seal_seq` (`None` while unsealed). The algorithm
    /// is no secret: the checkpoint signatures, not the hashes, are what an intruder cannot recompute.
    pub fn chain_hash(&self, prev: &str) -> Option<String> {
        self.seal_seq
            .map(|s| shanzhi_secure::chain::link(prev, &self.hash_input(s)))
    }
    /// The text the row's hash covers, at chain position `seal_seq`.
    pub(crate) fn hash_input(&self, seal_seq: i64) -> String {
        hash_input(&HashInput {
            id: self.id,
            seal_seq,
            at: self.at,
            actor_id: self.actor_id,
            actor: &self.actor,
            role: self.role.as_deref(),
            place: self.place.as_deref(),
            action: &self.action,
            target: self.target.as_deref(),
            result: &self.result,
            client_addr: self.client_addr.as_deref(),
            detail: self.detail.as_deref(),
        })
    }
}

/// The fields a row's hash covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HashInput<'a> {
    pub id: i64,
    pub seal_seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub role: Option<&'a str>,
    pub place: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub result: &'a str,
    pub client_addr: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Unambiguous text for the hash: a version tag, then every field in a fixed order, each written as
/// `<byte length>:<text>;` (strings), `i<number>;` (numbers) or `~;` (NULL). A field's length says where it
/// ends, so no content — `|`, `\`, `;`, digits — can move a field boundary, and NULL differs from "".
pub(crate) fn hash_input(r: &HashInput<'_>) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(128);
    out.push_str("audit-v2;");
    let int = |out: &mut String, v: Option<i64>| match v {
        Some(v) => {
            let _ = write!(out, "i{v};");
        }
        None => out.push_str("~;"),
    };
    int(&mut out, Some(r.id));
    int(&mut out, Some(r.seal_seq));
    int(&mut out, Some(r.at));
    int(&mut out, r.actor_id);
    for s in [
        Some(r.actor),
        r.role,
        r.place,
        Some(r.action),
        r.target,
        Some(r.result),
        r.client_addr,
        r.detail,
    ] {
        match s {
            Some(s) => {
                let _ = write!(out, "{}:{s};", s.len());
            }
            None => out.push_str("~;"),
        }
    }
    out
}

/// The `prev_hash` of the first row in the chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends an (unsealed) audit row inside an open transaction `$tx` (a `sqlx::Transaction`). No lock and no read:
/// the sealer chains the row after the transaction commits.
macro_rules! audit_in_tx {
    ($store:expr, $tx:expr, $actor:expr, $entry:expr) => {{
        let _ = &$store;
        let actor: &$crate::audit::Actor = $actor;
        let entry: &$crate::audit::AuditEntry = $entry;
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor, role, place, action, target, result, client_addr, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(shanzhi_domain::Timestamp::now().0)
        .bind(actor.account_id.map(|a| a.0))
        .bind(&actor.name)
        .bind(actor.role.map(|r| r.as_str()))
        .bind(actor.place.as_deref())
        .bind(&entry.action)
        .bind(entry.target.as_deref())
        .bind(&entry.result)
        .bind(actor.client_addr.as_deref())
        .bind(entry.detail.as_deref())
        .execute(&mut *$tx)
        .await?;
    }};
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Actor username or display name contains.
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

impl Store {
    /// Appends one audit row in its own transaction (logins, views of full personal numbers, refusals).
    pub async fn append_audit(&self, actor: &Actor, entry: &AuditEntry) -> crate::StoreResult<()> {
        wr!(self, |p| {
            let mut tx = p.begin().await?;
            audit_in_tx!(self, tx, actor, entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Lists rows, newest first, sealed or not.
    pub async fn list_audit(
        &self,
        f: &AuditFilter,
        page: PageReq,
    ) -> crate::StoreResult<Page<AuditRow>> {
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
        let action_text = f.action.as_deref().map(str::trim).filter(|s| !s.is_empty());
        // Typed in Chinese (导出, 党员 · 新建): the codes whose label contains it; otherwise a code prefix (`member.`).
        let action_codes: Option<Vec<String>> = action_text
            .filter(|s| !s.is_ascii())
            .map(shanzhi_domain::audit_names::codes_matching);
        let action = action_text
            .filter(|s| s.is_ascii())
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
                // A login name or a person's name (the account's display name).
                if let Some(a) = &actor {
                    qb.push(" AND (actor LIKE ")
                        .push_bind(a.clone())
                        .push(" ESCAPE '\\' OR actor_id IN (SELECT id FROM accounts WHERE display_name LIKE ")
                        .push_bind(a.clone())
                        .push(" ESCAPE '\\'))");
                }
                if let Some(a) = &action {
                    qb.push(" AND action LIKE ")
                        .push_bind(a.clone())
                        .push(" ESCAPE '\\'");
                }
                if let Some(codes) = &action_codes {
                    if codes.is_empty() {
                        qb.push(" AND 1 = 0");
                    } else {
                        qb.push(" AND action IN (");
                        let mut list = qb.separated(", ");
                        for c in codes {
                            list.push_bind(c.clone());
                        }
                        qb.push(")");
                    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The hash input used before `audit-v2`: `|`-joined, escaping `|` but not `\`.
    #[allow(clippy::too_many_arguments)]
    fn v1(f: [Option<&str>; 8]) -> String {
        let o = |s: Option<&str>| s.unwrap_or("").replace('|', "\\|");
        format!(
            "1|2|{}",
            f.iter().map(|s| o(*s)).collect::<Vec<_>>().join("|")
        )
    }

    fn v2(f: [Option<&str>; 8]) -> String {
        hash_input(&HashInput {
            id: 7,
            seal_seq: 7,
            at: 1,
            actor_id: Some(2),
            actor: f[0].unwrap_or(""),
            role: f[1],
            place: f[2],
            action: f[3].unwrap_or(""),
            target: f[4],
            result: f[5].unwrap_or(""),
            client_addr: f[6],
            detail: f[7],
        })
    }

    #[test]
    fn rows_that_collided_under_the_old_input_now_differ() {
        // actor ends in a backslash vs. actor containing a pipe; the fields after shift by one.
        let a = [
            Some("a\\"),
            Some("b"),
            Some("p"),
            Some("act"),
            Some("t"),
            Some("ok"),
            Some("cl"),
            Some("d|e"),
        ];
        let b = [
            Some("a|b"),
            Some("p"),
            Some("act"),
            Some("t"),
            Some("ok"),
            Some("cl"),
            Some("d\\"),
            Some("e"),
        ];
        assert_eq!(v1(a), v1(b), "the old input is ambiguous");
        assert_ne!(v2(a), v2(b));
        // `\|` inside one field vs. a field ending in `\` followed by the separator.
        let c = [
            Some("x\\|y"),
            None,
            None,
            Some("a"),
            None,
            Some("ok"),
            None,
            None,
        ];
        let d = [
            Some("x\\"),
            Some("\\|y"),
            None,
            Some("a"),
            None,
            Some("ok"),
            None,
            None,
        ];
        assert_ne!(v2(c), v2(d));
        // NULL and "" differ; so do the same fields at another chain position.
        let mut e = c;
        e[1] = Some("");
        assert_ne!(v2(c), v2(e));
        let at_7 = v2(c);
        let at_8 = hash_input(&HashInput {
            seal_seq: 8,
            ..HashInput {
                id: 7,
                seal_seq: 7,
                at: 1,
                actor_id: Some(2),
                actor: "x\\|y",
                role: None,
                place: None,
                action: "a",
                target: None,
                result: "ok",
                client_addr: None,
                detail: None,
            }
        });
        assert_ne!(at_7, at_8);
    }

    #[test]
    fn lengths_count_bytes() {
        let s = v2([
            Some("张三"),
            None,
            None,
            Some("a"),
            None,
            Some("ok"),
            None,
            None,
        ]);
        assert!(s.contains("6:张三;"), "{s}");
    }
}
