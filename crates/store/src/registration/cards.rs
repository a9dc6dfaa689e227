//! 亮身份: the member card. An accepted member's card shows their name, home party organisation, community and
//! grid — never a mobile or ID number. The public card is reached through a random token (issued the first time
//! the card is shown, kept in `member_cards`) and answers not-found while the member has switched it off
//! (`members.card_public`) or has no accepted registration.

use serde::Serialize;
use shanzhi_domain::registration::{self as reg, RegistrationStatus};
use shanzhi_domain::role::Scope;
use shanzhi_domain::{Code, MemberId, Timestamp};

use crate::audit::{Actor, AuditEntry};
use crate::{Store, StoreError, StoreResult};

/// What a member card shows, for the member and the admins who see the member.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberCard {
    pub member_id: i64,
    pub name: String,
    pub unit_name: String,
    pub party_org_name: String,
    /// Community and grid of the member's latest registration (absent without one).
    pub community_name: Option<String>,
    pub grid_name: Option<String>,
    /// The member's latest registration is accepted (or carried over from an accepted one): the card exists.
    pub available: bool,
    /// The member lets the public card be seen.
    pub public: bool,
    /// Token of the public card `/card/{token}`; issued once the card is available.
    pub token: Option<String>,
}

/// The public card: the name masked, party organisation, community, grid, and the round the registration belongs
/// to with its status, so whoever scans it can tell whether it is current.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicCard {
    /// Masked (`王*明`): the card is public.
    pub name: String,
    pub party_org_name: String,
    pub community_name: String,
    pub grid_name: Option<String>,
    pub round_name: String,
    /// The round's last day (`YYYY-MM-DD`): the card is valid until then.
    pub valid_until: String,
    /// 已报到 or 待确认 (carried over from last round, not yet confirmed).
    pub status_label: String,
}

/// The member's registration in their latest round: the accepted (or carried) one if there is one — a transfer
/// waiting for, or returned by, the new community leaves the old acceptance in force — else the newest: status,
/// community, grid, round name and last day.
type Latest = (String, String, Option<String>, String, String);

impl Store {
    async fn latest_registration(&self, member: MemberId) -> StoreResult<Option<Latest>> {
        Ok(rd!(self, |p| {
            sqlx::query_as(
            "SELECT r.status, c.name, g.name, ro.name, ro.ends_on FROM registrations r \
             JOIN places c ON c.id = r.community_id JOIN rounds ro ON ro.id = r.round_id \
             LEFT JOIN places g ON g.id = r.grid_id WHERE r.member_id = $1 \
             AND r.round_id = (SELECT MAX(x.round_id) FROM registrations x WHERE x.member_id = $1) \
             ORDER BY CASE WHEN r.status IN ('accepted', 'carried') THEN 0 ELSE 1 END, r.id DESC LIMIT 1"
        )
        .bind(member.0)
        .fetch_optional(p)
        .await?
        }))
    }

    /// The card of a member in scope. Issues the public token the first time an available card is shown.
    pub async fn member_card(
        &self,
        actor: &Actor,
        scope: &Scope,
        member: MemberId,
    ) -> StoreResult<MemberCard> {
        let m = self.get_member(scope, member).await?;
        let latest = self.latest_registration(member).await?;
        let available = latest.as_ref().is_some_and(|(status, ..)| {
            RegistrationStatus::parse(status).is_some_and(reg::has_card)
        });
        let token = if available {
            Some(self.card_token(actor, member).await?)
        } else {
            None
        };
        let (community_name, grid_name) = match latest {
            Some((_, c, g, ..)) => (Some(c), g),
            None => (None, None),
        };
        Ok(MemberCard {
            member_id: m.id,
            name: m.name,
            unit_name: m.unit_name,
            party_org_name: m.party_org_name,
            community_name,
            grid_name,
            available,
            public: m.card_public,
            token,
        })
    }

    /// The member's card token, created (random, 256 bits) if it does not exist yet.
    async fn card_token(&self, actor: &Actor, member: MemberId) -> StoreResult<String> {
        let existing: Option<(String,)> = rd!(self, |p| sqlx::query_as(
            "SELECT token FROM member_cards WHERE member_id = $1"
        )
        .bind(member.0)
        .fetch_optional(p)
        .await?);
        if let Some((t,)) = existing {
            return Ok(t);
        }
        let token = shanzhi_secure::token::random_token();
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                let n = sqlx::query(
                    "INSERT INTO member_cards (member_id, token, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (member_id) DO NOTHING",
                )
                .bind(member.0)
                .bind(&token)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                (n == 1).then_some(())
            },
            |_issued| AuditEntry::ok("member_card.issue", format!("member:{member}")),
            guard = optional,
            unique = |e| StoreError::from(e)
        )?;
        // A concurrent request may have issued it first: read back whichever token won.
        let (t,): (String,) = rd!(self, |p| sqlx::query_as(
            "SELECT token FROM member_cards WHERE member_id = $1"
        )
        .bind(member.0)
        .fetch_one(p)
        .await?);
        Ok(t)
    }

    /// The member switches their public card on or off (only the member themself; others: forbidden, or not
    /// found out of scope).
    pub async fn set_card_public(
        &self,
        actor: &Actor,
        scope: &Scope,
        member: MemberId,
        public: bool,
    ) -> StoreResult<()> {
        self.get_member(scope, member).await?;
        if *scope != Scope::Member(member) {
            return Err(StoreError::Refused(Code::Forbidden));
        }
        let now = Timestamp::now().0;
        audited_write!(
            self,
            actor,
            |tx| {
                sqlx::query("UPDATE members SET card_public = $1, updated_at = $2 WHERE id = $3")
                    .bind(public)
                    .bind(now)
                    .bind(member.0)
                    .execute(&mut *tx)
                    .await?;
                Some(())
            },
            |_done| AuditEntry::ok(
                if public {
                    "member_card.on"
                } else {
                    "member_card.off"
                },
                format!("member:{member}")
            )
        )
    }

    /// The public card behind a token: not found for an unknown token, a card switched off, or a member without
    /// an accepted registration.
    pub async fn public_card(&self, token: &str) -> StoreResult<PublicCard> {
        let row: Option<(i64, String, String)> = rd!(self, |p| {
            sqlx::query_as(
            "SELECT m.id, m.name, u.party_org_name FROM member_cards mc JOIN members m ON m.id = mc.member_id \
             JOIN units u ON u.id = m.unit_id WHERE mc.token = $1 AND m.card_public"
        )
        .bind(token)
        .fetch_optional(p)
        .await?
        });
        let (id, name, party_org_name) = row.ok_or(StoreError::NotFound)?;
        match self.latest_registration(MemberId(id)).await? {
            Some((status, community_name, grid_name, round_name, valid_until))
                if let Some(status) = RegistrationStatus::parse(&status)
                    && reg::has_card(status) =>
            {
                Ok(PublicCard {
                    name: shanzhi_domain::mask::name(&name),
                    party_org_name,
                    community_name,
                    grid_name,
                    round_name,
                    valid_until,
                    status_label: if status == RegistrationStatus::Carried {
                        "待本人确认(上一轮次延续)".into()
                    } else {
                        "已报到".into()
                    },
                })
            }
            _ => Err(StoreError::NotFound),
        }
    }
}
