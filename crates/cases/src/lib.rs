//! 善治's use cases: one function per action (submit a registration, accept it, open a round, import members …),
//! grouped by aggregate. Each takes a [`Caller`] that only the login path can make and a typed input, checks the
//! permission table itself, applies the caller's scope, writes through the store (guarded change → event row →
//! audit row → commit, in one transaction) and returns a typed output or an [`AppError`] with a stable code.
//! Page and API handlers only parse, call one use case and render, so the two cannot drift.

pub mod accounts;
pub mod activation;
pub mod audit;
pub mod caller;
pub mod dict;
pub mod error;
pub mod imports;
pub mod jobs;
pub mod orgs;
pub mod own_data;
pub mod pairing;
pub mod places;
pub mod reference;
pub mod registration;
pub mod reminders;
pub mod sms;

pub use caller::{Caller, NoCaller};
pub use error::{AppError, CaseResult};

use std::sync::Arc;

use shanzhi_store::Store;

/// The use cases over one store. Cheap to clone.
#[derive(Clone)]
pub struct Cases {
    store: Store,
    /// Where one-time SMS codes go ([`sms`]).
    sms: Arc<dyn sms::SmsSender>,
}

impl Cases {
    /// The use cases with the [`sms::LogSender`] (SMS are only logged).
    pub fn new(store: Store) -> Cases {
        Cases::with_sms(store, Arc::new(sms::LogSender::default()))
    }

    /// The use cases sending SMS through `sms` (a provider, see [`sms`]).
    pub fn with_sms(store: Store, sms: Arc<dyn sms::SmsSender>) -> Cases {
        Cases { store, sms }
    }
}
