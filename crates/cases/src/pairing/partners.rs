//! Grid partners (网格合伙人): a community links a unit with an accepted registration to its grids.

use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, FieldErrors, PlaceId, UnitId, UnitRegistrationId};
use shanzhi_store::registration::units::GridPartner;

use super::Pairings;
use crate::{AppError, Caller, CaseResult};

impl Pairings<'_> {
    /// Grid partner links in scope.
    pub async fn grid_partners(&self, c: &Caller) -> CaseResult<Vec<GridPartner>> {
        c.require(Action::PairingView)?;
        Ok(self.store().list_grid_partners(c.scope()).await?)
    }

    /// Links a unit with an accepted registration to a grid in the caller's subtree (twice changes nothing).
    pub async fn link_grid_partner(
        &self,
        c: &Caller,
        unit: UnitId,
        grid: PlaceId,
    ) -> CaseResult<()> {
        c.require(Action::GridPartnerManage)?;
        Ok(self
            .store()
            .link_grid_partner(c.actor(), c.scope(), unit, grid)
            .await?)
    }

    /// Removes a grid partner link.
    pub async fn unlink_grid_partner(
        &self,
        c: &Caller,
        unit: UnitId,
        grid: PlaceId,
    ) -> CaseResult<()> {
        c.require(Action::GridPartnerManage)?;
        Ok(self
            .store()
            .unlink_grid_partner(c.actor(), c.scope(), unit, grid)
            .await?)
    }

    /// Links the unit of a registration in scope to a grid, from the registration's page; no grid chosen is a
    /// `grid_id` field error.
    pub async fn link_registration_partner(
        &self,
        c: &Caller,
        registration: UnitRegistrationId,
        grid: Option<PlaceId>,
    ) -> CaseResult<()> {
        c.require(Action::GridPartnerManage)?;
        let r = self
            .store()
            .get_unit_registration(c.scope(), registration)
            .await?;
        let grid =
            grid.ok_or_else(|| AppError::from(FieldErrors::single("grid_id", Code::Required)))?;
        Ok(self
            .store()
            .link_grid_partner(c.actor(), c.scope(), UnitId(r.unit_id), grid)
            .await?)
    }

    /// Removes a grid link of a registration's unit, from the registration's page (no grid: not found).
    pub async fn unlink_registration_partner(
        &self,
        c: &Caller,
        registration: UnitRegistrationId,
        grid: Option<PlaceId>,
    ) -> CaseResult<()> {
        c.require(Action::GridPartnerManage)?;
        let r = self
            .store()
            .get_unit_registration(c.scope(), registration)
            .await?;
        let grid = grid.ok_or(AppError::new(Code::NotFound))?;
        Ok(self
            .store()
            .unlink_grid_partner(c.actor(), c.scope(), UnitId(r.unit_id), grid)
            .await?)
    }
}
