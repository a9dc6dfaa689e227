//! 报到接收 by members (志愿式): rounds, a member's registration (submit, resubmit, withdraw, confirm, transfer),
//! a community's review (accept into a grid, return with a reason), receipts, a unit's registration rate and the
//! member card (亮身份). Every function checks the permission table and the caller's scope itself.

use shanzhi_domain::registration::{RegistrationInput, RegistrationStatus, RoundInput};
use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, MemberId, PlaceId, RegistrationId, RoundId, UnitId};
use shanzhi_store::orgs::{Member, Unit};
use shanzhi_store::places::{Place, PlaceFilter};
use shanzhi_store::registration::cards::{MemberCard, PublicCard};
use shanzhi_store::registration::{
    Receipt, Registration, RegistrationFilter, RegistrationHistoryRow, Round, UnitRegistrationRate,
};
use shanzhi_store::{Page, PageReq};

use crate::{AppError, Caller, CaseResult, Cases};

/// The use cases of registration.
pub struct Registrations<'a>(&'a Cases);

impl Cases {
    pub fn registration(&self) -> Registrations<'_> {
        Registrations(self)
    }
}

/// What a caller may do with one registration: the rule the detail page shows buttons by and the use cases
/// below enforce.
#[derive(Debug, Clone, Default)]
pub struct RegistrationOffers {
    /// The caller is the member who registered.
    pub is_owner: bool,
    /// Accept or return (a submitted registration or a transfer in, for its community).
    pub review: bool,
    /// Move to another community (an accepted registration, for its owner or its community).
    pub transfer: bool,
    /// The grids of the registration's community to accept into (when `review`).
    pub grids: Vec<(i64, String)>,
}

impl Registrations<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    // ------------------------------------------------------------ rounds

    /// Rounds, newest first.
    pub async fn rounds(&self, c: &Caller) -> CaseResult<Vec<Round>> {
        c.require(Action::RoundView)?;
        Ok(self.store().list_rounds().await?)
    }

    /// Rounds, newest first, for the district page that opens and closes them.
    pub async fn rounds_to_manage(&self, c: &Caller) -> CaseResult<Vec<Round>> {
        c.require(Action::RoundManage)?;
        Ok(self.store().list_rounds().await?)
    }

    /// The open round, if any.
    pub async fn current_round(&self, c: &Caller) -> CaseResult<Option<Round>> {
        c.require(Action::RoundView)?;
        Ok(self.store().current_round().await?)
    }

    /// Opens a round (district only; one open at a time), carrying over the last round's accepted
    /// registrations when asked.
    pub async fn open_round(&self, c: &Caller, input: &RoundInput) -> CaseResult<RoundId> {
        c.require(Action::RoundManage)?;
        let v = input.validate()?;
        Ok(self.store().open_round(c.actor(), &v).await?)
    }

    /// Closes a round; its pending registrations expire (recorded). Returns how many expired.
    pub async fn close_round(&self, c: &Caller, id: RoundId) -> CaseResult<u64> {
        c.require(Action::RoundManage)?;
        self.store().get_round(id).await?;
        Ok(self.store().close_round(c.actor(), id).await?)
    }

    // ------------------------------------------------------------ reading registrations

    /// Registrations in the caller's scope.
    pub async fn list(
        &self,
        c: &Caller,
        f: &RegistrationFilter,
        page: PageReq,
    ) -> CaseResult<Page<Registration>> {
        c.require(Action::RegistrationView)?;
        Ok(self.store().list_registrations(c.scope(), f, page).await?)
    }

    /// The caller's own registrations in a round (a member), newest first.
    pub async fn mine(&self, c: &Caller, round: RoundId) -> CaseResult<Vec<Registration>> {
        c.require(Action::RegistrationSubmit)?;
        let f = RegistrationFilter {
            round_id: Some(round.0),
            ..Default::default()
        };
        Ok(self
            .store()
            .list_registrations(c.scope(), &f, PageReq::new(Some(1), Some(50)))
            .await?
            .items)
    }

    pub async fn get(&self, c: &Caller, id: RegistrationId) -> CaseResult<Registration> {
        c.require(Action::RegistrationView)?;
        Ok(self.store().get_registration(c.scope(), id).await?)
    }

    /// A registration's steps, with the member's other registrations of the round (both sides of a transfer).
    pub async fn history(
        &self,
        c: &Caller,
        id: RegistrationId,
    ) -> CaseResult<Vec<RegistrationHistoryRow>> {
        c.require(Action::RegistrationView)?;
        Ok(self.store().registration_history(c.scope(), id).await?)
    }

    /// What the caller may do with `r` (see [`RegistrationOffers`]).
    pub async fn offers(&self, c: &Caller, r: &Registration) -> CaseResult<RegistrationOffers> {
        let is_owner = c.own_member() == Some(MemberId(r.member_id));
        let review =
            c.may(Action::RegistrationReview) && r.status() == RegistrationStatus::Submitted;
        let transfer = c.may(Action::RegistrationTransfer)
            && r.status() == RegistrationStatus::Accepted
            && (is_owner || c.may(Action::RegistrationReview));
        let grids = if review {
            self.store()
                .list_places(
                    c.scope(),
                    &PlaceFilter {
                        parent_id: Some(r.community_id),
                        level: Some(shanzhi_domain::place::PlaceLevel::Grid.as_str().into()),
                        q: None,
                    },
                    PageReq::new(Some(1), Some(100)),
                )
                .await?
                .items
                .into_iter()
                .map(|g: Place| (g.id, g.name))
                .collect()
        } else {
            Vec::new()
        };
        Ok(RegistrationOffers {
            is_owner,
            review,
            transfer,
            grids,
        })
    }

    /// The receipt (回执) of an accepted registration: for the member, the home unit's admin and the places
    /// above the grid. Not found until accepted.
    pub async fn receipt(&self, c: &Caller, id: RegistrationId) -> CaseResult<Receipt> {
        c.require(Action::RegistrationView)?;
        Ok(self.store().registration_receipt(c.scope(), id).await?)
    }

    /// A unit in the caller's scope with the rounds to choose from, for the unit's registration overview.
    pub async fn unit_overview(&self, c: &Caller, unit: UnitId) -> CaseResult<(Unit, Vec<Round>)> {
        c.require(Action::RegistrationView)?;
        let u = self.store().get_unit(c.scope(), unit).await?;
        Ok((u, self.store().list_rounds().await?))
    }

    /// A unit's registration rate in a round (default: the open round, else the latest), as much as the
    /// unit-rate rule lets the caller see.
    pub async fn unit_rate(
        &self,
        c: &Caller,
        unit: UnitId,
        round: Option<RoundId>,
    ) -> CaseResult<UnitRegistrationRate> {
        c.require(Action::RegistrationView)?;
        let round = match round {
            Some(r) => r,
            None => self
                .store()
                .list_rounds()
                .await?
                .first()
                .map(Round::id)
                .ok_or(AppError::new(Code::RoundNotOpen))?,
        };
        Ok(self
            .store()
            .unit_registration_rate(c.scope(), unit, round)
            .await?)
    }

    // ------------------------------------------------------------ the member

    /// The calling member's own record (where they live, their unit), for the registration form's defaults.
    pub async fn me(&self, c: &Caller) -> CaseResult<Member> {
        c.require(Action::RegistrationSubmit)?;
        let member = c.own_member().ok_or(AppError::new(Code::Forbidden))?;
        Ok(self.store().get_member(c.scope(), member).await?)
    }

    /// The skills on the calling member's record (the form's default).
    pub async fn my_skills(&self, c: &Caller) -> CaseResult<Vec<String>> {
        c.require(Action::RegistrationSubmit)?;
        let member = c.own_member().ok_or(AppError::new(Code::Forbidden))?;
        Ok(self.store().member_skill_codes(member).await?)
    }

    /// The calling member registers with a community in the open round, or corrects and resubmits a returned
    /// registration. At most one active registration per round, whatever the concurrency.
    pub async fn submit(
        &self,
        c: &Caller,
        input: &RegistrationInput,
        resubmit: Option<RegistrationId>,
    ) -> CaseResult<RegistrationId> {
        c.require(Action::RegistrationSubmit)?;
        let member = c.own_member().ok_or(AppError::new(Code::Forbidden))?;
        let v = input.validate()?;
        match resubmit {
            Some(id) => {
                self.store()
                    .resubmit_registration(c.actor(), c.scope(), id, &v)
                    .await?;
                Ok(id)
            }
            None => Ok(self
                .store()
                .submit_registration(c.actor(), c.scope(), member, &v)
                .await?),
        }
    }

    /// The owner withdraws a submitted, carried or accepted registration (recorded, not deleted).
    pub async fn withdraw(&self, c: &Caller, id: RegistrationId) -> CaseResult<()> {
        c.require(Action::RegistrationSubmit)?;
        c.own_member().ok_or(AppError::new(Code::Forbidden))?;
        Ok(self
            .store()
            .withdraw_registration(c.actor(), c.scope(), id)
            .await?)
    }

    /// The owner confirms a registration carried over from last round; returns this round's receipt number.
    pub async fn confirm(&self, c: &Caller, id: RegistrationId) -> CaseResult<String> {
        c.require(Action::RegistrationSubmit)?;
        c.own_member().ok_or(AppError::new(Code::Forbidden))?;
        Ok(self
            .store()
            .confirm_carried(c.actor(), c.scope(), id)
            .await?)
    }

    /// The registration to move, for the transfer form: refused to whoever may not transfer, whatever the id.
    pub async fn to_transfer(&self, c: &Caller, id: RegistrationId) -> CaseResult<Registration> {
        c.require(Action::RegistrationTransfer)?;
        Ok(self.store().get_registration(c.scope(), id).await?)
    }

    /// Moves an accepted registration to another community (its owner, or the community that accepted it):
    /// the old one becomes 已转出, a new one waits in the new community's queue. Returns the new id.
    pub async fn transfer(
        &self,
        c: &Caller,
        id: RegistrationId,
        community: PlaceId,
    ) -> CaseResult<RegistrationId> {
        c.require(Action::RegistrationTransfer)?;
        if c.own_member().is_none() && !c.is_place_binding() {
            return Err(AppError::new(Code::Forbidden));
        }
        Ok(self
            .store()
            .transfer_registration(c.actor(), c.scope(), id, community)
            .await?)
    }

    // ------------------------------------------------------------ the community

    /// The reviewing community's own place, for its registration QR code (扫码报到); not found for a binding
    /// that is not a community.
    pub async fn own_community(&self, c: &Caller) -> CaseResult<Place> {
        c.require(Action::RegistrationReview)?;
        let id = c.binding().place_id.ok_or(AppError::new(Code::NotFound))?;
        let place = self.store().get_place(c.scope(), id).await?;
        if place.level() != Some(shanzhi_domain::place::PlaceLevel::Community) {
            return Err(AppError::new(Code::NotFound));
        }
        Ok(place)
    }

    /// The community accepts a submitted registration into one of its grids; returns the receipt number.
    pub async fn accept(
        &self,
        c: &Caller,
        id: RegistrationId,
        grid: Option<PlaceId>,
    ) -> CaseResult<String> {
        c.require(Action::RegistrationReview)?;
        reviewer(c)?;
        Ok(self
            .store()
            .accept_registration(c.actor(), c.scope(), id, grid)
            .await?)
    }

    /// The grids of the reviewing community, to accept into (bulk accept on the queue).
    pub async fn own_grids(&self, c: &Caller) -> CaseResult<Vec<(i64, String)>> {
        let community = self.own_community(c).await?;
        Ok(self
            .store()
            .list_places(
                c.scope(),
                &PlaceFilter {
                    parent_id: Some(community.id),
                    level: Some(shanzhi_domain::place::PlaceLevel::Grid.as_str().into()),
                    q: None,
                },
                PageReq::new(Some(1), Some(100)),
            )
            .await?
            .items
            .into_iter()
            .map(|g: Place| (g.id, g.name))
            .collect())
    }

    /// Accepts several waiting registrations into one grid (批量接收), each in its own transaction with its own
    /// history row, receipt and audit entry, exactly as one by one. Returns how many were accepted and how many
    /// could not be (changed meanwhile, not this community's, not waiting).
    pub async fn accept_many(
        &self,
        c: &Caller,
        ids: &[RegistrationId],
        grid: PlaceId,
    ) -> CaseResult<(usize, usize)> {
        c.require(Action::RegistrationReview)?;
        reviewer(c)?;
        if ids.len() > 200 {
            return Err(AppError::new(Code::TooManyFields));
        }
        let (mut accepted, mut refused) = (0, 0);
        for id in ids {
            match self
                .store()
                .accept_registration(c.actor(), c.scope(), *id, Some(grid))
                .await
            {
                Ok(_) => accepted += 1,
                Err(shanzhi_store::StoreError::Db(e)) => {
                    return Err(shanzhi_store::StoreError::Db(e).into());
                }
                Err(_) => refused += 1,
            }
        }
        Ok((accepted, refused))
    }

    /// The community returns a submitted registration with a reason the member sees.
    pub async fn return_(&self, c: &Caller, id: RegistrationId, reason: &str) -> CaseResult<()> {
        c.require(Action::RegistrationReview)?;
        reviewer(c)?;
        Ok(self
            .store()
            .return_registration(c.actor(), c.scope(), id, reason)
            .await?)
    }

    // ------------------------------------------------------------ member card (亮身份)

    /// A member's card (the member, or an admin who may see the member).
    pub async fn card(&self, c: &Caller, member: MemberId) -> CaseResult<MemberCard> {
        c.require(Action::MemberView)?;
        Ok(self
            .store()
            .member_card(c.actor(), c.scope(), member)
            .await?)
    }

    /// Whether the caller may switch `member`'s public card: only the member themself.
    pub fn may_switch_card(&self, c: &Caller, member: MemberId) -> bool {
        c.may(Action::MemberCardManage) && c.own_member() == Some(member)
    }

    /// The member switches their public card on or off.
    pub async fn set_card_public(
        &self,
        c: &Caller,
        member: MemberId,
        public: bool,
    ) -> CaseResult<()> {
        c.require(Action::MemberCardManage)?;
        Ok(self
            .store()
            .set_card_public(c.actor(), c.scope(), member, public)
            .await?)
    }

    /// The public card behind a card token (no caller: anyone with the link, while the member keeps it on).
    pub async fn public_card(&self, token: &str) -> CaseResult<PublicCard> {
        Ok(self.store().public_card(token).await?)
    }
}

/// Reviews are decided by a place binding (the community); the permission table grants review to no other kind.
fn reviewer(c: &Caller) -> CaseResult<()> {
    if c.is_place_binding() {
        Ok(())
    } else {
        Err(AppError::new(Code::Forbidden))
    }
}
