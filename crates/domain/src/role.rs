//! Roles, the scope each role binding grants, and the permission table. Permissions fail closed: an action that
//! is not listed for a role is denied.

use serde::{Deserialize, Serialize};

use crate::ids::{MemberId, PlaceId, UnitId};
use crate::place::PlaceLevel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    DistrictAdmin,
    TownAdmin,
    CommunityAdmin,
    GridLeader,
    UnitAdmin,
    Member,
    Resident,
    SecurityAdmin,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::DistrictAdmin,
        Role::TownAdmin,
        Role::CommunityAdmin,
        Role::GridLeader,
        Role::UnitAdmin,
        Role::Member,
        Role::Resident,
        Role::SecurityAdmin,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::DistrictAdmin => "district_admin",
            Role::TownAdmin => "town_admin",
            Role::CommunityAdmin => "community_admin",
            Role::GridLeader => "grid_leader",
            Role::UnitAdmin => "unit_admin",
            Role::Member => "member",
            Role::Resident => "resident",
            Role::SecurityAdmin => "security_admin",
            Role::Auditor => "auditor",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Role::DistrictAdmin => "区委组织部管理员",
            Role::TownAdmin => "街镇管理员",
            Role::CommunityAdmin => "村居管理员",
            Role::GridLeader => "网格长",
            Role::UnitAdmin => "单位党组织管理员",
            Role::Member => "在职党员",
            Role::Resident => "居民",
            Role::SecurityAdmin => "安全管理员",
            Role::Auditor => "审计员",
        }
    }
    /// Admin roles need a second factor (outside demo mode) and must change passwords older than 90 days.
    pub fn is_admin(self) -> bool {
        !matches!(self, Role::Member | Role::Resident)
    }
    /// The place level a role must be bound to, if it is bound to a place.
    pub fn place_level(self) -> Option<PlaceLevel> {
        match self {
            Role::DistrictAdmin | Role::SecurityAdmin | Role::Auditor => Some(PlaceLevel::District),
            Role::TownAdmin => Some(PlaceLevel::Town),
            Role::CommunityAdmin => Some(PlaceLevel::Community),
            Role::GridLeader => Some(PlaceLevel::Grid),
            Role::Resident => Some(PlaceLevel::Community),
            Role::UnitAdmin | Role::Member => None,
        }
    }
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::UnitAdmin)
    }
    pub fn needs_member(self) -> bool {
        matches!(self, Role::Member)
    }
}

/// One role held by an account, bound to a place, a unit or a member record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleBinding {
    pub role: Role,
    pub place_id: Option<PlaceId>,
    pub place_path: Option<String>,
    pub unit_id: Option<UnitId>,
    pub member_id: Option<MemberId>,
    /// Place or unit name, for people.
    pub scope_name: String,
}

/// What part of the data a role binding may see. Store queries take a scope and filter by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A place and everything below it (materialised path).
    Subtree(String),
    /// One unit and its members.
    Unit(UnitId),
    /// One member's own records.
    Member(MemberId),
    /// Every record. Never granted to a role binding: only system work (demo data, CLI import) uses it, and
    /// [`Scope::nameable_places`] / [`Scope::nameable_units`] answer it for the district-wide choices of a form.
    Everything,
    /// The 三员 (security admin, auditor): accounts and the audit log, which are read without a place scope, and
    /// no members, units, places or registrations at all (every scoped query matches nothing). A handler that
    /// forgets its `require` therefore shows them nothing.
    Oversight,
    /// Nothing.
    Nothing,
}

impl Scope {
    /// Whether a record placed at `place_path`, belonging to `unit` and about `member`, is visible in this scope.
    /// The same condition as `push_scope!` in the store (which every get, list and ledger query applies).
    pub fn sees(&self, place_path: &str, unit: Option<UnitId>, member: Option<MemberId>) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Subtree(p) => !place_path.is_empty() && place_path.starts_with(p.as_str()),
            Scope::Unit(u) => unit == Some(*u),
            Scope::Member(m) => member == Some(*m),
            Scope::Oversight | Scope::Nothing => false,
        }
    }

    /// Places a write in this scope may name (where a unit is located or registers, where a member lives):
    /// place admins their own subtree; unit admins and members the whole district (a unit may be located and
    /// register anywhere, a member may live anywhere); nobody else any place.
    pub fn nameable_places(&self) -> Scope {
        match self {
            Scope::Subtree(_) => self.clone(),
            Scope::Unit(_) | Scope::Member(_) | Scope::Everything => Scope::Everything,
            Scope::Oversight | Scope::Nothing => Scope::Nothing,
        }
    }

    /// Units a write in this scope may name (a member's home unit, a pairing's unit): a unit admin only their own
    /// unit; place admins and members any unit of the district (people who live in a community work anywhere);
    /// nobody else any unit.
    pub fn nameable_units(&self) -> Scope {
        match self {
            Scope::Unit(_) => self.clone(),
            Scope::Subtree(_) | Scope::Member(_) | Scope::Everything => Scope::Everything,
            Scope::Oversight | Scope::Nothing => Scope::Nothing,
        }
    }
}

/// What a scope may see of a unit's registration rate (who of its members registered where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateAccess {
    /// The unit's own admin, and a place scope over every member (the district): counts and every name.
    Names,
    /// A town or community where the unit is located: counts of all members, names only of members who live in
    /// this subtree.
    CountsAndLocalNames(String),
}

impl RateAccess {
    /// Whether the name (and registration place) of a member living at `member_path` may be shown.
    pub fn shows_member(&self, member_path: &str) -> bool {
        match self {
            RateAccess::Names => true,
            RateAccess::CountsAndLocalNames(p) => member_path.starts_with(p.as_str()),
        }
    }
}

/// The unit-rate rule: the unit's own admin and the district see names; a town or community where the unit is
/// located sees counts, and names only of members who live in its area; anyone else sees nothing (404).
/// `district_path` is the root of the place tree.
pub fn unit_rate_access(
    scope: &Scope,
    unit: UnitId,
    unit_place_path: &str,
    district_path: &str,
) -> Option<RateAccess> {
    match scope {
        Scope::Unit(u) if *u == unit => Some(RateAccess::Names),
        Scope::Subtree(p) if p == district_path => Some(RateAccess::Names),
        Scope::Subtree(p) if unit_place_path.starts_with(p.as_str()) => {
            Some(RateAccess::CountsAndLocalNames(p.clone()))
        }
        _ => None,
    }
}

impl RoleBinding {
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::DistrictAdmin | Role::TownAdmin | Role::CommunityAdmin | Role::GridLeader => self
                .place_path
                .clone()
                .map(Scope::Subtree)
                .unwrap_or(Scope::Nothing),
            Role::UnitAdmin => self.unit_id.map(Scope::Unit).unwrap_or(Scope::Nothing),
            Role::Member => self.member_id.map(Scope::Member).unwrap_or(Scope::Nothing),
            Role::SecurityAdmin | Role::Auditor => Scope::Oversight,
            Role::Resident => Scope::Nothing,
        }
    }
}

/// Everything a person can ask the system to do. New features add actions here and rows to [`permits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    PlaceView,
    PlaceEdit,
    UnitView,
    UnitCreate,
    UnitEdit,
    MemberView,
    MemberCreate,
    MemberEdit,
    /// See a full mobile / ID number (audited each time).
    PersonalReveal,
    SocialOrgView,
    SocialOrgEdit,
    DictionaryView,
    DictionaryEdit,
    AuditView,
    AccountManage,
    // 报到接收
    RoundManage,
    RegistrationSubmit,
    RegistrationReview,
    RegistrationView,
    UnitRegistrationSubmit,
    UnitRegistrationReview,
    GridPartnerManage,
    PairingManage,
    PairingView,
    ProjectManage,
    ProjectGrade,
    Import,
    Export,
    /// Switch one's own public member card (亮身份) on or off.
    MemberCardManage,
    /// See background jobs (one's own, those in scope; all for district-wide roles).
    JobView,
    /// Issue activation codes for the members in scope who have no account yet (activation sheets).
    ActivationIssue,
    /// Confirm or decline members a town or community named for one's own unit (待确认成员): the unit admin.
    UnitRosterConfirm,
    /// See (and, with `Export`, export) who has not registered in the current round (未报到名单): a unit's
    /// members (the unit-rate rule decides which names) or the members living in a place.
    UnregisteredView,
    /// Send a polite reminder (提醒报到) to the inbox of a member who has not registered; at most once a day.
    RegistrationRemind,
    // Composite actions: named here so that a use case and the page offering it ask the same question. Their
    // rule is in [`composite`], in terms of the plain actions above.
    /// See the list of registration rounds: whoever manages, reviews or submits registrations.
    RoundView,
    /// Move an accepted registration to another community: its owner or a reviewing community.
    RegistrationTransfer,
    /// Import units (district and town admins): the import permission and the permission to register units.
    UnitImport,
    /// Open the 导入导出 page: whoever may import or export.
    ImportExportView,
}

/// The rule of a composite action, or `None` for a plain one (looked up in the table).
fn composite(role: Role, action: Action) -> Option<bool> {
    use Action::*;
    let any = |actions: &[Action]| actions.iter().any(|a| permits(role, *a));
    match action {
        RoundView => Some(any(&[RoundManage, RegistrationView, RegistrationSubmit])),
        RegistrationTransfer => Some(any(&[RegistrationSubmit, RegistrationReview])),
        UnitImport => Some(permits(role, Import) && permits(role, UnitCreate)),
        ImportExportView => Some(any(&[Import, Export])),
        _ => None,
    }
}

/// The permission table. Anything not listed is denied.
pub fn permits(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    if let Some(allowed) = composite(role, action) {
        return allowed;
    }
    match role {
        DistrictAdmin => matches!(
            action,
            PlaceView
                | PlaceEdit
                | UnitView
                | UnitCreate
                | UnitEdit
                | MemberView
                | MemberCreate
                | MemberEdit
                | SocialOrgView
                | SocialOrgEdit
                | DictionaryView
                | DictionaryEdit
                | RoundManage
                | RegistrationView
                | PairingView
                | PairingManage
                | ProjectManage
                | Import
                | Export
                | JobView
                | UnregisteredView
                | RegistrationRemind
        ),
        TownAdmin => matches!(
            action,
            PlaceView
                | PlaceEdit
                | UnitView
                | UnitCreate
                | UnitEdit
                | MemberView
                | MemberCreate
                | MemberEdit
                | SocialOrgView
                | SocialOrgEdit
                | DictionaryView
                | RegistrationView
                | UnitRegistrationReview
                | PairingView
                | PairingManage
                | ProjectManage
                | Import
                | Export
                | JobView
                | UnregisteredView
                | RegistrationRemind
        ),
        CommunityAdmin => matches!(
            action,
            PlaceView
                | PlaceEdit
                | UnitView
                | MemberView
                | MemberEdit
                | PersonalReveal
                | SocialOrgView
                | SocialOrgEdit
                | DictionaryView
                | RegistrationView
                | RegistrationReview
                | UnitRegistrationReview
                | GridPartnerManage
                | PairingView
                | PairingManage
                | ProjectManage
                | ProjectGrade
                | Import
                | Export
                | JobView
                | ActivationIssue
                | UnregisteredView
                | RegistrationRemind
        ),
        GridLeader => matches!(
            action,
            PlaceView | MemberView | PersonalReveal | DictionaryView | RegistrationView
        ),
        UnitAdmin => matches!(
            action,
            UnitView
                | UnitEdit
                | MemberView
                | MemberCreate
                | MemberEdit
                | PersonalReveal
                | DictionaryView
                | RegistrationView
                | UnitRegistrationSubmit
                | PairingView
                | Import
                | Export
                | JobView
                | ActivationIssue
                | UnitRosterConfirm
                | UnregisteredView
                | RegistrationRemind
        ),
        Member => matches!(
            action,
            MemberView
                | PersonalReveal
                | DictionaryView
                | RegistrationSubmit
                | RegistrationView
                | MemberCardManage
        ),
        Resident => false,
        SecurityAdmin => matches!(action, AccountManage | JobView),
        Auditor => matches!(action, AuditView),
    }
}

/// Which roles an account's binding may be created for, and what it must be bound to.
pub fn binding_is_valid(
    role: Role,
    place_level: Option<PlaceLevel>,
    has_unit: bool,
    has_member: bool,
) -> bool {
    match role.place_level() {
        Some(level) => place_level == Some(level) && !has_unit && !has_member,
        None if role.needs_unit() => has_unit && place_level.is_none() && !has_member,
        None if role.needs_member() => has_member && place_level.is_none() && !has_unit,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(role: Role) -> RoleBinding {
        RoleBinding {
            role,
            place_id: Some(PlaceId(5)),
            place_path: Some("/1/5/".into()),
            unit_id: Some(UnitId(9)),
            member_id: Some(MemberId(77)),
            scope_name: "x".into(),
        }
    }

    #[test]
    fn import_composites() {
        for r in Role::ALL {
            assert_eq!(
                permits(r, Action::UnitImport),
                matches!(r, Role::DistrictAdmin | Role::TownAdmin),
                "{r:?}"
            );
            assert_eq!(
                permits(r, Action::ImportExportView),
                permits(r, Action::Import) || permits(r, Action::Export),
                "{r:?}"
            );
        }
    }

    #[test]
    fn scopes_per_role() {
        assert_eq!(
            binding(Role::TownAdmin).scope(),
            Scope::Subtree("/1/5/".into())
        );
        assert_eq!(binding(Role::UnitAdmin).scope(), Scope::Unit(UnitId(9)));
        assert_eq!(binding(Role::Member).scope(), Scope::Member(MemberId(77)));
        assert_eq!(binding(Role::Resident).scope(), Scope::Nothing);
        assert_eq!(binding(Role::SecurityAdmin).scope(), Scope::Oversight);
        assert_eq!(binding(Role::Auditor).scope(), Scope::Oversight);
        let mut b = binding(Role::CommunityAdmin);
        b.place_path = None;
        assert_eq!(
            b.scope(),
            Scope::Nothing,
            "an admin without a place sees nothing"
        );
    }

    #[test]
    fn three_way_separation_and_fail_closed() {
        // 三员分立: the auditor only reads the audit log; the security admin only manages accounts.
        assert!(permits(Role::Auditor, Action::AuditView));
        assert!(!permits(Role::Auditor, Action::MemberView));
        assert!(!permits(Role::DistrictAdmin, Action::AuditView));
        assert!(!permits(Role::DistrictAdmin, Action::AccountManage));
        assert!(permits(Role::SecurityAdmin, Action::AccountManage));
        assert!(!permits(Role::SecurityAdmin, Action::MemberView));
        // Residents have no rule for any admin action.
        assert!(!permits(Role::Resident, Action::PlaceView));
        // Only the district edits dictionaries.
        assert!(permits(Role::DistrictAdmin, Action::DictionaryEdit));
        assert!(!permits(Role::TownAdmin, Action::DictionaryEdit));
        // District and town admins see masked numbers only.
        assert!(!permits(Role::DistrictAdmin, Action::PersonalReveal));
        assert!(permits(Role::CommunityAdmin, Action::PersonalReveal));
        // Only the member switches their own card; reviewing is for communities, not towns or grid leaders.
        assert!(permits(Role::Member, Action::MemberCardManage));
        assert!(!permits(Role::CommunityAdmin, Action::MemberCardManage));
        assert!(permits(Role::CommunityAdmin, Action::RegistrationReview));
        assert!(!permits(Role::TownAdmin, Action::RegistrationReview));
        assert!(!permits(Role::GridLeader, Action::RegistrationReview));
        // Bulk import: place admins and unit admins; never members, residents or the 三员.
        assert!(permits(Role::CommunityAdmin, Action::Import));
        assert!(permits(Role::UnitAdmin, Action::Import));
        assert!(!permits(Role::Member, Action::Import));
        assert!(!permits(Role::GridLeader, Action::Import));
        // Background jobs: admins and the security admin; not members, grid leaders or auditors.
        for r in [
            Role::DistrictAdmin,
            Role::TownAdmin,
            Role::CommunityAdmin,
            Role::UnitAdmin,
            Role::SecurityAdmin,
        ] {
            assert!(permits(r, Action::JobView), "{r:?}");
        }
        for r in [
            Role::Member,
            Role::GridLeader,
            Role::Auditor,
            Role::Resident,
        ] {
            assert!(!permits(r, Action::JobView), "{r:?}");
        }
        assert!(!permits(Role::Auditor, Action::Export));
        // Only a unit's own admin confirms who joins its roster.
        for r in Role::ALL {
            assert_eq!(
                permits(r, Action::UnitRosterConfirm),
                r == Role::UnitAdmin,
                "{r:?}"
            );
        }
        // 未报到名单 and reminders: the admins of units and places; never grid leaders, members or the 三员.
        for r in Role::ALL {
            let admin = matches!(
                r,
                Role::DistrictAdmin | Role::TownAdmin | Role::CommunityAdmin | Role::UnitAdmin
            );
            assert_eq!(permits(r, Action::UnregisteredView), admin, "{r:?}");
            assert_eq!(permits(r, Action::RegistrationRemind), admin, "{r:?}");
        }
    }

    #[test]
    fn no_role_binding_sees_everything() {
        for role in Role::ALL {
            assert_ne!(binding(role).scope(), Scope::Everything, "{role:?}");
        }
        // The 三员 see no members, units or places, and may name none in a form.
        let o = Scope::Oversight;
        assert!(!o.sees("/1/5/", Some(UnitId(9)), Some(MemberId(77))));
        assert_eq!(o.nameable_places(), Scope::Nothing);
        assert_eq!(o.nameable_units(), Scope::Nothing);
    }

    #[test]
    fn sees_matches_the_scope_kind() {
        let town = Scope::Subtree("/1/5/".into());
        assert!(town.sees("/1/5/23/", None, None));
        assert!(
            !town.sees("/1/50/", None, None),
            "a sibling with a longer id"
        );
        assert!(!town.sees("", Some(UnitId(1)), None));
        let unit = Scope::Unit(UnitId(9));
        assert!(unit.sees("/1/6/", Some(UnitId(9)), None));
        assert!(!unit.sees("/1/5/", Some(UnitId(8)), None));
        let me = Scope::Member(MemberId(77));
        assert!(me.sees("/1/6/", Some(UnitId(8)), Some(MemberId(77))));
        assert!(!me.sees("/1/6/", Some(UnitId(9)), Some(MemberId(78))));
        assert_eq!(unit.nameable_units(), unit);
        assert_eq!(unit.nameable_places(), Scope::Everything);
        assert_eq!(town.nameable_places(), town);
        assert_eq!(town.nameable_units(), Scope::Everything);
    }

    #[test]
    fn unit_rate_rule() {
        let district = "/1/";
        // A unit located in community /1/5/23/ of town /1/5/.
        let unit = UnitId(9);
        let at = "/1/5/23/";
        let access = |s: &Scope| unit_rate_access(s, unit, at, district);
        assert_eq!(access(&Scope::Unit(unit)), Some(RateAccess::Names));
        assert_eq!(
            access(&Scope::Unit(UnitId(8))),
            None,
            "another unit's admin"
        );
        assert_eq!(
            access(&Scope::Subtree("/1/".into())),
            Some(RateAccess::Names)
        );
        assert_eq!(
            access(&Scope::Subtree("/1/5/".into())),
            Some(RateAccess::CountsAndLocalNames("/1/5/".into()))
        );
        let town = RateAccess::CountsAndLocalNames("/1/5/".into());
        assert!(town.shows_member("/1/5/24/"), "lives in the town");
        assert!(!town.shows_member("/1/6/30/"), "lives in another town");
        assert_eq!(
            access(&Scope::Subtree("/1/5/23/".into())),
            Some(RateAccess::CountsAndLocalNames("/1/5/23/".into()))
        );
        let community = RateAccess::CountsAndLocalNames("/1/5/23/".into());
        assert!(RateAccess::Names.shows_member("/1/6/30/"));
        assert!(community.shows_member("/1/5/23/77/"));
        assert!(
            !community.shows_member("/1/5/24/"),
            "lives in a neighbouring community"
        );
        assert_eq!(
            access(&Scope::Subtree("/1/6/".into())),
            None,
            "a town where the unit is not"
        );
        assert_eq!(access(&Scope::Subtree("/1/5/24/".into())), None);
        assert_eq!(access(&Scope::Member(MemberId(1))), None);
        assert_eq!(access(&Scope::Oversight), None);
        assert_eq!(access(&Scope::Nothing), None);
    }

    #[test]
    fn bindings() {
        assert!(binding_is_valid(
            Role::TownAdmin,
            Some(PlaceLevel::Town),
            false,
            false
        ));
        assert!(!binding_is_valid(
            Role::TownAdmin,
            Some(PlaceLevel::Community),
            false,
            false
        ));
        assert!(binding_is_valid(Role::UnitAdmin, None, true, false));
        assert!(!binding_is_valid(
            Role::UnitAdmin,
            Some(PlaceLevel::Town),
            true,
            false
        ));
        assert!(binding_is_valid(Role::Member, None, false, true));
        assert_eq!(Role::parse("grid_leader"), Some(Role::GridLeader));
        assert!(!Role::Member.is_admin());
    }
}
