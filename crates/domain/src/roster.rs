//! A unit's roster (its 在职党员) changes only with the unit. Whoever writes a member record (one form, or an
//! import row) may name a residence and a home unit only within their own reach, and a home unit named by anyone
//! other than that unit's own admin or the district waits for the unit's admin to confirm it before the member
//! counts for the unit (its 报到率, member counts, ledgers). Residence-based figures are not affected.

use crate::error::Code;
use crate::ids::UnitId;
use crate::role::Scope;

/// The state of a member's link to their home unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitLink {
    /// Written by the unit's own admin or the district: the member counts for the unit at once.
    Confirmed,
    /// Proposed by a town or community: the member counts for the unit once its admin confirms.
    Pending,
}

impl UnitLink {
    /// Whether the member counts for the unit.
    pub fn counts(self) -> bool {
        self == UnitLink::Confirmed
    }
}

/// Whether a writer with `scope` may record a member of `unit` who lives at `residence_path` (a community's
/// materialised path), and if so whether the unit link is confirmed at once or waits for the unit. `district_path`
/// is the root of the place tree.
///
/// - the district (a place scope over the root, or system work with `Everything`): anything, confirmed;
/// - a town or community admin (`Subtree`): the residence must lie in their subtree (`residence_out_of_scope`);
///   any unit, but the link is pending until that unit's admin confirms;
/// - a unit admin (`Unit`): only their own unit (`unit_out_of_scope`), residence anywhere, confirmed;
/// - anyone else: `forbidden`.
pub fn roster_write(
    scope: &Scope,
    unit: UnitId,
    residence_path: &str,
    district_path: &str,
) -> Result<UnitLink, Code> {
    match scope {
        Scope::Everything => Ok(UnitLink::Confirmed),
        Scope::Subtree(p) if !district_path.is_empty() && p == district_path => {
            Ok(UnitLink::Confirmed)
        }
        Scope::Subtree(p) => {
            if residence_path.is_empty() || !residence_path.starts_with(p.as_str()) {
                Err(Code::ResidenceOutOfScope)
            } else {
                Ok(UnitLink::Pending)
            }
        }
        Scope::Unit(u) if *u == unit => Ok(UnitLink::Confirmed),
        Scope::Unit(_) => Err(Code::UnitOutOfScope),
        Scope::Member(_) | Scope::Oversight | Scope::Nothing => Err(Code::Forbidden),
    }
}

/// Who may confirm or decline a pending link to `unit`: only that unit's own admin.
pub fn may_confirm_unit_link(scope: &Scope, unit: UnitId) -> bool {
    matches!(scope, Scope::Unit(u) if *u == unit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const DISTRICT: &str = "/1/";
    const TOWN: &str = "/1/5/";
    const COMMUNITY: &str = "/1/5/23/";

    fn write(scope: &Scope, unit: i64, residence: &str) -> Result<UnitLink, Code> {
        roster_write(scope, UnitId(unit), residence, DISTRICT)
    }

    #[test]
    fn a_community_admin_names_residents_of_its_community_and_any_unit_pending() {
        let c = Scope::Subtree(COMMUNITY.into());
        assert_eq!(write(&c, 9, COMMUNITY), Ok(UnitLink::Pending));
        assert_eq!(write(&c, 9, "/1/5/23/77/"), Ok(UnitLink::Pending));
        assert_eq!(write(&c, 8, COMMUNITY), Ok(UnitLink::Pending), "any unit");
        assert_eq!(
            write(&c, 9, "/1/5/24/"),
            Err(Code::ResidenceOutOfScope),
            "a neighbouring community"
        );
        assert_eq!(
            write(&c, 9, "/1/5/230/"),
            Err(Code::ResidenceOutOfScope),
            "a sibling with a longer id"
        );
        assert_eq!(write(&c, 9, ""), Err(Code::ResidenceOutOfScope));
    }

    #[test]
    fn a_town_admin_follows_the_community_rule() {
        let t = Scope::Subtree(TOWN.into());
        assert_eq!(write(&t, 9, COMMUNITY), Ok(UnitLink::Pending));
        assert_eq!(write(&t, 9, "/1/6/30/"), Err(Code::ResidenceOutOfScope));
    }

    #[test]
    fn a_unit_admin_names_only_its_own_unit_residence_anywhere() {
        let u = Scope::Unit(UnitId(9));
        assert_eq!(write(&u, 9, "/1/6/30/"), Ok(UnitLink::Confirmed));
        assert_eq!(write(&u, 9, COMMUNITY), Ok(UnitLink::Confirmed));
        assert_eq!(write(&u, 8, COMMUNITY), Err(Code::UnitOutOfScope));
    }

    #[test]
    fn the_district_writes_anything_confirmed() {
        let d = Scope::Subtree(DISTRICT.into());
        assert_eq!(write(&d, 9, "/1/6/30/"), Ok(UnitLink::Confirmed));
        assert_eq!(
            write(&Scope::Everything, 9, COMMUNITY),
            Ok(UnitLink::Confirmed)
        );
        assert!(UnitLink::Confirmed.counts());
        assert!(!UnitLink::Pending.counts());
    }

    #[test]
    fn nobody_else_writes() {
        for s in [
            Scope::Member(crate::MemberId(1)),
            Scope::Oversight,
            Scope::Nothing,
        ] {
            assert_eq!(write(&s, 9, COMMUNITY), Err(Code::Forbidden), "{s:?}");
        }
    }

    #[test]
    fn only_the_units_own_admin_confirms() {
        assert!(may_confirm_unit_link(&Scope::Unit(UnitId(9)), UnitId(9)));
        assert!(!may_confirm_unit_link(&Scope::Unit(UnitId(8)), UnitId(9)));
        assert!(!may_confirm_unit_link(
            &Scope::Subtree(DISTRICT.into()),
            UnitId(9)
        ));
        assert!(!may_confirm_unit_link(
            &Scope::Subtree(COMMUNITY.into()),
            UnitId(9)
        ));
    }
}
