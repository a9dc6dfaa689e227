//! Every id is a newtype over the database's 64-bit integer key, so a unit id can never be passed where a member
//! id is expected.

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }
    )*};
}

id_type!(
    PlaceId,
    UnitId,
    MemberId,
    SocialOrgId,
    AccountId,
    RoleAssignmentId,
    DictEntryId,
    AuditId,
    RoundId,
    RegistrationId,
    UnitRegistrationId,
    ResourceId,
    PairingId,
    AllianceId,
    ProjectId,
    NotificationId,
    ActivityId,
    ImportId,
);
