//! A person's own data (个人信息导出): everything held about the signed-in account and, for a member binding,
//! its member record, with their own numbers in full. Any signed-in person may ask; the export is audited.

use shanzhi_domain::Code;
use shanzhi_store::own_data::OwnData;

use crate::{AppError, Caller, CaseResult, Cases};

/// The use case of exporting one's own data.
pub struct OwnDataCases<'a>(&'a Cases);

impl Cases {
    pub fn own_data(&self) -> OwnDataCases<'_> {
        OwnDataCases(self)
    }
}

impl OwnDataCases<'_> {
    /// Everything held about the caller (the command-line operator has no account: refused).
    pub async fn export(&self, c: &Caller) -> CaseResult<OwnData> {
        let account = c.account_id().ok_or(AppError::new(Code::Forbidden))?;
        Ok(self
            .0
            .store
            .export_own_data(c.actor(), account, c.own_member())
            .await?)
    }
}
