//! 组团式 报到接收 (units and their party organisations, as opposed to members one by one):
//!
//! - [`unit_registrations`]: a unit admin registers the unit with a town or community in the open round (with a
//!   first resource if they like); the town or community accepts it or returns it with a reason; the unit
//!   withdraws or resubmits;
//! - [`resources`]: what a unit offers (资源清单), kept by the unit's admin;
//! - [`partners`]: grid partners (网格合伙人), units a community links to its grids;
//! - [`agreements`]: pairing agreements (结对签约) between a unit and a community, with their status machine and
//!   progress against targets;
//! - [`alliances`]: alliances (党建联盟) of units run by a town;
//! - [`projects`]: joint projects (党建联建项目) with planned activities and a final grade.
//!
//! Every function checks the permission table and applies the caller's scope itself; what a page offers for one
//! record (review buttons, the partner form, editing) comes from the `*_offers` functions here, which ask the same
//! questions the actions enforce. Only place roles (district, town, community) hold the manage actions, and only
//! unit admins `UnitRegistrationSubmit`, so the plain rows of the table are the whole rule.

pub mod agreements;
pub mod alliances;
pub mod partners;
pub mod projects;
pub mod resources;
pub mod unit_registrations;

pub use agreements::{PairingFormOptions, PairingOffers, PairingPage, PairingWithProgress};
pub use alliances::AlliancePage;
pub use projects::{ProjectFormOptions, ProjectOffers, ProjectWithActivities};
pub use resources::UnitResources;
pub use unit_registrations::{UnitRegistrationForm, UnitRegistrationOffers, UnitRegistrationPage};

use crate::Cases;

/// The use cases of 组团式 报到接收.
pub struct Pairings<'a>(&'a Cases);

impl Cases {
    pub fn pairing(&self) -> Pairings<'_> {
        Pairings(self)
    }
}

impl Pairings<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }
}

#[cfg(test)]
mod tests {
    use shanzhi_domain::role::{Action, Role, RoleBinding, Scope, permits};
    use shanzhi_domain::{MemberId, PlaceId, UnitId};

    fn scope_of(role: Role) -> Scope {
        RoleBinding {
            role,
            place_id: Some(PlaceId(1)),
            place_path: Some("/1/".into()),
            unit_id: Some(UnitId(2)),
            member_id: Some(MemberId(3)),
            scope_name: "x".into(),
        }
        .scope()
    }

    /// The use cases and the pages ask the table alone for the manage actions, where handlers used to add "and the
    /// binding is over places" (or "over a unit" for submitting). That is the same rule only while these rows stay
    /// with place roles (and unit admins): this test says so.
    #[test]
    fn manage_actions_belong_to_place_roles_and_submitting_to_unit_admins() {
        for role in Role::ALL {
            for a in [
                Action::UnitRegistrationReview,
                Action::GridPartnerManage,
                Action::PairingManage,
                Action::ProjectManage,
                Action::ProjectGrade,
            ] {
                if permits(role, a) {
                    assert!(
                        matches!(scope_of(role), Scope::Subtree(_)),
                        "{role:?} {a:?}"
                    );
                }
            }
            if permits(role, Action::UnitRegistrationSubmit) {
                assert!(matches!(scope_of(role), Scope::Unit(_)), "{role:?}");
            }
        }
    }
}
