//! Pure types and rules of 善治 (shanzhi): ids, places, organisations, roles and scope, validation, masking,
//! password policy and the registration state machines. No IO lives here, so every rule can be unit-tested.

pub mod activation;
pub mod audit_names;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod mask;
pub mod notify;
pub mod org;
pub mod password;
pub mod place;
pub mod registration;
pub mod role;
pub mod roster;
pub mod text;
pub mod time;
pub mod validate;

pub use error::{Code, FieldErrors};
pub use ids::*;
pub use time::Timestamp;
