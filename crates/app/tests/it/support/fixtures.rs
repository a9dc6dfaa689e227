//! Explicit fixtures: the places, units, members and accounts a test needs, created through the store's public
//! API (as an administrator would through the pages), with typed handles the test uses afterwards. Every account
//! has the password [`PASSWORD`]. Tests never depend on the demo data's names.
//!
//! ```ignore
//! let app = TestApp::builder(db).start().await;
//! let mut w = World::build(&app.store).await;          // the district 测试区
//! let town = w.town("马陆镇").await;
//! let village = w.community("樊家村", &town).await;
//! let unit = w.unit("区林业站", &village).await;      // located in 樊家村
//! let member = w.member("王伟", &unit, &village).await; // a member of 区林业站 living in 樊家村
//! let admin = w.account(Role::CommunityAdmin, &village).await;
//! let token = app.token(&admin.username).await;
//! ```
//!
//! Common worlds have named constructors: [`TwoTowns`] (two towns, two communities each, a unit located in and
//! members living in each community, one account per role and scope).

// A harness to grow on: not every builder method or handle field is used by today's tests.
#![allow(dead_code)]

use std::collections::BTreeSet;

use shanzhi_domain::org::{ValidMember, ValidPlace, ValidSocialOrg, ValidUnit};
use shanzhi_domain::place::{PartyOrgLevel, PlaceLevel};
use shanzhi_domain::registration::ValidRound;
use shanzhi_domain::role::{Role, RoleBinding, Scope};
use shanzhi_domain::roster::UnitLink;
use shanzhi_domain::validate::credit_code_check_char;
use shanzhi_domain::{AccountId, MemberId, PlaceId, RoundId, SocialOrgId, UnitId};
use shanzhi_store::accounts::NewBinding;
use shanzhi_store::{Actor, NewAccount, Store};

use super::PASSWORD;

/// A place of the world (the district, a town, a community or a grid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub id: PlaceId,
    pub code: String,
    pub name: String,
    /// Materialised path, as the store keeps it.
    pub path: String,
}

impl Place {
    /// The scope of an administrator of this place.
    pub fn scope(&self) -> Scope {
        Scope::Subtree(self.path.clone())
    }
}

/// A unit (共建单位), located in a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
    pub party_org_name: String,
    pub credit_code: String,
    pub place: PlaceId,
    pub place_path: String,
}

/// A party member: of a unit, living in a community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: MemberId,
    pub name: String,
    pub mobile: String,
    pub unit: UnitId,
    pub community: PlaceId,
    pub community_path: String,
}

/// An account with one role binding; it logs in with [`PASSWORD`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// What the binding sees (as the store filters it).
    pub scope: Scope,
}

/// What an account's role binding is bound to: a place, a unit or a member.
pub trait BindTarget {
    /// The binding for `role`, its place path (for the scope), a short key for the username and a display name.
    fn binding(&self, role: Role) -> (NewBinding, Option<String>, String, String);
}

impl BindTarget for Place {
    fn binding(&self, role: Role) -> (NewBinding, Option<String>, String, String) {
        let b = NewBinding {
            role,
            place_id: Some(self.id),
            unit_id: None,
            member_id: None,
        };
        (
            b,
            Some(self.path.clone()),
            self.code.clone(),
            format!("{}{}", self.name, role.label()),
        )
    }
}

impl BindTarget for Unit {
    fn binding(&self, role: Role) -> (NewBinding, Option<String>, String, String) {
        let b = NewBinding {
            role,
            place_id: None,
            unit_id: Some(self.id),
            member_id: None,
        };
        (
            b,
            None,
            format!("u{}", self.id.0),
            format!("{}{}", self.name, role.label()),
        )
    }
}

impl BindTarget for Member {
    fn binding(&self, role: Role) -> (NewBinding, Option<String>, String, String) {
        let b = NewBinding {
            role,
            place_id: None,
            unit_id: None,
            member_id: Some(self.id),
        };
        (b, None, format!("m{}", self.id.0), self.name.clone())
    }
}

/// A builder of explicit fixtures over one store. Codes, credit codes and mobiles are generated (unique within
/// the world); names are the test's.
pub struct World {
    pub store: Store,
    pub district: Place,
    actor: Actor,
    seq: usize,
    usernames: BTreeSet<String>,
    hash: String,
}

/// A valid unified social credit code, distinct for every `n`.
pub fn credit_code(n: usize) -> String {
    let first: String = format!("91310114FX{n:07}").chars().take(17).collect();
    format!("{first}{}", credit_code_check_char(&first).unwrap())
}

impl World {
    /// The district 测试区 (the root place) over an empty database, with the seed dictionaries.
    pub async fn build(store: &Store) -> World {
        store.seed_dictionaries().await.unwrap();
        let actor = Actor::system("fixtures");
        let v = ValidPlace {
            code: "qu".into(),
            name: "测试区".into(),
            party_org_name: Some("中共测试区委员会".into()),
            party_org_level: Some(PartyOrgLevel::Committee),
        };
        let id = store
            .create_place(&actor, &Scope::Everything, None, &v)
            .await
            .unwrap();
        let district = Self::place_of(store, id).await;
        World {
            store: store.clone(),
            district,
            actor,
            seq: 0,
            usernames: BTreeSet::new(),
            hash: shanzhi_secure::password::hash(PASSWORD).unwrap(),
        }
    }

    async fn place_of(store: &Store, id: PlaceId) -> Place {
        let p = store.get_place_unscoped(id).await.unwrap();
        Place {
            id,
            code: p.code,
            name: p.name,
            path: p.path,
        }
    }

    fn next(&mut self) -> usize {
        self.seq += 1;
        self.seq
    }

    /// The district's scope (what a district administrator sees).
    pub fn district_scope(&self) -> Scope {
        self.district.scope()
    }

    /// A place under `parent` with this code and name (the level follows from the parent). Its party
    /// organisation is named as the demo names them: a town's `{name}党工委`, a village's `{name}党总支`, another
    /// community's `{name}党支部`; grids have none.
    pub async fn place_with_code(&mut self, code: &str, name: &str, parent: &Place) -> Place {
        let parent_level = self
            .store
            .get_place_unscoped(parent.id)
            .await
            .unwrap()
            .level()
            .unwrap_or(PlaceLevel::Grid);
        let (party_org_name, party_org_level) = match parent_level {
            PlaceLevel::District => (
                Some(format!("{name}党工委")),
                Some(PartyOrgLevel::Committee),
            ),
            PlaceLevel::Town if name.ends_with('村') => (
                Some(format!("{name}党总支")),
                Some(PartyOrgLevel::GeneralBranch),
            ),
            PlaceLevel::Town => (Some(format!("{name}党支部")), Some(PartyOrgLevel::Branch)),
            _ => (None, None),
        };
        let v = ValidPlace {
            code: code.into(),
            name: name.into(),
            party_org_name,
            party_org_level,
        };
        let id = self
            .store
            .create_place(&self.actor, &Scope::Everything, Some(parent.id), &v)
            .await
            .unwrap();
        Self::place_of(&self.store, id).await
    }

    async fn place(&mut self, prefix: &str, name: &str, parent: &Place) -> Place {
        let code = format!("{prefix}{}", self.next());
        self.place_with_code(&code, name, parent).await
    }

    /// A town (镇/街道) of the district.
    pub async fn town(&mut self, name: &str) -> Place {
        let district = self.district.clone();
        self.place("t", name, &district).await
    }

    /// A community (村/社区) of a town.
    pub async fn community(&mut self, name: &str, town: &Place) -> Place {
        self.place("c", name, town).await
    }

    /// A grid (网格) of a community.
    pub async fn grid(&mut self, name: &str, community: &Place) -> Place {
        self.place("g", name, community).await
    }

    /// A unit located in `place`, its party organisation `{name}党支部`.
    pub async fn unit(&mut self, name: &str, place: &Place) -> Unit {
        let n = self.next();
        let v = ValidUnit {
            name: name.into(),
            kind: "soe".into(),
            credit_code: credit_code(n),
            place_id: place.id,
            party_org_name: format!("{name}党支部"),
            party_org_level: PartyOrgLevel::Branch,
            contact_name: Some("联系人".into()),
            contact_phone: Some(format!("1985{n:07}")),
        };
        let id = self
            .store
            .create_unit(&self.actor, &Scope::Everything, &v)
            .await
            .unwrap();
        Unit {
            id,
            name: v.name,
            party_org_name: v.party_org_name,
            credit_code: v.credit_code,
            place: place.id,
            place_path: place.path.clone(),
        }
    }

    /// A party member of `unit` living in `community`, with a generated mobile.
    pub async fn member(&mut self, name: &str, unit: &Unit, community: &Place) -> Member {
        let n = self.next();
        self.member_with(name, unit, community, &format!("1986{n:07}"), None)
            .await
    }

    /// A party member with this mobile and, when given, this ID number (as an import brings them).
    pub async fn member_with(
        &mut self,
        name: &str,
        unit: &Unit,
        community: &Place,
        mobile: &str,
        id_card: Option<&str>,
    ) -> Member {
        let v = ValidMember {
            name: name.into(),
            mobile: mobile.into(),
            id_card: id_card.map(String::from),
            unit_id: unit.id,
            community_id: community.id,
            skills: vec![],
            separated_residence: false,
        };
        let community_row = self
            .store
            .member_refs(&Scope::Everything, v.unit_id, v.community_id, &v.skills)
            .await
            .unwrap();
        let id = self
            .store
            .create_member(&self.actor, &community_row, &v, UnitLink::Confirmed)
            .await
            .unwrap();
        Member {
            id,
            name: v.name,
            mobile: v.mobile,
            unit: unit.id,
            community: community.id,
            community_path: community.path.clone(),
        }
    }

    /// A social organisation (社会组织) in `place`.
    pub async fn social_org(&mut self, name: &str, place: &Place) -> SocialOrgId {
        let n = self.next();
        let v = ValidSocialOrg {
            name: name.into(),
            credit_code: credit_code(n),
            place_id: place.id,
            contact_name: None,
            contact_phone: None,
        };
        self.store
            .save_social_org(&self.actor, &Scope::Everything, None, &v)
            .await
            .unwrap()
    }

    /// An account with `role` bound to `target`, named `{role}_{target code}` (a counter is added when taken).
    pub async fn account(&mut self, role: Role, target: &impl BindTarget) -> Account {
        let (_, _, key, _) = target.binding(role);
        let mut username = format!("{}_{key}", role.as_str());
        if self.usernames.contains(&username) {
            username = format!("{username}_{}", self.next());
        }
        self.account_named(&username, role, target).await
    }

    /// An account with this username, `role` bound to `target`.
    pub async fn account_named(
        &mut self,
        username: &str,
        role: Role,
        target: &impl BindTarget,
    ) -> Account {
        let (binding, place_path, _, display_name) = target.binding(role);
        let scope = RoleBinding {
            role,
            place_id: binding.place_id,
            place_path,
            unit_id: binding.unit_id,
            member_id: binding.member_id,
            scope_name: String::new(),
        }
        .scope();
        let member_id = binding.member_id;
        let id = self
            .store
            .create_account(
                &self.actor,
                &NewAccount {
                    username: username.into(),
                    display_name: display_name.clone(),
                    mobile: None,
                    password_hash: self.hash.clone(),
                    member_id,
                    bindings: vec![binding],
                    must_change_password: false,
                },
            )
            .await
            .unwrap();
        self.usernames.insert(username.to_string());
        Account {
            id,
            username: username.into(),
            display_name,
            role,
            scope,
        }
    }

    /// Opens the registration round `name` of `year` (1 January to 31 December), as the district does.
    pub async fn open_round(&self, name: &str, year: i32) -> RoundId {
        self.store
            .open_round(
                &self.actor,
                &ValidRound {
                    name: name.into(),
                    year,
                    starts_on: format!("{year}-01-01"),
                    ends_on: format!("{year}-12-31"),
                    carry_over: false,
                },
            )
            .await
            .unwrap()
    }
}

/// Two towns (甲镇 `ta`, 乙镇 `tb`), each with two communities (甲一村 `a1`, 甲二社区 `a2`; 乙一村 `b1`, 乙二社区
/// `b2`); a grid in 甲一村 (`a1g1`, 甲一村第一网格) and in 乙一村 (`b1g1`); in every community a unit located there (单位甲一 …) and two members of that unit
/// living there; one account per role and scope: the district's three (district admin, security admin, auditor),
/// each town's admin, each community's admin, the grid leader, each unit's admin, a member account for the
/// first member of 甲一村 and of 乙一村, and a resident of 甲一村 and of 乙一村. Usernames are the field names.
pub struct TwoTowns {
    pub world: World,
    pub district: Place,
    pub town_a: Place,
    pub town_b: Place,
    pub a1: Place,
    pub a2: Place,
    pub b1: Place,
    pub b2: Place,
    pub grid_a1: Place,
    pub grid_b1: Place,
    pub unit_a1: Unit,
    pub unit_a2: Unit,
    pub unit_b1: Unit,
    pub unit_b2: Unit,
    /// Two members of `unit_a1` living in 甲一村.
    pub members_a1: [Member; 2],
    pub members_a2: [Member; 2],
    pub members_b1: [Member; 2],
    pub members_b2: [Member; 2],
    pub district_admin: Account,
    pub security_admin: Account,
    pub auditor: Account,
    pub town_admin_a: Account,
    pub town_admin_b: Account,
    pub community_admin_a1: Account,
    pub community_admin_a2: Account,
    pub community_admin_b1: Account,
    pub community_admin_b2: Account,
    pub grid_leader_a1: Account,
    pub unit_admin_a1: Account,
    pub unit_admin_a2: Account,
    pub unit_admin_b1: Account,
    pub unit_admin_b2: Account,
    /// The account of `members_a1[0]`.
    pub member_a1: Account,
    /// The account of `members_b1[0]`.
    pub member_b1: Account,
    pub resident_a1: Account,
    pub resident_b1: Account,
}

impl TwoTowns {
    pub async fn build(store: &Store) -> TwoTowns {
        let mut w = World::build(store).await;
        let district = w.district.clone();
        let town_a = w.place_with_code("ta", "甲镇", &district).await;
        let town_b = w.place_with_code("tb", "乙镇", &district).await;
        let a1 = w.place_with_code("a1", "甲一村", &town_a).await;
        let a2 = w.place_with_code("a2", "甲二社区", &town_a).await;
        let b1 = w.place_with_code("b1", "乙一村", &town_b).await;
        let b2 = w.place_with_code("b2", "乙二社区", &town_b).await;
        let grid_a1 = w.place_with_code("a1g1", "甲一村第一网格", &a1).await;
        let grid_b1 = w.place_with_code("b1g1", "乙一村第一网格", &b1).await;
        let unit_a1 = w.unit("单位甲一", &a1).await;
        let unit_a2 = w.unit("单位甲二", &a2).await;
        let unit_b1 = w.unit("单位乙一", &b1).await;
        let unit_b2 = w.unit("单位乙二", &b2).await;
        let mut pair = async |tag: &str, unit: &Unit, place: &Place| -> [Member; 2] {
            [
                w.member(&format!("党员{tag}甲"), unit, place).await,
                w.member(&format!("党员{tag}乙"), unit, place).await,
            ]
        };
        let members_a1 = pair("一号", &unit_a1, &a1).await;
        let members_a2 = pair("二号", &unit_a2, &a2).await;
        let members_b1 = pair("三号", &unit_b1, &b1).await;
        let members_b2 = pair("四号", &unit_b2, &b2).await;
        let district_admin = w
            .account_named("district_admin", Role::DistrictAdmin, &district)
            .await;
        let security_admin = w
            .account_named("security_admin", Role::SecurityAdmin, &district)
            .await;
        let auditor = w.account_named("auditor", Role::Auditor, &district).await;
        let town_admin_a = w
            .account_named("town_admin_a", Role::TownAdmin, &town_a)
            .await;
        let town_admin_b = w
            .account_named("town_admin_b", Role::TownAdmin, &town_b)
            .await;
        let community_admin_a1 = w
            .account_named("community_admin_a1", Role::CommunityAdmin, &a1)
            .await;
        let community_admin_a2 = w
            .account_named("community_admin_a2", Role::CommunityAdmin, &a2)
            .await;
        let community_admin_b1 = w
            .account_named("community_admin_b1", Role::CommunityAdmin, &b1)
            .await;
        let community_admin_b2 = w
            .account_named("community_admin_b2", Role::CommunityAdmin, &b2)
            .await;
        let grid_leader_a1 = w
            .account_named("grid_leader_a1", Role::GridLeader, &grid_a1)
            .await;
        let unit_admin_a1 = w
            .account_named("unit_admin_a1", Role::UnitAdmin, &unit_a1)
            .await;
        let unit_admin_a2 = w
            .account_named("unit_admin_a2", Role::UnitAdmin, &unit_a2)
            .await;
        let unit_admin_b1 = w
            .account_named("unit_admin_b1", Role::UnitAdmin, &unit_b1)
            .await;
        let unit_admin_b2 = w
            .account_named("unit_admin_b2", Role::UnitAdmin, &unit_b2)
            .await;
        let member_a1 = w
            .account_named("member_a1", Role::Member, &members_a1[0])
            .await;
        let member_b1 = w
            .account_named("member_b1", Role::Member, &members_b1[0])
            .await;
        let resident_a1 = w.account_named("resident_a1", Role::Resident, &a1).await;
        let resident_b1 = w.account_named("resident_b1", Role::Resident, &b1).await;
        TwoTowns {
            world: w,
            district,
            town_a,
            town_b,
            a1,
            a2,
            b1,
            b2,
            grid_a1,
            grid_b1,
            unit_a1,
            unit_a2,
            unit_b1,
            unit_b2,
            members_a1,
            members_a2,
            members_b1,
            members_b2,
            district_admin,
            security_admin,
            auditor,
            town_admin_a,
            town_admin_b,
            community_admin_a1,
            community_admin_a2,
            community_admin_b1,
            community_admin_b2,
            grid_leader_a1,
            unit_admin_a1,
            unit_admin_a2,
            unit_admin_b1,
            unit_admin_b2,
            member_a1,
            member_b1,
            resident_a1,
            resident_b1,
        }
    }

    /// Every account of the world, one per role and scope.
    pub fn accounts(&self) -> Vec<&Account> {
        vec![
            &self.district_admin,
            &self.security_admin,
            &self.auditor,
            &self.town_admin_a,
            &self.town_admin_b,
            &self.community_admin_a1,
            &self.community_admin_a2,
            &self.community_admin_b1,
            &self.community_admin_b2,
            &self.grid_leader_a1,
            &self.unit_admin_a1,
            &self.unit_admin_a2,
            &self.unit_admin_b1,
            &self.unit_admin_b2,
            &self.member_a1,
            &self.member_b1,
            &self.resident_a1,
            &self.resident_b1,
        ]
    }
}

impl World {
    /// The common world of two towns: see [`TwoTowns`].
    pub async fn two_towns(store: &Store) -> TwoTowns {
        TwoTowns::build(store).await
    }
}
