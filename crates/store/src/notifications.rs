//! 未报到名单 and the inbox (消息). Who has not registered in the open round — a unit's members (the unit-rate
//! rule, `shanzhi_domain::role::unit_rate_access`, decides whose names a scope sees) or the members living in a
//! place — with masked mobiles unless the caller reveals (audited); reminders written as messages in the member's
//! inbox, at most one per member and 24 h (the guarded upsert on `member_reminders`, shared by every instance);
//! and the inbox itself: list, unread count, mark read (the recipient's own state, not audited).

use serde::Serialize;
use shanzhi_domain::notify::{Message, NotificationKind, reminder_cutoff};
use shanzhi_domain::role::{RateAccess, Scope, unit_rate_access};
use shanzhi_domain::{
    AccountId, Code, MemberId, NotificationId, PlaceId, RoundId, Timestamp, UnitId,
};

use crate::audit::{Actor, AuditEntry};
use crate::registration::{like, page_of};
use crate::{Page, PageReq, Store, StoreError, StoreResult};

/// Whose unregistered members a list is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnregisteredOf {
    /// The members of a unit (its admin and the district see all; a town or community where the unit is located
    /// sees those who live in its area).
    Unit(UnitId),
    /// The members living in a place (community, or a town's communities) in the caller's scope.
    Place(PlaceId),
}

/// Search and order of an unregistered list.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnregisteredFilter {
    /// Member name contains.
    pub q: Option<String>,
    /// `name` (default), `unit`, `community` or `reminded` (never reminded first, then the longest ago).
    pub sort: Option<String>,
}

/// One member who has not registered in the open round.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnregisteredMember {
    pub member_id: i64,
    pub name: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// Where the member lives.
    pub community_name: String,
    pub grid_name: Option<String>,
    /// Masked (`138****5678`) unless the list was revealed.
    pub mobile: String,
    /// When the member was last reminded (any sender), UTC milliseconds.
    pub last_reminded_at: Option<i64>,
    #[serde(skip)]
    #[schema(ignore)]
    pub mobile_enc: String,
}

impl UnregisteredMember {
    pub fn reminded_label(&self) -> String {
        self.last_reminded_at
            .map(|t| Timestamp(t).shanghai())
            .unwrap_or_else(|| "未提醒".into())
    }
    /// Whether a reminder may go out now (none in the last 24 h).
    pub fn may_remind(&self) -> bool {
        self.last_reminded_at
            .is_none_or(|t| t <= reminder_cutoff(Timestamp::now()))
    }
}

/// A list of unregistered members of the open round.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnregisteredList {
    pub round_id: i64,
    pub round_name: String,
    /// Whole days since the round opened.
    pub days_open: i64,
    /// The unit's or the place's name.
    pub of_name: String,
    /// Full mobiles (the caller may reveal them and asked to; audited).
    pub revealed: bool,
    /// A unit list seen by a town or community: members who have not registered but live elsewhere (counted, not
    /// named). Always 0 for a place list.
    pub unnamed: i64,
    pub members: Page<UnregisteredMember>,
}

/// How many reminders went out and how many members had been reminded in the last 24 h.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct RemindOutcome {
    pub reminded: i64,
    pub skipped: i64,
}

/// One inbox message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    /// `registration_reminder`, …
    pub kind: String,
    pub title: String,
    pub body: String,
    /// A page of the app to go to (`/my/registration`).
    pub link: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl Notification {
    pub fn kind_label(&self) -> &'static str {
        NotificationKind::label(&self.kind)
    }
    pub fn created_shanghai(&self) -> String {
        Timestamp(self.created_at).shanghai()
    }
    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }
}

/// Who an inbox belongs to: the account, and the member record the role in use acts for.
#[derive(Debug, Clone, Copy)]
pub struct Recipient {
    pub account: Option<AccountId>,
    pub member: Option<MemberId>,
}

/// The resolved part of an unregistered list: which members and under which name.
struct Within {
    unit: Option<i64>,
    /// Members living here and below.
    path: Option<String>,
    of_name: String,
}

/// Adds the list's conditions (whose members, not registered in `$round`, name contains) to a query over
/// `members m`.
macro_rules! unregistered_where {
    ($qb:expr, $w:expr, $round:expr, $q:expr) => {{
        if let Some(u) = $w.unit {
            // A unit's list holds the members who count for it, not those waiting for its confirmation.
            $qb.push(" AND m.unit_id = ")
                .push_bind(u)
                .push(concat!(" AND ", member_counts_for_unit!("m")));
        }
        if let Some(path) = &$w.path {
            let (lo, hi) = shanzhi_domain::place::subtree_range(path);
            $qb.push(" AND m.place_path >= ")
                .push_bind(lo)
                .push(" AND m.place_path < ")
                .push_bind(hi);
        }
        $qb.push(
            " AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.member_id = m.id \
             AND r.status IN ('submitted', 'accepted', 'carried') AND r.round_id = ",
        )
        .push_bind($round)
        .push(")");
        if let Some(q) = &$q {
            $qb.push(" AND m.name LIKE ")
                .push_bind(q.clone())
                .push(" ESCAPE '\\'");
        }
    }};
}

/// Upserts the throttle row and, when it moved, writes the message; `Some(true)` when reminded. Inside an open
/// transaction `$tx`.
macro_rules! remind_in_tx {
    ($tx:expr, $member:expr, $msg:expr, $now:expr) => {{
        let moved = sqlx::query(
            "INSERT INTO member_reminders (member_id, kind, last_at) VALUES ($1, $2, $3) \
             ON CONFLICT (member_id, kind) DO UPDATE SET last_at = excluded.last_at \
             WHERE member_reminders.last_at <= $4",
        )
        .bind($member)
        .bind($msg.kind.as_str())
        .bind($now.0)
        .bind(reminder_cutoff($now))
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if moved > 0 {
            sqlx::query(
                "INSERT INTO notifications (recipient_member_id, kind, title, body, link, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind($member)
            .bind($msg.kind.as_str())
            .bind(&$msg.title)
            .bind(&$msg.body)
            .bind($msg.link.as_deref())
            .bind($now.0)
            .execute(&mut *$tx)
            .await?;
        }
        moved > 0
    }};
}

/// At most this many members are reminded by one 提醒全部.
pub const REMIND_ALL_MAX: i64 = 5000;

impl Store {
    /// Resolves whose members a list shows, or `NotFound` when the caller may not see it.
    async fn unregistered_within(&self, scope: &Scope, of: UnregisteredOf) -> StoreResult<Within> {
        match of {
            UnregisteredOf::Unit(u) => {
                let unit = self.get_unit(&Scope::Everything, u).await?;
                let district = self.root_place().await?.map(|p| p.path).unwrap_or_default();
                let access = unit_rate_access(scope, u, &unit.place_path, &district)
                    .ok_or(StoreError::NotFound)?;
                Ok(Within {
                    unit: Some(u.0),
                    path: match access {
                        RateAccess::Names => None,
                        RateAccess::CountsAndLocalNames(p) => Some(p),
                    },
                    of_name: unit.name,
                })
            }
            UnregisteredOf::Place(p) => {
                let place = self.get_place(scope, p).await?;
                Ok(Within {
                    unit: None,
                    path: Some(place.path),
                    of_name: place.name,
                })
            }
        }
    }

    /// Whether the caller may see the list of `of` at all (`NotFound` otherwise); its name.
    pub async fn unregistered_of_name(
        &self,
        scope: &Scope,
        of: UnregisteredOf,
    ) -> StoreResult<String> {
        Ok(self.unregistered_within(scope, of).await?.of_name)
    }

    /// How many of `of` have not registered in round `round` (the count of [`Self::unregistered`] without its
    /// rows, for a to-do entry).
    pub async fn unregistered_total(
        &self,
        scope: &Scope,
        of: UnregisteredOf,
        round: &crate::registration::Round,
    ) -> StoreResult<i64> {
        let w = self.unregistered_within(scope, of).await?;
        self.unregistered_count(&w, round.id, &None).await
    }

    async fn unregistered_count(
        &self,
        w: &Within,
        round: i64,
        q: &Option<String>,
    ) -> StoreResult<i64> {
        let (n,): (i64,) = rd!(self, |p| {
            let mut qb = crate::qb(p, "SELECT COUNT(*) FROM members m WHERE 1 = 1");
            unregistered_where!(qb, w, round, q);
            qb.build_query_as().fetch_one(p).await?
        });
        Ok(n)
    }

    /// Who of `of` has no submitted, accepted or carried registration in the open round `round`, paged. With
    /// `reveal` (the use case passes it only for a role that may reveal, on request) the mobiles are decrypted and
    /// the view is audited.
    pub async fn unregistered(
        &self,
        scope: &Scope,
        of: UnregisteredOf,
        round: &crate::registration::Round,
        f: &UnregisteredFilter,
        page: PageReq,
        reveal: Option<&Actor>,
    ) -> StoreResult<UnregisteredList> {
        self.unregistered_with(
            scope,
            of,
            round,
            f,
            page,
            reveal.map(|a| (a, "registration.unregistered_reveal")),
        )
        .await
    }

    /// The list; with `reveal` the mobiles are decrypted and one audit row with the action named is appended.
    async fn unregistered_with(
        &self,
        scope: &Scope,
        of: UnregisteredOf,
        round: &crate::registration::Round,
        f: &UnregisteredFilter,
        page: PageReq,
        reveal: Option<(&Actor, &'static str)>,
    ) -> StoreResult<UnregisteredList> {
        let w = self.unregistered_within(scope, of).await?;
        let q = like(&f.q);
        let total = self.unregistered_count(&w, round.id, &q).await?;
        let unnamed = if w.unit.is_some() && w.path.is_some() {
            let all = Within {
                unit: w.unit,
                path: None,
                of_name: String::new(),
            };
            self.unregistered_count(&all, round.id, &None).await?
                - self.unregistered_count(&w, round.id, &None).await?
        } else {
            0
        };
        let mut rows: Vec<UnregisteredMember> = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT m.id AS member_id, m.name, m.unit_id, u.name AS unit_name, c.name AS community_name, \
                 g.name AS grid_name, m.mobile_masked AS mobile, mr.last_at AS last_reminded_at, m.mobile_enc \
                 FROM members m JOIN units u ON u.id = m.unit_id JOIN places c ON c.id = m.community_id \
                 LEFT JOIN places g ON g.id = m.grid_id \
                 LEFT JOIN member_reminders mr ON mr.member_id = m.id AND mr.kind = ",
            );
            qb.push_bind(NotificationKind::RegistrationReminder.as_str());
            qb.push(" WHERE 1 = 1");
            unregistered_where!(qb, w, round.id, q);
            qb.push(match f.sort.as_deref() {
                Some("unit") => " ORDER BY u.name, m.name, m.id",
                Some("community") => " ORDER BY c.name, m.name, m.id",
                Some("reminded") => " ORDER BY COALESCE(mr.last_at, 0), m.name, m.id",
                _ => " ORDER BY m.name, m.id",
            });
            qb.push(" LIMIT ")
                .push_bind(page.limit())
                .push(" OFFSET ")
                .push_bind(page.offset());
            qb.build_query_as().fetch_all(p).await?
        });
        for r in &mut rows {
            let enc = std::mem::take(&mut r.mobile_enc);
            if reveal.is_some() {
                r.mobile = self.vault.decrypt(&enc)?;
            }
        }
        if let Some((actor, action)) = reveal {
            self.append_audit(
                actor,
                &AuditEntry::ok(action, target_of(of))
                    .with_detail(format!("rows={} full mobiles", rows.len())),
            )
            .await?;
        }
        Ok(UnregisteredList {
            round_id: round.id,
            round_name: round.name.clone(),
            days_open: shanzhi_domain::notify::days_since(
                Timestamp(round.created_at),
                Timestamp::now(),
            ),
            of_name: w.of_name,
            revealed: reveal.is_some(),
            unnamed,
            members: page_of(rows, total, page),
        })
    }

    /// Every unregistered member of `of` for an export (at most `crate::imports::LEDGER_MAX_ROWS`), masked
    /// unless `reveal`, which audits the export as a full-value view.
    pub async fn unregistered_all(
        &self,
        scope: &Scope,
        of: UnregisteredOf,
        round: &crate::registration::Round,
        f: &UnregisteredFilter,
        reveal: Option<&Actor>,
    ) -> StoreResult<UnregisteredList> {
        let all = PageReq {
            page: 1,
            per_page: crate::imports::LEDGER_MAX_ROWS as u32,
            after: None,
        };
        self.unregistered_with(
            scope,
            of,
            round,
            f,
            all,
            reveal.map(|a| (a, "export.unregistered.reveal")),
        )
        .await
    }

    /// Reminds one member of `of` who has not registered in `round`: a message in their inbox, unless someone
    /// reminded them in the last 24 h (`reminded_recently`). The member must be one the caller sees in that list
    /// (else `NotFound`); a registered member answers `member_already_registered`.
    pub async fn remind_member(
        &self,
        actor: &Actor,
        scope: &Scope,
        of: UnregisteredOf,
        round: RoundId,
        member: MemberId,
        msg: &Message,
    ) -> StoreResult<()> {
        let w = self.unregistered_within(scope, of).await?;
        let (in_list, registered): (i64, i64) = rd!(self, |p| {
            let mut qb = crate::qb(
                p,
                "SELECT COUNT(*), (SELECT COUNT(*) FROM registrations r WHERE r.member_id = ",
            );
            qb.push_bind(member.0)
                .push(" AND r.status IN ('submitted', 'accepted', 'carried') AND r.round_id = ")
                .push_bind(round.0)
                .push(") FROM members m WHERE m.id = ")
                .push_bind(member.0);
            if let Some(u) = w.unit {
                qb.push(" AND m.unit_id = ")
                    .push_bind(u)
                    .push(concat!(" AND ", member_counts_for_unit!("m")));
            }
            if let Some(path) = &w.path {
                let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                qb.push(" AND m.place_path >= ")
                    .push_bind(lo)
                    .push(" AND m.place_path < ")
                    .push_bind(hi);
            }
            qb.build_query_as().fetch_one(p).await?
        });
        if in_list == 0 {
            return Err(StoreError::NotFound);
        }
        if registered > 0 {
            return Err(StoreError::Refused(Code::MemberAlreadyRegistered));
        }
        let now = Timestamp::now();
        audited_write!(
            self,
            actor,
            |tx| {
                if remind_in_tx!(tx, member.0, msg, now) {
                    Some(())
                } else {
                    None
                }
            },
            |_out| AuditEntry::ok("registration.remind", format!("member:{}", member.0)),
            guard = StoreError::Refused(Code::RemindedRecently)
        )
    }

    /// Reminds every unregistered member of `of` matching `f` (at most [`REMIND_ALL_MAX`]) who was not reminded
    /// in the last 24 h, in one transaction with one audit row.
    pub async fn remind_all(
        &self,
        actor: &Actor,
        scope: &Scope,
        of: UnregisteredOf,
        round: &crate::registration::Round,
        f: &UnregisteredFilter,
        msg: &Message,
    ) -> StoreResult<RemindOutcome> {
        let w = self.unregistered_within(scope, of).await?;
        let q = like(&f.q);
        let ids: Vec<(i64,)> = rd!(self, |p| {
            let mut qb = crate::qb(p, "SELECT m.id FROM members m WHERE 1 = 1");
            unregistered_where!(qb, w, round.id, q);
            qb.push(" ORDER BY m.id LIMIT ").push_bind(REMIND_ALL_MAX);
            qb.build_query_as().fetch_all(p).await?
        });
        let now = Timestamp::now();
        let total = ids.len() as i64;
        audited_write!(
            self,
            actor,
            |tx| {
                let mut reminded = 0i64;
                for (id,) in &ids {
                    if remind_in_tx!(tx, *id, msg, now) {
                        reminded += 1;
                    }
                }
                Some(RemindOutcome {
                    reminded,
                    skipped: total - reminded,
                })
            },
            |out| AuditEntry::ok("registration.remind_all", target_of(of))
                .with_detail(format!("reminded={} skipped={}", out.reminded, out.skipped))
        )
    }

    // ------------------------------------------------------------ the inbox

    /// The recipient's messages, newest first.
    pub async fn list_notifications(
        &self,
        to: Recipient,
        page: PageReq,
    ) -> StoreResult<Page<Notification>> {
        let (a, m) = recipient_keys(to);
        let (total,): (i64,) = rd!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE recipient_account_id = $1 OR recipient_member_id = $2"
        )
        .bind(a)
        .bind(m)
        .fetch_one(p)
        .await?
        });
        let items: Vec<Notification> = rd!(self, |p| {
            sqlx::query_as(
            "SELECT id, kind, title, body, link, created_at, read_at FROM notifications \
             WHERE recipient_account_id = $1 OR recipient_member_id = $2 ORDER BY id DESC LIMIT $3 OFFSET $4"
        )
        .bind(a)
        .bind(m)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(p)
        .await?
        });
        Ok(page_of(items, total, page))
    }

    /// How many of the recipient's messages are unread.
    pub async fn unread_notifications(&self, to: Recipient) -> StoreResult<i64> {
        let (a, m) = recipient_keys(to);
        let (n,): (i64,) = rd!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE (recipient_account_id = $1 OR recipient_member_id = $2) \
             AND read_at IS NULL"
        )
        .bind(a)
        .bind(m)
        .fetch_one(p)
        .await?
        });
        Ok(n)
    }

    /// Marks one of the recipient's messages read (idempotent); another's message is `NotFound`.
    pub async fn mark_notification_read(
        &self,
        to: Recipient,
        id: NotificationId,
    ) -> StoreResult<Notification> {
        let (a, m) = recipient_keys(to);
        wr!(self, |p| sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE id = $2 AND read_at IS NULL \
             AND (recipient_account_id = $3 OR recipient_member_id = $4)"
        )
        .bind(Timestamp::now().0)
        .bind(id.0)
        .bind(a)
        .bind(m)
        .execute(p)
        .await?
        .rows_affected());
        let n: Option<Notification> = rd!(self, |p| sqlx::query_as(
            "SELECT id, kind, title, body, link, created_at, read_at FROM notifications \
             WHERE id = $1 AND (recipient_account_id = $2 OR recipient_member_id = $3)"
        )
        .bind(id.0)
        .bind(a)
        .bind(m)
        .fetch_optional(p)
        .await?);
        n.ok_or(StoreError::NotFound)
    }

    /// Marks all of the recipient's messages read; returns how many changed.
    pub async fn mark_all_notifications_read(&self, to: Recipient) -> StoreResult<u64> {
        let (a, m) = recipient_keys(to);
        Ok(wr!(self, |p| sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE read_at IS NULL \
             AND (recipient_account_id = $2 OR recipient_member_id = $3)"
        )
        .bind(Timestamp::now().0)
        .bind(a)
        .bind(m)
        .execute(p)
        .await?
        .rows_affected()))
    }
}

/// The recipient as bind values; an absent part is `-1`, which no row holds.
fn recipient_keys(to: Recipient) -> (i64, i64) {
    (
        to.account.map(|a| a.0).unwrap_or(-1),
        to.member.map(|m| m.0).unwrap_or(-1),
    )
}

fn target_of(of: UnregisteredOf) -> String {
    match of {
        UnregisteredOf::Unit(u) => format!("unit:{}", u.0),
        UnregisteredOf::Place(p) => format!("place:{}", p.0),
    }
}
