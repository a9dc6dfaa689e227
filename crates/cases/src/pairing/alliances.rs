//! Alliances (党建联盟) of units run by a town.

use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::AllianceInput;
use shanzhi_domain::role::Action;
use shanzhi_domain::{AllianceId, Code, FieldErrors, UnitId};
use shanzhi_store::places::PlaceOption;
use shanzhi_store::registration::pairing::Alliance;

use super::Pairings;
use crate::{AppError, Caller, CaseResult};

/// The alliances page: the alliances in scope and, for a caller who may create them, the towns and units to
/// choose from.
#[derive(Debug, Clone)]
pub struct AlliancePage {
    pub items: Vec<Alliance>,
    /// The caller may create alliances and add units (and there is a town in scope to run one).
    pub can_manage: bool,
    pub towns: Vec<PlaceOption>,
    pub units: Vec<(i64, String)>,
}

impl Pairings<'_> {
    /// Alliances in scope with their units.
    pub async fn alliances(&self, c: &Caller) -> CaseResult<Vec<Alliance>> {
        c.require(Action::PairingView)?;
        Ok(self.store().list_alliances(c.scope()).await?)
    }

    /// Alliances in scope with the choices of the create and add-unit forms.
    pub async fn alliance_page(&self, c: &Caller) -> CaseResult<AlliancePage> {
        c.require(Action::PairingView)?;
        let can_manage = c.may(Action::PairingManage);
        let (towns, units) = if can_manage {
            (
                self.store()
                    .place_options(c.scope(), &[PlaceLevel::Town])
                    .await?,
                self.store()
                    .unit_options(&c.scope().nameable_units())
                    .await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(AlliancePage {
            items: self.store().list_alliances(c.scope()).await?,
            can_manage: can_manage && !towns.is_empty(),
            towns,
            units,
        })
    }

    /// Creates an alliance run by a town in the caller's subtree.
    pub async fn create_alliance(
        &self,
        c: &Caller,
        input: &AllianceInput,
    ) -> CaseResult<AllianceId> {
        c.require(Action::PairingManage)?;
        let v = input.validate()?;
        Ok(self
            .store()
            .create_alliance(c.actor(), c.scope(), &v)
            .await?)
    }

    /// Adds a unit to an alliance in scope (twice changes nothing; no unit chosen is a `unit_id` field error);
    /// returns the alliance.
    pub async fn add_alliance_unit(
        &self,
        c: &Caller,
        id: AllianceId,
        unit: Option<UnitId>,
    ) -> CaseResult<Alliance> {
        c.require(Action::PairingManage)?;
        self.store().get_alliance(c.scope(), id).await?;
        let unit =
            unit.ok_or_else(|| AppError::from(FieldErrors::single("unit_id", Code::Required)))?;
        self.store()
            .add_alliance_unit(c.actor(), c.scope(), id, unit)
            .await?;
        Ok(self.store().get_alliance(c.scope(), id).await?)
    }
}
