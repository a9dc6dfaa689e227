//! Login state shared by every app instance: failed logins per login name (lockout) and per client address
//! (throttling), the last TOTP step accepted, and re-hashing a password whose Argon2 parameters are out of date.
//!
//! A record is keyed by a keyed hash (the vault's search key, purpose `login-attempt`) of `acct:<id>` for an account,
//! `name:<identifier>` for a login name no account has, or `addr:<ip>` for a client address; neither the typed name
//! nor the address is stored. The rules are in `shanzhi_domain::password::Attempts`; an account and an unknown name
//! are recorded alike, so lockout does not reveal which names exist.

use shanzhi_domain::password::Attempts;
use shanzhi_domain::{AccountId, Timestamp};

use crate::audit::{Actor, AuditEntry};
use crate::{Store, StoreResult};

const PURPOSE: &str = "login-attempt";

/// What one login attempt is recorded under.
#[derive(Debug, Clone)]
pub struct LoginKeys {
    /// Keyed hash of the login name: `acct:<id>` when the name belongs to an account, else `name:<identifier>`.
    pub subject: String,
    /// The account, when the name belongs to one (its record is cleared at a successful login or an unlock).
    pub account: Option<AccountId>,
    /// Keyed hash of `addr:<ip>`, when the client address is known.
    pub addr: Option<String>,
}

/// The state that decides whether a login attempt is even checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginState {
    /// The login name is locked (five failures in a row).
    pub locked: bool,
    /// The client address has used up its failures for the window.
    pub throttled: bool,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    key_hash: String,
    failures: i64,
    first_failed_at: i64,
    last_failed_at: i64,
    locked_until: Option<i64>,
}

impl AttemptRow {
    fn attempts(&self) -> Option<Attempts> {
        (self.failures > 0).then_some(Attempts {
            failures: self.failures,
            first_at: self.first_failed_at,
            last_at: self.last_failed_at,
            locked_until: self.locked_until,
        })
    }
}

/// A login identifier as the account lookup reads it: a mobile number in its normal form, else the lowercased
/// username.
pub fn normalize_login(login: &str) -> String {
    let login = login.trim();
    match shanzhi_domain::validate::mobile(login) {
        Ok(m) => m,
        Err(_) => login.to_ascii_lowercase(),
    }
}

impl Store {
    /// The keys of a login attempt: the account's when `account` is known, else the typed name's.
    pub fn login_keys(
        &self,
        account: Option<AccountId>,
        login: &str,
        addr: Option<&str>,
    ) -> LoginKeys {
        let subject = match account {
            Some(id) => format!("acct:{id}"),
            None => format!("name:{}", normalize_login(login)),
        };
        LoginKeys {
            subject: self.vault.purpose_mac(PURPOSE, &subject),
            account,
            addr: addr.map(|a| self.vault.purpose_mac(PURPOSE, &format!("addr:{a}"))),
        }
    }

    /// How a login name that belongs to no account appears in the audit log: a short keyed hash (`未知账号#3fa9c1`),
    /// never what was typed (it may be someone's mobile number).
    pub fn unknown_login_label(&self, login: &str) -> String {
        let h = self
            .vault
            .purpose_mac(PURPOSE, &format!("name:{}", normalize_login(login)));
        format!("未知账号#{}", h.get(..6).unwrap_or_default())
    }

    /// Whether the login name is locked and whether the address is throttled.
    pub async fn login_state(&self, keys: &LoginKeys, now: Timestamp) -> StoreResult<LoginState> {
        let addr = keys.addr.as_deref().unwrap_or(&keys.subject);
        let rows: Vec<AttemptRow> = rd!(self, |p| {
            sqlx::query_as(
            "SELECT key_hash, failures, first_failed_at, last_failed_at, locked_until FROM login_attempts \
             WHERE key_hash = $1 OR key_hash = $2"
        )
        .bind(&keys.subject)
        .bind(addr)
        .fetch_all(p)
        .await?
        });
        let mut state = LoginState::default();
        for row in &rows {
            let Some(a) = row.attempts() else { continue };
            if row.key_hash == keys.subject {
                state.locked = a.locked(now);
            }
            if Some(&row.key_hash) == keys.addr.as_ref() {
                state.throttled = a.throttled(now);
            }
        }
        Ok(state)
    }

    /// Records a failed login under the name and the address (atomically, so instances sharing the database
    /// count together); returns whether the name is now locked. Records nobody needs any more are pruned.
    pub async fn login_failed(&self, keys: &LoginKeys, now: Timestamp) -> StoreResult<bool> {
        let mut wanted: Vec<(&str, Option<i64>)> =
            vec![(keys.subject.as_str(), keys.account.map(|a| a.0))];
        if let Some(addr) = keys.addr.as_deref().filter(|a| *a != keys.subject) {
            wanted.push((addr, None));
        }
        // Always lock rows in the same order, so that two concurrent failures cannot deadlock.
        wanted.sort_by(|a, b| a.0.cmp(b.0));
        let addr = wanted
            .iter()
            .map(|w| w.0)
            .find(|k| *k != keys.subject)
            .unwrap_or(keys.subject.as_str());
        let cutoff = now.0 - shanzhi_domain::password::FAILURE_MEMORY_HOURS * 3_600_000;
        let pg = self.is_pg();
        let locked = wr!(self, |p| {
            let mut tx = p.begin().await?;
            for (key, account) in &wanted {
                sqlx::query(
                    "INSERT INTO login_attempts (key_hash, account_id, failures, first_failed_at, last_failed_at) \
                     VALUES ($1, $2, 0, $3, $3) ON CONFLICT (key_hash) DO NOTHING",
                )
                .bind(*key)
                .bind(*account)
                .bind(now.0)
                .execute(&mut *tx)
                .await?;
            }
            let rows: Vec<AttemptRow> = if pg {
                sqlx::query_as(
                    "SELECT key_hash, failures, first_failed_at, last_failed_at, locked_until FROM login_attempts \
                     WHERE key_hash = $1 OR key_hash = $2 ORDER BY key_hash FOR UPDATE",
                )
                .bind(&keys.subject)
                .bind(addr)
                .fetch_all(&mut *tx)
                .await?
            } else {
                sqlx::query_as(
                    "SELECT key_hash, failures, first_failed_at, last_failed_at, locked_until FROM login_attempts \
                     WHERE key_hash = $1 OR key_hash = $2 ORDER BY key_hash",
                )
                .bind(&keys.subject)
                .bind(addr)
                .fetch_all(&mut *tx)
                .await?
            };
            let mut locked = false;
            for row in &rows {
                let next = if row.key_hash == keys.subject {
                    let next = Attempts::after_failure(row.attempts(), now);
                    locked = next.locked(now);
                    next
                } else {
                    Attempts::after_address_failure(row.attempts(), now)
                };
                sqlx::query(
                    "UPDATE login_attempts SET failures = $1, first_failed_at = $2, last_failed_at = $3, \
                     locked_until = $4 WHERE key_hash = $5",
                )
                .bind(next.failures)
                .bind(next.first_at)
                .bind(next.last_at)
                .bind(next.locked_until)
                .bind(&row.key_hash)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "DELETE FROM login_attempts WHERE last_failed_at < $1 AND (locked_until IS NULL OR locked_until <= $2)",
            )
            .bind(cutoff)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            locked
        });
        Ok(locked)
    }

    /// A successful login (password and, where needed, second factor): the account's failures are forgotten.
    pub async fn login_succeeded(&self, id: AccountId) -> StoreResult<()> {
        wr!(self, |p| sqlx::query(
            "DELETE FROM login_attempts WHERE account_id = $1"
        )
        .bind(id.0)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Accepts TOTP time step `step` for the account unless a step at or after it was accepted already (a code
    /// works once, also across instances). Returns whether it was accepted.
    pub async fn accept_totp_step(&self, id: AccountId, step: u64) -> StoreResult<bool> {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let n = wr!(self, |p| {
            sqlx::query(
            "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)"
        )
        .bind(step)
        .bind(id.0)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }

    /// Replaces a password hash made with out-of-date Argon2 parameters by `new_hash` (same password, current
    /// parameters), unless the password changed meanwhile. Sessions are kept; the change is audited.
    pub async fn rehash_password(
        &self,
        actor: &Actor,
        id: AccountId,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        let changed = wr!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE accounts SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            )
            .bind(new_hash)
            .bind(id.0)
            .bind(old_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                audit_in_tx!(
                    self,
                    tx,
                    actor,
                    &AuditEntry::ok("account.password_rehash", format!("account:{id}"))
                );
            }
            tx.commit().await?;
            n == 1
        });
        Ok(changed)
    }
}
