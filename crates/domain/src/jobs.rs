//! Background jobs (后台任务): their states, how a state is shown, retry backoff, and how much of a user's value a
//! report may quote. A job is `queued` → `running` → `done` | `failed`; a running job holds a lease that its worker
//! renews by heartbeat. A job whose lease ran out is *interrupted* (its worker died or lost the database): it is
//! shown so at once, then retried after a backoff or failed once its attempts are used up.

/// The stored state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    /// The lease ran out; waiting for a retry (`run_at`).
    Interrupted,
    Done,
    Failed,
}

impl JobStatus {
    pub fn parse(s: &str) -> Option<JobStatus> {
        match s {
            "queued" => Some(JobStatus::Queued),
            "running" => Some(JobStatus::Running),
            "interrupted" => Some(JobStatus::Interrupted),
            "done" => Some(JobStatus::Done),
            "failed" => Some(JobStatus::Failed),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Interrupted => "interrupted",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "排队中",
            JobStatus::Running => "运行中",
            JobStatus::Interrupted => "已中断",
            JobStatus::Done => "已完成",
            JobStatus::Failed => "失败",
        }
    }
    /// Ended for good.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed)
    }
}

/// The state to show: a running job whose lease has run out is interrupted even before any runner noticed.
pub fn effective_status(stored: JobStatus, lease_until: Option<i64>, now_ms: i64) -> JobStatus {
    match (stored, lease_until) {
        (JobStatus::Running, Some(until)) if until < now_ms => JobStatus::Interrupted,
        (JobStatus::Running, None) => JobStatus::Interrupted,
        (s, _) => s,
    }
}

/// Delay before attempt `attempts + 1` after `attempts` failed ones: `base · 2^(attempts-1)`, at most `cap`.
pub fn backoff_ms(attempts: i64, base_ms: i64, cap_ms: i64) -> i64 {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base_ms
        .max(0)
        .saturating_mul(1i64 << exp)
        .min(cap_ms.max(0))
}

/// What happens after a failed or interrupted attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Run again at this time (UTC ms).
    RetryAt(i64),
    GiveUp,
}

/// Retry while attempts remain (and the error is worth retrying), with exponential backoff.
pub fn after_failure(
    attempts: i64,
    max_attempts: i64,
    retryable: bool,
    now_ms: i64,
    base_ms: i64,
    cap_ms: i64,
) -> AfterFailure {
    if retryable && attempts < max_attempts {
        AfterFailure::RetryAt(now_ms.saturating_add(backoff_ms(attempts, base_ms, cap_ms)))
    } else {
        AfterFailure::GiveUp
    }
}

/// Chinese name of a job kind.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "import_members" => "导入在职党员",
        "import_units" => "导入驻区单位",
        "test" => "测试任务",
        _ => "后台任务",
    }
}

/// Longest quote of a user's value in a row report.
pub const QUOTE_CHARS: usize = 40;
/// Longest stored error text of a job.
pub const ERROR_CHARS: usize = 200;

/// At most `max` characters of `s`, with "…" when cut (whole characters, never half a UTF-8 sequence).
pub fn prefix(s: &str, max: usize) -> String {
    let mut it = s.char_indices();
    match it.nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

/// A user's value as quoted in a row report: trimmed, at most [`QUOTE_CHARS`] characters.
pub fn quote(s: &str) -> String {
    prefix(s.trim(), QUOTE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_show_in_chinese() {
        for s in [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Interrupted,
            JobStatus::Done,
            JobStatus::Failed,
        ] {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::Interrupted.label(), "已中断");
        assert_eq!(JobStatus::Failed.label(), "失败");
        assert!(JobStatus::Done.is_final() && !JobStatus::Interrupted.is_final());
        assert_eq!(JobStatus::parse("x"), None);
    }

    #[test]
    fn an_expired_lease_is_interrupted() {
        assert_eq!(
            effective_status(JobStatus::Running, Some(1000), 999),
            JobStatus::Running
        );
        assert_eq!(
            effective_status(JobStatus::Running, Some(1000), 1001),
            JobStatus::Interrupted
        );
        assert_eq!(
            effective_status(JobStatus::Done, Some(0), 1001),
            JobStatus::Done
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_ms(1, 1000, 60_000), 1000);
        assert_eq!(backoff_ms(2, 1000, 60_000), 2000);
        assert_eq!(backoff_ms(4, 1000, 60_000), 8000);
        assert_eq!(backoff_ms(10, 1000, 60_000), 60_000);
        assert_eq!(backoff_ms(i64::MAX, 1000, 60_000), 60_000);
        assert_eq!(backoff_ms(0, 1000, 60_000), 1000);
    }

    #[test]
    fn retries_stop_at_max_attempts() {
        assert_eq!(
            after_failure(1, 3, true, 100, 10, 1000),
            AfterFailure::RetryAt(110)
        );
        assert_eq!(
            after_failure(2, 3, true, 100, 10, 1000),
            AfterFailure::RetryAt(120)
        );
        assert_eq!(
            after_failure(3, 3, true, 100, 10, 1000),
            AfterFailure::GiveUp
        );
        assert_eq!(
            after_failure(1, 3, false, 100, 10, 1000),
            AfterFailure::GiveUp
        );
    }

    #[test]
    fn quotes_are_short() {
        assert_eq!(quote(" 樊家村 "), "樊家村");
        let long = "长".repeat(10_000);
        let q = quote(&long);
        assert_eq!(q.chars().count(), QUOTE_CHARS + 1);
        assert!(q.ends_with('…'));
        assert_eq!(prefix("abc", 3), "abc");
        assert_eq!(prefix("abcd", 3), "abc…");
        assert_eq!(kind_label("import_members"), "导入在职党员");
    }
}
