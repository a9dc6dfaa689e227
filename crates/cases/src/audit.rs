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
}
