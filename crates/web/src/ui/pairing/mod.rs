//! Pages for the 组团式 side of 报到接收: unit registrations with their review queue, resources (资源清单), grid
//! partners (网格合伙人), pairing agreements (结对签约), alliances (党建联盟) and joint projects (党建联建项目).
//!
//! One file per aggregate: [`unit_registrations`] (with grid partners), [`resources`], [`agreements`] (pairings),
//! [`alliances`], [`projects`]; the routes and the small helpers they share are here. Every handler parses, calls
//! use cases of `shanzhi_cases::pairing` and renders; what a page offers comes from the same use cases.

mod agreements;
mod alliances;
mod projects;
mod resources;
mod unit_registrations;

use axum::routing::{get, post};
use shanzhi_domain::Timestamp;
use shanzhi_domain::registration::{ResourceInput, UnitRegistrationStatus};

use crate::forms::Form;

pub fn routes() -> super::Routes {
    super::Routes::new()
        .route("/unit-registrations", get(unit_registrations::ureg_list))
        .route(
            "/unit-registrations/new",
            get(unit_registrations::ureg_new).post(unit_registrations::ureg_create),
        )
        .route(
            "/unit-registrations/{id}",
            get(unit_registrations::ureg_show),
        )
        .route(
            "/unit-registrations/{id}/accept",
            post(unit_registrations::ureg_accept),
        )
        .route(
            "/unit-registrations/{id}/return",
            post(unit_registrations::ureg_return),
        )
        .route(
            "/unit-registrations/{id}/withdraw",
            post(unit_registrations::ureg_withdraw),
        )
        .route(
            "/unit-registrations/{id}/resubmit",
            post(unit_registrations::ureg_resubmit),
        )
        .route(
            "/unit-registrations/{id}/partners",
            post(unit_registrations::partner_link),
        )
        .route(
            "/unit-registrations/{id}/partners/remove",
            post(unit_registrations::partner_unlink),
        )
        .route(
            "/units/{id}/resources",
            get(resources::resource_list).post(resources::resource_create),
        )
        .route(
            "/resources/{id}/edit",
            get(resources::resource_edit).post(resources::resource_update),
        )
        .route("/resources/{id}/delete", post(resources::resource_delete))
        .route("/pairings", get(agreements::pairing_list))
        .route(
            "/pairings/new",
            get(agreements::pairing_new).post(agreements::pairing_create),
        )
        .route("/pairings/{id}", get(agreements::pairing_show))
        .route("/pairings/{id}/status", post(agreements::pairing_status))
        .route(
            "/alliances",
            get(alliances::alliance_list).post(alliances::alliance_create),
        )
        .route("/alliances/{id}/units", post(alliances::alliance_add_unit))
        .route("/projects", get(projects::project_list))
        .route(
            "/projects/new",
            get(projects::project_new).post(projects::project_create),
        )
        .route("/projects/{id}", get(projects::project_show))
        .route("/projects/{id}/activities", post(projects::activity_add))
        .route("/projects/{id}/grade", post(projects::project_grade))
        .route("/activities/{id}/done", post(projects::activity_done))
}

/// A stored millisecond timestamp, however many references templates wrap it in.
pub(super) trait Millis {
    fn millis(&self) -> i64;
}
impl Millis for i64 {
    fn millis(&self) -> i64 {
        *self
    }
}
impl<T: Millis + ?Sized> Millis for &T {
    fn millis(&self) -> i64 {
        (**self).millis()
    }
}

/// `2026-11-29 17:08` (Asia/Shanghai) for a stored millisecond timestamp.
pub(super) fn when<T: Millis>(ms: T) -> String {
    Timestamp(ms.millis()).shanghai()
}

pub(super) fn today() -> String {
    Timestamp::now().shanghai_date()
}

pub(super) fn parse_id(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|s| s.trim().parse().ok())
}

pub(super) fn status_choices() -> Vec<(&'static str, &'static str)> {
    UnitRegistrationStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect()
}

#[derive(serde::Deserialize, Default)]
pub(super) struct OkOnly {
    pub(super) ok: Option<String>,
}

/// Resource fields in the registration form carry a `res_` prefix; all blank means "no resource now".
pub(super) fn resource_input(f: &Form, prefix: &str) -> ResourceInput {
    ResourceInput {
        title: f.get(&format!("{prefix}title")),
        description: f.get(&format!("{prefix}description")),
        capacity: f.get(&format!("{prefix}capacity")),
        schedule: f.get(&format!("{prefix}schedule")),
        unit_registration_id: f.get(&format!("{prefix}unit_registration_id")),
    }
}
