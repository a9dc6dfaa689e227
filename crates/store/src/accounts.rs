//! Accounts, role assignments and database-backed sessions (so several app instances can share them). Only the
//! hash of a session token is stored.

use serde::Serialize;
use shanzhi_domain::password::{SESSION_ABSOLUTE_HOURS, SESSION_IDLE_MINUTES};
use shanzhi_domain::role::{Role, RoleBinding, binding_is_valid};
use shanzhi_domain::{
    AccountId, Code, MemberId, PlaceId, RoleAssignmentId, Timestamp, UnitId, mask,
};
use shanzhi_secure::token;

use crate::audit::{Actor, AuditEntry, like_escape};
use crate::{Page, PageReq, Store, StoreError, StoreResult};

#[derive(Clone, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub password_changed_at: i64,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub totp_secret_enc: Option<String>,
    pub totp_enabled: bool,
    pub member_id: Option<i64>,
    pub active: bool,
    pub created_at: i64,
    /// Given by someone else (created or reset by the security admin): changed at the next login.
    pub must_change_password: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Account {
    pub fn id(&self) -> AccountId {
        AccountId(self.id)
    }
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| t > now.0)
    }
}

/// An account row for the security admin's list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccountSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub totp_enabled: bool,
    pub active: bool,
    pub created_at: i64,
}

/// Filters of the account list.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AccountFilter {
    /// Username or display name contains.
    pub q: Option<String>,
    /// A role code: accounts with a binding of this role.
    pub role: Option<String>,
    /// Accounts with a binding (of `role`, if given) whose place, unit or member name contains this.
    pub scope: Option<String>,
}

/// One choice of the staff-account picker: a place, unit or member by name, with a detail that tells namesakes
/// apart (the parent place; where a unit is located; a member's unit and community).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BindCandidate {
    pub id: i64,
    pub name: String,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct NewBinding {
    pub role: Role,
    pub place_id: Option<PlaceId>,
    pub unit_id: Option<UnitId>,
    pub member_id: Option<MemberId>,
}

pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub mobile: Option<String>,
    pub password_hash: String,
    pub member_id: Option<MemberId>,
    pub bindings: Vec<NewBinding>,
    /// The password was chosen by someone else: its owner changes it at the first login.
    pub must_change_password: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

/// How far a login has got: a password alone does not make a full session for an admin outside demo mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    Full,
    /// Password accepted; waiting for the TOTP code.
    Totp,
    /// Password accepted; the admin must enrol a TOTP authenticator.
    TotpEnroll,
    /// Password accepted but expired; must be changed first.
    PasswordChange,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::Full => "full",
            SessionStage::Totp => "totp",
            SessionStage::TotpEnroll => "totp_enroll",
            SessionStage::PasswordChange => "password_change",
        }
    }
    fn parse(s: &str) -> SessionStage {
        match s {
            "full" => SessionStage::Full,
            "totp" => SessionStage::Totp,
            "totp_enroll" => SessionStage::TotpEnroll,
            _ => SessionStage::PasswordChange,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub token_hash: String,
    pub account_id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role_assignment_id: Option<RoleAssignmentId>,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub kind: SessionKind,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    account_id: i64,
    username: String,
    display_name: String,
    role_assignment_id: Option<i64>,
    kind: String,
    stage: String,
    csrf_token: String,
    last_seen_at: i64,
    expires_at: i64,
    active: bool,
}

#[derive(sqlx::FromRow)]
struct BindingRow {
    id: i64,
    role: String,
    place_id: Option<i64>,
    place_path: Option<String>,
    place_name: Option<String>,
    unit_id: Option<i64>,
    unit_name: Option<String>,
    member_id: Option<i64>,
    member_name: Option<String>,
}

macro_rules! account_cols {
    () => {
        "a.id, a.username, a.display_name, a.password_hash, a.password_changed_at, COALESCE(la.failures, 0) AS failed_logins, \
         la.locked_until, a.totp_secret_enc, a.totp_enabled, a.member_id, a.active, a.created_at, a.must_change_password \
         FROM accounts a LEFT JOIN login_attempts la ON la.account_id = a.id"
    };
}

impl Store {
    pub async fn count_accounts(&self) -> StoreResult<i64> {
        let (n,): (i64,) = rd!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM accounts")
            .fetch_one(p)
            .await?);
        Ok(n)
    }

    /// Creates an account with its role bindings. Each binding must fit its role (a town admin on a town …).
    pub async fn create_account(&self, actor: &Actor, a: &NewAccount) -> StoreResult<AccountId> {
        let username = shanzhi_domain::validate::username(&a.username)
            .map_err(|c| StoreError::field("username", c))?;
        if a.bindings.is_empty() {
            return Err(StoreError::field("role", Code::InvalidRole));
        }
        for b in &a.bindings {
            self.check_binding(b).await?;
        }
        let mobile = a
            .mobile
            .as_deref()
            .map(shanzhi_domain::validate::mobile)
            .transpose()
            .map_err(|c| StoreError::field("mobile", c))?;
        let mobile_enc = mobile
            .as_deref()
            .map(|m| self.vault.encrypt(m))
            .transpose()?;
        let mobile_hash = mobile.as_deref().map(|m| self.vault.search_hash(m));
        let now = Timestamp::now().0;
        let roles: Vec<&str> = a.bindings.iter().map(|b| b.role.as_str()).collect();
        audited_write!(
            self,
            actor,
            |tx| {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO accounts (username, display_name, mobile_enc, mobile_hash, password_hash, password_changed_at, member_id, active, created_at, must_change_password) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,TRUE,$6,$8) RETURNING id",
                )
                .bind(&username)
                .bind(&a.display_name)
                .bind(mobile_enc.as_deref())
                .bind(mobile_hash.as_deref())
                .bind(&a.password_hash)
                .bind(now)
                .bind(a.member_id.map(|m| m.0))
                .bind(a.must_change_password)
                .fetch_one(&mut *tx)
                .await?;
                for b in &a.bindings {
                    sqlx::query("INSERT INTO role_assignments (account_id, role, place_id, unit_id, member_id, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
                        .bind(id)
                        .bind(b.role.as_str())
                        .bind(b.place_id.map(|x| x.0))
                        .bind(b.unit_id.map(|x| x.0))
                        .bind(b.member_id.map(|x| x.0))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                Some(id)
            },
            |_id| AuditEntry::ok("account.create", format!("account:{username}"))
                .with_detail(roles.join(",")),
            unique = |e| if StoreError::unique_on(&e, "mobile_hash") {
                StoreError::field("mobile", Code::DuplicateMobile)
            } else if StoreError::unique_on(&e, "accounts_member")
                || StoreError::unique_on(&e, "accounts.member_id")
            {
                // One account per member record (migration 0012).
                StoreError::field("target", Code::AlreadyActivated)
            } else {
                StoreError::field("username", Code::UsernameTaken)
            }
        )
        .map(AccountId)
    }

    /// A binding must fit its role: a town admin on a town, a unit admin on an existing unit …
    async fn check_binding(&self, b: &NewBinding) -> StoreResult<()> {
        let level = match b.place_id {
            Some(pid) => Some(
                self.get_place_unscoped(pid)
                    .await
                    .map_err(|_| StoreError::field("place_id", Code::InvalidPlace))?
                    .level()
                    .ok_or(StoreError::field("place_id", Code::InvalidPlace))?,
            ),
            None => None,
        };
        if let Some(u) = b.unit_id
            && !self.unit_exists(u).await?
        {
            return Err(StoreError::field("unit_id", Code::InvalidUnit));
        }
        if !binding_is_valid(b.role, level, b.unit_id.is_some(), b.member_id.is_some()) {
            return Err(StoreError::field("role", Code::InvalidRole));
        }
        Ok(())
    }

    /// Adds one more role to an account (a person may hold several).
    pub async fn add_role(&self, actor: &Actor, id: AccountId, b: &NewBinding) -> StoreResult<()> {
        self.get_account(id).await?;
        self.check_binding(b).await?;
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query("INSERT INTO role_assignments (account_id, role, place_id, unit_id, member_id, created_at) VALUES ($1,$2,$3,$4,$5,$6)")
                    .bind(id.0)
                    .bind(b.role.as_str())
                    .bind(b.place_id.map(|x| x.0))
                    .bind(b.unit_id.map(|x| x.0))
                    .bind(b.member_id.map(|x| x.0))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Some(())
            },
            |_done| AuditEntry::ok("account.add_role", format!("account:{id}"))
                .with_detail(b.role.as_str())
        )
    }

    /// Removes a role binding; an account keeps at least one.
    pub async fn remove_role(
        &self,
        actor: &Actor,
        id: AccountId,
        binding: RoleAssignmentId,
    ) -> StoreResult<()> {
        let bindings = self.account_bindings(id).await?;
        if !bindings.iter().any(|(b, _)| *b == binding) {
            return Err(StoreError::NotFound);
        }
        if bindings.len() <= 1 {
            return Err(StoreError::Refused(Code::InvalidRole));
        }
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query(
                    "UPDATE sessions SET role_assignment_id = NULL WHERE role_assignment_id = $1",
                )
                .bind(binding.0)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM role_assignments WHERE id = $1 AND account_id = $2")
                    .bind(binding.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                Some(())
            },
            |_done| AuditEntry::ok("account.remove_role", format!("account:{id}"))
                .with_detail(binding.0.to_string())
        )
    }

    /// Disables or re-enables an account; disabling ends its sessions.
    pub async fn set_account_active(
        &self,
        actor: &Actor,
        id: AccountId,
        active: bool,
    ) -> StoreResult<()> {
        self.get_account(id).await?;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query("UPDATE accounts SET active = $1 WHERE id = $2")
                    .bind(active)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                if !active {
                    sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                }
                Some(())
            },
            |_done| AuditEntry::ok(
                if active {
                    "account.enable"
                } else {
                    "account.disable"
                },
                format!("account:{id}")
            )
        )
    }

    /// Finds an account by username or by mobile number (through the keyed hash).
    pub async fn find_login(&self, login: &str) -> StoreResult<Option<Account>> {
        let login = login.trim();
        if let Ok(m) = shanzhi_domain::validate::mobile(login) {
            let hash = self.vault.search_hash(&m);
            let a: Option<Account> = rd!(self, |p| sqlx::query_as(concat!(
                "SELECT ",
                account_cols!(),
                " WHERE a.mobile_hash = $1"
            ))
            .bind(&hash)
            .fetch_optional(p)
            .await?);
            if a.is_some() {
                return Ok(a);
            }
            // A member logs in with the mobile registered on their member record too (the account may have
            // been created without one).
            let a: Option<Account> = rd!(self, |p| {
                sqlx::query_as(concat!(
                "SELECT ",
                account_cols!(),
                " WHERE a.active AND (a.member_id = (SELECT id FROM members WHERE mobile_hash = $1) \
                   OR a.id IN (SELECT ra.account_id FROM role_assignments ra JOIN members m ON m.id = ra.member_id \
                     WHERE m.mobile_hash = $1)) ORDER BY a.id LIMIT 1"
            ))
            .bind(&hash)
            .fetch_optional(p)
            .await?
            });
            if a.is_some() {
                return Ok(a);
            }
        }
        Ok(rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            account_cols!(),
            " WHERE a.username = $1"
        ))
        .bind(login.to_ascii_lowercase())
        .fetch_optional(p)
        .await?))
    }

    pub async fn get_account(&self, id: AccountId) -> StoreResult<Account> {
        let a: Option<Account> = rd!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            account_cols!(),
            " WHERE a.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(p)
        .await?);
        a.ok_or(StoreError::NotFound)
    }

    pub async fn account_mobile_masked(&self, id: AccountId) -> StoreResult<Option<String>> {
        let r: Option<(Option<String>,)> = rd!(self, |p| sqlx::query_as(
            "SELECT mobile_enc FROM accounts WHERE id = $1"
        )
        .bind(id.0)
        .fetch_optional(p)
        .await?);
        match r.and_then(|r| r.0) {
            Some(enc) => Ok(Some(mask::mobile(&self.vault.decrypt(&enc)?))),
            None => Ok(None),
        }
    }

    /// The account's role bindings with their scope.
    pub async fn account_bindings(
        &self,
        id: AccountId,
    ) -> StoreResult<Vec<(RoleAssignmentId, RoleBinding)>> {
        let rows: Vec<BindingRow> = rd!(self, |p| {
            sqlx::query_as(
            "SELECT r.id, r.role, r.place_id, pl.path AS place_path, pl.name AS place_name, r.unit_id, u.name AS unit_name, \
             r.member_id, m.name AS member_name FROM role_assignments r LEFT JOIN places pl ON pl.id = r.place_id \
             LEFT JOIN units u ON u.id = r.unit_id LEFT JOIN members m ON m.id = r.member_id WHERE r.account_id = $1 ORDER BY r.id"
        )
        .bind(id.0)
        .fetch_all(p)
        .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let role = Role::parse(&r.role)?;
                let scope_name = r
                    .place_name
                    .or(r.unit_name)
                    .or(r.member_name)
                    .unwrap_or_default();
                Some((
                    RoleAssignmentId(r.id),
                    RoleBinding {
                        role,
                        place_id: r.place_id.map(PlaceId),
                        place_path: r.place_path,
                        unit_id: r.unit_id.map(UnitId),
                        member_id: r.member_id.map(MemberId),
                        scope_name,
                    },
                ))
            })
            .collect())
    }

    /// Sets a new password hash and ends every session of the account. `must_change`: the password was set by
    /// someone else (a reset), so its owner changes it at the next login.
    pub async fn set_password(
        &self,
        actor: &Actor,
        id: AccountId,
        hash: &str,
        must_change: bool,
    ) -> StoreResult<()> {
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query(
                    "UPDATE accounts SET password_hash = $1, password_changed_at = $2, must_change_password = $4 \
                     WHERE id = $3",
                )
                .bind(hash)
                .bind(now)
                .bind(id.0)
                .bind(must_change)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM login_attempts WHERE account_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                Some(())
            },
            |_done| AuditEntry::ok("account.password_change", format!("account:{id}"))
        )
    }

    /// Test and operator helper: backdates the password change time (e.g. to exercise the 90-day rule).
    pub async fn set_password_changed_at(&self, id: AccountId, at: Timestamp) -> StoreResult<()> {
        wr!(self, |p| sqlx::query(
            "UPDATE accounts SET password_changed_at = $1 WHERE id = $2"
        )
        .bind(at.0)
        .bind(id.0)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    pub async fn set_totp(
        &self,
        actor: &Actor,
        id: AccountId,
        secret: Option<&str>,
        enabled: bool,
    ) -> StoreResult<()> {
        let enc = secret.map(|s| self.vault.encrypt(s)).transpose()?;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query(
                    "UPDATE accounts SET totp_secret_enc = $1, totp_enabled = $2, \
                     totp_last_step = CASE WHEN $2 THEN totp_last_step ELSE NULL END WHERE id = $3",
                )
                .bind(enc.as_deref())
                .bind(enabled)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
                Some(())
            },
            |_done| AuditEntry::ok(
                if enabled {
                    "account.totp_enable"
                } else {
                    "account.totp_pending"
                },
                format!("account:{id}")
            )
        )
    }

    pub fn decrypt_totp(&self, a: &Account) -> StoreResult<Option<String>> {
        Ok(a.totp_secret_enc
            .as_deref()
            .map(|e| self.vault.decrypt(e))
            .transpose()?)
    }

    pub async fn list_accounts(
        &self,
        f: &AccountFilter,
        page: PageReq,
    ) -> StoreResult<Page<AccountSummary>> {
        let like = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| format!("%{}%", like_escape(s)))
        };
        let q = like(&f.q);
        let scope = like(&f.scope);
        let role = f.role.as_deref().and_then(Role::parse).map(Role::as_str);
        rd!(self, |p| {
            let mut count = crate::qb(p, "SELECT COUNT(*) FROM accounts a WHERE 1 = 1");
            let mut list = crate::qb(
                p,
                "SELECT a.id, a.username, a.display_name, COALESCE(la.failures, 0) AS failed_logins, la.locked_until, \
                 a.totp_enabled, a.active, a.created_at FROM accounts a LEFT JOIN login_attempts la ON la.account_id = a.id \
                 WHERE 1 = 1",
            );
            for qb in [&mut count, &mut list] {
                if let Some(q) = &q {
                    qb.push(" AND (a.username LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\' OR a.display_name LIKE ")
                        .push_bind(q.clone())
                        .push(" ESCAPE '\\')");
                }
                if role.is_some() || scope.is_some() {
                    // One binding that has the role and whose place, unit or member name matches.
                    qb.push(
                        " AND EXISTS (SELECT 1 FROM role_assignments r LEFT JOIN places pl ON pl.id = r.place_id \
                         LEFT JOIN units u ON u.id = r.unit_id LEFT JOIN members m ON m.id = r.member_id \
                         WHERE r.account_id = a.id",
                    );
                    if let Some(role) = role {
                        qb.push(" AND r.role = ").push_bind(role);
                    }
                    if let Some(s) = &scope {
                        qb.push(" AND (pl.name LIKE ")
                            .push_bind(s.clone())
                            .push(" ESCAPE '\\' OR u.name LIKE ")
                            .push_bind(s.clone())
                            .push(" ESCAPE '\\' OR m.name LIKE ")
                            .push_bind(s.clone())
                            .push(" ESCAPE '\\')");
                    }
                    qb.push(")");
                }
            }
            list.push(" ORDER BY a.display_name, a.id LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
            let items: Vec<AccountSummary> = list.build_query_as().fetch_all(p).await?;
            Ok(Page::of(items, total, page))
        })
    }

    /// Places of `level` whose name contains `q`, for the staff-account picker (at most 20; the parent's name
    /// tells namesakes apart).
    pub async fn place_candidates(&self, level: &str, q: &str) -> StoreResult<Vec<BindCandidate>> {
        let q = format!("%{}%", like_escape(q.trim()));
        Ok(rd!(self, |p| {
            sqlx::query_as(
            "SELECT p.id, p.name, COALESCE(pp.name, '') AS detail FROM places p LEFT JOIN places pp ON pp.id = p.parent_id \
             WHERE p.level = $1 AND p.name LIKE $2 ESCAPE '\\' ORDER BY p.name, p.id LIMIT 20"
        )
        .bind(level)
        .bind(q)
        .fetch_all(p)
        .await?
        }))
    }

    /// Units whose name contains `q`, with where they are located (at most 20).
    pub async fn unit_candidates(&self, q: &str) -> StoreResult<Vec<BindCandidate>> {
        let q = format!("%{}%", like_escape(q.trim()));
        Ok(rd!(self, |p| {
            sqlx::query_as(
            "SELECT u.id, u.name, pl.name AS detail FROM units u JOIN places pl ON pl.id = u.place_id \
             WHERE u.name LIKE $1 ESCAPE '\\' ORDER BY u.name, u.id LIMIT 20"
        )
        .bind(q)
        .fetch_all(p)
        .await?
        }))
    }

    /// Members whose name contains `q`, with their unit and community (never a number; at most 20).
    pub async fn member_candidates(&self, q: &str) -> StoreResult<Vec<BindCandidate>> {
        let q = format!("%{}%", like_escape(q.trim()));
        Ok(rd!(self, |p| {
            sqlx::query_as(
            "SELECT m.id, m.name, u.name || ' · ' || c.name AS detail FROM members m JOIN units u ON u.id = m.unit_id \
             JOIN places c ON c.id = m.community_id WHERE m.name LIKE $1 ESCAPE '\\' ORDER BY m.name, m.id LIMIT 20"
        )
        .bind(q)
        .fetch_all(p)
        .await?
        }))
    }

    /// Lifts a lockout (security admin).
    pub async fn unlock_account(&self, actor: &Actor, id: AccountId) -> StoreResult<()> {
        self.get_account(id).await?;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query("DELETE FROM login_attempts WHERE account_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                Some(())
            },
            |_done| AuditEntry::ok("account.unlock", format!("account:{id}"))
        )
    }

    // ---------------------------------------------------------------- sessions

    /// Starts a session; returns the raw token (only its hash is stored).
    pub async fn create_session(
        &self,
        account: AccountId,
        kind: SessionKind,
        stage: SessionStage,
        role: Option<RoleAssignmentId>,
    ) -> StoreResult<String> {
        let token = token::random_token();
        let now = Timestamp::now();
        let expires = now.plus_minutes(SESSION_ABSOLUTE_HOURS * 60).0;
        wr!(self, |p| {
            sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, role_assignment_id, kind, stage, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$7,$8)"
        )
        .bind(token::sha256_hex(&token))
        .bind(account.0)
        .bind(role.map(|r| r.0))
        .bind(kind.as_str())
        .bind(stage.as_str())
        .bind(token::random_token())
        .bind(now.0)
        .bind(expires)
        .execute(p).await?.rows_affected()
        });
        Ok(token)
    }

    /// Looks a session up by its raw token, enforcing the idle and absolute timeouts (an expired session is
    /// deleted) and refreshing its idle clock.
    pub async fn session(&self, token: &str) -> StoreResult<Option<SessionInfo>> {
        let hash = token::sha256_hex(token);
        let row: Option<SessionRow> = rd!(self, |p| {
            sqlx::query_as(
            "SELECT s.token_hash, s.account_id, a.username, a.display_name, s.role_assignment_id, s.kind, s.stage, s.csrf_token, \
             s.last_seen_at, s.expires_at, a.active FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1"
        )
        .bind(&hash)
        .fetch_optional(p)
        .await?
        });
        let Some(row) = row else { return Ok(None) };
        let now = Timestamp::now();
        if !row.active
            || now.0 >= row.expires_at
            || now.0 - row.last_seen_at > SESSION_IDLE_MINUTES * 60_000
        {
            self.delete_session(&hash).await?;
            return Ok(None);
        }
        // Refresh at most once a minute, to keep reads cheap.
        if now.0 - row.last_seen_at > 60_000 {
            wr!(self, |p| sqlx::query(
                "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2"
            )
            .bind(now.0)
            .bind(&hash)
            .execute(p)
            .await?
            .rows_affected());
        }
        Ok(Some(SessionInfo {
            token_hash: row.token_hash,
            account_id: AccountId(row.account_id),
            username: row.username,
            display_name: row.display_name,
            role_assignment_id: row.role_assignment_id.map(RoleAssignmentId),
            stage: SessionStage::parse(&row.stage),
            csrf_token: row.csrf_token,
            kind: if row.kind == "api" {
                SessionKind::Api
            } else {
                SessionKind::Web
            },
        }))
    }

    pub async fn update_session(
        &self,
        token_hash: &str,
        stage: SessionStage,
        role: Option<RoleAssignmentId>,
    ) -> StoreResult<()> {
        wr!(self, |p| sqlx::query(
            "UPDATE sessions SET stage = $1, role_assignment_id = $2 WHERE token_hash = $3"
        )
        .bind(stage.as_str())
        .bind(role.map(|r| r.0))
        .bind(token_hash)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        wr!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Test helper: moves a session's clocks back by `minutes`, to exercise the timeouts without waiting.
    pub async fn age_session(
        &self,
        token: &str,
        idle_minutes: i64,
        absolute_minutes: i64,
    ) -> StoreResult<()> {
        wr!(self, |p| {
            sqlx::query(
            "UPDATE sessions SET last_seen_at = last_seen_at - $1, expires_at = expires_at - $2 WHERE token_hash = $3"
        )
        .bind(idle_minutes * 60_000)
        .bind(absolute_minutes * 60_000)
        .bind(token::sha256_hex(token))
        .execute(p).await?.rows_affected()
        });
        Ok(())
    }
}
