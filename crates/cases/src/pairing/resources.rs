//! Resources (资源清单) a unit offers: kept by the unit's own admin, seen by whoever sees the unit.

use shanzhi_domain::registration::{ResourceInput, UnitRegistrationStatus};
use shanzhi_domain::role::Action;
use shanzhi_domain::{ResourceId, UnitId};
use shanzhi_store::PageReq;
use shanzhi_store::orgs::Unit;
use shanzhi_store::registration::units::{Resource, UnitRegistration, UnitRegistrationFilter};

use super::Pairings;
use crate::{Caller, CaseResult};

/// A unit's resource list as its page shows it.
#[derive(Debug, Clone)]
pub struct UnitResources {
    pub unit: Unit,
    /// The active resources.
    pub items: Vec<Resource>,
    /// Whether the caller keeps this list (the unit's own admin).
    pub can_edit: bool,
    /// The unit's registrations that are not withdrawn, to offer a resource with (when `can_edit`).
    pub regs: Vec<UnitRegistration>,
}

impl Pairings<'_> {
    /// Whether the caller keeps `unit`'s resources: its own admin.
    pub fn may_edit_resources(&self, c: &Caller, unit: UnitId) -> bool {
        c.may(Action::UnitRegistrationSubmit) && c.own_unit() == Some(unit)
    }

    /// A unit's active resources (the unit must be in scope).
    pub async fn unit_resources(&self, c: &Caller, unit: UnitId) -> CaseResult<Vec<Resource>> {
        c.require(Action::UnitView)?;
        self.store().get_unit(c.scope(), unit).await?;
        Ok(self.store().list_resources(c.scope(), Some(unit)).await?)
    }

    /// A unit's resource list with what its admin may offer them with.
    pub async fn unit_resources_page(&self, c: &Caller, unit: UnitId) -> CaseResult<UnitResources> {
        c.require(Action::UnitView)?;
        let u = self.store().get_unit(c.scope(), unit).await?;
        let can_edit = self.may_edit_resources(c, UnitId(u.id));
        let regs = if can_edit {
            self.store()
                .list_unit_registrations(
                    c.scope(),
                    &UnitRegistrationFilter {
                        unit_id: Some(u.id),
                        ..Default::default()
                    },
                    PageReq::new(Some(1), Some(100)),
                )
                .await?
                .items
                .into_iter()
                .filter(|r| r.status() != UnitRegistrationStatus::Withdrawn)
                .collect()
        } else {
            Vec::new()
        };
        Ok(UnitResources {
            items: self.store().list_resources(c.scope(), Some(unit)).await?,
            unit: u,
            can_edit,
            regs,
        })
    }

    /// Adds a resource to the caller's unit.
    pub async fn create_resource(
        &self,
        c: &Caller,
        unit: UnitId,
        input: &ResourceInput,
    ) -> CaseResult<ResourceId> {
        c.require(Action::UnitRegistrationSubmit)?;
        self.store().get_unit(c.scope(), unit).await?;
        let v = input.validate()?;
        Ok(self
            .store()
            .save_resource(c.actor(), c.scope(), unit, None, &v)
            .await?)
    }

    /// One resource, to edit.
    pub async fn editable_resource(&self, c: &Caller, id: ResourceId) -> CaseResult<Resource> {
        c.require(Action::UnitRegistrationSubmit)?;
        Ok(self.store().get_resource(c.scope(), id).await?)
    }

    /// Updates a resource; returns it as saved.
    pub async fn update_resource(
        &self,
        c: &Caller,
        id: ResourceId,
        input: &ResourceInput,
    ) -> CaseResult<Resource> {
        c.require(Action::UnitRegistrationSubmit)?;
        let current = self.store().get_resource(c.scope(), id).await?;
        let v = input.validate()?;
        self.store()
            .save_resource(c.actor(), c.scope(), UnitId(current.unit_id), Some(id), &v)
            .await?;
        Ok(self.store().get_resource(c.scope(), id).await?)
    }

    /// Retires a resource (it leaves the lists and stays on record); returns its unit.
    pub async fn delete_resource(&self, c: &Caller, id: ResourceId) -> CaseResult<UnitId> {
        c.require(Action::UnitRegistrationSubmit)?;
        let r = self.store().get_resource(c.scope(), id).await?;
        self.store()
            .delete_resource(c.actor(), c.scope(), id)
            .await?;
        Ok(UnitId(r.unit_id))
    }
}
