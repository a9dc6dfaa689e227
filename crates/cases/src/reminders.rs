//! 未报到名单 and 提醒报到: who of a unit, or of the members living in a place, has not registered in the open
//! round (the unit-rate rule decides which names a unit's list shows), its export, and polite reminders to the
//! members' inboxes — at most one per member a day, never a ranking or a forced check-in. Also the caller's own
//! inbox (消息).

use shanzhi_domain::notify::registration_reminder;
use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, MemberId, NotificationId};
use shanzhi_imports::ledger;
use shanzhi_store::notifications::{
    Notification, Recipient, RemindOutcome, UnregisteredFilter, UnregisteredList, UnregisteredOf,
};
use shanzhi_store::registration::Round;
use shanzhi_store::{Page, PageReq};

use crate::imports::Ledger;
use crate::{AppError, Caller, CaseResult, Cases};

/// The use cases of the unregistered list, reminders and the inbox.
pub struct Reminders<'a>(&'a Cases);

impl Cases {
    pub fn reminders(&self) -> Reminders<'_> {
        Reminders(self)
    }
}

/// What the unregistered page offers the caller: the same rules the use cases below enforce.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnregisteredOffers {
    pub remind: bool,
    pub export: bool,
    /// Show full mobiles (on request; audited).
    pub reveal: bool,
}

impl Reminders<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// The list's name, or `not_found` when the caller may not see it (checked before anything else, so an
    /// out-of-scope list answers 404 whatever else is wrong).
    async fn of_name(&self, c: &Caller, of: UnregisteredOf) -> CaseResult<String> {
        Ok(self.store().unregistered_of_name(c.scope(), of).await?)
    }

    async fn open_round(&self) -> CaseResult<Round> {
        self.store()
            .current_round()
            .await?
            .ok_or(AppError::new(Code::RoundNotOpen))
    }

    pub fn offers(&self, c: &Caller) -> UnregisteredOffers {
        UnregisteredOffers {
            remind: c.may(Action::RegistrationRemind),
            export: c.may(Action::UnregisteredView) && c.may(Action::Export),
            reveal: c.may(Action::PersonalReveal),
        }
    }

    /// Who of `of` has not registered in the open round (`round_not_open` without one). Mobiles are masked; with
    /// `reveal`, for a role that may reveal, full and audited (`forbidden` for a role that may not).
    pub async fn unregistered(
        &self,
        c: &Caller,
        of: UnregisteredOf,
        f: &UnregisteredFilter,
        page: PageReq,
        reveal: bool,
    ) -> CaseResult<UnregisteredList> {
        c.require(Action::UnregisteredView)?;
        if reveal {
            c.require(Action::PersonalReveal)?;
        }
        self.of_name(c, of).await?;
        let round = self.open_round().await?;
        Ok(self
            .store()
            .unregistered(c.scope(), of, &round, f, page, reveal.then_some(c.actor()))
            .await?)
    }

    /// The list as .xlsx: masked unless the role may reveal (then the export is audited as a full view), like
    /// the ledgers.
    pub async fn export(
        &self,
        c: &Caller,
        of: UnregisteredOf,
        f: &UnregisteredFilter,
    ) -> CaseResult<Ledger> {
        c.require(Action::UnregisteredView)?;
        c.require(Action::Export)?;
        self.of_name(c, of).await?;
        let round = self.open_round().await?;
        let reveal = c.may(Action::PersonalReveal).then_some(c.actor());
        let list = self
            .store()
            .unregistered_all(c.scope(), of, &round, f, reveal)
            .await?;
        let bytes = ledger::unregistered_xlsx(&list).map_err(AppError::internal)?;
        Ok(Ledger {
            file_name: ledger::unregistered_file_name(&list.of_name),
            bytes,
        })
    }

    /// Reminds one member of the list (`reminded_recently` within 24 h of the last reminder, whoever sent it;
    /// `required` on `member_id` when none is named).
    pub async fn remind(
        &self,
        c: &Caller,
        of: UnregisteredOf,
        member: Option<MemberId>,
    ) -> CaseResult<()> {
        c.require(Action::RegistrationRemind)?;
        self.of_name(c, of).await?;
        let Some(member) = member.filter(|m| m.0 > 0) else {
            let mut e = shanzhi_domain::FieldErrors::new();
            e.add("member_id", Code::Required);
            return Err(e.into());
        };
        let round = self.open_round().await?;
        let msg = registration_reminder(&round.name, &c.binding().scope_name);
        Ok(self
            .store()
            .remind_member(c.actor(), c.scope(), of, round.id(), member, &msg)
            .await?)
    }

    /// 提醒全部: reminds everyone of the list (matching the search) not reminded in the last 24 h.
    pub async fn remind_all(
        &self,
        c: &Caller,
        of: UnregisteredOf,
        f: &UnregisteredFilter,
    ) -> CaseResult<RemindOutcome> {
        c.require(Action::RegistrationRemind)?;
        self.of_name(c, of).await?;
        let round = self.open_round().await?;
        let msg = registration_reminder(&round.name, &c.binding().scope_name);
        Ok(self
            .store()
            .remind_all(c.actor(), c.scope(), of, &round, f, &msg)
            .await?)
    }

    // ------------------------------------------------------------ the caller's inbox

    fn recipient(c: &Caller) -> CaseResult<Recipient> {
        let account = c.account_id().ok_or(AppError::new(Code::Forbidden))?;
        Ok(Recipient {
            account: Some(account),
            member: c.own_member(),
        })
    }

    /// The caller's messages (to the account, and to the member the role in use acts for), newest first.
    pub async fn inbox(&self, c: &Caller, page: PageReq) -> CaseResult<Page<Notification>> {
        Ok(self
            .store()
            .list_notifications(Self::recipient(c)?, page)
            .await?)
    }

    /// How many of the caller's messages are unread.
    pub async fn unread(&self, c: &Caller) -> CaseResult<i64> {
        Ok(self
            .store()
            .unread_notifications(Self::recipient(c)?)
            .await?)
    }

    /// Marks one of the caller's messages read; another's is `not_found`.
    pub async fn read(&self, c: &Caller, id: NotificationId) -> CaseResult<Notification> {
        Ok(self
            .store()
            .mark_notification_read(Self::recipient(c)?, id)
            .await?)
    }

    /// Marks all of the caller's messages read.
    pub async fn read_all(&self, c: &Caller) -> CaseResult<u64> {
        Ok(self
            .store()
            .mark_all_notifications_read(Self::recipient(c)?)
            .await?)
    }
}
