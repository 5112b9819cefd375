//! Calendar arithmetic for report dates (proleptic Gregorian, UTC).

use std::time::{SystemTime, UNIX_EPOCH};

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
        let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
        Utc {
            year,
            month,
            day,
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

/// Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms").
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_785), (2026, 11, 28));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
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
