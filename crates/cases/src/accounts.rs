//! Accounts: what the security admin does with them (list, create with an initial password, role bindings,
//! unlock, disable, reset a password) and what every signed-in caller does with their own (home page, masked
//! mobile, password change, role switch, own-data export). Passwords are hashed by a [`PasswordHasher`] the web
//! layer passes in (its bounded Argon2 pool), never on the async threads.

use std::future::Future;

use shanzhi_domain::registration::RegistrationStatus;
use shanzhi_domain::role::{Action, Role, RoleBinding, Scope};
use shanzhi_domain::{
    AccountId, Code, FieldErrors, MemberId, PlaceId, RoleAssignmentId, Timestamp, UnitId,
};
use shanzhi_store::accounts::{AccountFilter, AccountSummary, NewAccount, NewBinding};
use shanzhi_store::notifications::{Recipient, UnregisteredOf};
use shanzhi_store::orgs::{Member, Unit};
use shanzhi_store::own_data::OwnData;
use shanzhi_store::places::PlaceSummary;
use shanzhi_store::registration::RegistrationFilter;
use shanzhi_store::{Page, PageReq, SessionStage};

use crate::{AppError, Caller, CaseResult, Cases};

/// The use cases of accounts.
pub struct Accounts<'a>(&'a Cases);

impl Cases {
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts(self)
    }
}

/// Password hashing, off the async threads (the web layer's bounded pool).
pub trait PasswordHasher: Sync {
    /// A PHC string of `password` with the current parameters.
    fn hash(&self, password: &str) -> impl Future<Output = CaseResult<String>> + Send;
    /// Whether `password` matches the stored PHC string.
    fn verify(&self, password: &str, phc: &str) -> impl Future<Output = CaseResult<bool>> + Send;
}

/// What a role binding is bound to, as chosen in the picker: a typed id carried as `place:12`, `unit:3` or
/// `member:7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindTarget {
    Place(PlaceId),
    Unit(UnitId),
    Member(MemberId),
}

impl BindTarget {
    /// `place:12` → `Place(12)`; anything else `None`.
    pub fn parse(s: &str) -> Option<BindTarget> {
        let (kind, id) = s.trim().split_once(':')?;
        let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
        match kind {
            "place" => Some(BindTarget::Place(PlaceId(id))),
            "unit" => Some(BindTarget::Unit(UnitId(id))),
            "member" => Some(BindTarget::Member(MemberId(id))),
            _ => None,
        }
    }
    /// The form value (`place:12`).
    pub fn value(&self) -> String {
        match self {
            BindTarget::Place(p) => format!("place:{}", p.0),
            BindTarget::Unit(u) => format!("unit:{}", u.0),
            BindTarget::Member(m) => format!("member:{}", m.0),
        }
    }
}

/// A role binding as chosen on a form: the role, and the place, unit or member picked by name.
#[derive(Debug, Clone, Default)]
pub struct BindingInput {
    pub role: String,
    pub target: Option<BindTarget>,
}

/// One choice of the picker: its form value and what people read.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub value: String,
    pub name: String,
    pub detail: String,
}

/// One account of the list with its role bindings (role and scope in Chinese).
#[derive(Debug)]
pub struct AccountRow {
    pub account: AccountSummary,
    pub bindings: Vec<RoleBinding>,
}

/// A new account with its first role binding.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub username: String,
    pub display_name: String,
    pub mobile: String,
    pub binding: BindingInput,
}

/// An account with a freshly set initial password, to show once.
#[derive(Debug)]
pub struct InitialPassword {
    pub account_id: AccountId,
    pub username: String,
    pub password: String,
}

/// One account as the security admin sees it.
#[derive(Debug)]
pub struct AccountDetail {
    pub account: AccountSummary,
    pub locked: bool,
    /// Masked, `None` when none is recorded.
    pub mobile: Option<String>,
    pub bindings: Vec<(RoleAssignmentId, RoleBinding)>,
}

/// What the home page shows for the caller's role binding (at most one part is filled).
#[derive(Debug, Default)]
pub struct Home {
    /// Place bindings: the places of the binding with their figures.
    pub summaries: Vec<PlaceSummary>,
    /// Unit admins: their unit.
    pub unit: Option<Unit>,
    /// Members: their own record.
    pub member: Option<Member>,
    /// Security admins: how many accounts there are.
    pub accounts_total: i64,
    /// Auditors: how many audit entries there are.
    pub audit_total: i64,
    /// What waits for the caller (待办), each with where to do it.
    pub todo: Vec<Todo>,
    /// The place tiles the caller may open (no tile that leads to a 403 or to nothing).
    pub tiles: Tiles,
    /// Unread messages in the caller's inbox (消息).
    pub unread: i64,
}

/// One kind of work waiting for the caller on their home page.
#[derive(Debug, Clone)]
pub struct Todo {
    pub label: &'static str,
    pub count: i64,
    pub href: String,
}

/// Which figures of a place summary lead somewhere for this caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tiles {
    pub children: bool,
    pub units: bool,
    pub members: bool,
    /// The 未报到名单 of each place.
    pub unregistered: bool,
}

impl Accounts<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    // ------------------------------------------------------------ the security admin

    /// The roles an account may be given (the new-account form's choices).
    pub fn roles(&self, c: &Caller) -> CaseResult<&'static [Role]> {
        c.require(Action::AccountManage)?;
        Ok(&Role::ALL)
    }

    /// Accounts matching the filter (name, role, scope name), each with its role bindings.
    pub async fn list(
        &self,
        c: &Caller,
        f: &AccountFilter,
        page: PageReq,
    ) -> CaseResult<Page<AccountRow>> {
        c.require(Action::AccountManage)?;
        let accounts = self.store().list_accounts(f, page).await?;
        let mut items = Vec::with_capacity(accounts.items.len());
        for a in accounts.items {
            let bindings = self
                .store()
                .account_bindings(AccountId(a.id))
                .await?
                .into_iter()
                .map(|(_, b)| b)
                .collect();
            items.push(AccountRow {
                account: a,
                bindings,
            });
        }
        Ok(Page::of(items, accounts.total, page))
    }

    /// The picker's choices for `role`: places of the role's level, units or members whose name contains `q`
    /// (the security admin binds anywhere in the district). Empty for an unknown role.
    pub async fn candidates(&self, c: &Caller, role: &str, q: &str) -> CaseResult<Vec<Candidate>> {
        c.require(Action::AccountManage)?;
        let Some(role) = Role::parse(role) else {
            return Ok(Vec::new());
        };
        let (kind, rows) = if role.needs_unit() {
            ("unit", self.store().unit_candidates(q).await?)
        } else if role.needs_member() {
            ("member", self.store().member_candidates(q).await?)
        } else if let Some(level) = role.place_level() {
            (
                "place",
                self.store().place_candidates(level.as_str(), q).await?,
            )
        } else {
            return Ok(Vec::new());
        };
        Ok(rows
            .into_iter()
            .map(|r| Candidate {
                value: format!("{kind}:{}", r.id),
                name: r.name,
                detail: r.detail,
            })
            .collect())
    }

    /// One account with its bindings.
    pub async fn get(&self, c: &Caller, id: AccountId) -> CaseResult<AccountDetail> {
        c.require(Action::AccountManage)?;
        let a = self.store().get_account(id).await?;
        let locked = a.is_locked(Timestamp::now());
        let account = AccountSummary {
            id: a.id,
            username: a.username,
            display_name: a.display_name,
            failed_logins: a.failed_logins,
            locked_until: a.locked_until,
            totp_enabled: a.totp_enabled,
            active: a.active,
            created_at: a.created_at,
        };
        Ok(AccountDetail {
            account,
            locked,
            mobile: self.store().account_mobile_masked(id).await?,
            bindings: self.store().account_bindings(id).await?,
        })
    }

    /// Clears the failed logins that locked an account.
    pub async fn unlock(&self, c: &Caller, id: AccountId) -> CaseResult<()> {
        c.require(Action::AccountManage)?;
        Ok(self.store().unlock_account(c.actor(), id).await?)
    }

    /// Resolves what a binding is bound to; field errors name `role` or `target` (nothing chosen, a choice of the
    /// wrong kind for the role, or one that does not exist).
    async fn binding(&self, b: &BindingInput) -> CaseResult<NewBinding> {
        let role =
            Role::parse(&b.role).ok_or_else(|| FieldErrors::single("role", Code::InvalidRole))?;
        let target = b
            .target
            .ok_or_else(|| FieldErrors::single("target", Code::Required))?;
        let mut nb = NewBinding {
            role,
            place_id: None,
            unit_id: None,
            member_id: None,
        };
        let missing = |code: Code| {
            move |e: shanzhi_store::StoreError| match e {
                shanzhi_store::StoreError::NotFound => {
                    AppError::from(FieldErrors::single("target", code))
                }
                other => AppError::from(other),
            }
        };
        match target {
            BindTarget::Unit(u) if role.needs_unit() => {
                self.store()
                    .get_unit(&Scope::Everything, u)
                    .await
                    .map_err(missing(Code::InvalidUnit))?;
                nb.unit_id = Some(u);
            }
            BindTarget::Member(m) if role.needs_member() => {
                self.store()
                    .get_member(&Scope::Everything, m)
                    .await
                    .map_err(missing(Code::NotFound))?;
                nb.member_id = Some(m);
            }
            BindTarget::Place(p) if role.place_level().is_some() => {
                self.store()
                    .get_place_unscoped(p)
                    .await
                    .map_err(missing(Code::InvalidPlace))?;
                nb.place_id = Some(p);
            }
            _ => return Err(FieldErrors::single("target", Code::InvalidRole).into()),
        }
        Ok(nb)
    }

    /// Creates an account with one role binding and a random initial password, which must be replaced at first
    /// login. Returns the password to show once.
    pub async fn create(
        &self,
        c: &Caller,
        input: &AccountInput,
        hasher: &impl PasswordHasher,
    ) -> CaseResult<InitialPassword> {
        c.require(Action::AccountManage)?;
        let mut errors = FieldErrors::new();
        if let Err(code) = shanzhi_domain::validate::text(&input.display_name, 40) {
            errors.add("display_name", code);
        }
        let binding = match self.binding(&input.binding).await {
            Ok(b) => Some(b),
            Err(e) => {
                errors.0.extend(e.into_fields()?.0);
                None
            }
        };
        let Some(binding) = binding.filter(|_| errors.is_empty()) else {
            return Err(errors.into());
        };
        let password = shanzhi_secure::password::initial_password();
        let mobile = Some(input.mobile.clone()).filter(|m| !m.trim().is_empty());
        let account = NewAccount {
            username: input.username.clone(),
            display_name: input.display_name.trim().to_string(),
            mobile,
            password_hash: hasher.hash(&password).await?,
            member_id: binding.member_id,
            bindings: vec![binding],
            // An initial password is temporary: whoever receives it replaces it at the first login.
            must_change_password: true,
        };
        let id = self.store().create_account(c.actor(), &account).await?;
        Ok(InitialPassword {
            account_id: id,
            username: account.username.to_ascii_lowercase(),
            password,
        })
    }

    /// Adds a role binding to an account.
    pub async fn add_role(&self, c: &Caller, id: AccountId, b: &BindingInput) -> CaseResult<()> {
        c.require(Action::AccountManage)?;
        let binding = self.binding(b).await?;
        Ok(self.store().add_role(c.actor(), id, &binding).await?)
    }

    /// Removes a role binding (`invalid_role` for an account's last one).
    pub async fn remove_role(
        &self,
        c: &Caller,
        id: AccountId,
        binding: RoleAssignmentId,
    ) -> CaseResult<()> {
        c.require(Action::AccountManage)?;
        Ok(self.store().remove_role(c.actor(), id, binding).await?)
    }

    /// Disables (ending its sessions) or re-enables an account; never the caller's own.
    pub async fn set_active(&self, c: &Caller, id: AccountId, active: bool) -> CaseResult<()> {
        c.require(Action::AccountManage)?;
        if c.account_id() == Some(id) {
            return Err(AppError::new(Code::Forbidden));
        }
        Ok(self
            .store()
            .set_account_active(c.actor(), id, active)
            .await?)
    }

    /// Sets a random initial password (to be replaced at next login) and returns it to show once.
    pub async fn reset_password(
        &self,
        c: &Caller,
        id: AccountId,
        hasher: &impl PasswordHasher,
    ) -> CaseResult<InitialPassword> {
        c.require(Action::AccountManage)?;
        let account = self.store().get_account(id).await?;
        let password = shanzhi_secure::password::initial_password();
        let hash = hasher.hash(&password).await?;
        // Given by the security admin: its owner replaces it at the next login.
        self.store()
            .set_password(c.actor(), id, &hash, true)
            .await?;
        Ok(InitialPassword {
            account_id: id,
            username: account.username,
            password,
        })
    }

    // ------------------------------------------------------------ the caller's own account

    fn own(c: &Caller) -> CaseResult<AccountId> {
        c.account_id().ok_or(AppError::new(Code::Forbidden))
    }

    /// What the caller's home page shows.
    pub async fn home(&self, c: &Caller) -> CaseResult<Home> {
        let mut home = Home::default();
        match (c.scope(), c.role()) {
            (Scope::Subtree(_), _) => {
                for p in self.store().scope_roots(c.scope()).await? {
                    home.summaries.push(self.store().place_summary(p).await?);
                }
            }
            (Scope::Unit(u), _) => home.unit = Some(self.store().get_unit(c.scope(), *u).await?),
            (Scope::Member(m), _) => {
                home.member = Some(self.store().get_member(c.scope(), *m).await?)
            }
            (Scope::Oversight, Role::SecurityAdmin) => {
                home.accounts_total = self
                    .store()
                    .list_accounts(&AccountFilter::default(), PageReq::new(Some(1), Some(1)))
                    .await?
                    .total
            }
            (Scope::Oversight, Role::Auditor) => {
                home.audit_total = self
                    .store()
                    .list_audit(&Default::default(), PageReq::new(Some(1), Some(1)))
                    .await?
                    .total
            }
            _ => {}
        }
        home.tiles = Tiles {
            children: c.may(Action::PlaceView) && home.summaries.iter().any(|s| s.children > 0),
            units: c.may(Action::UnitView),
            members: c.may(Action::MemberView),
            unregistered: c.may(Action::UnregisteredView),
        };
        home.todo = self.todo(c).await?;
        home.unread = home
            .todo
            .iter()
            .find(|t| t.href == "/messages")
            .map(|t| t.count)
            .unwrap_or(0);
        Ok(home)
    }

    /// The caller's work list: members a town or community named for the unit admin's unit (待确认成员),
    /// registrations waiting for the reviewing community (新报到 and 转入), the member's own registration waiting
    /// or returned. Counts in scope; an empty list when nothing waits.
    async fn todo(&self, c: &Caller) -> CaseResult<Vec<Todo>> {
        let mut todo = Vec::new();
        let roster = self.0.members().pending_count(c).await?;
        if roster > 0 {
            todo.push(Todo {
                label: "待确认成员",
                count: roster,
                href: "/unit-roster".into(),
            });
        }
        if c.may(Action::RegistrationReview) {
            let f = RegistrationFilter {
                status: Some(RegistrationStatus::Submitted.as_str().into()),
                ..Default::default()
            };
            let waiting = self
                .store()
                .list_registrations(c.scope(), &f, PageReq::new(Some(1), Some(1)))
                .await?
                .total;
            if waiting > 0 {
                todo.push(Todo {
                    label: "待接收的党员报到",
                    count: waiting,
                    href: "/registrations?status=submitted".into(),
                });
            }
        }
        if c.may(Action::UnregisteredView)
            && let Some(round) = self.store().current_round().await?
        {
            let lists: Vec<(UnregisteredOf, String)> = match c.scope() {
                Scope::Unit(u) => vec![(
                    UnregisteredOf::Unit(*u),
                    format!("/units/{}/unregistered", u.0),
                )],
                // A community's or grid's list is a short one to work through; a town or the district follows its
                // 报到率 (rollups) instead of counting every unregistered member on each visit to its home.
                Scope::Subtree(_) => self
                    .store()
                    .scope_roots(c.scope())
                    .await?
                    .into_iter()
                    .filter(|p| {
                        matches!(
                            p.level(),
                            Some(
                                shanzhi_domain::place::PlaceLevel::Community
                                    | shanzhi_domain::place::PlaceLevel::Grid
                            )
                        )
                    })
                    .map(|p| {
                        (
                            UnregisteredOf::Place(PlaceId(p.id)),
                            format!("/places/{}/unregistered", p.id),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (of, href) in lists {
                let waiting = self
                    .store()
                    .unregistered_total(c.scope(), of, &round)
                    .await?;
                if waiting > 0 {
                    todo.push(Todo {
                        label: "本轮尚未报到的党员",
                        count: waiting,
                        href,
                    });
                }
            }
        }
        if let Some(account) = c.account_id() {
            let unread = self
                .store()
                .unread_notifications(Recipient {
                    account: Some(account),
                    member: c.own_member(),
                })
                .await?;
            if unread > 0 {
                todo.push(Todo {
                    label: "未读消息",
                    count: unread,
                    href: "/messages".into(),
                });
            }
        }
        if c.may(Action::RegistrationSubmit)
            && let Some(round) = self.store().current_round().await?
        {
            let f = RegistrationFilter {
                round_id: Some(round.id),
                ..Default::default()
            };
            let mine = self
                .store()
                .list_registrations(c.scope(), &f, PageReq::new(Some(1), Some(50)))
                .await?
                .items;
            if !mine.iter().any(|r| r.status().is_active()) {
                let returned = mine
                    .iter()
                    .any(|r| r.status() == RegistrationStatus::Returned);
                todo.push(Todo {
                    label: if returned {
                        "报到被退回,请修改后重新提交"
                    } else {
                        "本轮次尚未报到"
                    },
                    count: 1,
                    href: "/my/registration".into(),
                });
            }
        }
        Ok(todo)
    }

    /// The caller's own mobile, masked (`None` when none is recorded).
    pub async fn own_mobile(&self, c: &Caller) -> CaseResult<Option<String>> {
        Ok(self.store().account_mobile_masked(Self::own(c)?).await?)
    }

    /// The caller changes their password (current one checked, policy applied); every session of the account
    /// ends with it.
    pub async fn change_password(
        &self,
        c: &Caller,
        current: &str,
        new: &str,
        confirm: &str,
        hasher: &impl PasswordHasher,
    ) -> CaseResult<()> {
        let id = Self::own(c)?;
        let account = self.store().get_account(id).await?;
        if !hasher.verify(current, &account.password_hash).await? {
            return Err(AppError::new(Code::WrongPassword));
        }
        if new != confirm {
            return Err(AppError::new(Code::PasswordMismatch));
        }
        if new == current {
            return Err(AppError::new(Code::PasswordReused));
        }
        shanzhi_domain::password::check_policy(new).map_err(AppError::new)?;
        let hash = hasher.hash(new).await?;
        Ok(self
            .store()
            .set_password(c.actor(), id, &hash, false)
            .await?)
    }

    /// Switches the session `token_hash` (the caller's) to another of the caller's role bindings.
    pub async fn switch_role(
        &self,
        c: &Caller,
        token_hash: &str,
        binding: RoleAssignmentId,
    ) -> CaseResult<()> {
        if !c.bindings().iter().any(|(b, _)| *b == binding) {
            return Err(AppError::new(Code::InvalidRole));
        }
        Ok(self
            .store()
            .update_session(token_hash, SessionStage::Full, Some(binding))
            .await?)
    }

    /// The caller's own data (account, and the member record a member binding acts for), audited.
    pub async fn export_own(&self, c: &Caller) -> CaseResult<OwnData> {
        let id = Self::own(c)?;
        Ok(self
            .store()
            .export_own_data(c.actor(), id, c.own_member())
            .await?)
    }
}
