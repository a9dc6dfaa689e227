//! Joint party-building projects (党建联建项目): their activities and the community's grade.

use serde::{Deserialize, Serialize};

use super::fields::{date_range, id_field};
use crate::error::{Code, FieldErrors};
use crate::ids::{PairingId, PlaceId, UnitId};
use crate::validate;

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
