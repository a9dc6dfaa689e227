//! 后台任务: the jobs of the job runner a caller may see — the ones they started, and imports within their scope
//! (all of them for district-wide roles) — newest first.

use shanzhi_domain::role::Action;
use shanzhi_store::jobs::{JobFilter, JobRow};
use shanzhi_store::{Page, PageReq};

use crate::{Caller, CaseResult, Cases};

/// The use cases of background jobs.
pub struct Jobs<'a>(&'a Cases);

impl Cases {
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs(self)
    }
}

impl Jobs<'_> {
    /// The jobs the caller may see, filtered by state and kind.
    pub async fn list(&self, c: &Caller, f: &JobFilter, page: PageReq) -> CaseResult<Page<JobRow>> {
        c.require(Action::JobView)?;
        Ok(self
            .0
            .store
            .list_jobs(c.scope(), c.account_id(), f, page)
            .await?)
    }

    /// One job (not found when it does not exist or the caller may not see it).
    pub async fn get(&self, c: &Caller, id: i64) -> CaseResult<JobRow> {
        c.require(Action::JobView)?;
        Ok(self.0.store.get_job(c.scope(), c.account_id(), id).await?)
    }
}
