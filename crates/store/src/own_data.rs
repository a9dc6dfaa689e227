//! "People can export their own data" (DOMAIN): everything the system holds about the signed-in person, with their
//! own numbers in full. The export is audited like any full-value view.

use serde::Serialize;
use shanzhi_domain::role::Scope;
use shanzhi_domain::{AccountId, MemberId, Timestamp};

use crate::audit::{Actor, AuditEntry};
use crate::orgs::Member;
use crate::registration::{Registration, RegistrationFilter};
use crate::{PageReq, Store, StoreResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnData {
    /// When the export was made: Asia/Shanghai time, and UTC milliseconds for machines.
    pub exported_at: String,
    pub username: String,
    pub display_name: String,
    /// The account's own mobile number, in full.
    pub account_mobile: Option<String>,
    pub member: Option<Member>,
    /// The member record's numbers, in full.
    pub member_mobile: Option<String>,
    pub member_id_card: Option<String>,
    pub registrations: Vec<Registration>,
}

impl Store {
    /// Everything held about one account (and its member record, if any), for that person to download.
    pub async fn export_own_data(
        &self,
        actor: &Actor,
        account: AccountId,
        member: Option<MemberId>,
    ) -> StoreResult<OwnData> {
        let a = self.get_account(account).await?;
        let enc: Option<(Option<String>,)> = rd!(self, |p| sqlx::query_as(
            "SELECT mobile_enc FROM accounts WHERE id = $1"
        )
        .bind(account.0)
        .fetch_optional(p)
        .await?);
        let account_mobile = enc
            .and_then(|e| e.0)
            .map(|e| self.vault.decrypt(&e))
            .transpose()?;
        let member = member.or(a.member_id.map(MemberId));
        let (m, numbers, registrations) = match member {
            Some(id) => {
                let scope = Scope::Member(id);
                let m = self.get_member(&scope, id).await?;
                let (mobile_enc, id_enc): (String, Option<String>) = rd!(self, |p| sqlx::query_as(
                    "SELECT mobile_enc, id_card_enc FROM members WHERE id = $1"
                )
                .bind(id.0)
                .fetch_one(p)
                .await?);
                let numbers = (
                    Some(self.vault.decrypt(&mobile_enc)?),
                    id_enc.map(|e| self.vault.decrypt(&e)).transpose()?,
                );
                let regs = self
                    .list_registrations(
                        &scope,
                        &RegistrationFilter::default(),
                        PageReq::new(Some(1), Some(200)),
                    )
                    .await?
                    .items;
                (Some(m), numbers, regs)
            }
            None => (None, (None, None), Vec::new()),
        };
        self.append_audit(
            actor,
            &AuditEntry::ok("account.export_own_data", format!("account:{account}")),
        )
        .await?;
        Ok(OwnData {
            exported_at: exported_at_text(Timestamp::now()),
            username: a.username,
            display_name: a.display_name,
            account_mobile,
            member: m,
            member_mobile: numbers.0,
            member_id_card: numbers.1,
            registrations,
        })
    }
}

fn exported_at_text(t: Timestamp) -> String {
    format!("{} (Asia/Shanghai), {} ms UTC", t.shanghai(), t.0)
}
