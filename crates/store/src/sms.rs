//! One-time SMS codes (issue 8.1, table `sms_codes`): stored under a keyed hash of the mobile and of the client
//! address, the code itself only as a keyed hash. A code works once, until it expires and for at most
//! `SMS_MAX_TRIES` wrong entries; only the newest code of a mobile and purpose counts. Sending is limited by
//! counting the rows sent lately (per mobile and per address), so every instance on the database agrees.

use shanzhi_domain::activation::{SMS_MAX_TRIES, SmsSent, may_send_sms};
use shanzhi_domain::{Code, Timestamp};

use crate::audit::{Actor, AuditEntry};
use crate::{Store, StoreError, StoreResult};

const KEY_PURPOSE: &str = "sms";
const CODE_PURPOSE: &str = "sms-code";
const HOUR_MS: i64 = 3_600_000;
/// Rows older than this are of no use to any limit or check and are deleted when a code is sent.
const KEEP_MS: i64 = 24 * HOUR_MS;

/// Who an SMS code is for, as stored: keyed hashes of the mobile (normal form) and of the client address.
#[derive(Debug, Clone)]
pub struct SmsKeys {
    pub mobile: String,
    pub addr: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    id: i64,
    code_hash: String,
    expires_at: i64,
    used_at: Option<i64>,
    attempts: i64,
}

impl Store {
    /// The keys an SMS code is stored and counted under.
    pub fn sms_keys(&self, mobile: &str, addr: Option<&str>) -> SmsKeys {
        let v = &self.vault;
        SmsKeys {
            mobile: v.purpose_mac(KEY_PURPOSE, &format!("mobile:{mobile}")),
            addr: addr.map(|a| v.purpose_mac(KEY_PURPOSE, &format!("addr:{a}"))),
        }
    }

    fn sms_code_hash(&self, keys: &SmsKeys, code: &str) -> String {
        self.vault
            .purpose_mac(CODE_PURPOSE, &format!("{}:{code}", keys.mobile))
    }

    /// Stores a new code for `keys` (valid until `expires_at`) unless the sending limits
    /// (`shanzhi_domain::activation::may_send_sms`) say wait — then `rate_limited` and nothing is written. The
    /// count and the insert share the transaction with the audit row (`sms_code.send` on `target`); rows older
    /// than a day are deleted on the way.
    pub async fn issue_sms_code(
        &self,
        actor: &Actor,
        keys: &SmsKeys,
        purpose: &str,
        code: &str,
        expires_at: Timestamp,
        target: &str,
    ) -> StoreResult<()> {
        let now = Timestamp::now().0;
        let hash = self.sms_code_hash(keys, code);
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query("DELETE FROM sms_codes WHERE created_at < $1")
                    .bind(now - KEEP_MS)
                    .execute(&mut *tx)
                    .await?;
                let (mobile_last_at, mobile_last_hour): (Option<i64>, i64) = sqlx::query_as(
                    "SELECT MAX(created_at), COUNT(*) FROM sms_codes WHERE mobile_hash = $1 AND created_at > $2",
                )
                .bind(&keys.mobile)
                .bind(now - HOUR_MS)
                .fetch_one(&mut *tx)
                .await?;
                let addr_last_hour: i64 = match &keys.addr {
                    Some(addr) => sqlx::query_scalar(
                        "SELECT COUNT(*) FROM sms_codes WHERE addr_hash = $1 AND created_at > $2",
                    )
                    .bind(addr)
                    .bind(now - HOUR_MS)
                    .fetch_one(&mut *tx)
                    .await?,
                    None => 0,
                };
                let sent = SmsSent {
                    mobile_last_at,
                    mobile_last_hour,
                    addr_last_hour,
                };
                if may_send_sms(&sent, now).is_err() {
                    None
                } else {
                    sqlx::query(
                        "INSERT INTO sms_codes (mobile_hash, addr_hash, purpose, code_hash, created_at, expires_at, used_at, attempts) \
                         VALUES ($1,$2,$3,$4,$5,$6,NULL,0)",
                    )
                    .bind(&keys.mobile)
                    .bind(keys.addr.as_deref())
                    .bind(purpose)
                    .bind(&hash)
                    .bind(now)
                    .bind(expires_at.0)
                    .execute(&mut *tx)
                    .await?;
                    Some(())
                }
            },
            |_done| AuditEntry::ok("sms_code.send", target.to_string())
                .with_detail(purpose.to_string()),
            guard = StoreError::Refused(Code::RateLimited)
        )
    }

    /// Uses up the newest code sent for `keys` and `purpose` when `code` (normalised; `None`: not of the right
    /// form) is it, it has not expired, was not used and has had fewer than `SMS_MAX_TRIES` wrong entries.
    /// A wrong entry counts against the code. Returns whether the code was accepted.
    pub async fn use_sms_code(
        &self,
        keys: &SmsKeys,
        purpose: &str,
        code: Option<&str>,
    ) -> StoreResult<bool> {
        let now = Timestamp::now().0;
        let row: Option<CodeRow> = rd!(self, |p| {
            sqlx::query_as(
                "SELECT id, code_hash, expires_at, used_at, attempts FROM sms_codes \
                 WHERE mobile_hash = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1",
            )
            .bind(&keys.mobile)
            .bind(purpose)
            .fetch_optional(p)
            .await?
        });
        let Some(row) = row else { return Ok(false) };
        if row.used_at.is_some() || row.expires_at <= now || row.attempts >= SMS_MAX_TRIES {
            return Ok(false);
        }
        let matches = code.is_some_and(|c| {
            shanzhi_secure::token::ct_eq(&self.sms_code_hash(keys, c), &row.code_hash)
        });
        if !matches {
            wr!(self, |p| sqlx::query(
                "UPDATE sms_codes SET attempts = attempts + 1 WHERE id = $1"
            )
            .bind(row.id)
            .execute(p)
            .await?
            .rows_affected());
            return Ok(false);
        }
        let used = wr!(self, |p| {
            sqlx::query(
            "UPDATE sms_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND attempts < $3 AND expires_at > $2"
        )
        .bind(row.id)
        .bind(now)
        .bind(SMS_MAX_TRIES)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(used == 1)
    }
}
