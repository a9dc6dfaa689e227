//! The authorisation matrix, generated from the router: every UI route (from `shanzhi_web::ui::route_paths()`,
//! probed for the methods it answers) and every OpenAPI operation (from the generated document) × every role ×
//! ids of each scope relation (own, another town's, another community's, another unit's, another member's). The
//! expected answer is derived from `permits()` and from whether the id is inside the role's scope
//! (`Scope::sees`, the same condition the store applies), never written per case: allowed, 403, or 404. No case
//! may answer 5xx. A route without an entry in the tables below fails the test.
//!
//! Fixtures (two towns, three communities, a grid, four units, five members, three social organisations, member
//! and unit registrations, pairings, and one account per role) are created with the fixture builder
//! (`support::fixtures::World`) over an empty database; accounts log in through the real login form and API.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use shanzhi_domain::role::{Action, Role, Scope, permits};
use shanzhi_domain::{MemberId, PlaceId, UnitId};
use shanzhi_store::{Actor, Store};

use crate::both;
use crate::support::fixtures::{Place as FxPlace, World};
use crate::support::{Db, PASSWORD, TestApp};

/// What the `{id}` of a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Res {
    /// No id in the path.
    No,
    Place,
    Unit,
    Member,
    SocialOrg,
    /// A member's registration (seen where it was made, by the member's home unit and by the member).
    Registration,
    /// A unit's registration with a town or community.
    UnitRegistration,
    /// A pairing agreement (unit ↔ community).
    Pairing,
    /// Another kind of record (registration, pairing, account, …): tried with an id that exists nowhere, which
    /// must answer 404 once the permission check has passed.
    Other,
}

#[derive(Debug, Clone, Copy)]
pub enum Gate {
    /// Login pages, static files, public cards: anyone, signed in or not; only "never 5xx" is checked.
    Public,
    /// Any signed-in role.
    SignedIn,
    /// Every action listed must be permitted to the role.
    All(&'static [Action], Res),
    /// At least one of the actions must be permitted.
    Any(&'static [Action], Res),
    /// Not exercised by the matrix (the reason says why); still listed so that the route is known.
    Skip(&'static str),
}

use Action as A;
use Gate::*;
use Res::*;

/// The pages. Methods: GET or POST (forms carry the CSRF token and no other field).
#[rustfmt::skip]
pub const UI: &[(&str, &str, Gate)] = &[
    ("GET", "/login", Public),
    ("POST", "/login", Skip("failed logins would throttle the loopback address")),
    ("GET", "/login/totp", Public),
    ("POST", "/login/totp", Public),
    ("GET", "/login/totp-enroll", Public),
    ("POST", "/login/totp-enroll", Public),
    ("GET", "/login/password", Public),
    ("POST", "/login/password", Public),
    ("POST", "/logout", Skip("ends the session the matrix uses")),
    ("GET", "/activate", Public),
    ("POST", "/activate", Public),
    ("GET", "/activation-codes", All(&[A::ActivationIssue], No)),
    ("POST", "/activation-codes", All(&[A::ActivationIssue], No)),
    ("GET", "/", SignedIn),
    ("GET", "/account", SignedIn),
    ("POST", "/account/password", SignedIn),
    ("POST", "/account/role", SignedIn),
    ("GET", "/account/export.json", SignedIn),
    ("GET", "/places", All(&[A::PlaceView], No)),
    ("GET", "/places/{id}", All(&[A::PlaceView], Place)),
    ("GET", "/places/{id}/new", All(&[A::PlaceEdit], Place)),
    ("POST", "/places/{id}/new", All(&[A::PlaceEdit], Place)),
    ("GET", "/places/{id}/edit", All(&[A::PlaceEdit], Place)),
    ("POST", "/places/{id}/edit", All(&[A::PlaceEdit], Place)),
    ("GET", "/units", All(&[A::UnitView], No)),
    ("GET", "/units/new", All(&[A::UnitCreate], No)),
    ("POST", "/units/new", All(&[A::UnitCreate], No)),
    ("GET", "/units/{id}", All(&[A::UnitView], Unit)),
    ("GET", "/units/{id}/edit", All(&[A::UnitEdit], Unit)),
    ("POST", "/units/{id}/edit", All(&[A::UnitEdit], Unit)),
    ("GET", "/members", All(&[A::MemberView], No)),
    ("GET", "/members/new", All(&[A::MemberCreate], No)),
    ("POST", "/members/new", All(&[A::MemberCreate], No)),
    ("GET", "/members/{id}", All(&[A::MemberView], Member)),
    ("GET", "/members/{id}/edit", All(&[A::MemberEdit], Member)),
    ("POST", "/members/{id}/edit", All(&[A::MemberEdit], Member)),
    ("POST", "/members/{id}/reveal", All(&[A::PersonalReveal], Member)),
    ("GET", "/unit-roster", All(&[A::UnitRosterConfirm], No)),
    ("POST", "/unit-roster/confirm", All(&[A::UnitRosterConfirm], No)),
    ("POST", "/unit-roster/decline", All(&[A::UnitRosterConfirm], No)),
    ("GET", "/social-orgs", All(&[A::SocialOrgView], No)),
    ("GET", "/social-orgs/new", All(&[A::SocialOrgEdit], No)),
    ("POST", "/social-orgs/new", All(&[A::SocialOrgEdit], No)),
    ("GET", "/social-orgs/{id}", All(&[A::SocialOrgView], SocialOrg)),
    ("GET", "/social-orgs/{id}/edit", All(&[A::SocialOrgEdit], SocialOrg)),
    ("POST", "/social-orgs/{id}/edit", All(&[A::SocialOrgEdit], SocialOrg)),
    ("GET", "/dictionaries", All(&[A::DictionaryEdit], No)),
    ("POST", "/dictionaries", All(&[A::DictionaryEdit], No)),
    ("GET", "/dictionaries/{id}/edit", All(&[A::DictionaryEdit], Other)),
    ("POST", "/dictionaries/{id}/edit", All(&[A::DictionaryEdit], Other)),
    ("GET", "/audit", All(&[A::AuditView], No)),
    ("GET", "/accounts", All(&[A::AccountManage], No)),
    ("POST", "/accounts/{id}/unlock", All(&[A::AccountManage], Other)),
    ("GET", "/accounts/new", All(&[A::AccountManage], No)),
    ("POST", "/accounts/new", All(&[A::AccountManage], No)),
    ("GET", "/accounts/{id}", All(&[A::AccountManage], Other)),
    ("POST", "/accounts/{id}/roles", All(&[A::AccountManage], Other)),
    ("POST", "/accounts/{id}/roles/{binding}/remove", All(&[A::AccountManage], Other)),
    ("POST", "/accounts/{id}/active", All(&[A::AccountManage], Other)),
    ("POST", "/accounts/{id}/reset-password", All(&[A::AccountManage], Other)),
    ("GET", "/rounds", All(&[A::RoundManage], No)),
    ("GET", "/rounds/new", All(&[A::RoundManage], No)),
    ("POST", "/rounds/new", All(&[A::RoundManage], No)),
    ("POST", "/rounds/{id}/close", All(&[A::RoundManage], Other)),
    ("GET", "/my/registration", All(&[A::RegistrationSubmit], No)),
    ("POST", "/my/registration", All(&[A::RegistrationSubmit], No)),
    ("GET", "/join/{code}", Public),
    ("GET", "/registrations", All(&[A::RegistrationView], No)),
    ("GET", "/registrations/qr", All(&[A::RegistrationReview], No)),
    ("POST", "/registrations/accept", All(&[A::RegistrationReview], No)),
    ("GET", "/registrations/qr.svg", All(&[A::RegistrationReview], No)),
    ("GET", "/registrations/qr.png", All(&[A::RegistrationReview], No)),
    ("GET", "/registrations/{id}", All(&[A::RegistrationView], Registration)),
    ("POST", "/registrations/{id}/accept", All(&[A::RegistrationReview], Other)),
    ("POST", "/registrations/{id}/return", All(&[A::RegistrationReview], Other)),
    ("POST", "/registrations/{id}/withdraw", All(&[A::RegistrationSubmit], Other)),
    ("POST", "/registrations/{id}/confirm", All(&[A::RegistrationSubmit], Other)),
    ("GET", "/registrations/{id}/transfer", Any(&[A::RegistrationSubmit, A::RegistrationReview], Other)),
    ("POST", "/registrations/{id}/transfer", Any(&[A::RegistrationSubmit, A::RegistrationReview], Other)),
    ("GET", "/registrations/{id}/receipt", All(&[A::RegistrationView], Other)),
    ("GET", "/units/{id}/registrations", All(&[A::RegistrationView], Unit)),
    ("GET", "/members/{id}/card", All(&[A::MemberView], Member)),
    ("POST", "/members/{id}/card", All(&[A::MemberCardManage], Member)),
    ("GET", "/card/{token}", Public),
    ("GET", "/unit-registrations", All(&[A::PairingView], No)),
    ("GET", "/unit-registrations/new", All(&[A::UnitRegistrationSubmit], No)),
    ("POST", "/unit-registrations/new", All(&[A::UnitRegistrationSubmit], No)),
    ("GET", "/unit-registrations/{id}", All(&[A::PairingView], UnitRegistration)),
    ("POST", "/unit-registrations/{id}/accept", All(&[A::UnitRegistrationReview], Other)),
    ("POST", "/unit-registrations/{id}/return", All(&[A::UnitRegistrationReview], Other)),
    ("POST", "/unit-registrations/{id}/withdraw", All(&[A::UnitRegistrationSubmit], Other)),
    ("POST", "/unit-registrations/{id}/resubmit", All(&[A::UnitRegistrationSubmit], Other)),
    ("POST", "/unit-registrations/{id}/partners", All(&[A::GridPartnerManage], Other)),
    ("POST", "/unit-registrations/{id}/partners/remove", All(&[A::GridPartnerManage], Other)),
    ("GET", "/units/{id}/resources", All(&[A::UnitView], Unit)),
    ("POST", "/units/{id}/resources", All(&[A::UnitRegistrationSubmit], Unit)),
    ("GET", "/resources/{id}/edit", All(&[A::UnitRegistrationSubmit], Other)),
    ("POST", "/resources/{id}/edit", All(&[A::UnitRegistrationSubmit], Other)),
    ("POST", "/resources/{id}/delete", All(&[A::UnitRegistrationSubmit], Other)),
    ("GET", "/pairings", All(&[A::PairingView], No)),
    ("GET", "/pairings/new", All(&[A::PairingManage], No)),
    ("POST", "/pairings/new", All(&[A::PairingManage], No)),
    ("GET", "/pairings/{id}", All(&[A::PairingView], Pairing)),
    ("POST", "/pairings/{id}/status", All(&[A::PairingManage], Other)),
    ("GET", "/alliances", All(&[A::PairingView], No)),
    ("POST", "/alliances", All(&[A::PairingManage], No)),
    ("POST", "/alliances/{id}/units", All(&[A::PairingManage], Other)),
    ("GET", "/projects", All(&[A::PairingView], No)),
    ("GET", "/projects/new", All(&[A::ProjectManage], No)),
    ("POST", "/projects/new", All(&[A::ProjectManage], No)),
    ("GET", "/projects/{id}", All(&[A::PairingView], Other)),
    ("POST", "/projects/{id}/activities", All(&[A::ProjectManage], Other)),
    ("POST", "/projects/{id}/grade", All(&[A::ProjectGrade], Other)),
    ("POST", "/activities/{id}/done", All(&[A::ProjectManage], Other)),
    ("GET", "/imports", Any(&[A::Import, A::Export], No)),
    ("POST", "/imports", All(&[A::Import], No)),
    ("GET", "/imports/{id}", All(&[A::Import], Other)),
    ("GET", "/imports/{id}/report.csv", All(&[A::Import], Other)),
    ("GET", "/imports/templates/{file}", All(&[A::Import], No)),
    ("GET", "/exports/members.xlsx", All(&[A::Export], No)),
    ("GET", "/exports/units.xlsx", All(&[A::Export], No)),
    ("GET", "/jobs", All(&[A::JobView], No)),
    ("GET", "/units/{id}/unregistered", All(&[A::UnregisteredView], Unit)),
    ("GET", "/units/{id}/unregistered.xlsx", All(&[A::UnregisteredView, A::Export], Unit)),
    ("POST", "/units/{id}/unregistered/remind", All(&[A::RegistrationRemind], Unit)),
    ("POST", "/units/{id}/unregistered/remind-all", All(&[A::RegistrationRemind], Unit)),
    ("GET", "/places/{id}/unregistered", All(&[A::UnregisteredView], Place)),
    ("GET", "/places/{id}/unregistered.xlsx", All(&[A::UnregisteredView, A::Export], Place)),
    ("POST", "/places/{id}/unregistered/remind", All(&[A::RegistrationRemind], Place)),
    ("POST", "/places/{id}/unregistered/remind-all", All(&[A::RegistrationRemind], Place)),
    ("GET", "/messages", SignedIn),
    ("POST", "/messages/read-all", SignedIn),
    // Anyone signed in, about their own messages: an id that is nobody's answers 404.
    ("POST", "/messages/{id}/read", All(&[], Other)),
    ("GET", "/static/app.css", Public),
    ("GET", "/static/app.js", Public),
];

/// The API operations, as in the OpenAPI document. Bodies are generated from the document's schemas: every
/// required field present with an empty value, so the body deserialises and reaches the permission check, and
/// then fails validation.
#[rustfmt::skip]
pub const API: &[(&str, &str, Gate)] = &[
    ("POST", "/api/v1/auth/login", Public),
    ("POST", "/api/v1/activation", Public),
    ("POST", "/api/v1/activation/check", Public),
    ("POST", "/api/v1/auth/logout", Skip("ends the session the matrix uses")),
    ("GET", "/api/v1/me", SignedIn),
    ("GET", "/api/v1/me/export", SignedIn),
    ("GET", "/api/v1/communities", SignedIn),
    ("GET", "/api/v1/places", All(&[A::PlaceView], No)),
    ("POST", "/api/v1/places", All(&[A::PlaceEdit], No)),
    ("GET", "/api/v1/places/{id}", All(&[A::PlaceView], Place)),
    ("PUT", "/api/v1/places/{id}", All(&[A::PlaceEdit], Place)),
    ("GET", "/api/v1/units", All(&[A::UnitView], No)),
    ("POST", "/api/v1/units", All(&[A::UnitCreate], No)),
    ("GET", "/api/v1/units/{id}", All(&[A::UnitView], Unit)),
    ("PUT", "/api/v1/units/{id}", All(&[A::UnitEdit], Unit)),
    ("GET", "/api/v1/members", All(&[A::MemberView], No)),
    ("POST", "/api/v1/members", All(&[A::MemberCreate], No)),
    ("GET", "/api/v1/members/{id}", All(&[A::MemberView], Member)),
    ("PUT", "/api/v1/members/{id}", All(&[A::MemberEdit], Member)),
    ("POST", "/api/v1/members/{id}/reveal", All(&[A::PersonalReveal], Member)),
    ("GET", "/api/v1/unit-roster", All(&[A::UnitRosterConfirm], No)),
    ("POST", "/api/v1/unit-roster/confirm", All(&[A::UnitRosterConfirm], No)),
    ("POST", "/api/v1/unit-roster/decline", All(&[A::UnitRosterConfirm], No)),
    ("GET", "/api/v1/social-orgs", All(&[A::SocialOrgView], No)),
    ("POST", "/api/v1/social-orgs", All(&[A::SocialOrgEdit], No)),
    ("GET", "/api/v1/social-orgs/{id}", All(&[A::SocialOrgView], SocialOrg)),
    ("PUT", "/api/v1/social-orgs/{id}", All(&[A::SocialOrgEdit], SocialOrg)),
    ("GET", "/api/v1/dictionaries/{kind}", All(&[A::DictionaryView], No)),
    ("POST", "/api/v1/dictionaries/{kind}", All(&[A::DictionaryEdit], No)),
    ("PUT", "/api/v1/dictionaries/entries/{id}", All(&[A::DictionaryEdit], Other)),
    ("GET", "/api/v1/audit", All(&[A::AuditView], No)),
    ("GET", "/api/v1/rounds", Any(&[A::RoundManage, A::RegistrationView, A::RegistrationSubmit], No)),
    ("POST", "/api/v1/rounds", All(&[A::RoundManage], No)),
    ("POST", "/api/v1/rounds/{id}/close", All(&[A::RoundManage], Other)),
    ("GET", "/api/v1/registrations", All(&[A::RegistrationView], No)),
    ("POST", "/api/v1/registrations", All(&[A::RegistrationSubmit], No)),
    ("GET", "/api/v1/registrations/{id}", All(&[A::RegistrationView], Registration)),
    ("POST", "/api/v1/registrations/{id}/accept", All(&[A::RegistrationReview], Other)),
    ("POST", "/api/v1/registrations/{id}/return", All(&[A::RegistrationReview], Other)),
    ("POST", "/api/v1/registrations/{id}/withdraw", All(&[A::RegistrationSubmit], Other)),
    ("POST", "/api/v1/registrations/{id}/transfer", Any(&[A::RegistrationSubmit, A::RegistrationReview], Other)),
    ("POST", "/api/v1/registrations/{id}/confirm", All(&[A::RegistrationSubmit], Other)),
    ("GET", "/api/v1/registrations/{id}/receipt", All(&[A::RegistrationView], Other)),
    ("GET", "/api/v1/units/{id}/registration-rate", All(&[A::RegistrationView], Unit)),
    ("GET", "/api/v1/unit-registrations", All(&[A::PairingView], No)),
    ("POST", "/api/v1/unit-registrations", All(&[A::UnitRegistrationSubmit], No)),
    ("GET", "/api/v1/unit-registrations/{id}", All(&[A::PairingView], UnitRegistration)),
    ("POST", "/api/v1/unit-registrations/{id}/accept", All(&[A::UnitRegistrationReview], Other)),
    ("POST", "/api/v1/unit-registrations/{id}/return", All(&[A::UnitRegistrationReview], Other)),
    ("POST", "/api/v1/unit-registrations/{id}/withdraw", All(&[A::UnitRegistrationSubmit], Other)),
    ("POST", "/api/v1/unit-registrations/{id}/resubmit", All(&[A::UnitRegistrationSubmit], Other)),
    ("GET", "/api/v1/units/{id}/resources", All(&[A::UnitView], Unit)),
    ("POST", "/api/v1/units/{id}/resources", All(&[A::UnitRegistrationSubmit], Unit)),
    ("PUT", "/api/v1/resources/{id}", All(&[A::UnitRegistrationSubmit], Other)),
    ("DELETE", "/api/v1/resources/{id}", All(&[A::UnitRegistrationSubmit], Other)),
    ("GET", "/api/v1/grid-partners", All(&[A::PairingView], No)),
    ("POST", "/api/v1/grid-partners", All(&[A::GridPartnerManage], No)),
    // The unit and grid ids are in the query: ids that exist nowhere, so 404 once permitted.
    ("DELETE", "/api/v1/grid-partners", All(&[A::GridPartnerManage], Other)),
    ("GET", "/api/v1/pairings", All(&[A::PairingView], No)),
    ("POST", "/api/v1/pairings", All(&[A::PairingManage], No)),
    ("GET", "/api/v1/pairings/{id}", All(&[A::PairingView], Pairing)),
    ("POST", "/api/v1/pairings/{id}/status", All(&[A::PairingManage], Other)),
    ("GET", "/api/v1/alliances", All(&[A::PairingView], No)),
    ("POST", "/api/v1/alliances", All(&[A::PairingManage], No)),
    ("POST", "/api/v1/alliances/{id}/units", All(&[A::PairingManage], Other)),
    ("GET", "/api/v1/projects", All(&[A::PairingView], No)),
    ("POST", "/api/v1/projects", All(&[A::ProjectManage], No)),
    ("GET", "/api/v1/projects/{id}", All(&[A::PairingView], Other)),
    ("GET", "/api/v1/projects/{id}/activities", All(&[A::PairingView], Other)),
    ("POST", "/api/v1/projects/{id}/activities", All(&[A::ProjectManage], Other)),
    ("POST", "/api/v1/projects/{id}/grade", All(&[A::ProjectGrade], Other)),
    ("POST", "/api/v1/activities/{id}/done", All(&[A::ProjectManage], Other)),
    ("POST", "/api/v1/imports/members", All(&[A::Import], No)),
    ("POST", "/api/v1/imports/units", All(&[A::Import, A::UnitCreate], No)),
    ("GET", "/api/v1/imports/{id}", All(&[A::Import], Other)),
    ("GET", "/api/v1/imports/templates/{file}", All(&[A::Import], No)),
    ("GET", "/api/v1/exports/members.xlsx", All(&[A::Export], No)),
    ("GET", "/api/v1/exports/units.xlsx", All(&[A::Export], No)),
    ("GET", "/api/v1/jobs", All(&[A::JobView], No)),
    ("GET", "/api/v1/jobs/{id}", All(&[A::JobView], Other)),
    ("GET", "/api/v1/units/{id}/unregistered", All(&[A::UnregisteredView], Unit)),
    ("GET", "/api/v1/units/{id}/unregistered.xlsx", All(&[A::UnregisteredView, A::Export], Unit)),
    ("POST", "/api/v1/units/{id}/unregistered/remind", All(&[A::RegistrationRemind], Unit)),
    ("POST", "/api/v1/units/{id}/unregistered/remind-all", All(&[A::RegistrationRemind], Unit)),
    ("GET", "/api/v1/places/{id}/unregistered", All(&[A::UnregisteredView], Place)),
    ("GET", "/api/v1/places/{id}/unregistered.xlsx", All(&[A::UnregisteredView, A::Export], Place)),
    ("POST", "/api/v1/places/{id}/unregistered/remind", All(&[A::RegistrationRemind], Place)),
    ("POST", "/api/v1/places/{id}/unregistered/remind-all", All(&[A::RegistrationRemind], Place)),
    ("GET", "/api/v1/messages", SignedIn),
    ("POST", "/api/v1/messages/{id}/read", All(&[], Other)),
    ("POST", "/api/v1/messages/read-all", SignedIn),
];

/// An id that no table holds.
const MISSING: i64 = 987_654_321;

/// One record of the fixture: what it is, its id, and where it belongs (for `Scope::sees`).
#[derive(Debug, Clone)]
pub struct Target {
    pub relation: &'static str,
    pub res: Res,
    pub id: i64,
    pub path: String,
    pub unit: Option<UnitId>,
    pub member: Option<MemberId>,
}

/// One signed-in role of the fixture.
pub struct Who {
    pub role: Role,
    pub username: String,
    pub scope: Scope,
}

pub struct Fixture {
    pub who: Vec<Who>,
    pub targets: Vec<Target>,
    pub units: BTreeMap<&'static str, UnitId>,
    pub members: BTreeMap<&'static str, MemberId>,
    pub places: BTreeMap<&'static str, (PlaceId, String)>,
}

/// Two towns (A, B), communities A1 and A2 in A and B1 in B, a grid in A1; units UA, UA2 (in A1), UC (in A2),
/// UB (in B1); members MA, MA2 (unit UA, living in A1), MX (unit UA2, A1), MC (unit UC, A2), MB (unit UB, B1);
/// social organisations in A1, A2, B1; an open round; one account per role, bound to town A / community A1 / the
/// grid / unit UA / member MA / the district. Built with the fixture builder over an empty database.
pub async fn fixture(store: &Store) -> Fixture {
    let mut w = World::build(store).await;
    w.open_round("2026年度", 2026).await;
    let root = w.district.clone();
    let mut places = BTreeMap::new();
    let as_tuple = |p: &FxPlace| (p.code.clone(), p.id, p.path.clone());
    let ta = w.place_with_code("mx_ta", "矩阵甲镇", &root).await;
    let tb = w.place_with_code("mx_tb", "矩阵乙镇", &root).await;
    let a1p = w.place_with_code("mx_a1", "矩阵甲一村", &ta).await;
    let a2p = w.place_with_code("mx_a2", "矩阵甲二村", &ta).await;
    let b1p = w.place_with_code("mx_b1", "矩阵乙一村", &tb).await;
    let g1p = w.place_with_code("mx_g1", "矩阵甲一网格", &a1p).await;
    let (a1, a2, b1) = (as_tuple(&a1p), as_tuple(&a2p), as_tuple(&b1p));
    for (code, p) in [
        ("mx_ta", &ta),
        ("mx_tb", &tb),
        ("mx_a1", &a1p),
        ("mx_a2", &a2p),
        ("mx_b1", &b1p),
        ("mx_g1", &g1p),
    ] {
        places.insert(code, (p.id, p.path.clone()));
    }
    let mut unit_handles = BTreeMap::new();
    let mut units = BTreeMap::new();
    for (name, place) in [("UA", &a1p), ("UA2", &a1p), ("UC", &a2p), ("UB", &b1p)] {
        let u = w.unit(&format!("矩阵单位{name}"), place).await;
        units.insert(name, u.id);
        unit_handles.insert(name, u);
    }
    let mut member_handles = BTreeMap::new();
    let mut members = BTreeMap::new();
    for (name, unit, place) in [
        ("MA", "UA", &a1p),
        ("MA2", "UA", &a1p),
        ("MX", "UA2", &a1p),
        ("MC", "UC", &a2p),
        ("MB", "UB", &b1p),
    ] {
        let m = w
            .member(&format!("矩阵党员{name}"), &unit_handles[unit], place)
            .await;
        members.insert(name, m.id);
        member_handles.insert(name, m);
    }
    let mut socials = BTreeMap::new();
    for (name, place) in [("SA1", &a1p), ("SA2", &a2p), ("SB1", &b1p)] {
        socials.insert(
            name,
            w.social_org(&format!("矩阵社会组织{name}"), place).await,
        );
    }

    // The scope relations, seen from the accounts bound to A / A1 / UA / MA.
    let unit_at = |u: &str| {
        let place = match u {
            "UA" | "UA2" => &a1.2,
            "UC" => &a2.2,
            _ => &b1.2,
        };
        place.clone()
    };
    let mut targets = vec![];
    for (relation, p) in [
        ("own", &a1),
        ("another town's", &b1),
        ("another community's", &a2),
    ] {
        targets.push(Target {
            relation,
            res: Res::Place,
            id: p.1.0,
            path: p.2.clone(),
            unit: None,
            member: None,
        });
    }
    for (relation, u) in [
        ("own", "UA"),
        ("another town's", "UB"),
        ("another community's", "UC"),
        ("another unit's", "UA2"),
    ] {
        targets.push(Target {
            relation,
            res: Res::Unit,
            id: units[u].0,
            path: unit_at(u),
            unit: Some(units[u]),
            member: None,
        });
    }
    for (relation, m, u, p) in [
        ("own", "MA", "UA", &a1),
        ("another town's", "MB", "UB", &b1),
        ("another community's", "MC", "UC", &a2),
        ("another unit's", "MX", "UA2", &a1),
        ("another member's", "MA2", "UA", &a1),
    ] {
        targets.push(Target {
            relation,
            res: Res::Member,
            id: members[m].0,
            path: p.2.clone(),
            unit: Some(units[u]),
            member: Some(members[m]),
        });
    }
    for (relation, s, p) in [
        ("own", "SA1", &a1),
        ("another town's", "SB1", &b1),
        ("another community's", "SA2", &a2),
    ] {
        targets.push(Target {
            relation,
            res: Res::SocialOrg,
            id: socials[s].0,
            path: p.2.clone(),
            unit: None,
            member: None,
        });
    }
    // Registrations in the open round and pairings (read routes only: the matrix's writes use ids that exist
    // nowhere, so that no case changes what another sees). MA registers in A1, MC in A2, MB in B1.
    let system = Actor::system("matrix");
    let store = &w.store;
    for (relation, m, u, p) in [
        ("own", "MA", "UA", &a1),
        ("another community's", "MC", "UC", &a2),
        ("another town's", "MB", "UB", &b1),
    ] {
        let v = shanzhi_domain::registration::RegistrationInput {
            community_id: p.1.to_string(),
            skills: vec![],
            intentions: vec![],
            availability: vec!["weekday_evening".into()],
        }
        .validate()
        .unwrap();
        let id = store
            .submit_registration(&system, &Scope::Member(members[m]), members[m], &v)
            .await
            .unwrap();
        targets.push(Target {
            relation,
            res: Res::Registration,
            id: id.0,
            path: p.2.clone(),
            unit: Some(units[u]),
            member: Some(members[m]),
        });
    }
    let root_scope = Scope::Subtree(root.path.clone());
    for (relation, u, p) in [
        ("own", "UA", &a1),
        ("another community's", "UC", &a2),
        ("another town's", "UB", &b1),
        ("another unit's", "UA2", &a1),
    ] {
        let v = shanzhi_domain::registration::UnitRegistrationInput {
            place_id: p.1.to_string(),
            contact_name: "联系人".into(),
            contact_phone: String::new(),
            note: String::new(),
        }
        .validate()
        .unwrap();
        let id = store
            .submit_unit_registration(&system, &Scope::Unit(units[u]), units[u], &v)
            .await
            .unwrap();
        targets.push(Target {
            relation,
            res: Res::UnitRegistration,
            id: id.0,
            path: p.2.clone(),
            unit: Some(units[u]),
            member: None,
        });
        let v = shanzhi_domain::registration::PairingInput {
            unit_id: units[u].to_string(),
            community_id: p.1.to_string(),
            term_start: "2026-01-01".into(),
            term_end: "2026-12-31".into(),
            activities_per_quarter: "1".into(),
            targets_note: String::new(),
        }
        .validate()
        .unwrap();
        let id = store
            .create_pairing(&system, &root_scope, &v)
            .await
            .unwrap();
        targets.push(Target {
            relation,
            res: Res::Pairing,
            id: id.0,
            path: p.2.clone(),
            unit: Some(units[u]),
            member: None,
        });
    }
    targets.push(Target {
        relation: "missing",
        res: Res::Other,
        id: MISSING,
        path: String::new(),
        unit: None,
        member: None,
    });

    // One account per role.
    let mut who = vec![];
    for role in Role::ALL {
        let username = format!("mx_{}", role.as_str());
        let account = match role {
            Role::DistrictAdmin | Role::SecurityAdmin | Role::Auditor => {
                w.account_named(&username, role, &root).await
            }
            Role::TownAdmin => w.account_named(&username, role, &ta).await,
            Role::CommunityAdmin | Role::Resident => w.account_named(&username, role, &a1p).await,
            Role::GridLeader => w.account_named(&username, role, &g1p).await,
            Role::UnitAdmin => w.account_named(&username, role, &unit_handles["UA"]).await,
            Role::Member => {
                w.account_named(&username, role, &member_handles["MA"])
                    .await
            }
        };
        who.push(Who {
            role,
            username,
            scope: account.scope,
        });
    }
    Fixture {
        who,
        targets,
        units,
        members,
        places,
    }
}

/// What a case must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Past the permission and scope checks: any answer below 500 except 401, 403, 404 and 405 (a validation
    /// error for a write counts: the body is deliberately empty).
    Allowed,
    Forbidden,
    NotFound,
    /// Never 5xx (public routes).
    No5xx,
}

fn expect(gate: Gate, role: Role, scope: &Scope, target: Option<&Target>) -> Option<Expect> {
    let (permitted, res) = match gate {
        Public => return Some(Expect::No5xx),
        Skip(_) => return None,
        SignedIn => (true, No),
        All(actions, res) => (actions.iter().all(|a| permits(role, *a)), res),
        Any(actions, res) => (actions.iter().any(|a| permits(role, *a)), res),
    };
    if !permitted {
        return Some(Expect::Forbidden);
    }
    Some(match (res, target) {
        (No, _) | (_, None) => Expect::Allowed,
        (Other, Some(_)) => Expect::NotFound,
        (_, Some(t)) => {
            if scope.sees(&t.path, t.unit, t.member) {
                Expect::Allowed
            } else {
                Expect::NotFound
            }
        }
    })
}

fn answer_fits(e: Expect, status: u16) -> bool {
    match e {
        Expect::No5xx => status < 500,
        Expect::Forbidden => status == 403,
        Expect::NotFound => status == 404,
        Expect::Allowed => status < 500 && !matches!(status, 401 | 403 | 404 | 405),
    }
}

/// Sample values for the path parameters that are not record ids.
fn fill(path: &str, id: i64) -> String {
    path.replace("{id}", &id.to_string())
        .replace("{binding}", &MISSING.to_string())
        .replace("{file}", "members.xlsx")
        .replace("{kind}", "skill")
        .replace("{token}", "no-such-token")
        .replace("{code}", "no-such-code")
}

fn res_of(gate: Gate) -> Res {
    match gate {
        All(_, r) | Any(_, r) => r,
        _ => No,
    }
}

/// A minimal JSON value for a schema: required fields only, empty values.
fn sample(doc: &serde_json::Value, schema: &serde_json::Value, depth: usize) -> serde_json::Value {
    use serde_json::{Value, json};
    if depth > 6 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        return sample(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut out = serde_json::Map::new();
        for part in parts {
            if let Value::Object(m) = sample(doc, part, depth + 1) {
                out.extend(m);
            }
        }
        return Value::Object(out);
    }
    for k in ["oneOf", "anyOf"] {
        if let Some(first) = schema
            .get(k)
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|s| s.get("type") != Some(&json!("null"))))
        {
            return sample(doc, first, depth + 1);
        }
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return first.clone();
    }
    let ty = match schema.get("type") {
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        Some(Value::String(t)) => t.clone(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ => "null".into(),
    };
    match ty.as_str() {
        "string" => json!(""),
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" => {
            let mut out = serde_json::Map::new();
            let required: BTreeSet<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    if required.contains(k.as_str()) {
                        out.insert(k.clone(), sample(doc, v, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

/// One request of the matrix.
#[derive(Debug, Clone)]
struct Case {
    api: bool,
    method: String,
    url_path: String,
    body: Option<serde_json::Value>,
    expect: Expect,
    label: String,
}

async fn ui_methods(app: &TestApp, path: &str) -> Vec<&'static str> {
    let client = app.browser();
    let url = app.url(&fill(path, MISSING));
    let mut out = vec![];
    for m in ["GET", "POST", "PUT", "DELETE"] {
        let res = client
            .request(reqwest::Method::from_bytes(m.as_bytes()).unwrap(), &url)
            .send()
            .await
            .unwrap();
        if res.status() != 405 {
            out.push(m);
        }
    }
    out
}

async fn run_matrix(db: Db) {
    let started = std::time::Instant::now();
    let app = TestApp::builder(db).start().await;
    let fx = fixture(&app.store).await;

    // The routes, from the router and from the OpenAPI document.
    let mut missing = vec![];
    let mut ui_ops: Vec<(&'static str, &'static str, Gate)> = vec![];
    let ui_paths = shanzhi_web::ui::route_paths();
    for path in &ui_paths {
        for m in ui_methods(&app, path).await {
            match UI.iter().find(|(em, ep, _)| *em == m && ep == path) {
                Some(e) => ui_ops.push(*e),
                None => missing.push(format!("UI {m} {path}")),
            }
        }
    }
    let doc = serde_json::to_value(shanzhi_web::api::router().1).unwrap();
    let mut api_ops: Vec<(String, &'static str, Gate, serde_json::Value)> = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let method = m.to_ascii_uppercase();
            if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "DELETE" | "PATCH") {
                continue;
            }
            match API.iter().find(|(em, ep, _)| *em == method && ep == path) {
                Some((_, p, g)) => api_ops.push((method.clone(), p, *g, op.clone())),
                None => missing.push(format!("API {method} {path}")),
            }
        }
    }
    // Entries must name live routes too (a renamed route must not leave a stale entry behind).
    for (m, p, _) in UI {
        if !ui_ops.iter().any(|(om, op, _)| om == m && op == p) {
            missing.push(format!("stale UI entry {m} {p}"));
        }
    }
    for (m, p, _) in API {
        if !api_ops.iter().any(|(om, op, _, _)| om == m && op == p) {
            missing.push(format!("stale API entry {m} {p}"));
        }
    }
    let skipped: Vec<String> = UI
        .iter()
        .chain(API)
        .filter_map(|(m, p, g)| match g {
            Skip(why) => Some(format!("{m} {p} ({why})")),
            _ => None,
        })
        .collect();
    println!("not exercised: {}", skipped.join("; "));
    assert!(
        missing.is_empty(),
        "routes without a matrix entry (add them to UI / API in tests/it/matrix.rs): {missing:#?}"
    );

    // The cases, per role.
    let mut per_role: Vec<(usize, Vec<Case>)> = vec![];
    let mut public: Vec<Case> = vec![];
    for (i, who) in fx.who.iter().enumerate() {
        let mut cases = vec![];
        let targets_for = |res: Res| -> Vec<Option<&Target>> {
            if res == No {
                vec![None]
            } else {
                fx.targets
                    .iter()
                    .filter(|t| t.res == res)
                    .map(Some)
                    .collect()
            }
        };
        for (m, p, gate) in &ui_ops {
            for t in targets_for(res_of(*gate)) {
                let Some(e) = expect(*gate, who.role, &who.scope, t) else {
                    continue;
                };
                let case = Case {
                    api: false,
                    method: m.to_string(),
                    url_path: fill(p, t.map(|t| t.id).unwrap_or(MISSING)),
                    body: None,
                    expect: e,
                    label: format!(
                        "{} {m} {p} [{}]",
                        who.role.as_str(),
                        t.map(|t| t.relation).unwrap_or("-")
                    ),
                };
                if matches!(gate, Public) {
                    if i == 0 {
                        public.push(case);
                    }
                } else {
                    cases.push(case);
                }
            }
        }
        for (m, p, gate, op) in &api_ops {
            let body = op
                .get("requestBody")
                .and_then(|b| b["content"].get("application/json"))
                .map(|c| sample(&doc, &c["schema"], 0));
            let mut query = vec![];
            for param in op
                .get("parameters")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default()
            {
                // A required parameter that is not in the path template goes in the query (whatever `in` the
                // document gives it).
                let name = param["name"].as_str().unwrap_or_default();
                let in_path = p.contains(&format!("{{{name}}}"));
                let nullable = param["schema"]["type"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "null"));
                if !in_path && param["required"] == true && !nullable {
                    let v = match sample(&doc, &param["schema"], 0) {
                        serde_json::Value::String(_) => "x".to_string(),
                        serde_json::Value::Number(_) => MISSING.to_string(),
                        other => other.to_string(),
                    };
                    query.push(format!("{}={v}", param["name"].as_str().unwrap()));
                }
            }
            for t in targets_for(res_of(*gate)) {
                let Some(e) = expect(*gate, who.role, &who.scope, t) else {
                    continue;
                };
                let mut url_path = fill(p, t.map(|t| t.id).unwrap_or(MISSING));
                if !query.is_empty() {
                    url_path = format!("{url_path}?{}", query.join("&"));
                }
                let case = Case {
                    api: true,
                    method: m.clone(),
                    url_path,
                    body: body.clone(),
                    expect: e,
                    label: format!(
                        "{} API {m} {p} [{}]",
                        who.role.as_str(),
                        t.map(|t| t.relation).unwrap_or("-")
                    ),
                };
                if matches!(gate, Public) {
                    if i == 0 {
                        public.push(case);
                    }
                } else {
                    cases.push(case);
                }
            }
        }
        per_role.push((i, cases));
    }

    // Run: one task per role (its own page session and API token), public routes anonymously.
    let app = Arc::new(app);
    let mut tasks = vec![];
    for (i, cases) in per_role {
        let app = app.clone();
        let username = fx.who[i].username.clone();
        tasks.push(tokio::spawn(async move {
            let browser = app.browser();
            let (status, to) = app.web_login(&browser, &username, PASSWORD).await;
            assert_eq!(status, 303, "{username} logs in: {to}");
            let csrf = app.csrf(&browser).await;
            let token = app.token(&username).await;
            run_cases(&app, &browser, &csrf, Some(&token), &cases).await
        }));
    }
    let anonymous = app.browser();
    let csrf = app.csrf(&anonymous).await;
    let (_, mut unexpected) = run_cases(&app, &anonymous, &csrf, None, &public).await;
    let mut cases = public.len();
    for t in tasks {
        let (n, bad) = t.await.unwrap();
        cases += n;
        unexpected.extend(bad);
    }
    let total_cases = cases;
    println!(
        "authorisation matrix ({db:?}): {} UI routes ({} route×method), {} API operations, {} roles, {} cases, unexpected answers: {} ({:.1}s)",
        ui_paths.len(),
        ui_ops.len(),
        api_ops.len(),
        fx.who.len(),
        total_cases,
        unexpected.len(),
        started.elapsed().as_secs_f32()
    );
    assert!(
        unexpected.is_empty(),
        "{} unexpected answers:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

async fn run_cases(
    app: &TestApp,
    browser: &reqwest::Client,
    csrf: &str,
    token: Option<&str>,
    cases: &[Case],
) -> (usize, Vec<String>) {
    let mut bad = vec![];
    for c in cases {
        let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
        let url = app.url(&c.url_path);
        let req = if c.api {
            let mut r = app.api().request(method, url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            match &c.body {
                Some(b) => r.json(b),
                None => r,
            }
        } else if c.method == "POST" && c.url_path == "/imports" {
            // The upload form is multipart, with the CSRF token in the query.
            let boundary = "matrixboundary";
            browser
                .request(method, app.url(&format!("/imports?_csrf={csrf}")))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(format!("--{boundary}--\r\n"))
        } else if c.method == "POST" {
            browser.request(method, url).form(&[("_csrf", csrf)])
        } else {
            browser.request(method, url)
        };
        let status = req.send().await.unwrap().status().as_u16();
        if !answer_fits(c.expect, status) {
            bad.push(format!(
                "{}: expected {:?}, got {status} ({} {})",
                c.label,
                c.expect,
                c.url_path,
                c.body.as_ref().map(|b| b.to_string()).unwrap_or_default()
            ));
        }
    }
    (cases.len(), bad)
}

async fn authorisation_matrix(db: Db) {
    run_matrix(db).await;
}
both!(authorisation_matrix);
