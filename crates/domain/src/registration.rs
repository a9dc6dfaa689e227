//! 报到接收: the rules of registration rounds, member registrations (志愿式), unit registrations (组团式),
//! pairing agreements (结对签约) and joint projects (党建联建项目). Pure state machines and validation; the store
//! applies them inside its transactions.

use serde::{Deserialize, Serialize};

use crate::error::{Code, FieldErrors};
use crate::ids::{PairingId, PlaceId, UnitId};
use crate::validate;

// ------------------------------------------------------------------ member registrations

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
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 7] = [
        RegistrationStatus::Submitted,
        RegistrationStatus::Carried,
        RegistrationStatus::Accepted,
        RegistrationStatus::Returned,
        RegistrationStatus::Withdrawn,
        RegistrationStatus::TransferredOut,
        RegistrationStatus::Expired,
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
        }
    }
    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
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
        (S::Submitted, E::Accept { grid }) => match grid {
            Some(_) => Ok(S::Accepted),
            None => Err(Code::GridRequired),
        },
        (S::Submitted, E::Return { reason }) => {
            if reason.trim().is_empty() {
                Err(Code::ReasonRequired)
            } else {
                Ok(S::Returned)
            }
        }
        (S::Submitted | S::Carried | S::Accepted, E::Withdraw) => Ok(S::Withdrawn),
        (S::Accepted, E::TransferOut) => Ok(S::TransferredOut),
        (S::Submitted | S::Carried, E::Expire) => Ok(S::Expired),
        (S::Carried, E::Confirm) => Ok(S::Accepted),
        _ => Err(Code::IllegalTransition),
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

/// The receipt (回执) number for an accepted registration: `HZ2026-000123`.
pub fn receipt_no(round_year: i32, registration_id: i64) -> String {
    format!("HZ{round_year}-{registration_id:06}")
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

// ------------------------------------------------------------------ unit registrations

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

// ------------------------------------------------------------------ pairings and projects

/// Status of a pairing agreement (结对签约): draft → signed → running → ended | renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PairingStatus {
    Draft,
    Signed,
    Running,
    Ended,
    Renewed,
}

impl PairingStatus {
    pub const ALL: [PairingStatus; 5] = [
        PairingStatus::Draft,
        PairingStatus::Signed,
        PairingStatus::Running,
        PairingStatus::Ended,
        PairingStatus::Renewed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PairingStatus::Draft => "draft",
            PairingStatus::Signed => "signed",
            PairingStatus::Running => "running",
            PairingStatus::Ended => "ended",
            PairingStatus::Renewed => "renewed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            PairingStatus::Draft => "草拟",
            PairingStatus::Signed => "已签约",
            PairingStatus::Running => "履约中",
            PairingStatus::Ended => "已结束",
            PairingStatus::Renewed => "已续签",
        }
    }
    /// Moves to `to` if the agreement's life cycle allows it.
    pub fn advance(self, to: PairingStatus) -> Result<PairingStatus, Code> {
        use PairingStatus::*;
        match (self, to) {
            (Draft, Signed) | (Signed, Running) | (Running, Ended) | (Running, Renewed) => Ok(to),
            _ => Err(Code::IllegalTransition),
        }
    }
}

/// The community's end-of-project grade: 优 / 中 / 差.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectGrade {
    Excellent,
    Fair,
    Poor,
}

impl ProjectGrade {
    pub const ALL: [ProjectGrade; 3] = [
        ProjectGrade::Excellent,
        ProjectGrade::Fair,
        ProjectGrade::Poor,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectGrade::Excellent => "excellent",
            ProjectGrade::Fair => "fair",
            ProjectGrade::Poor => "poor",
        }
    }
    /// Accepts the code or the Chinese label.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s || x.label() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            ProjectGrade::Excellent => "优",
            ProjectGrade::Fair => "中",
            ProjectGrade::Poor => "差",
        }
    }
}

/// Yearly targets of a pairing agreement, stored as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PairingTargets {
    /// Joint activities expected per quarter of the term.
    pub activities_per_quarter: u32,
    /// Anything else agreed, in words.
    #[serde(default)]
    pub note: Option<String>,
}

/// Number of calendar quarters touched by the term `[start, end]` (dates `YYYY-MM-DD`), at least 1.
pub fn quarters_in_term(start: &str, end: &str) -> u32 {
    let q = |d: &str| -> Option<i64> {
        let d = validate::date(d).ok()?;
        let (y, m) = (
            i64::from(chrono::Datelike::year(&d)),
            i64::from(chrono::Datelike::month0(&d)),
        );
        Some(y * 4 + m / 3)
    };
    match (q(start), q(end)) {
        (Some(a), Some(b)) if b >= a => u32::try_from(b - a + 1).unwrap_or(u32::MAX),
        _ => 1,
    }
}

/// Activities a pairing must deliver over its term.
pub fn target_activities(targets: &PairingTargets, term_start: &str, term_end: &str) -> u32 {
    targets
        .activities_per_quarter
        .saturating_mul(quarters_in_term(term_start, term_end))
}

// ------------------------------------------------------------------ inputs

fn date_range(
    e: &mut FieldErrors,
    start: &str,
    end: &str,
    fs: &'static str,
    fe: &'static str,
) -> Option<(String, String)> {
    let s = validate::date(start).map_err(|c| e.add(fs, c)).ok();
    let t = validate::date(end).map_err(|c| e.add(fe, c)).ok();
    match (s, t) {
        (Some(s), Some(t)) if t < s => {
            e.add(fe, Code::InvalidDateRange);
            None
        }
        (Some(s), Some(t)) => Some((
            s.format("%Y-%m-%d").to_string(),
            t.format("%Y-%m-%d").to_string(),
        )),
        _ => None,
    }
}

fn id_field<T: std::str::FromStr>(
    e: &mut FieldErrors,
    s: &str,
    field: &'static str,
    bad: Code,
) -> Option<T> {
    if s.trim().is_empty() {
        e.add(field, Code::Required);
        return None;
    }
    s.trim().parse().map_err(|_| e.add(field, bad)).ok()
}

fn codes(e: &mut FieldErrors, list: &[String], field: &'static str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        if s.trim().is_empty() {
            continue;
        }
        match validate::code(s) {
            Ok(c) if !out.contains(&c) => out.push(c),
            Ok(_) => {}
            Err(_) => e.add(field, Code::InvalidChoice),
        }
    }
    if out.len() > max {
        e.add(field, Code::TooManyFields);
    }
    out
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

/// A pairing agreement between a unit's party org and a community's party org.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PairingInput {
    pub unit_id: String,
    pub community_id: String,
    pub term_start: String,
    pub term_end: String,
    /// Joint activities per quarter.
    pub activities_per_quarter: String,
    #[serde(default)]
    pub targets_note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPairing {
    pub unit_id: UnitId,
    pub community_id: PlaceId,
    pub term_start: String,
    pub term_end: String,
    pub targets: PairingTargets,
}

impl PairingInput {
    pub fn validate(&self) -> Result<ValidPairing, FieldErrors> {
        let mut e = FieldErrors::new();
        let unit_id = id_field(&mut e, &self.unit_id, "unit_id", Code::InvalidUnit);
        let community_id = id_field(
            &mut e,
            &self.community_id,
            "community_id",
            Code::InvalidPlace,
        );
        let term = date_range(
            &mut e,
            &self.term_start,
            &self.term_end,
            "term_start",
            "term_end",
        );
        let per_quarter = match self.activities_per_quarter.trim().parse::<u32>() {
            Ok(n) if n <= 100 => Some(n),
            _ if self.activities_per_quarter.trim().is_empty() => Some(0),
            _ => {
                e.add("activities_per_quarter", Code::InvalidNumber);
                None
            }
        };
        let note = validate::optional_text(&self.targets_note, 500)
            .map_err(|c| e.add("targets_note", c))
            .ok()
            .flatten();
        match (unit_id, community_id, term, per_quarter) {
            (Some(unit_id), Some(community_id), Some((term_start, term_end)), Some(n))
                if e.is_empty() =>
            {
                Ok(ValidPairing {
                    unit_id,
                    community_id,
                    term_start,
                    term_end,
                    targets: PairingTargets {
                        activities_per_quarter: n,
                        note,
                    },
                })
            }
            _ => Err(e),
        }
    }
}

/// A town's named group of units (党建联盟).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AllianceInput {
    pub name: String,
    /// The town that runs it.
    pub town_id: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAlliance {
    pub name: String,
    pub town_id: PlaceId,
    pub description: Option<String>,
}

impl AllianceInput {
    pub fn validate(&self) -> Result<ValidAlliance, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validate::text(&self.name, 60)
            .map_err(|c| e.add("name", c))
            .ok();
        let town_id = id_field(&mut e, &self.town_id, "town_id", Code::InvalidPlace);
        let description = validate::optional_text(&self.description, 1000)
            .map_err(|c| e.add("description", c))
            .ok()
            .flatten();
        match (name, town_id) {
            (Some(name), Some(town_id)) if e.is_empty() => Ok(ValidAlliance {
                name,
                town_id,
                description,
            }),
            _ => Err(e),
        }
    }
}

/// A joint party-building project (党建联建项目).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectInput {
    pub name: String,
    /// Code from the `need_category` dictionary.
    pub category: String,
    /// The pairing agreement it belongs to, if any.
    #[serde(default)]
    pub pairing_id: String,
    pub unit_id: String,
    pub community_id: String,
    #[serde(default)]
    pub goals: String,
    pub period_start: String,
    pub period_end: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProject {
    pub name: String,
    pub category: String,
    pub pairing_id: Option<PairingId>,
    pub unit_id: UnitId,
    pub community_id: PlaceId,
    pub goals: Option<String>,
    pub period_start: String,
    pub period_end: String,
}

impl ProjectInput {
    pub fn validate(&self) -> Result<ValidProject, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validate::text(&self.name, 80)
            .map_err(|c| e.add("name", c))
            .ok();
        let category = validate::code(&self.category)
            .map_err(|c| e.add("category", c))
            .ok();
        let pairing_id = if self.pairing_id.trim().is_empty() {
            None
        } else {
            self.pairing_id
                .trim()
                .parse()
                .map_err(|_| e.add("pairing_id", Code::InvalidChoice))
                .ok()
        };
        let unit_id = id_field(&mut e, &self.unit_id, "unit_id", Code::InvalidUnit);
        let community_id = id_field(
            &mut e,
            &self.community_id,
            "community_id",
            Code::InvalidPlace,
        );
        let goals = validate::optional_text(&self.goals, 2000)
            .map_err(|c| e.add("goals", c))
            .ok()
            .flatten();
        let period = date_range(
            &mut e,
            &self.period_start,
            &self.period_end,
            "period_start",
            "period_end",
        );
        match (name, category, unit_id, community_id, period) {
            (
                Some(name),
                Some(category),
                Some(unit_id),
                Some(community_id),
                Some((period_start, period_end)),
            ) if e.is_empty() => Ok(ValidProject {
                name,
                category,
                pairing_id,
                unit_id,
                community_id,
                goals,
                period_start,
                period_end,
            }),
            _ => Err(e),
        }
    }
}

/// A planned activity of a joint project.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityInput {
    pub title: String,
    /// YYYY-MM-DD
    pub planned_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidActivity {
    pub title: String,
    pub planned_on: String,
}

impl ActivityInput {
    pub fn validate(&self) -> Result<ValidActivity, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = validate::text(&self.title, 80)
            .map_err(|c| e.add("title", c))
            .ok();
        let planned_on = validate::date(&self.planned_on)
            .map_err(|c| e.add("planned_on", c))
            .ok();
        match (title, planned_on) {
            (Some(title), Some(d)) if e.is_empty() => Ok(ValidActivity {
                title,
                planned_on: d.format("%Y-%m-%d").to_string(),
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationStatus as S;

    fn events() -> Vec<RegistrationEvent> {
        vec![
            RegistrationEvent::Submit,
            RegistrationEvent::Accept {
                grid: Some(PlaceId(9)),
            },
            RegistrationEvent::Return {
                reason: "地址不符".into(),
            },
            RegistrationEvent::Withdraw,
            RegistrationEvent::TransferOut,
            RegistrationEvent::Expire,
            RegistrationEvent::Confirm,
        ]
    }

    /// The whole table: (from, event code) → to. Everything not listed is illegal.
    fn legal(from: S, ev: &str) -> Option<S> {
        match (from, ev) {
            (S::Returned, "submit") => Some(S::Submitted),
            (S::Submitted, "accept") => Some(S::Accepted),
            (S::Submitted, "return") => Some(S::Returned),
            (S::Submitted | S::Carried | S::Accepted, "withdraw") => Some(S::Withdrawn),
            (S::Accepted, "transfer_out") => Some(S::TransferredOut),
            (S::Submitted | S::Carried, "expire") => Some(S::Expired),
            (S::Carried, "confirm") => Some(S::Accepted),
            _ => None,
        }
    }

    #[test]
    fn every_transition_legal_or_refused() {
        let mut legal_count = 0;
        for from in S::ALL {
            for ev in events() {
                let got = next(from, &ev);
                match legal(from, ev.as_str()) {
                    Some(to) => {
                        legal_count += 1;
                        assert_eq!(got, Ok(to), "{from:?} + {ev:?}");
                    }
                    None => assert_eq!(got, Err(Code::IllegalTransition), "{from:?} + {ev:?}"),
                }
            }
        }
        assert_eq!(legal_count, 10);
    }

    #[test]
    fn terminal_statuses_accept_nothing() {
        for from in [S::Withdrawn, S::TransferredOut, S::Expired] {
            for ev in events() {
                assert_eq!(next(from, &ev), Err(Code::IllegalTransition));
            }
        }
    }

    #[test]
    fn accept_needs_a_grid_and_return_a_reason() {
        assert_eq!(
            next(S::Submitted, &RegistrationEvent::Accept { grid: None }),
            Err(Code::GridRequired)
        );
        assert_eq!(
            next(
                S::Submitted,
                &RegistrationEvent::Return {
                    reason: "  ".into()
                }
            ),
            Err(Code::ReasonRequired)
        );
        // The status check comes first: an accepted registration cannot be accepted again, grid or not.
        assert_eq!(
            next(S::Accepted, &RegistrationEvent::Accept { grid: None }),
            Err(Code::IllegalTransition)
        );
        assert_eq!(
            next(
                S::Returned,
                &RegistrationEvent::Return { reason: "".into() }
            ),
            Err(Code::IllegalTransition)
        );
    }

    #[test]
    fn statuses_round_trip_with_labels() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert!(!s.label().is_empty());
        }
        assert_eq!(S::parse("nope"), None);
        assert!(S::Carried.is_active() && S::Accepted.is_active() && S::Submitted.is_active());
        assert!(!S::Returned.is_active() && !S::Expired.is_active());
        for s in UnitRegistrationStatus::ALL {
            assert_eq!(UnitRegistrationStatus::parse(s.as_str()), Some(s));
        }
        for s in PairingStatus::ALL {
            assert_eq!(PairingStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn only_accepted_members_have_a_card() {
        let with: Vec<S> = S::ALL.into_iter().filter(|s| has_card(*s)).collect();
        assert_eq!(with, vec![S::Carried, S::Accepted]);
    }

    #[test]
    fn receipt_numbers() {
        assert_eq!(receipt_no(2026, 123), "HZ2026-000123");
        assert_eq!(receipt_no(2027, 1_234_567), "HZ2027-1234567");
    }

    #[test]
    fn availability_round_trips() {
        let a = Availability::parse("weekend_morning, weekday_evening,,weekend_morning").ok();
        let a = a.unwrap_or_default();
        assert!(a.contains(Slot::WeekdayEvening) && a.contains(Slot::WeekendMorning));
        assert!(!a.contains(Slot::WeekdayMorning));
        assert_eq!(a.format(), "weekday_evening,weekend_morning");
        assert_eq!(a.label(), "工作日晚上、周末上午");
        assert_eq!(Availability::parse(&a.format()), Ok(a));
        assert_eq!(Availability::parse(""), Ok(Availability::empty()));
        assert_eq!(Availability::parse("midnight"), Err(Code::InvalidChoice));
        let all = Slot::ALL
            .into_iter()
            .fold(Availability::empty(), Availability::with);
        assert_eq!(all.slots().len(), 6);
    }

    #[test]
    fn unit_registration_machine() {
        use UnitRegistrationEvent as E;
        use UnitRegistrationStatus as U;
        let evs = [
            E::Submit,
            E::Accept,
            E::Return { reason: "x".into() },
            E::Withdraw,
        ];
        let table = |from: U, ev: &E| -> Option<U> {
            match (from, ev) {
                (U::Returned, E::Submit) => Some(U::Submitted),
                (U::Submitted, E::Accept) => Some(U::Accepted),
                (U::Submitted, E::Return { .. }) => Some(U::Returned),
                (U::Submitted | U::Accepted, E::Withdraw) => Some(U::Withdrawn),
                _ => None,
            }
        };
        for from in U::ALL {
            for ev in &evs {
                match table(from, ev) {
                    Some(to) => assert_eq!(from.next(ev), Ok(to)),
                    None => assert_eq!(from.next(ev), Err(Code::IllegalTransition)),
                }
            }
        }
        assert_eq!(
            U::Submitted.next(&E::Return { reason: " ".into() }),
            Err(Code::ReasonRequired)
        );
    }

    #[test]
    fn pairing_life_cycle() {
        use PairingStatus::*;
        let legal = [
            (Draft, Signed),
            (Signed, Running),
            (Running, Ended),
            (Running, Renewed),
        ];
        for from in PairingStatus::ALL {
            for to in PairingStatus::ALL {
                let r = from.advance(to);
                if legal.contains(&(from, to)) {
                    assert_eq!(r, Ok(to));
                } else {
                    assert_eq!(r, Err(Code::IllegalTransition), "{from:?} -> {to:?}");
                }
            }
        }
    }

    #[test]
    fn grades_parse_codes_and_chinese() {
        assert_eq!(ProjectGrade::parse("优"), Some(ProjectGrade::Excellent));
        assert_eq!(ProjectGrade::parse("fair"), Some(ProjectGrade::Fair));
        assert_eq!(ProjectGrade::parse("差"), Some(ProjectGrade::Poor));
        assert_eq!(ProjectGrade::parse("良"), None);
    }

    #[test]
    fn targets_over_a_term() {
        assert_eq!(quarters_in_term("2026-01-01", "2026-12-31"), 4);
        assert_eq!(quarters_in_term("2026-03-31", "2026-04-01"), 2);
        assert_eq!(quarters_in_term("2026-05-01", "2027-04-30"), 5);
        let t = PairingTargets {
            activities_per_quarter: 2,
            note: None,
        };
        assert_eq!(target_activities(&t, "2026-01-01", "2026-12-31"), 8);
    }

    #[test]
    fn inputs_validate() {
        let r = RoundInput {
            name: "2026年度".into(),
            year: "2026".into(),
            starts_on: "2026-01-01".into(),
            ends_on: "2026-12-31".into(),
            carry_over: true,
        }
        .validate();
        assert!(matches!(r, Ok(ValidRound { year: 2026, .. })));
        let bad = RoundInput {
            name: "".into(),
            year: "abc".into(),
            starts_on: "2026-12-31".into(),
            ends_on: "2026-01-01".into(),
            carry_over: false,
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(bad.get("name").map(|e| e.code), Some(Code::Required));
        assert_eq!(bad.get("year").map(|e| e.code), Some(Code::InvalidNumber));
        assert_eq!(
            bad.get("ends_on").map(|e| e.code),
            Some(Code::InvalidDateRange)
        );

        let reg = RegistrationInput {
            community_id: "12".into(),
            skills: vec!["medical".into(), "medical".into()],
            intentions: vec!["elderly_care".into()],
            availability: vec!["weekend_morning".into()],
        }
        .validate();
        assert!(
            matches!(&reg, Ok(v) if v.community_id == PlaceId(12) && v.skills.len() == 1),
            "{reg:?}"
        );
        let bad = RegistrationInput {
            community_id: "".into(),
            availability: vec!["someday".into()],
            ..Default::default()
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(
            bad.get("community_id").map(|e| e.code),
            Some(Code::Required)
        );
        assert_eq!(
            bad.get("availability").map(|e| e.code),
            Some(Code::InvalidChoice)
        );

        let res = ResourceInput {
            title: "义诊".into(),
            capacity: "0".into(),
            ..Default::default()
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(
            res.get("capacity").map(|e| e.code),
            Some(Code::InvalidNumber)
        );

        let p = PairingInput {
            unit_id: "3".into(),
            community_id: "4".into(),
            term_start: "2026-01-01".into(),
            term_end: "2027-12-31".into(),
            activities_per_quarter: "1".into(),
            targets_note: "".into(),
        }
        .validate();
        assert!(matches!(
            p,
            Ok(ValidPairing {
                unit_id: UnitId(3),
                ..
            })
        ));

        let a = ActivityInput {
            title: "植树".into(),
            planned_on: "2026-3-12".into(),
        }
        .validate();
        assert!(matches!(a, Ok(ValidActivity { planned_on, .. }) if planned_on == "2026-03-12"));

        let ur = UnitRegistrationInput {
            place_id: "5".into(),
            contact_name: "王".into(),
            contact_phone: "123".into(),
            note: "".into(),
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(
            ur.get("contact_phone").map(|e| e.code),
            Some(Code::InvalidMobile)
        );
    }
}
