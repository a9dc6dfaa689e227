//! Who is asking: the session (cookie for pages, bearer token for the API), the role binding in use, its scope,
//! and the login procedure shared by pages and API (Argon2id on the bounded hashing threads, the same answers for
//! an unknown name and a real one, lockout after five failures and a per-address throttle kept in the database,
//! second factor for admins outside demo mode with each TOTP code accepted once).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use shanzhi_cases::Caller;
use shanzhi_domain::role::{Action, permits};
use shanzhi_domain::{AccountId, Code, RoleAssignmentId, Timestamp};
use shanzhi_store::{Account, Actor, AuditEntry, SessionInfo, SessionKind, SessionStage};

use crate::AppState;
use crate::error::AppError;
use crate::middleware::{CsrfToken, SESSION_COOKIE, cookie};

/// The signed-in caller of a request: the session (for CSRF and the role switcher) and the use-case [`Caller`]
/// (derefs to it: `ctx.may(Action::…)`, `ctx.role()`).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub session: SessionInfo,
    pub caller: Caller,
    pub csrf: String,
}

impl std::ops::Deref for Ctx {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl Ctx {
    pub fn account_id(&self) -> AccountId {
        self.session.account_id
    }
}

/// The client's address as worked out by [`crate::middleware::client_address`]: the TCP peer, or, when the peer is
/// a trusted proxy, the address that proxy reports.
pub fn client_addr(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<crate::middleware::ClientAddr>()
        .map(|c| c.0.clone())
}

/// How the caller presented a session.
pub enum Presented {
    Cookie(String),
    Bearer(String),
    Nothing,
}

pub fn presented(parts: &Parts) -> Presented {
    if let Some(v) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Presented::Bearer(t.trim().to_string());
    }
    match cookie(&parts.headers, SESSION_COOKIE) {
        Some(t) if !t.is_empty() => Presented::Cookie(t),
        _ => Presented::Nothing,
    }
}

pub use shanzhi_cases::NoCaller as NoCtx;

/// Loads the session and role binding for a request.
pub async fn load(state: &AppState, parts: &Parts, want: SessionKind) -> Result<Ctx, NoCtx> {
    let token = match (presented(parts), want) {
        (Presented::Bearer(t), SessionKind::Api) => t,
        (Presented::Cookie(t), SessionKind::Web) => t,
        _ => return Err(NoCtx::Anonymous { expired: false }),
    };
    let (session, caller) = state.cases.caller(&token, want, client_addr(parts)).await?;
    let csrf = parts
        .extensions
        .get::<CsrfToken>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    Ok(Ctx {
        session,
        caller,
        csrf,
    })
}

/// What a successful password check leads to.
pub struct LoginOutcome {
    pub account: Account,
    pub stage: SessionStage,
    pub first_binding: Option<RoleAssignmentId>,
    /// Whether the role the session starts with may submit a registration (a member), for the QR join flow.
    pub may_register: bool,
}

/// The actor of a login attempt under a name no account has: a short keyed hash of the name, never the name
/// itself (people type their mobile number).
fn anon_actor(label: String, client: Option<String>) -> Actor {
    Actor {
        account_id: None,
        name: label,
        role: None,
        place: None,
        client_addr: client,
    }
}

fn account_actor(account: &Account, client: Option<String>) -> Actor {
    Actor {
        account_id: Some(account.id()),
        name: account.username.clone(),
        role: None,
        place: None,
        client_addr: client,
    }
}

/// Checks a password. An unknown name gets exactly the answers a real one gets (invalid credentials, and after
/// five failures in a row `account_locked`), with an Argon2 run of the same cost. Lockout and the per-address
/// throttle live in the database, so every instance sees them. An account is audited by its username even when
/// its mobile number was typed; an unknown name only as a keyed hash.
pub async fn check_password(
    state: &AppState,
    login: &str,
    password: &str,
    client: Option<String>,
) -> Result<LoginOutcome, AppError> {
    let store = &state.store;
    let now = Timestamp::now();
    let account = store.find_login(login).await?;
    let keys = store.login_keys(account.as_ref().map(Account::id), login, client.as_deref());
    let (actor, target) = match &account {
        Some(a) => (account_actor(a, client), format!("account:{}", a.id)),
        None => (
            anon_actor(store.unknown_login_label(login), client),
            "account:unknown".to_string(),
        ),
    };
    let login_state = store.login_state(&keys, now).await?;
    if login_state.throttled {
        store
            .append_audit(
                &actor,
                &AuditEntry::failed("login", "client", "rate_limited"),
            )
            .await?;
        return Err(AppError::new(Code::RateLimited));
    }
    if login_state.locked {
        state.hasher.verify_dummy(password).await?;
        store
            .append_audit(
                &actor,
                &AuditEntry::failed("login", target, "account_locked"),
            )
            .await?;
        return Err(AppError::new(Code::AccountLocked));
    }
    let verified = match &account {
        Some(a) => state.hasher.verify(password, &a.password_hash).await?,
        None => {
            state.hasher.verify_dummy(password).await?;
            false
        }
    };
    let Some(account) = account.filter(|_| verified) else {
        let locked = store.login_failed(&keys, now).await?;
        let reason = if locked {
            "invalid_credentials;locked"
        } else {
            "invalid_credentials"
        };
        store
            .append_audit(&actor, &AuditEntry::failed("login", target, reason))
            .await?;
        return Err(AppError::new(if locked {
            Code::AccountLocked
        } else {
            Code::InvalidCredentials
        }));
    };
    if !account.active {
        store
            .append_audit(
                &actor,
                &AuditEntry::failed("login", target, "account_disabled"),
            )
            .await?;
        return Err(AppError::new(Code::AccountDisabled));
    }
    store.login_succeeded(account.id()).await?;
    // Hashes made with older Argon2 parameters are replaced now that the password is known (best effort: when
    // the hashing threads are busy it waits for the next login).
    if shanzhi_secure::password::needs_rehash(&account.password_hash) {
        match state.hasher.hash(password).await {
            Ok(new_hash) => {
                store
                    .rehash_password(&actor, account.id(), &account.password_hash, &new_hash)
                    .await?;
            }
            Err(e) if e.code == Code::RateLimited => {}
            Err(e) => return Err(e),
        }
    }
    let bindings = store.account_bindings(account.id()).await?;
    let is_admin = bindings.iter().any(|(_, b)| b.role.is_admin());
    let demo = store.demo_mode().await?;
    let stage = if is_admin && !demo {
        if account.totp_enabled {
            SessionStage::Totp
        } else {
            SessionStage::TotpEnroll
        }
    } else {
        after_second_factor(&account, is_admin)
    };
    store
        .append_audit(
            &actor,
            &AuditEntry::ok("login", target).with_detail(stage.as_str()),
        )
        .await?;
    Ok(LoginOutcome {
        first_binding: bindings.first().map(|(id, _)| *id),
        may_register: bindings
            .first()
            .is_some_and(|(_, b)| permits(b.role, Action::RegistrationSubmit)),
        account,
        stage,
    })
}

/// The stage after the second factor (or right after the password when none is needed): a password given by
/// someone else, or an admin's password older than 90 days, is changed first.
pub fn after_second_factor(account: &Account, is_admin: bool) -> SessionStage {
    let expired = is_admin
        && shanzhi_domain::password::expired(
            Timestamp(account.password_changed_at),
            Timestamp::now(),
        );
    if account.must_change_password || expired {
        SessionStage::PasswordChange
    } else {
        SessionStage::Full
    }
}

/// Opens a full session for an account that has just proven who it is without a password login (a member who
/// activated their own account), bound to its first role binding, as a login would; returns the token.
pub async fn open_session(
    state: &AppState,
    account: AccountId,
    kind: SessionKind,
) -> Result<String, AppError> {
    let binding = state
        .store
        .account_bindings(account)
        .await?
        .first()
        .map(|(id, _)| *id);
    Ok(state
        .store
        .create_session(account, kind, SessionStage::Full, binding)
        .await?)
}

/// Verifies a TOTP code for an account that has a secret, and accepts its time step once: a code (or an older
/// one) that was accepted before is refused, also across instances.
pub async fn totp_ok(state: &AppState, account: &Account, code: &str) -> Result<bool, AppError> {
    let secret = state.store.decrypt_totp(account)?;
    let now = u64::try_from(Timestamp::now().0 / 1000).unwrap_or(0);
    match secret.and_then(|s| shanzhi_secure::totp::verify_step(&s, code.trim(), now)) {
        Some(step) => Ok(state.store.accept_totp_step(account.id(), step).await?),
        None => Ok(false),
    }
}

/// The second factor at login, for pages and API alike: the code must be valid and not used before. A wrong
/// code counts as a failed login (the fifth in a row locks the account, answered `account_locked`) and is
/// audited, as is a right one.
pub async fn check_totp(
    state: &AppState,
    account: &Account,
    code: &str,
    client: Option<String>,
) -> Result<(), AppError> {
    let actor = account_actor(account, client.clone());
    let target = format!("account:{}", account.id);
    if !totp_ok(state, account, code).await? {
        let keys = state
            .store
            .login_keys(Some(account.id()), "", client.as_deref());
        let locked = state.store.login_failed(&keys, Timestamp::now()).await?;
        state
            .store
            .append_audit(
                &actor,
                &AuditEntry::failed("login.totp", target, "totp_invalid"),
            )
            .await?;
        return Err(AppError::new(if locked {
            Code::AccountLocked
        } else {
            Code::TotpInvalid
        }));
    }
    state.store.login_succeeded(account.id()).await?;
    state
        .store
        .append_audit(&actor, &AuditEntry::ok("login.totp", target))
        .await?;
    Ok(())
}

/// Extractor for a pending (not yet full) web session: the login steps use it.
pub struct PendingSession {
    pub session: SessionInfo,
    pub csrf: String,
    pub client: Option<String>,
}

impl FromRequestParts<AppState> for PendingSession {
    type Rejection = crate::error::UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Presented::Cookie(token) = presented(parts) else {
            return Err(crate::error::UiError(AppError::new(Code::Unauthenticated)));
        };
        match state.store.session(&token).await {
            Ok(Some(s)) if s.kind == SessionKind::Web => Ok(PendingSession {
                session: s,
                csrf: parts
                    .extensions
                    .get::<CsrfToken>()
                    .map(|c| c.0.clone())
                    .unwrap_or_default(),
                client: client_addr(parts),
            }),
            Ok(_) => Err(crate::error::UiError(AppError::new(Code::SessionExpired))),
            Err(e) => Err(crate::error::UiError(e.into())),
        }
    }
}
