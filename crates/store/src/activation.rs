//! Activation from the roster (issue 8.1): the member record an activation names (by the mobile's keyed hash),
//! activation codes (only a keyed hash stored, one current code per member), the members in scope who have no
//! account yet, and the write that consumes the code and creates the member's account in one transaction.
//!
//! Failed attempts are counted in `login_attempts` under keys of their own (purpose `activation`): `mobile:<m>`
//! follows the login name's lockout rule, `addr:<ip>` the per-address throttle (`shanzhi_domain::password`).

use serde::Serialize;
use shanzhi_domain::activation::{IssuedCode, RosterEntry};
use shanzhi_domain::role::{Role, Scope};
use shanzhi_domain::{AccountId, Code, MemberId, Timestamp};

use crate::audit::{Actor, AuditEntry};
use crate::{LoginKeys, Page, PageReq, Store, StoreError, StoreResult};

const ATTEMPT_PURPOSE: &str = "activation";
const CODE_PURPOSE: &str = "activation-code";

/// A member in scope who has no account yet, with the state of their activation code.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PendingMember {
    pub id: i64,
    pub name: String,
    pub mobile_masked: String,
    pub unit_name: String,
    pub community_name: String,
    /// When the current activation code was issued (none issued: `null`).
    pub code_issued_at: Option<i64>,
    pub code_expires_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    name: String,
    id_card_enc: Option<String>,
    activated: bool,
    code_hash: Option<String>,
    expires_at: Option<i64>,
    used_at: Option<i64>,
}

/// The member's account as an activation creates it.
#[derive(Debug, Clone)]
pub struct Activation {
    pub member_id: MemberId,
    pub display_name: String,
    pub password_hash: String,
    /// The activation code was the factor (it is consumed in the same transaction).
    pub by_code: bool,
    /// `id_last6` or `code`, for the audit detail.
    pub factor: &'static str,
}

const PENDING_SELECT: &str = "SELECT m.id, m.name, m.mobile_masked, u.name AS unit_name, c.name AS community_name, \
     ac.issued_at AS code_issued_at, ac.expires_at AS code_expires_at \
     FROM members m JOIN units u ON u.id = m.unit_id JOIN places c ON c.id = m.community_id \
     LEFT JOIN activation_codes ac ON ac.member_id = m.id AND ac.used_at IS NULL \
     WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.member_id = m.id) \
     AND NOT EXISTS (SELECT 1 FROM role_assignments ra WHERE ra.member_id = m.id)";

fn like(q: &str) -> Option<String> {
    let q = q.trim();
    (!q.is_empty()).then(|| format!("%{}%", crate::audit::like_escape(q)))
}

impl Store {
    /// The keys an activation attempt counts under: the mobile (normal form) and the client address.
    pub fn activation_keys(&self, mobile: &str, addr: Option<&str>) -> LoginKeys {
        let v = &self.vault;
        LoginKeys {
            subject: v.purpose_mac(ATTEMPT_PURPOSE, &format!("mobile:{mobile}")),
            account: None,
            addr: addr.map(|a| v.purpose_mac(ATTEMPT_PURPOSE, &format!("addr:{a}"))),
        }
    }

    /// After a successful activation the mobile's failures are forgotten (the address's stay until its window
    /// ends).
    pub async fn activation_succeeded(&self, keys: &LoginKeys) -> StoreResult<()> {
        wr!(self, |p| sqlx::query(
            "DELETE FROM login_attempts WHERE key_hash = $1"
        )
        .bind(&keys.subject)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    fn code_hash(&self, member: MemberId, code: &str) -> String {
        self.vault
            .purpose_mac(CODE_PURPOSE, &format!("{member}:{code}"))
    }

    /// The roster's side of an activation by `mobile` (normal form): the member record with that mobile, its ID
    /// number (decrypted), whether it has an account, and whether `code` (normalised) is its current code.
    pub async fn activation_entry(
        &self,
        mobile: &str,
        code: Option<&str>,
    ) -> StoreResult<Option<(MemberId, RosterEntry)>> {
        let hash = self.vault.search_hash(mobile);
        let row: Option<EntryRow> = rd!(self, |p| {
            sqlx::query_as(
                "SELECT m.id, m.name, m.id_card_enc, \
                   (EXISTS (SELECT 1 FROM accounts a WHERE a.member_id = m.id) \
                    OR EXISTS (SELECT 1 FROM role_assignments ra WHERE ra.member_id = m.id)) AS activated, \
                   ac.code_hash, ac.expires_at, ac.used_at \
                 FROM members m LEFT JOIN activation_codes ac ON ac.member_id = m.id WHERE m.mobile_hash = $1",
            )
            .bind(&hash)
            .fetch_optional(p)
            .await?
        });
        let Some(row) = row else { return Ok(None) };
        let id = MemberId(row.id);
        let id_card = row
            .id_card_enc
            .as_deref()
            .map(|e| self.vault.decrypt(e))
            .transpose()?;
        let issued = match (row.code_hash, row.expires_at) {
            (Some(stored), Some(expires_at)) => Some(IssuedCode {
                matches: code
                    .is_some_and(|c| shanzhi_secure::token::ct_eq(&self.code_hash(id, c), &stored)),
                expires_at,
                used: row.used_at.is_some(),
            }),
            _ => None,
        };
        Ok(Some((
            id,
            RosterEntry {
                name: row.name,
                id_card,
                activated: row.activated,
                code: issued,
            },
        )))
    }

    /// Creates the member's account (role `member` bound to the record, username `member<id>`, password chosen by
    /// the member) and, when the code was the factor, consumes it — in one transaction with the audit row. Any
    /// older code of the member stops working. A code used or expired meanwhile answers `activation_failed`; an
    /// account made meanwhile `already_activated`.
    pub async fn activate_member(&self, actor: &Actor, a: &Activation) -> StoreResult<AccountId> {
        let now = Timestamp::now().0;
        let username = format!("member{}", a.member_id.0);
        audited_write!(
            self,
            actor,
            |tx| {
                let consumed = sqlx::query(
                    "UPDATE activation_codes SET used_at = $2 WHERE member_id = $1 AND used_at IS NULL AND expires_at > $2",
                )
                .bind(a.member_id.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if a.by_code && consumed == 0 {
                    None
                } else {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO accounts (username, display_name, password_hash, password_changed_at, member_id, active, created_at, must_change_password) \
                         VALUES ($1,$2,$3,$4,$5,TRUE,$4,FALSE) RETURNING id",
                    )
                    .bind(&username)
                    .bind(&a.display_name)
                    .bind(&a.password_hash)
                    .bind(now)
                    .bind(a.member_id.0)
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO role_assignments (account_id, role, member_id, created_at) VALUES ($1,$2,$3,$4)",
                    )
                    .bind(id)
                    .bind(Role::Member.as_str())
                    .bind(a.member_id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Some(id)
                }
            },
            |id| AuditEntry::ok("account.activate", format!("account:{id}"))
                .with_detail(format!("member:{};{}", a.member_id, a.factor)),
            guard = StoreError::Refused(Code::ActivationFailed),
            unique = StoreError::Refused(Code::AlreadyActivated)
        )
        .map(AccountId)
    }

    /// Members in `scope` without an account, whose name contains `q`, with the state of their code.
    pub async fn activation_pending(
        &self,
        scope: &Scope,
        q: &str,
        page: PageReq,
    ) -> StoreResult<Page<PendingMember>> {
        let q = like(q);
        Ok(rd!(self, |p| {
            let mut count = crate::qb(p, format!("SELECT COUNT(*) FROM ({PENDING_SELECT}"));
            let mut list = crate::qb(p, PENDING_SELECT);
            for qb in [&mut count, &mut list] {
                member_visible!(qb, scope);
                if let Some(q) = &q {
                    qb.push(" AND m.name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\'");
                }
            }
            count.push(") pending");
            list.push(" ORDER BY u.name, m.name, m.id LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<PendingMember> = list.build_query_as().fetch_all(p).await?;
            Page::of(items, total, page)
        }))
    }

    /// Stores a new activation code for each member (replacing any older one, which stops working), valid until
    /// `expires_at`; one audit row for the sheet. The members must come from [`Store::activation_pending`] in the
    /// caller's scope.
    pub async fn issue_activation_codes(
        &self,
        actor: &Actor,
        codes: &[(MemberId, String)],
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let now = Timestamp::now().0;
        let rows: Vec<(i64, String)> = codes
            .iter()
            .map(|(m, c)| (m.0, self.code_hash(*m, c)))
            .collect();
        let ids: Vec<String> = codes.iter().map(|(m, _)| m.0.to_string()).collect();
        let issuer = actor.account_id.map(|a| a.0);
        audited_write!(
            self,
            actor,
            |tx| {
                for (member, hash) in &rows {
                    sqlx::query(
                        "INSERT INTO activation_codes (member_id, code_hash, issued_by, issued_at, expires_at, used_at) \
                         VALUES ($1,$2,$3,$4,$5,NULL) ON CONFLICT (member_id) DO UPDATE SET code_hash = excluded.code_hash, \
                         issued_by = excluded.issued_by, issued_at = excluded.issued_at, expires_at = excluded.expires_at, used_at = NULL",
                    )
                    .bind(*member)
                    .bind(hash)
                    .bind(issuer)
                    .bind(now)
                    .bind(expires_at.0)
                    .execute(&mut *tx)
                    .await?;
                }
                Some(())
            },
            |_done| AuditEntry::ok("activation_code.issue", "member:sheet").with_detail(format!(
                "{} members: {}",
                rows.len(),
                ids.join(",")
            ))
        )
    }
}
