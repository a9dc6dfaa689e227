//! Times are stored in UTC as milliseconds since the Unix epoch and shown in Asia/Shanghai.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_millis())
    }
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_minutes(self, minutes: i64) -> Self {
        Timestamp(self.0 + minutes * 60_000)
    }
    pub fn plus_days(self, days: i64) -> Self {
        Timestamp(self.0 + days * 86_400_000)
    }
    fn utc(self) -> Option<DateTime<Utc>> {
        Utc.timestamp_millis_opt(self.0).single()
    }
    /// `2026-11-29 17:08` in Asia/Shanghai.
    pub fn shanghai(self) -> String {
        self.utc()
            .map(|t| {
                t.with_timezone(&Shanghai)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    }
    /// `2026-11-29` in Asia/Shanghai.
    pub fn shanghai_date(self) -> String {
        self.utc()
            .map(|t| t.with_timezone(&Shanghai).format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }
    /// The Shanghai calendar day in Chinese, for papers: `2026年12月4日`.
    pub fn shanghai_date_cn(self) -> String {
        self.utc()
            .map(|t| {
                t.with_timezone(&Shanghai)
                    .format("%Y年%-m月%-d日")
                    .to_string()
            })
            .unwrap_or_default()
    }
    /// Start of a Shanghai calendar day (`YYYY-MM-DD`) as a UTC timestamp.
    pub fn from_shanghai_date(date: &str) -> Option<Self> {
        let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
        let local = Shanghai
            .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .single()?;
        Some(Timestamp(local.with_timezone(&Utc).timestamp_millis()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_is_utc_plus_8() {
        let t = Timestamp(0);
        assert_eq!(t.shanghai(), "1970-01-01 08:00");
        assert_eq!(
            Timestamp::from_shanghai_date("1970-01-02"),
            Some(Timestamp(16 * 3_600_000))
        );
        assert_eq!(Timestamp::from_shanghai_date("not a date"), None);
    }
}
