//! Joint party-building projects (党建联建项目) between a unit and a community: planned activities marked done,
//! progress, and the community's grade at the end.

use shanzhi_domain::org::DictKind;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{ActivityInput, ProjectGrade, ProjectInput};
use shanzhi_domain::role::Action;
use shanzhi_domain::{ActivityId, Code, FieldErrors, PairingId, ProjectId, Timestamp};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::{
    Pairing, PairingFilter, PairingProgress, Project, ProjectActivity, ProjectFilter,
};
use shanzhi_store::{Page, PageReq};

use super::Pairings;
use crate::{AppError, Caller, CaseResult};

/// A project with its activities and the progress of the agreement it belongs to, if any.
#[derive(Debug, Clone)]
pub struct ProjectWithActivities {
    pub project: Project,
    pub activities: Vec<ProjectActivity>,
    pub pairing_progress: Option<PairingProgress>,
    pub offers: ProjectOffers,
}

/// What a caller may do with one project.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectOffers {
    /// Add activities and mark them done.
    pub manage: bool,
    /// Grade it (once: only while ungraded).
    pub grade: bool,
}

/// The choices of the project form.
#[derive(Debug, Clone)]
pub struct ProjectFormOptions {
    pub categories: Vec<DictEntry>,
    pub pairings: Vec<Pairing>,
    pub units: Vec<(i64, String)>,
    pub communities: Vec<PlaceOption>,
}

impl Pairings<'_> {
    /// What the caller may do with `p` (see [`ProjectOffers`]).
    pub fn project_offers(&self, c: &Caller, p: &Project) -> ProjectOffers {
        ProjectOffers {
            manage: c.may(Action::ProjectManage),
            grade: c.may(Action::ProjectGrade) && p.grade.is_none(),
        }
    }

    /// Projects in scope, newest first.
    pub async fn projects(
        &self,
        c: &Caller,
        f: &ProjectFilter,
        page: PageReq,
    ) -> CaseResult<Page<Project>> {
        c.require(Action::PairingView)?;
        Ok(self.store().list_projects(c.scope(), f, page).await?)
    }

    /// One project with its activities and progress.
    pub async fn project(&self, c: &Caller, id: ProjectId) -> CaseResult<ProjectWithActivities> {
        c.require(Action::PairingView)?;
        let project = self.store().get_project(c.scope(), id).await?;
        let activities = self.store().list_project_activities(c.scope(), id).await?;
        let pairing_progress = match project.pairing_id {
            Some(p) => Some(
                self.store()
                    .pairing_progress(c.scope(), PairingId(p))
                    .await?,
            ),
            None => None,
        };
        Ok(ProjectWithActivities {
            offers: self.project_offers(c, &project),
            project,
            activities,
            pairing_progress,
        })
    }

    /// A project's planned activities, by date.
    pub async fn project_activities(
        &self,
        c: &Caller,
        id: ProjectId,
    ) -> CaseResult<Vec<ProjectActivity>> {
        c.require(Action::PairingView)?;
        Ok(self.store().list_project_activities(c.scope(), id).await?)
    }

    /// The choices of the project form: categories, agreements in scope, units and communities to name.
    pub async fn project_form_options(&self, c: &Caller) -> CaseResult<ProjectFormOptions> {
        c.require(Action::ProjectManage)?;
        Ok(ProjectFormOptions {
            categories: self.store().list_dict(DictKind::NeedCategory, true).await?,
            pairings: self
                .store()
                .list_pairings(
                    c.scope(),
                    &PairingFilter::default(),
                    PageReq::new(Some(1), Some(200)),
                )
                .await?
                .items,
            units: self
                .store()
                .unit_options(&c.scope().nameable_units())
                .await?,
            communities: self
                .store()
                .place_options(c.scope(), &[PlaceLevel::Community])
                .await?,
        })
    }

    /// Creates a project between a unit and a community in the caller's subtree.
    pub async fn create_project(&self, c: &Caller, input: &ProjectInput) -> CaseResult<ProjectId> {
        c.require(Action::ProjectManage)?;
        let v = input.validate()?;
        Ok(self
            .store()
            .create_project(c.actor(), c.scope(), &v)
            .await?)
    }

    /// Adds a planned activity to a project in scope.
    pub async fn add_project_activity(
        &self,
        c: &Caller,
        id: ProjectId,
        input: &ActivityInput,
    ) -> CaseResult<ActivityId> {
        c.require(Action::ProjectManage)?;
        self.store().get_project(c.scope(), id).await?;
        let v = input.validate()?;
        Ok(self
            .store()
            .add_project_activity(c.actor(), c.scope(), id, &v)
            .await?)
    }

    /// Marks an activity done on `done_on` (`YYYY-MM-DD`; today in Shanghai when blank), once
    /// (`illegal_transition` after).
    pub async fn mark_activity_done(
        &self,
        c: &Caller,
        id: ActivityId,
        done_on: Option<&str>,
    ) -> CaseResult<()> {
        c.require(Action::ProjectManage)?;
        let done_on = done_on
            .filter(|d| !d.trim().is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| Timestamp::now().shanghai_date());
        Ok(self
            .store()
            .mark_activity_done(c.actor(), c.scope(), id, &done_on)
            .await?)
    }

    /// [`Self::mark_activity_done`] from a project's page, which names the project to go back to: a form
    /// without it is refused as not found before anything is written.
    pub async fn mark_activity_done_from(
        &self,
        c: &Caller,
        project: Option<ProjectId>,
        id: ActivityId,
        done_on: Option<&str>,
    ) -> CaseResult<ProjectId> {
        c.require(Action::ProjectManage)?;
        let project = project.ok_or(AppError::new(Code::NotFound))?;
        self.mark_activity_done(c, id, done_on).await?;
        Ok(project)
    }

    /// The community grades a project in scope (优/中/差 or excellent/fair/poor), once; an unknown grade is a
    /// `grade` field error. Returns the project as graded.
    pub async fn grade_project(
        &self,
        c: &Caller,
        id: ProjectId,
        grade: &str,
    ) -> CaseResult<ProjectWithActivities> {
        c.require(Action::ProjectGrade)?;
        self.store().get_project(c.scope(), id).await?;
        let grade = ProjectGrade::parse(grade)
            .ok_or_else(|| AppError::from(FieldErrors::single("grade", Code::InvalidChoice)))?;
        self.store()
            .grade_project(c.actor(), c.scope(), id, grade)
            .await?;
        self.project(c, id).await
    }
}
