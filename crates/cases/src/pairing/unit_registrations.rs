//! Unit registrations (组团式报到) and their review by the town or community.

use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::{ResourceInput, UnitRegistrationInput, UnitRegistrationStatus};
use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, FieldErrors, UnitId, UnitRegistrationId};
use shanzhi_store::orgs::Unit;
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::units::{
    GridPartner, Resource, UnitRegistration, UnitRegistrationFilter,
};
use shanzhi_store::{Page, PageReq};

use super::Pairings;
use crate::{AppError, Caller, CaseResult};

/// What the registration form shows: the caller's unit, the open round's name and the towns and communities the
/// unit may register with (the whole district).
#[derive(Debug, Clone)]
pub struct UnitRegistrationForm {
    pub unit: Unit,
    pub round_name: Option<String>,
    pub places: Vec<PlaceOption>,
}

/// What a caller may do with one unit registration.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitRegistrationOffers {
    /// The caller is the admin of the registered unit (withdraw, resubmit).
    pub is_owner: bool,
    /// Accept or return (a submitted registration, for the town or community it names).
    pub review: bool,
    /// Link the unit to grids as a partner (an accepted registration, for its community).
    pub partner: bool,
}

/// A unit registration with what its page shows beside it.
#[derive(Debug, Clone)]
pub struct UnitRegistrationPage {
    pub registration: UnitRegistration,
    /// The unit's active resources.
    pub resources: Vec<Resource>,
    /// The unit's grid partner links under the registration's place.
    pub partners: Vec<GridPartner>,
    /// Grids under the registration's place the unit is not yet a partner of (when `offers.partner`).
    pub grids: Vec<PlaceOption>,
    pub offers: UnitRegistrationOffers,
}

/// Resource fields of the combined registration form are named with this prefix.
fn resource_field(field: &'static str) -> &'static str {
    match field {
        "title" => "res_title",
        "capacity" => "res_capacity",
        "schedule" => "res_schedule",
        "description" => "res_description",
        other => other,
    }
}

impl Pairings<'_> {
    /// The unit a unit admin registers; anyone else is refused.
    fn caller_unit(&self, c: &Caller) -> CaseResult<UnitId> {
        c.require(Action::UnitRegistrationSubmit)?;
        c.own_unit().ok_or(AppError::new(Code::Forbidden))
    }

    /// Whether the caller may register a unit (a unit admin, for their unit).
    pub fn may_submit_unit_registration(&self, c: &Caller) -> bool {
        c.may(Action::UnitRegistrationSubmit) && c.own_unit().is_some()
    }

    /// Unit registrations in scope (place admins: their subtree; unit admins: their own), newest first.
    pub async fn unit_registrations(
        &self,
        c: &Caller,
        f: &UnitRegistrationFilter,
        page: PageReq,
    ) -> CaseResult<Page<UnitRegistration>> {
        c.require(Action::PairingView)?;
        Ok(self
            .store()
            .list_unit_registrations(c.scope(), f, page)
            .await?)
    }

    /// One unit registration in scope.
    pub async fn unit_registration(
        &self,
        c: &Caller,
        id: UnitRegistrationId,
    ) -> CaseResult<UnitRegistration> {
        c.require(Action::PairingView)?;
        Ok(self.store().get_unit_registration(c.scope(), id).await?)
    }

    /// What a caller may do with `r` (see [`UnitRegistrationOffers`]).
    pub fn unit_registration_offers(
        &self,
        c: &Caller,
        r: &UnitRegistration,
    ) -> UnitRegistrationOffers {
        UnitRegistrationOffers {
            is_owner: c.may(Action::UnitRegistrationSubmit)
                && c.own_unit() == Some(UnitId(r.unit_id)),
            review: c.may(Action::UnitRegistrationReview)
                && r.status() == UnitRegistrationStatus::Submitted,
            partner: c.may(Action::GridPartnerManage)
                && r.status() == UnitRegistrationStatus::Accepted,
        }
    }

    /// A unit registration with its unit's resources, its grid partners and, for its community, the grids it
    /// may still be linked to.
    pub async fn unit_registration_page(
        &self,
        c: &Caller,
        id: UnitRegistrationId,
    ) -> CaseResult<UnitRegistrationPage> {
        c.require(Action::PairingView)?;
        let r = self.store().get_unit_registration(c.scope(), id).await?;
        let resources = self
            .store()
            .list_resources(c.scope(), Some(UnitId(r.unit_id)))
            .await?;
        let partners: Vec<GridPartner> = self
            .store()
            .list_grid_partners(c.scope())
            .await?
            .into_iter()
            .filter(|p| p.unit_id == r.unit_id && p.place_path.starts_with(&r.place_path))
            .collect();
        let offers = self.unit_registration_offers(c, &r);
        let grids = if offers.partner {
            self.store()
                .place_options(c.scope(), &[PlaceLevel::Grid])
                .await?
                .into_iter()
                .filter(|g| {
                    g.path.starts_with(&r.place_path) && !partners.iter().any(|p| p.grid_id == g.id)
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(UnitRegistrationPage {
            registration: r,
            resources,
            partners,
            grids,
            offers,
        })
    }

    /// The registration form of the caller's unit.
    pub async fn unit_registration_form(&self, c: &Caller) -> CaseResult<UnitRegistrationForm> {
        let unit = self.caller_unit(c)?;
        Ok(UnitRegistrationForm {
            unit: self.store().get_unit(c.scope(), unit).await?,
            round_name: self.store().current_round().await?.map(|r| r.name),
            places: self
                .store()
                .place_options(
                    &c.scope().nameable_places(),
                    &[PlaceLevel::Town, PlaceLevel::Community],
                )
                .await?,
        })
    }

    /// The unit admin registers their unit with a town or community in the open round (one active registration
    /// per unit, place and round: `already_registered`), optionally offering a first resource with it. Both parts
    /// are validated before anything is written, so one answer carries every field error; the resource's are
    /// named `res_title`, `res_capacity` … (the resource part of the combined form).
    pub async fn submit_unit_registration(
        &self,
        c: &Caller,
        input: &UnitRegistrationInput,
        resource: Option<&ResourceInput>,
    ) -> CaseResult<UnitRegistrationId> {
        let unit = self.caller_unit(c)?;
        let mut errors = FieldErrors::new();
        let reg = input.validate().map_err(|e| errors.0.extend(e.0)).ok();
        let res = match resource {
            Some(res) => res
                .validate()
                .map_err(|e| {
                    errors.0.extend(e.0.into_iter().map(|mut x| {
                        x.field = resource_field(x.field);
                        x
                    }))
                })
                .ok(),
            None => None,
        };
        let Some(reg) = reg.filter(|_| errors.is_empty()) else {
            return Err(errors.into());
        };
        let id = self
            .store()
            .submit_unit_registration(c.actor(), c.scope(), unit, &reg)
            .await?;
        if let Some(mut r) = res {
            r.unit_registration_id = Some(id);
            self.store()
                .save_resource(c.actor(), c.scope(), unit, None, &r)
                .await?;
        }
        Ok(id)
    }

    /// The town or community accepts a submitted unit registration.
    pub async fn accept_unit_registration(
        &self,
        c: &Caller,
        id: UnitRegistrationId,
    ) -> CaseResult<UnitRegistration> {
        c.require(Action::UnitRegistrationReview)?;
        self.store()
            .accept_unit_registration(c.actor(), c.scope(), id)
            .await?;
        Ok(self.store().get_unit_registration(c.scope(), id).await?)
    }

    /// The town or community returns a submitted unit registration with a reason the unit sees
    /// (`reason_required` when blank).
    pub async fn return_unit_registration(
        &self,
        c: &Caller,
        id: UnitRegistrationId,
        reason: &str,
    ) -> CaseResult<UnitRegistration> {
        c.require(Action::UnitRegistrationReview)?;
        self.store()
            .return_unit_registration(c.actor(), c.scope(), id, reason)
            .await?;
        Ok(self.store().get_unit_registration(c.scope(), id).await?)
    }

    /// The unit withdraws its registration (kept on record).
    pub async fn withdraw_unit_registration(
        &self,
        c: &Caller,
        id: UnitRegistrationId,
    ) -> CaseResult<UnitRegistration> {
        c.require(Action::UnitRegistrationSubmit)?;
        self.store()
            .withdraw_unit_registration(c.actor(), c.scope(), id)
            .await?;
        Ok(self.store().get_unit_registration(c.scope(), id).await?)
    }

    /// The unit resubmits a returned registration.
    pub async fn resubmit_unit_registration(
        &self,
        c: &Caller,
        id: UnitRegistrationId,
    ) -> CaseResult<UnitRegistration> {
        c.require(Action::UnitRegistrationSubmit)?;
        self.store()
            .resubmit_unit_registration(c.actor(), c.scope(), id)
            .await?;
        Ok(self.store().get_unit_registration(c.scope(), id).await?)
    }
}
