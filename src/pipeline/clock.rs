//! Calendar arithmetic for report dates (proleptic Gregorian, UTC).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::data::date::Date;

/// A UTC timestamp split into civil fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub seconds_of_day: u64,
}

impl Utc {
    /// Now.
    pub(crate) fn now() -> Utc {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let date = Date::from_day_number((seconds / 86_400) as i64);
        Utc {
            year: i64::from(date.year),
            month: date.month,
            day: date.day,
            seconds_of_day: seconds % 86_400,
        }
    }

    /// RFC 3339, to the second.
    pub(crate) fn rfc3339(&self) -> String {
        let s = self.seconds_of_day;
        format!(
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    /// YYYY-MM-DD.
    pub(crate) fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// The same day `months` later (clamped to the month's last day).
    pub(crate) fn plus_months(&self, months: u32) -> Utc {
        let total = self.year * 12 + i64::from(self.month - 1) + i64::from(months);
        let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let last = days_in_month(year, month);
        Utc {
            year,
            month,
            day: self.day.min(last),
            seconds_of_day: self.seconds_of_day,
        }
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let date = |d: i64| {
            let d = Date::from_day_number(d);
            (d.year, d.month, d.day)
        };
        assert_eq!(date(0), (1970, 1, 1));
        assert_eq!(date(20_785), (2026, 11, 28));
        assert_eq!(date(11_016), (2000, 2, 29));
        for days in [-800_000, -1, 0, 59, 11_016, 20_785, 2_900_000] {
            assert_eq!(Date::from_day_number(days).day_number(), days);
        }
    }

    #[test]
    fn months_are_added_with_clamping() {
        let d = Utc {
            year: 2026,
            month: 1,
            day: 31,
            seconds_of_day: 0,
        };
        assert_eq!(d.plus_months(1).date(), "2026-02-28");
        assert_eq!(d.plus_months(12).date(), "2027-01-31");
        assert_eq!(d.plus_months(25).date(), "2028-02-29");
    }
}
