//! Member registrations (志愿式报到): their state machine, receipts, cards, availability, rounds and the member's
//! registration form.

use serde::{Deserialize, Serialize};

use super::fields::{codes, date_range, id_field};
use crate::error::{Code, FieldErrors};
use crate::ids::PlaceId;
use crate::validate;

/// Status of a member's registration with the community where they live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Waiting in the community's review queue.
    Submitted,
    /// Copied from last round's accepted registration; the owner confirms or withdraws it.
    Carried,
    Accepted,
    /// Returned by the community with a reason; the member may correct and resubmit.
    Returned,
    Withdrawn,
    /// The member moved; a linked registration with the new community carries on.
    TransferredOut,
    /// Still pending when its round closed.
    Expired,
    /// A transfer waiting in the new community's queue (转入). The member's registration with the old community
    /// stays accepted (and the member card valid) until the new community accepts this one.
    TransferPending,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 8] = [
        RegistrationStatus::Submitted,
        RegistrationStatus::Carried,
        RegistrationStatus::Accepted,
        RegistrationStatus::Returned,
        RegistrationStatus::Withdrawn,
        RegistrationStatus::TransferredOut,
        RegistrationStatus::Expired,
        RegistrationStatus::TransferPending,
    ];
    /// Statuses that wait in a community's review queue: new registrations and transfers in.
    pub const WAITING: [RegistrationStatus; 2] = [
        RegistrationStatus::Submitted,
        RegistrationStatus::TransferPending,
    ];
    /// Statuses that count as "the" registration of a member in a round (at most one per member and round).
    pub const ACTIVE: [RegistrationStatus; 3] = [
        RegistrationStatus::Submitted,
        RegistrationStatus::Carried,
        RegistrationStatus::Accepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Submitted => "submitted",
            RegistrationStatus::Carried => "carried",
            RegistrationStatus::Accepted => "accepted",
            RegistrationStatus::Returned => "returned",
            RegistrationStatus::Withdrawn => "withdrawn",
            RegistrationStatus::TransferredOut => "transferred_out",
            RegistrationStatus::Expired => "expired",
            RegistrationStatus::TransferPending => "transfer_pending",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            RegistrationStatus::Submitted => "待接收",
            RegistrationStatus::Carried => "待确认(上轮延续)",
            RegistrationStatus::Accepted => "已接收",
            RegistrationStatus::Returned => "已退回",
            RegistrationStatus::Withdrawn => "已撤回",
            RegistrationStatus::TransferredOut => "已转出",
            RegistrationStatus::Expired => "已过期",
            RegistrationStatus::TransferPending => "待接收(转入)",
        }
    }
    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
    /// Waiting for the community's decision (accept or return).
    pub fn is_waiting(self) -> bool {
        Self::WAITING.contains(&self)
    }
}

/// Something that happens to a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationEvent {
    /// Resubmit a returned registration (a new registration starts as `Submitted` without an event).
    Submit,
    /// The community accepts and places the member in a grid.
    Accept { grid: Option<PlaceId> },
    /// The community returns it with a reason.
    Return { reason: String },
    /// The owner withdraws.
    Withdraw,
    /// The member moves to another community.
    TransferOut,
    /// The round closed while it was still pending.
    Expire,
    /// The owner confirms a carried-over registration.
    Confirm,
}

impl RegistrationEvent {
    /// Short code for history rows and audit entries.
    pub fn as_str(&self) -> &'static str {
        match self {
            RegistrationEvent::Submit => "submit",
            RegistrationEvent::Accept { .. } => "accept",
            RegistrationEvent::Return { .. } => "return",
            RegistrationEvent::Withdraw => "withdraw",
            RegistrationEvent::TransferOut => "transfer_out",
            RegistrationEvent::Expire => "expire",
            RegistrationEvent::Confirm => "confirm",
        }
    }
}

/// The registration state machine. Returns the next status, or the code explaining the refusal:
/// `illegal_transition` when the event does not apply to the status, `grid_required` / `reason_required` when
/// an accept has no grid or a return has no reason.
pub fn next(
    status: RegistrationStatus,
    event: &RegistrationEvent,
) -> Result<RegistrationStatus, Code> {
    use RegistrationEvent as E;
    use RegistrationStatus as S;
    match (status, event) {
        (S::Returned, E::Submit) => Ok(S::Submitted),
        (S::Submitted | S::TransferPending, E::Accept { grid }) => match grid {
            Some(_) => Ok(S::Accepted),
            None => Err(Code::GridRequired),
        },
        (S::Submitted | S::TransferPending, E::Return { reason }) => {
            if reason.trim().is_empty() {
                Err(Code::ReasonRequired)
            } else {
                Ok(S::Returned)
            }
        }
        (S::Submitted | S::Carried | S::Accepted | S::TransferPending, E::Withdraw) => {
            Ok(S::Withdrawn)
        }
        (S::Accepted, E::TransferOut) => Ok(S::TransferredOut),
        (S::Submitted | S::Carried | S::TransferPending, E::Expire) => Ok(S::Expired),
        (S::Carried, E::Confirm) => Ok(S::Accepted),
        _ => Err(Code::IllegalTransition),
    }
}

/// Whether a member may ask to move a registration with this status to another community: only an accepted one.
/// The request creates a `TransferPending` registration with the new community; this one stays accepted until
/// the new community accepts (then it becomes `TransferredOut`), so the member is never without a community.
pub fn may_request_transfer(status: RegistrationStatus) -> Result<(), Code> {
    if status == RegistrationStatus::Accepted {
        Ok(())
    } else {
        Err(Code::IllegalTransition)
    }
}

/// Whether a member whose latest registration has this status shows a member card (亮身份): accepted, or
/// carried over from an accepted one and not yet confirmed.
pub fn has_card(status: RegistrationStatus) -> bool {
    matches!(
        status,
        RegistrationStatus::Accepted | RegistrationStatus::Carried
    )
}

/// A registration rate as people read it: `62.5%`, or `—` when there is nobody to count.
pub fn rate_label(registered: i64, of: i64) -> String {
    if of <= 0 {
        "—".into()
    } else {
        // Integer arithmetic on tenths of a percent, rounded half up.
        let tenths = (registered.max(0) * 2000 + of) / (2 * of);
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

/// The receipt (回执) number for an accepted registration: `HZ2026-000123`.
pub fn receipt_no(round_year: i32, registration_id: i64) -> String {
    format!("HZ{round_year}-{registration_id:06}")
}

/// The community a returned member's corrected form starts with: the one a community QR code preset, else the
/// member's own residence community, but never the community that returned the registration (it was often
/// returned because it is the wrong one). `None`: the member chooses.
pub fn resubmission_community(
    returned_by: PlaceId,
    qr_preset: Option<PlaceId>,
    residence: Option<PlaceId>,
) -> Option<PlaceId> {
    [qr_preset, residence]
        .into_iter()
        .flatten()
        .find(|c| *c != returned_by)
}

// ------------------------------------------------------------------ availability

/// One part of the week a member can serve in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    WeekdayMorning,
    WeekdayAfternoon,
    WeekdayEvening,
    WeekendMorning,
    WeekendAfternoon,
    WeekendEvening,
}

impl Slot {
    pub const ALL: [Slot; 6] = [
        Slot::WeekdayMorning,
        Slot::WeekdayAfternoon,
        Slot::WeekdayEvening,
        Slot::WeekendMorning,
        Slot::WeekendAfternoon,
        Slot::WeekendEvening,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::WeekdayMorning => "weekday_morning",
            Slot::WeekdayAfternoon => "weekday_afternoon",
            Slot::WeekdayEvening => "weekday_evening",
            Slot::WeekendMorning => "weekend_morning",
            Slot::WeekendAfternoon => "weekend_afternoon",
            Slot::WeekendEvening => "weekend_evening",
        }
    }
    pub fn parse(s: &str) -> Option<Slot> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
    pub fn label(self) -> &'static str {
        match self {
            Slot::WeekdayMorning => "工作日上午",
            Slot::WeekdayAfternoon => "工作日下午",
            Slot::WeekdayEvening => "工作日晚上",
            Slot::WeekendMorning => "周末上午",
            Slot::WeekendAfternoon => "周末下午",
            Slot::WeekendEvening => "周末晚上",
        }
    }
    fn bit(self) -> u8 {
        match self {
            Slot::WeekdayMorning => 1,
            Slot::WeekdayAfternoon => 2,
            Slot::WeekdayEvening => 4,
            Slot::WeekendMorning => 8,
            Slot::WeekendAfternoon => 16,
            Slot::WeekendEvening => 32,
        }
    }
}

/// A set of [`Slot`]s. Stored as comma-separated slot codes (`weekday_evening,weekend_morning`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Availability(u8);

impl Availability {
    pub fn empty() -> Self {
        Availability(0)
    }
    pub fn with(self, slot: Slot) -> Self {
        Availability(self.0 | slot.bit())
    }
    pub fn contains(self, slot: Slot) -> bool {
        self.0 & slot.bit() != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn slots(self) -> Vec<Slot> {
        Slot::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .collect()
    }
    /// Parses codes separated by commas; unknown codes are an error, duplicates and blanks are ignored.
    pub fn parse(s: &str) -> Result<Availability, Code> {
        Self::from_codes(s.split(','))
    }
    pub fn from_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Availability, Code> {
        let mut a = Availability::empty();
        for c in codes {
            if c.trim().is_empty() {
                continue;
            }
            a = a.with(Slot::parse(c).ok_or(Code::InvalidChoice)?);
        }
        Ok(a)
    }
    /// Stored form: slot codes in a fixed order, comma-separated.
    pub fn format(self) -> String {
        self.slots()
            .into_iter()
            .map(Slot::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
    /// For people: `工作日晚上、周末上午`.
    pub fn label(self) -> String {
        self.slots()
            .into_iter()
            .map(Slot::label)
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// A registration round as the district admin types it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoundInput {
    /// e.g. "2026年度"
    pub name: String,
    pub year: String,
    /// YYYY-MM-DD
    pub starts_on: String,
    /// YYYY-MM-DD
    pub ends_on: String,
    /// Copy last round's accepted registrations as "carried" (each owner confirms or withdraws).
    #[serde(default)]
    pub carry_over: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRound {
    pub name: String,
    pub year: i32,
    pub starts_on: String,
    pub ends_on: String,
    pub carry_over: bool,
}

impl RoundInput {
    pub fn validate(&self) -> Result<ValidRound, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validate::text(&self.name, 40)
            .map_err(|c| e.add("name", c))
            .ok();
        let year = match self.year.trim().parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => Some(y),
            _ if self.year.trim().is_empty() => {
                e.add("year", Code::Required);
                None
            }
            _ => {
                e.add("year", Code::InvalidNumber);
                None
            }
        };
        let range = date_range(
            &mut e,
            &self.starts_on,
            &self.ends_on,
            "starts_on",
            "ends_on",
        );
        match (name, year, range) {
            (Some(name), Some(year), Some((starts_on, ends_on))) if e.is_empty() => {
                Ok(ValidRound {
                    name,
                    year,
                    starts_on,
                    ends_on,
                    carry_over: self.carry_over,
                })
            }
            _ => Err(e),
        }
    }
}

/// A member's registration, as picked on the phone: six fields at most.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegistrationInput {
    /// The community (村居) where the member lives.
    pub community_id: String,
    /// Codes from the `skill` dictionary.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Service intentions: codes from the `need_category` dictionary.
    #[serde(default)]
    pub intentions: Vec<String>,
    /// Slot codes such as `weekday_evening`, `weekend_morning`.
    #[serde(default)]
    pub availability: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRegistration {
    pub community_id: PlaceId,
    pub skills: Vec<String>,
    pub intentions: Vec<String>,
    pub availability: Availability,
}

impl RegistrationInput {
    pub fn validate(&self) -> Result<ValidRegistration, FieldErrors> {
        let mut e = FieldErrors::new();
        let community_id = id_field(
            &mut e,
            &self.community_id,
            "community_id",
            Code::InvalidPlace,
        );
        let skills = codes(&mut e, &self.skills, "skills", 20);
        let intentions = codes(&mut e, &self.intentions, "intentions", 20);
        let availability = Availability::from_codes(self.availability.iter().map(String::as_str))
            .map_err(|c| e.add("availability", c))
            .ok();
        match (community_id, availability) {
            (Some(community_id), Some(availability)) if e.is_empty() => Ok(ValidRegistration {
                community_id,
                skills,
                intentions,
                availability,
            }),
            _ => Err(e),
        }
    }
}
