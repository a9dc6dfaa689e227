//! Unit registrations (组团式报到) with towns and communities, and the resources units offer.

use serde::{Deserialize, Serialize};

use super::fields::id_field;
use crate::error::{Code, FieldErrors};
use crate::ids::PlaceId;
use crate::validate;

/// Status of a unit's registration with a town or community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitRegistrationStatus {
    Submitted,
    Accepted,
    Returned,
    Withdrawn,
}

/// Something that happens to a unit registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitRegistrationEvent {
    /// Resubmit after a return.
    Submit,
    Accept,
    Return {
        reason: String,
    },
    Withdraw,
}

impl UnitRegistrationStatus {
    pub const ALL: [UnitRegistrationStatus; 4] = [
        UnitRegistrationStatus::Submitted,
        UnitRegistrationStatus::Accepted,
        UnitRegistrationStatus::Returned,
        UnitRegistrationStatus::Withdrawn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            UnitRegistrationStatus::Submitted => "submitted",
            UnitRegistrationStatus::Accepted => "accepted",
            UnitRegistrationStatus::Returned => "returned",
            UnitRegistrationStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            UnitRegistrationStatus::Submitted => "待接收",
            UnitRegistrationStatus::Accepted => "已接收",
            UnitRegistrationStatus::Returned => "已退回",
            UnitRegistrationStatus::Withdrawn => "已撤回",
        }
    }
    /// The unit registration state machine.
    pub fn next(self, event: &UnitRegistrationEvent) -> Result<Self, Code> {
        use UnitRegistrationEvent as E;
        use UnitRegistrationStatus as S;
        match (self, event) {
            (S::Returned, E::Submit) => Ok(S::Submitted),
            (S::Submitted, E::Accept) => Ok(S::Accepted),
            (S::Submitted, E::Return { reason }) if reason.trim().is_empty() => {
                Err(Code::ReasonRequired)
            }
            (S::Submitted, E::Return { .. }) => Ok(S::Returned),
            (S::Submitted | S::Accepted, E::Withdraw) => Ok(S::Withdrawn),
            _ => Err(Code::IllegalTransition),
        }
    }
}

/// A unit's registration with a town or community (组团式报到).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitRegistrationInput {
    /// A town (街镇) or community (村居).
    pub place_id: String,
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    /// What the unit offers, in a sentence (the detailed list is its resources).
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidUnitRegistration {
    pub place_id: PlaceId,
    pub contact_name: String,
    pub contact_phone: Option<String>,
    pub note: Option<String>,
}

impl UnitRegistrationInput {
    pub fn validate(&self) -> Result<ValidUnitRegistration, FieldErrors> {
        let mut e = FieldErrors::new();
        let place_id = id_field(&mut e, &self.place_id, "place_id", Code::InvalidPlace);
        let contact_name = validate::text(&self.contact_name, 40)
            .map_err(|c| e.add("contact_name", c))
            .ok();
        let contact_phone = if self.contact_phone.trim().is_empty() {
            None
        } else {
            validate::mobile(&self.contact_phone)
                .map_err(|c| e.add("contact_phone", c))
                .ok()
        };
        let note = validate::optional_text(&self.note, 500)
            .map_err(|c| e.add("note", c))
            .ok()
            .flatten();
        match (place_id, contact_name) {
            (Some(place_id), Some(contact_name)) if e.is_empty() => Ok(ValidUnitRegistration {
                place_id,
                contact_name,
                contact_phone,
                note,
            }),
            _ => Err(e),
        }
    }
}

/// A resource a unit offers (资源清单): what, how many people/places, when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResourceInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// How many people or places at once.
    pub capacity: String,
    /// When it is available, in words (e.g. "每月第一个周六上午").
    #[serde(default)]
    pub schedule: String,
    /// The unit registration this resource was offered with, if any.
    #[serde(default)]
    pub unit_registration_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidResource {
    pub title: String,
    pub description: Option<String>,
    pub capacity: i64,
    pub schedule: Option<String>,
    pub unit_registration_id: Option<crate::ids::UnitRegistrationId>,
}

impl ResourceInput {
    pub fn validate(&self) -> Result<ValidResource, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = validate::text(&self.title, 80)
            .map_err(|c| e.add("title", c))
            .ok();
        let description = validate::optional_text(&self.description, 1000)
            .map_err(|c| e.add("description", c))
            .ok()
            .flatten();
        let capacity = match self.capacity.trim().parse::<i64>() {
            Ok(n) if (1..=100_000).contains(&n) => Some(n),
            _ if self.capacity.trim().is_empty() => {
                e.add("capacity", Code::Required);
                None
            }
            _ => {
                e.add("capacity", Code::InvalidNumber);
                None
            }
        };
        let schedule = validate::optional_text(&self.schedule, 200)
            .map_err(|c| e.add("schedule", c))
            .ok()
            .flatten();
        let unit_registration_id = if self.unit_registration_id.trim().is_empty() {
            None
        } else {
            self.unit_registration_id
                .trim()
                .parse()
                .map_err(|_| e.add("unit_registration_id", Code::InvalidChoice))
                .ok()
        };
        match (title, capacity) {
            (Some(title), Some(capacity)) if e.is_empty() => Ok(ValidResource {
                title,
                description,
                capacity,
                schedule,
                unit_registration_id,
            }),
            _ => Err(e),
        }
    }
}
