//! Organisations and people: 驻区单位 (units), 在职党员 (members), 社会组织 (social organisations) and the
//! editable dictionaries. Each `*Input` holds what was typed, exactly, so a form can be shown again; `validate`
//! turns it into a checked value or per-field errors.

use serde::{Deserialize, Serialize};

use crate::error::{Code, FieldErrors};
use crate::ids::{PlaceId, UnitId};
use crate::place::PartyOrgLevel;
use crate::validate;

/// The dictionaries a district admin edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DictKind {
    Skill,
    UnitKind,
    NeedCategory,
}

impl DictKind {
    pub const ALL: [DictKind; 3] = [DictKind::Skill, DictKind::UnitKind, DictKind::NeedCategory];
    pub fn as_str(self) -> &'static str {
        match self {
            DictKind::Skill => "skill",
            DictKind::UnitKind => "unit_kind",
            DictKind::NeedCategory => "need_category",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            DictKind::Skill => "专长",
            DictKind::UnitKind => "单位类别",
            DictKind::NeedCategory => "需求类别",
        }
    }
}

/// The dictionaries every new district starts with.
pub fn seed_dictionary() -> Vec<(DictKind, &'static str, &'static str)> {
    use DictKind::*;
    vec![
        (UnitKind, "organ", "机关"),
        (UnitKind, "institution", "事业单位"),
        (UnitKind, "soe", "国有企业"),
        (UnitKind, "university", "高校"),
        (UnitKind, "new_economic", "两新组织"),
        (UnitKind, "hospital", "医疗卫生机构"),
        (NeedCategory, "elderly_care", "养老帮扶"),
        (NeedCategory, "child_growth", "少儿成长"),
        (NeedCategory, "disability_care", "助残暖心"),
        (NeedCategory, "mediation", "调解援助"),
        (NeedCategory, "health", "健康义诊"),
        (NeedCategory, "environment", "环境整治"),
        (NeedCategory, "culture", "文化宣讲"),
        (NeedCategory, "legal_aid", "法律咨询"),
        (Skill, "medical", "医疗健康"),
        (Skill, "legal", "法律服务"),
        (Skill, "education", "教育辅导"),
        (Skill, "it", "信息技术"),
        (Skill, "forestry", "林业园艺"),
        (Skill, "psychology", "心理疏导"),
        (Skill, "finance", "财务会计"),
        (Skill, "repair", "家电维修"),
        (Skill, "lecture", "理论宣讲"),
        (Skill, "sports", "文体活动"),
        (Skill, "cycling", "骑行运动"),
        (Skill, "elder_care", "为老服务"),
    ]
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DictEntryInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub sort: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDictEntry {
    pub code: String,
    pub name: String,
    pub sort: i64,
    pub active: bool,
}

impl DictEntryInput {
    pub fn validate(&self) -> Result<ValidDictEntry, FieldErrors> {
        let mut e = FieldErrors::new();
        let code = validate::code(&self.code)
            .map_err(|c| e.add("code", c))
            .ok();
        let name = validate::text(&self.name, 40)
            .map_err(|c| e.add("name", c))
            .ok();
        match (code, name, e.is_empty()) {
            (Some(code), Some(name), true) => Ok(ValidDictEntry {
                code,
                name,
                sort: self.sort.unwrap_or(100),
                active: self.active,
            }),
            _ => Err(e),
        }
    }
}

/// 驻区单位 as typed into a form or sent to the API.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitInput {
    pub name: String,
    /// Code from the `unit_kind` dictionary.
    pub kind: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// The place (town, community or grid) where the unit is located.
    pub place_id: String,
    pub party_org_name: String,
    /// committee | general_branch | branch
    pub party_org_level: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidUnit {
    pub name: String,
    pub kind: String,
    pub credit_code: String,
    pub place_id: PlaceId,
    pub party_org_name: String,
    pub party_org_level: PartyOrgLevel,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

fn place_id(s: &str, e: &mut FieldErrors, field: &'static str) -> Option<PlaceId> {
    if s.trim().is_empty() {
        e.add(field, Code::Required);
        return None;
    }
    s.parse().map_err(|_| e.add(field, Code::InvalidPlace)).ok()
}

impl UnitInput {
    pub fn validate(&self) -> Result<ValidUnit, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validate::text(&self.name, 80)
            .map_err(|c| e.add("name", c))
            .ok();
        let kind = validate::code(&self.kind)
            .map_err(|c| e.add("kind", c))
            .ok();
        let credit_code = validate::credit_code(&self.credit_code)
            .map_err(|c| e.add("credit_code", c))
            .ok();
        let place_id = place_id(&self.place_id, &mut e, "place_id");
        let party_org_name = validate::text(&self.party_org_name, 80)
            .map_err(|c| e.add("party_org_name", c))
            .ok();
        let level = PartyOrgLevel::parse(self.party_org_level.trim());
        if level.is_none() {
            e.add("party_org_level", Code::InvalidChoice);
        }
        let contact_name = validate::optional_text(&self.contact_name, 40)
            .map_err(|c| e.add("contact_name", c))
            .ok()
            .flatten();
        let contact_phone = if self.contact_phone.trim().is_empty() {
            None
        } else {
            validate::mobile(&self.contact_phone)
                .map_err(|c| e.add("contact_phone", c))
                .ok()
        };
        match (name, kind, credit_code, place_id, party_org_name, level) {
            (
                Some(name),
                Some(kind),
                Some(credit_code),
                Some(place_id),
                Some(party_org_name),
                Some(party_org_level),
            ) if e.is_empty() => Ok(ValidUnit {
                name,
                kind,
                credit_code,
                place_id,
                party_org_name,
                party_org_level,
                contact_name,
                contact_phone,
            }),
            _ => Err(e),
        }
    }
}

/// 在职党员 as typed into a form or sent to the API.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    pub name: String,
    pub mobile: String,
    /// Optional 18-digit ID-card number.
    #[serde(default)]
    pub id_card: String,
    /// The unit whose party organisation is the member's home organisation.
    pub unit_id: String,
    /// The community (村居) where the member lives.
    pub community_id: String,
    /// Codes from the `skill` dictionary.
    #[serde(default)]
    pub skills: Vec<String>,
    /// 户居分离: registered residence differs from where the member lives.
    #[serde(default)]
    pub separated_residence: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidMember {
    pub name: String,
    pub mobile: String,
    pub id_card: Option<String>,
    pub unit_id: UnitId,
    pub community_id: PlaceId,
    pub skills: Vec<String>,
    pub separated_residence: bool,
}

/// A validated edit of a member: a blank mobile or ID number on an edit means "keep the stored one", because
/// stored numbers are never sent back to a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidMemberEdit {
    pub name: String,
    pub mobile: Option<String>,
    pub id_card: Option<String>,
    pub unit_id: UnitId,
    pub community_id: PlaceId,
    pub skills: Vec<String>,
    pub separated_residence: bool,
}

impl MemberInput {
    /// For creating a member: the mobile is required.
    pub fn validate(&self) -> Result<ValidMember, FieldErrors> {
        let v = self.check(true)?;
        match v.mobile {
            Some(mobile) => Ok(ValidMember {
                name: v.name,
                mobile,
                id_card: v.id_card,
                unit_id: v.unit_id,
                community_id: v.community_id,
                skills: v.skills,
                separated_residence: v.separated_residence,
            }),
            None => Err(FieldErrors::single("mobile", Code::Required)),
        }
    }

    /// For editing a member: blank personal numbers keep the stored values.
    pub fn validate_edit(&self) -> Result<ValidMemberEdit, FieldErrors> {
        self.check(false)
    }

    fn check(&self, mobile_required: bool) -> Result<ValidMemberEdit, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validate::text(&self.name, 40)
            .map_err(|c| e.add("name", c))
            .ok();
        let mobile = if !mobile_required && self.mobile.trim().is_empty() {
            None
        } else {
            validate::mobile(&self.mobile)
                .map_err(|c| e.add("mobile", c))
                .ok()
        };
        let id_card = if self.id_card.trim().is_empty() {
            None
        } else {
            validate::id_card(&self.id_card)
                .map_err(|c| e.add("id_card", c))
                .ok()
        };
        let unit_id = if self.unit_id.trim().is_empty() {
            e.add("unit_id", Code::Required);
            None
        } else {
            self.unit_id
                .parse::<UnitId>()
                .map_err(|_| e.add("unit_id", Code::InvalidUnit))
                .ok()
        };
        let community_id = place_id(&self.community_id, &mut e, "community_id");
        let mut skills: Vec<String> = Vec::new();
        for s in &self.skills {
            match validate::code(s) {
                Ok(c) if !skills.contains(&c) => skills.push(c),
                Ok(_) => {}
                Err(_) => e.add("skills", Code::InvalidChoice),
            }
        }
        if skills.len() > 20 {
            e.add("skills", Code::TooManyFields);
        }
        match (name, unit_id, community_id) {
            (Some(name), Some(unit_id), Some(community_id)) if e.is_empty() => {
                Ok(ValidMemberEdit {
                    name,
                    mobile,
                    id_card,
                    unit_id,
                    community_id,
                    skills,
                    separated_residence: self.separated_residence,
                })
            }
            _ => Err(e),
        }
    }
}

/// 社会组织 as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SocialOrgInput {
    pub name: String,
    pub credit_code: String,
    pub place_id: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSocialOrg {
    pub name: String,
    pub credit_code: String,
    pub place_id: PlaceId,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

impl SocialOrgInput {
    pub fn validate(&self) -> Result<ValidSocialOrg, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validate::text(&self.name, 80)
            .map_err(|c| e.add("name", c))
            .ok();
        let credit_code = validate::credit_code(&self.credit_code)
            .map_err(|c| e.add("credit_code", c))
            .ok();
        let place_id = place_id(&self.place_id, &mut e, "place_id");
        let contact_name = validate::optional_text(&self.contact_name, 40)
            .map_err(|c| e.add("contact_name", c))
            .ok()
            .flatten();
        let contact_phone = if self.contact_phone.trim().is_empty() {
            None
        } else {
            validate::mobile(&self.contact_phone)
                .map_err(|c| e.add("contact_phone", c))
                .ok()
        };
        match (name, credit_code, place_id) {
            (Some(name), Some(credit_code), Some(place_id)) if e.is_empty() => Ok(ValidSocialOrg {
                name,
                credit_code,
                place_id,
                contact_name,
                contact_phone,
            }),
            _ => Err(e),
        }
    }
}

/// A place as typed (towns, communities, grids are added under a parent).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlaceInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub party_org_name: String,
    #[serde(default)]
    pub party_org_level: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPlace {
    pub code: String,
    pub name: String,
    pub party_org_name: Option<String>,
    pub party_org_level: Option<PartyOrgLevel>,
}

impl PlaceInput {
    pub fn validate(&self) -> Result<ValidPlace, FieldErrors> {
        let mut e = FieldErrors::new();
        let code = validate::code(&self.code)
            .map_err(|c| e.add("code", c))
            .ok();
        let name = validate::text(&self.name, 60)
            .map_err(|c| e.add("name", c))
            .ok();
        let party_org_name = validate::optional_text(&self.party_org_name, 80)
            .map_err(|c| e.add("party_org_name", c))
            .ok()
            .flatten();
        let party_org_level = if self.party_org_level.trim().is_empty() {
            None
        } else {
            let l = PartyOrgLevel::parse(self.party_org_level.trim());
            if l.is_none() {
                e.add("party_org_level", Code::InvalidChoice);
            }
            l
        };
        match (code, name) {
            (Some(code), Some(name)) if e.is_empty() => Ok(ValidPlace {
                code,
                name,
                party_org_name,
                party_org_level,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::credit_code_check_char;

    fn good_credit() -> String {
        let p = "12310114425012345";
        format!("{p}{}", credit_code_check_char(p).unwrap_or('0'))
    }

    #[test]
    fn unit_input_reports_every_bad_field() {
        let input = UnitInput {
            name: "".into(),
            kind: "soe".into(),
            credit_code: "123".into(),
            place_id: "x".into(),
            party_org_name: "党支部".into(),
            party_org_level: "nope".into(),
            contact_name: "".into(),
            contact_phone: "12".into(),
        };
        let e = input.validate().err().unwrap_or_default();
        assert_eq!(e.get("name").map(|x| x.code), Some(Code::Required));
        assert_eq!(
            e.get("credit_code").map(|x| x.code),
            Some(Code::InvalidCreditCode)
        );
        assert_eq!(e.get("place_id").map(|x| x.code), Some(Code::InvalidPlace));
        assert_eq!(
            e.get("party_org_level").map(|x| x.code),
            Some(Code::InvalidChoice)
        );
        assert_eq!(
            e.get("contact_phone").map(|x| x.code),
            Some(Code::InvalidMobile)
        );
        assert!(e.get("kind").is_none());
    }

    #[test]
    fn unit_input_ok() {
        let input = UnitInput {
            name: " 区林业站 ".into(),
            kind: "institution".into(),
            credit_code: good_credit(),
            place_id: "3".into(),
            party_org_name: "区林业站党支部".into(),
            party_org_level: "branch".into(),
            contact_name: "".into(),
            contact_phone: "".into(),
        };
        let v = input.validate();
        assert!(v.is_ok(), "{v:?}");
        assert_eq!(v.map(|u| u.name).unwrap_or_default(), "区林业站");
    }

    #[test]
    fn member_input() {
        let mut m = MemberInput {
            name: "王一".into(),
            mobile: "13812345678".into(),
            id_card: "".into(),
            unit_id: "1".into(),
            community_id: "2".into(),
            skills: vec!["it".into(), "it".into()],
            separated_residence: false,
        };
        let v = m.validate();
        assert_eq!(
            v.map(|v| v.skills).unwrap_or_default(),
            vec!["it".to_string()]
        );
        m.mobile = String::new();
        let edit = m.validate_edit();
        assert_eq!(
            edit.map(|v| v.mobile),
            Ok(None),
            "a blank mobile on an edit keeps the stored one"
        );
        assert!(m.validate().is_err(), "a new member needs a mobile");
        m.mobile = "13812345678".into();
        m.id_card = "110105194912310021".into();
        assert_eq!(
            m.validate()
                .err()
                .and_then(|e| e.get("id_card").map(|x| x.code)),
            Some(Code::InvalidIdCard)
        );
    }

    #[test]
    fn dict_and_place_inputs() {
        assert!(
            DictEntryInput {
                code: "bad code".into(),
                name: "x".into(),
                sort: None,
                active: true
            }
            .validate()
            .is_err()
        );
        assert!(
            PlaceInput {
                code: "g01".into(),
                name: "第一网格".into(),
                party_org_name: "".into(),
                party_org_level: "".into()
            }
            .validate()
            .is_ok()
        );
        assert!(
            seed_dictionary()
                .iter()
                .any(|(k, _, n)| *k == DictKind::NeedCategory && *n == "养老帮扶")
        );
    }
}
