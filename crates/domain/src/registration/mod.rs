//! 报到接收: the rules of registration rounds, member registrations (志愿式), unit registrations (组团式),
//! pairing agreements (结对签约) and joint projects (党建联建项目). Pure state machines and validation; the store
//! applies them inside its transactions.
//!
//! One file per aggregate: [`member`] (member registrations and rounds), [`unit`] (unit registrations and
//! resources), [`pairing`] (pairing agreements and alliances), [`project`] (joint projects). Everything is
//! re-exported here, so `registration::RegistrationStatus` and `registration::member::RegistrationStatus` name the
//! same type.

mod fields;
pub mod member;
pub mod pairing;
pub mod project;
pub mod unit;

pub use member::*;
pub use pairing::*;
pub use project::*;
pub use unit::*;

#[cfg(test)]
mod tests;
