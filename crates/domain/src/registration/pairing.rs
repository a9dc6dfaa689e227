//! Pairing agreements (结对签约) between a unit's party org and a community's, their targets, and alliances
//! (党建联盟).

use serde::{Deserialize, Serialize};

use super::fields::{date_range, id_field};
use crate::error::{Code, FieldErrors};
use crate::ids::{PlaceId, UnitId};
use crate::validate;

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
