//! Reading the audit log (the auditor only), newest first.

use shanzhi_domain::role::Action;
use shanzhi_store::{AuditFilter, AuditRow, Page, PageReq};

use crate::{Caller, CaseResult, Cases};

/// The use cases of the audit log.
pub struct Audit<'a>(&'a Cases);

impl Cases {
    pub fn audit(&self) -> Audit<'_> {
        Audit(self)
    }
}

impl Audit<'_> {
    /// Audit entries matching `f`, newest first.
    pub async fn list(
        &self,
        c: &Caller,
        f: &AuditFilter,
        page: PageReq,
    ) -> CaseResult<Page<AuditRow>> {
        c.require(Action::AuditView)?;
        Ok(self.0.store.list_audit(f, page).await?)
    }

    /// Who did each entry, as people know them: the account's display name (the login name only for an account
    /// that no longer exists; unknown names stay the keyed label they were recorded with).
    pub async fn actor_names(&self, c: &Caller, rows: &[AuditRow]) -> CaseResult<Vec<String>> {
        c.require(Action::AuditView)?;
        let mut known: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let name = match r.actor_id {
                Some(id) => match known.get(&id) {
                    Some(n) => n.clone(),
                    None => {
                        let n = match self
                            .0
                            .store
                            .get_account(shanzhi_domain::AccountId(id))
                            .await
                        {
                            Ok(a) => a.display_name,
                            Err(shanzhi_store::StoreError::NotFound) => r.actor.clone(),
                            Err(e) => return Err(e.into()),
                        };
                        known.insert(id, n.clone());
                        n
                    }
                },
                None => match r.actor.as_str() {
                    "cli" | "operator" => "命令行操作员".to_string(),
                    "demo" => "演示数据".to_string(),
                    "sealer" | "system" | "runner" => "系统".to_string(),
                    other => other.to_string(),
                },
            };
            out.push(name);
        }
        Ok(out)
    }
}
