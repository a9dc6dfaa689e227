//! 驻区单位, 在职党员 and 社会组织: list, read, register and edit them, and reveal a member's full numbers
//! (audited). Every function checks the permission table and reads and writes only inside the caller's scope;
//! which units and places a form may name (a unit admin only their own unit, a place admin only places in their
//! subtree) is decided here, from the domain's `nameable_*` rules, and the choices a form offers come from the
//! same rules.

use shanzhi_domain::org::{DictKind, MemberInput, SocialOrgInput, UnitInput};
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::roster::{UnitLink, may_confirm_unit_link, roster_write};
use shanzhi_domain::{Code, FieldErrors, MemberId, SocialOrgId, UnitId};
use shanzhi_store::dict::DictEntry;
use shanzhi_store::orgs::{
    Member, MemberFilter, PersonalNumbers, SocialOrg, SocialOrgFilter, UNIT_LINK_BATCH_MAX, Unit,
    UnitFilter,
};
use shanzhi_store::places::{Place, PlaceOption};
use shanzhi_store::{Page, PageReq};

use crate::{AppError, Caller, CaseResult, Cases};

/// The use cases of units.
pub struct Units<'a>(&'a Cases);
/// The use cases of members.
pub struct Members<'a>(&'a Cases);
/// The use cases of social organisations.
pub struct SocialOrgs<'a>(&'a Cases);

impl Cases {
    pub fn units(&self) -> Units<'_> {
        Units(self)
    }
    pub fn members(&self) -> Members<'_> {
        Members(self)
    }
    pub fn social_orgs(&self) -> SocialOrgs<'_> {
        SocialOrgs(self)
    }
}

/// The action a form is shown for: creating asks for the create permission, editing for the edit permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFor {
    Create,
    Edit,
}

/// Choices of the unit form.
#[derive(Debug, Clone)]
pub struct UnitChoices {
    pub kinds: Vec<DictEntry>,
    /// Where the unit may be located.
    pub places: Vec<PlaceOption>,
}

/// Choices of the member form.
#[derive(Debug, Clone)]
pub struct MemberChoices {
    pub skills: Vec<DictEntry>,
    /// Where the member may live.
    pub communities: Vec<PlaceOption>,
    /// Which home units the caller may name.
    pub units: Vec<(i64, String)>,
}

/// Towns and communities a unit or social organisation may be located in (the caller's nameable places).
async fn located_places(cases: &Cases, c: &Caller) -> CaseResult<Vec<PlaceOption>> {
    Ok(cases
        .store
        .place_options(
            &c.scope().nameable_places(),
            &[PlaceLevel::Town, PlaceLevel::Community],
        )
        .await?)
}

impl Units<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// Units in scope, filtered and paginated.
    pub async fn list(&self, c: &Caller, f: &UnitFilter, page: PageReq) -> CaseResult<Page<Unit>> {
        c.require(Action::UnitView)?;
        Ok(self.store().list_units(c.scope(), f, page).await?)
    }

    pub async fn get(&self, c: &Caller, id: UnitId) -> CaseResult<Unit> {
        c.require(Action::UnitView)?;
        Ok(self.store().get_unit(c.scope(), id).await?)
    }

    /// What the unit form offers.
    pub async fn choices(&self, c: &Caller, form: FormFor) -> CaseResult<UnitChoices> {
        c.require(match form {
            FormFor::Create => Action::UnitCreate,
            FormFor::Edit => Action::UnitEdit,
        })?;
        Ok(UnitChoices {
            kinds: self.store().list_dict(DictKind::UnitKind, true).await?,
            places: located_places(self.0, c).await?,
        })
    }

    /// Registers a unit located in a place the caller may name.
    pub async fn create(&self, c: &Caller, input: &UnitInput) -> CaseResult<UnitId> {
        c.require(Action::UnitCreate)?;
        let v = input.validate()?;
        Ok(self.store().create_unit(c.actor(), c.scope(), &v).await?)
    }

    /// A unit to edit.
    pub async fn edit_form(&self, c: &Caller, id: UnitId) -> CaseResult<Unit> {
        c.require(Action::UnitEdit)?;
        Ok(self.store().get_unit(c.scope(), id).await?)
    }

    /// Updates a unit in scope; returns it as saved.
    pub async fn update(&self, c: &Caller, id: UnitId, input: &UnitInput) -> CaseResult<Unit> {
        c.require(Action::UnitEdit)?;
        // An id outside the scope answers "not found" before the input is checked.
        self.store().get_unit(c.scope(), id).await?;
        let v = input.validate()?;
        self.store()
            .update_unit(c.actor(), c.scope(), id, &v)
            .await?;
        Ok(self.store().get_unit(c.scope(), id).await?)
    }
}

impl Members<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// Members in scope (numbers masked), filtered and paginated.
    pub async fn list(
        &self,
        c: &Caller,
        f: &MemberFilter,
        page: PageReq,
    ) -> CaseResult<Page<Member>> {
        c.require(Action::MemberView)?;
        Ok(self.store().list_members(c.scope(), f, page).await?)
    }

    /// One member in scope (numbers masked).
    pub async fn get(&self, c: &Caller, id: MemberId) -> CaseResult<Member> {
        c.require(Action::MemberView)?;
        Ok(self.store().get_member(c.scope(), id).await?)
    }

    /// A member's full mobile and ID numbers; every reveal is audited.
    pub async fn reveal(&self, c: &Caller, id: MemberId) -> CaseResult<PersonalNumbers> {
        c.require(Action::PersonalReveal)?;
        Ok(self
            .store()
            .reveal_member_personal(c.actor(), c.scope(), id)
            .await?)
    }

    /// What the member form offers: the skills, the communities the caller may name as a residence and the
    /// units they may name as a home unit (the same rules [`Members::create`] and [`Members::update`] enforce).
    pub async fn choices(&self, c: &Caller, form: FormFor) -> CaseResult<MemberChoices> {
        c.require(match form {
            FormFor::Create => Action::MemberCreate,
            FormFor::Edit => Action::MemberEdit,
        })?;
        Ok(MemberChoices {
            skills: self.store().list_dict(DictKind::Skill, true).await?,
            communities: self
                .store()
                .place_options(&c.scope().nameable_places(), &[PlaceLevel::Community])
                .await?,
            units: self
                .store()
                .unit_options(&c.scope().nameable_units())
                .await?,
        })
    }

    /// Whether the caller may name `unit` as a member's home unit: a unit admin only their own unit.
    fn may_name_unit(c: &Caller, unit: UnitId) -> bool {
        c.scope().nameable_units().sees("", Some(unit), None)
    }

    /// The residence community a member record names, looked up among the places `places` lets the caller
    /// name, after checking the home unit is one the caller may name.
    async fn refs(
        &self,
        c: &Caller,
        places: &Scope,
        unit: UnitId,
        community: shanzhi_domain::PlaceId,
        skills: &[String],
    ) -> CaseResult<Place> {
        if !Self::may_name_unit(c, unit) {
            return Err(FieldErrors::single("unit_id", Code::InvalidUnit).into());
        }
        Ok(self
            .store()
            .member_refs(places, unit, community, skills)
            .await?)
    }

    /// The roster rule (`shanzhi_domain::roster::roster_write`) for the caller writing a member of `unit` who lives
    /// in `community`: refused with a field error, or the state of the unit link (pending when a town or
    /// community names the unit).
    async fn unit_link(&self, c: &Caller, unit: UnitId, community: &Place) -> CaseResult<UnitLink> {
        let district = self
            .store()
            .root_place()
            .await?
            .map(|p| p.path)
            .unwrap_or_default();
        roster_write(c.scope(), unit, &community.path, &district).map_err(|code| match code {
            Code::ResidenceOutOfScope => FieldErrors::single("community_id", code).into(),
            Code::UnitOutOfScope => FieldErrors::single("unit_id", code).into(),
            other => AppError::new(other),
        })
    }

    /// Registers a member: home unit one the caller may name, residence a community the caller may name. A unit
    /// named by a town or community waits for the unit's admin before the member counts for the unit.
    pub async fn create(&self, c: &Caller, input: &MemberInput) -> CaseResult<MemberId> {
        c.require(Action::MemberCreate)?;
        let v = input.validate()?;
        let community = self
            .refs(
                c,
                &c.scope().nameable_places(),
                v.unit_id,
                v.community_id,
                &v.skills,
            )
            .await?;
        let link = self.unit_link(c, v.unit_id, &community).await?;
        Ok(self
            .store()
            .create_member(c.actor(), &community, &v, link)
            .await?)
    }

    /// A member to edit, with their skill codes.
    pub async fn edit_form(&self, c: &Caller, id: MemberId) -> CaseResult<(Member, Vec<String>)> {
        c.require(Action::MemberEdit)?;
        let m = self.store().get_member(c.scope(), id).await?;
        let skills = self.store().member_skill_codes(id).await?;
        Ok((m, skills))
    }

    /// Updates a member in scope (an empty mobile or ID number keeps the stored one); returns it as saved. An
    /// unchanged residence may lie outside the caller's places (a unit admin's member living anywhere); a new
    /// one must be a community the caller may name.
    pub async fn update(
        &self,
        c: &Caller,
        id: MemberId,
        input: &MemberInput,
    ) -> CaseResult<Member> {
        c.require(Action::MemberEdit)?;
        // An id outside the scope answers "not found" before the input is checked.
        let current = self.store().get_member(c.scope(), id).await?;
        let v = input.validate_edit()?;
        let places = if current.community_id == v.community_id.0 {
            Scope::Everything
        } else {
            c.scope().nameable_places()
        };
        let community = self
            .refs(c, &places, v.unit_id, v.community_id, &v.skills)
            .await?;
        // A newly named home unit follows the roster rule; an unchanged one keeps its confirmation.
        let link = if v.unit_id.0 == current.unit_id {
            None
        } else {
            Some(self.unit_link(c, v.unit_id, &community).await?)
        };
        self.store()
            .update_member(c.actor(), &current, &community, &v, link)
            .await?;
        Ok(self.store().get_member(c.scope(), id).await?)
    }

    /// The caller's own unit, for the confirmation queue (待确认成员): only a unit admin has one.
    fn own_unit(c: &Caller) -> CaseResult<UnitId> {
        c.require(Action::UnitRosterConfirm)?;
        match c.scope() {
            Scope::Unit(u) if may_confirm_unit_link(c.scope(), *u) => Ok(*u),
            _ => Err(AppError::new(Code::Forbidden)),
        }
    }

    /// Members a town or community named for the caller's unit, waiting for its confirmation.
    pub async fn pending(
        &self,
        c: &Caller,
        q: &Option<String>,
        page: PageReq,
    ) -> CaseResult<Page<Member>> {
        let unit = Self::own_unit(c)?;
        Ok(self
            .store()
            .pending_unit_members(c.scope(), unit, q, page)
            .await?)
    }

    /// How many members wait for the caller's confirmation (0 for anyone who confirms nothing).
    pub async fn pending_count(&self, c: &Caller) -> CaseResult<i64> {
        if !c.may(Action::UnitRosterConfirm) {
            return Ok(0);
        }
        Ok(self
            .pending(c, &None, PageReq::new(Some(1), Some(1)))
            .await?
            .total)
    }

    /// The unit admin confirms (`confirm`) or declines members waiting for their unit; returns how many were
    /// decided. Members not waiting for the caller's unit answer `not_found` when none of `ids` is.
    pub async fn decide_unit_link(
        &self,
        c: &Caller,
        ids: &[MemberId],
        confirm: bool,
    ) -> CaseResult<usize> {
        let unit = Self::own_unit(c)?;
        if ids.is_empty() || ids.len() > UNIT_LINK_BATCH_MAX {
            return Err(FieldErrors::single("ids", Code::InvalidChoice).into());
        }
        Ok(self
            .store()
            .decide_unit_links(c.actor(), unit, ids, confirm)
            .await?)
    }
}

impl SocialOrgs<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// Social organisations in scope, filtered and paginated.
    pub async fn list(
        &self,
        c: &Caller,
        f: &SocialOrgFilter,
        page: PageReq,
    ) -> CaseResult<Page<SocialOrg>> {
        c.require(Action::SocialOrgView)?;
        Ok(self.store().list_social_orgs(c.scope(), f, page).await?)
    }

    pub async fn get(&self, c: &Caller, id: SocialOrgId) -> CaseResult<SocialOrg> {
        c.require(Action::SocialOrgView)?;
        Ok(self.store().get_social_org(c.scope(), id).await?)
    }

    /// Where a social organisation may be located (for its form).
    pub async fn choices(&self, c: &Caller) -> CaseResult<Vec<PlaceOption>> {
        c.require(Action::SocialOrgEdit)?;
        located_places(self.0, c).await
    }

    /// A social organisation to edit.
    pub async fn edit_form(&self, c: &Caller, id: SocialOrgId) -> CaseResult<SocialOrg> {
        c.require(Action::SocialOrgEdit)?;
        Ok(self.store().get_social_org(c.scope(), id).await?)
    }

    /// Registers a social organisation (`id` `None`) or updates one in scope; returns its id.
    pub async fn save(
        &self,
        c: &Caller,
        id: Option<SocialOrgId>,
        input: &SocialOrgInput,
    ) -> CaseResult<SocialOrgId> {
        c.require(Action::SocialOrgEdit)?;
        // An id outside the scope answers "not found" before the input is checked.
        if let Some(id) = id {
            self.store().get_social_org(c.scope(), id).await?;
        }
        let v = input.validate()?;
        Ok(self
            .store()
            .save_social_org(c.actor(), c.scope(), id, &v)
            .await?)
    }

    /// Updates a social organisation in scope; returns it as saved.
    pub async fn update(
        &self,
        c: &Caller,
        id: SocialOrgId,
        input: &SocialOrgInput,
    ) -> CaseResult<SocialOrg> {
        self.save(c, Some(id), input).await?;
        Ok(self.store().get_social_org(c.scope(), id).await?)
    }
}
