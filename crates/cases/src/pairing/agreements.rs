//! Pairing agreements (结对签约) between a unit's party organisation and a community's: drafted by a place admin,
//! moved along draft → signed → running → ended | renewed, with progress against their activity targets.

use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{PairingInput, PairingStatus};
use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, PairingId};
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::{
    Pairing, PairingFilter, PairingProgress, Project, ProjectFilter,
};
use shanzhi_store::{Page, PageReq};

use super::Pairings;
use crate::{AppError, Caller, CaseResult};

/// One agreement with its progress against targets.
#[derive(Debug, Clone)]
pub struct PairingWithProgress {
    pub pairing: Pairing,
    pub progress: PairingProgress,
}

/// What a caller may do with agreements and their projects.
#[derive(Debug, Clone, Copy, Default)]
pub struct PairingOffers {
    /// Draft agreements and move them along.
    pub manage: bool,
    /// Start a joint project under an agreement.
    pub project: bool,
}

/// An agreement's page: the agreement, its progress, its projects and the statuses it may move to next.
#[derive(Debug, Clone)]
pub struct PairingPage {
    pub pairing: Pairing,
    pub progress: PairingProgress,
    pub projects: Vec<Project>,
    /// Statuses the agreement may move to next: (code, label).
    pub next: Vec<(&'static str, &'static str)>,
    pub offers: PairingOffers,
}

/// The choices of the agreement form: units and communities the caller may name.
#[derive(Debug, Clone)]
pub struct PairingFormOptions {
    pub units: Vec<(i64, String)>,
    pub communities: Vec<PlaceOption>,
}

impl Pairings<'_> {
    /// What the caller may do with agreements (see [`PairingOffers`]).
    pub fn pairing_offers(&self, c: &Caller) -> PairingOffers {
        PairingOffers {
            manage: c.may(Action::PairingManage),
            project: c.may(Action::ProjectManage),
        }
    }

    /// Agreements in scope, newest first.
    pub async fn pairings(
        &self,
        c: &Caller,
        f: &PairingFilter,
        page: PageReq,
    ) -> CaseResult<Page<Pairing>> {
        c.require(Action::PairingView)?;
        Ok(self.store().list_pairings(c.scope(), f, page).await?)
    }

    /// One agreement in scope.
    pub async fn pairing(&self, c: &Caller, id: PairingId) -> CaseResult<Pairing> {
        c.require(Action::PairingView)?;
        Ok(self.store().get_pairing(c.scope(), id).await?)
    }

    /// One agreement with its progress.
    pub async fn pairing_detail(
        &self,
        c: &Caller,
        id: PairingId,
    ) -> CaseResult<PairingWithProgress> {
        c.require(Action::PairingView)?;
        Ok(PairingWithProgress {
            pairing: self.store().get_pairing(c.scope(), id).await?,
            progress: self.store().pairing_progress(c.scope(), id).await?,
        })
    }

    /// One agreement with its progress, its projects and what the caller may do next.
    pub async fn pairing_page(&self, c: &Caller, id: PairingId) -> CaseResult<PairingPage> {
        c.require(Action::PairingView)?;
        let pairing = self.store().get_pairing(c.scope(), id).await?;
        let progress = self.store().pairing_progress(c.scope(), id).await?;
        let projects = self
            .store()
            .list_projects(
                c.scope(),
                &ProjectFilter {
                    pairing_id: Some(id.0),
                    ..Default::default()
                },
                PageReq::new(Some(1), Some(100)),
            )
            .await?
            .items;
        let next = match pairing.status() {
            Some(from) => PairingStatus::ALL
                .iter()
                .filter(|to| from.advance(**to).is_ok())
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            None => Vec::new(),
        };
        Ok(PairingPage {
            pairing,
            progress,
            projects,
            next,
            offers: self.pairing_offers(c),
        })
    }

    /// The units and communities an agreement drafted by the caller may name.
    pub async fn pairing_form_options(&self, c: &Caller) -> CaseResult<PairingFormOptions> {
        c.require(Action::PairingManage)?;
        Ok(PairingFormOptions {
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

    /// Drafts an agreement between a unit and a community in the caller's subtree.
    pub async fn create_pairing(&self, c: &Caller, input: &PairingInput) -> CaseResult<PairingId> {
        c.require(Action::PairingManage)?;
        let v = input.validate()?;
        Ok(self
            .store()
            .create_pairing(c.actor(), c.scope(), &v)
            .await?)
    }

    /// Moves an agreement to status `to` (its code); other moves, and unknown codes, are refused with
    /// `illegal_transition`. Signing records `signed_on` (`YYYY-MM-DD`; today in Shanghai when blank).
    pub async fn set_pairing_status(
        &self,
        c: &Caller,
        id: PairingId,
        to: &str,
        signed_on: Option<&str>,
    ) -> CaseResult<PairingWithProgress> {
        c.require(Action::PairingManage)?;
        self.store().get_pairing(c.scope(), id).await?;
        let to = PairingStatus::parse(to.trim()).ok_or(AppError::new(Code::IllegalTransition))?;
        self.store()
            .set_pairing_status(c.actor(), c.scope(), id, to, signed_on)
            .await?;
        self.pairing_detail(c, id).await
    }
}
