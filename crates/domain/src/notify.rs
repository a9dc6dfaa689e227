//! The inbox (消息) and the registration reminder (提醒报到): what a reminder says, how often one member may get
//! one, and how long a round has been open. A reminder is a polite note in the member's inbox — never a ranking,
//! never a forced check-in.

use crate::time::Timestamp;

/// The kinds of inbox messages. Stored as `as_str()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// 提醒报到: a unit or place admin reminds a member who has not registered in the open round.
    RegistrationReminder,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::RegistrationReminder => "registration_reminder",
        }
    }
    pub fn label(kind: &str) -> &'static str {
        match kind {
            "registration_reminder" => "报到提醒",
            _ => "通知",
        }
    }
}

/// The same member is reminded at most once in this many milliseconds (24 h), whoever reminds them.
pub const REMINDER_INTERVAL_MS: i64 = 24 * 60 * 60 * 1000;

/// The latest time a previous reminder may have been sent for a new one to go out at `now`.
pub fn reminder_cutoff(now: Timestamp) -> i64 {
    now.0 - REMINDER_INTERVAL_MS
}

/// A message ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
}

/// The reminder a member receives: the round, who sent it (the unit or place name), where to register.
pub fn registration_reminder(round_name: &str, from: &str) -> Message {
    Message {
        kind: NotificationKind::RegistrationReminder,
        title: "报到提醒".into(),
        body: format!(
            "{round_name}在职党员报到已开启,您还没有向居住地社区报到。方便时请在“我的报到”中提交,谢谢!——{from}"
        ),
        link: Some("/my/registration".into()),
    }
}

/// Whole days since a round opened at `opened` (0 on the first day; never negative).
pub fn days_since(opened: Timestamp, now: Timestamp) -> i64 {
    ((now.0 - opened.0) / (24 * 60 * 60 * 1000)).max(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn reminder_text_and_days() {
        let m = registration_reminder("2026年度", "甲一村");
        assert_eq!(m.kind.as_str(), "registration_reminder");
        assert!(m.body.contains("2026年度") && m.body.contains("甲一村"));
        assert_eq!(m.link.as_deref(), Some("/my/registration"));
        let day = 24 * 60 * 60 * 1000;
        assert_eq!(days_since(Timestamp(0), Timestamp(day - 1)), 0);
        assert_eq!(days_since(Timestamp(0), Timestamp(3 * day + 5)), 3);
        assert_eq!(days_since(Timestamp(day), Timestamp(0)), 0);
        assert_eq!(reminder_cutoff(Timestamp(2 * day)), day);
        assert_eq!(NotificationKind::label("registration_reminder"), "报到提醒");
    }
}
