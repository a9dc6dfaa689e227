//! Who is asking. A [`Caller`] can only be made here, from a session the login path issued (see
//! [`crate::Cases::caller`]), or for the operator at the command line ([`Caller::operator`]). Its scope and the
//! audit actor are private to this crate: handlers ask *whether* something is allowed (`may`), never *where*.

use shanzhi_domain::role::{Action, Role, RoleBinding, Scope, permits};
use shanzhi_domain::{AccountId, Code, MemberId, RoleAssignmentId, UnitId};
use shanzhi_store::{Actor, SessionInfo, SessionKind, SessionStage};

use crate::Cases;
use crate::error::AppError;

/// The signed-in caller with the role binding in use.
#[derive(Debug, Clone)]
pub struct Caller {
    account_id: Option<AccountId>,
    username: String,
    bindings: Vec<(RoleAssignmentId, RoleBinding)>,
    binding_id: Option<RoleAssignmentId>,
    binding: RoleBinding,
    scope: Scope,
    actor: Actor,
}

/// Why a request has no caller.
#[derive(Debug)]
pub enum NoCaller {
    /// No session, or it expired.
    Anonymous {
        expired: bool,
    },
    /// Logged in but a login step remains (TOTP, enrolment, password change).
    Pending(SessionStage),
    Error(AppError),
}

impl Caller {
    /// The operator at the command line: the whole district, audited under `name` (e.g. `cli`).
    pub fn operator(name: &str) -> Caller {
        Caller {
            account_id: None,
            username: name.to_string(),
            bindings: Vec::new(),
            binding_id: None,
            binding: RoleBinding {
                role: Role::DistrictAdmin,
                place_id: None,
                place_path: None,
                unit_id: None,
                member_id: None,
                scope_name: "命令行".to_string(),
            },
            scope: Scope::Everything,
            actor: Actor::system(name),
        }
    }

    pub fn role(&self) -> Role {
        self.binding.role
    }
    /// Whether the permission table lets this caller's role do `action` (fails closed). Pages use it to decide
    /// what to offer; use cases enforce the same rule with [`Caller::require`].
    pub fn may(&self, action: Action) -> bool {
        permits(self.binding.role, action)
    }
    pub(crate) fn require(&self, action: Action) -> Result<(), AppError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(AppError::new(Code::Forbidden))
        }
    }
    /// `Some` for a signed-in account (not the command-line operator).
    pub fn account_id(&self) -> Option<AccountId> {
        self.account_id
    }
    pub fn username(&self) -> &str {
        &self.username
    }
    pub fn binding(&self) -> &RoleBinding {
        &self.binding
    }
    pub fn binding_id(&self) -> Option<RoleAssignmentId> {
        self.binding_id
    }
    /// Every role binding of the account, for the role switcher.
    pub fn bindings(&self) -> &[(RoleAssignmentId, RoleBinding)] {
        &self.bindings
    }
    /// The member record a member binding acts for.
    pub fn own_member(&self) -> Option<MemberId> {
        match self.scope {
            Scope::Member(m) => Some(m),
            _ => None,
        }
    }
    /// The unit a unit admin binding acts for.
    pub fn own_unit(&self) -> Option<UnitId> {
        match self.scope {
            Scope::Unit(u) => Some(u),
            _ => None,
        }
    }
    /// Whether the binding is over a part of the place tree (district, town, community or grid).
    pub fn is_place_binding(&self) -> bool {
        matches!(self.scope, Scope::Subtree(_))
    }
    /// The client address the login path saw, for audit.
    pub fn client_addr(&self) -> Option<&str> {
        self.actor.client_addr.as_deref()
    }

    /// The data this caller may see: private to the use cases, which apply it.
    pub(crate) fn scope(&self) -> &Scope {
        &self.scope
    }
    /// Who is recorded in the audit log.
    pub(crate) fn actor(&self) -> &Actor {
        &self.actor
    }
}

impl Cases {
    /// The caller behind a session token of the wanted kind (cookie for pages, bearer for the API), with the
    /// role binding the session chose (or the first). The only way a request gets a [`Caller`].
    pub async fn caller(
        &self,
        token: &str,
        want: SessionKind,
        client_addr: Option<String>,
    ) -> Result<(SessionInfo, Caller), NoCaller> {
        let session = match self.store.session(token).await {
            Ok(Some(s)) if s.kind == want => s,
            Ok(_) => return Err(NoCaller::Anonymous { expired: true }),
            Err(e) => return Err(NoCaller::Error(e.into())),
        };
        if session.stage != SessionStage::Full {
            return Err(NoCaller::Pending(session.stage));
        }
        let bindings = self
            .store
            .account_bindings(session.account_id)
            .await
            .map_err(|e| NoCaller::Error(e.into()))?;
        let chosen = session
            .role_assignment_id
            .and_then(|id| bindings.iter().find(|(bid, _)| *bid == id))
            .or_else(|| bindings.first())
            .cloned();
        let Some((binding_id, binding)) = chosen else {
            return Err(NoCaller::Error(AppError::new(Code::Forbidden)));
        };
        let actor = Actor {
            account_id: Some(session.account_id),
            name: session.username.clone(),
            role: Some(binding.role),
            place: Some(binding.scope_name.clone()),
            client_addr,
        };
        let caller = Caller {
            account_id: Some(session.account_id),
            username: session.username.clone(),
            scope: binding.scope(),
            bindings,
            binding_id: Some(binding_id),
            binding,
            actor,
        };
        Ok((session, caller))
    }
}
