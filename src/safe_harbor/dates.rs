//! Dates and ages under Safe Harbor ([§1.3](crate::methods#13-dates-and-ages)).

use crate::data::date::Date;
use crate::error::{Error, Result};

/// The label of every age over 89.
pub const AGE_90_OR_OLDER: &str = "90+";

/// The year of an ISO date (`2009-07-14` → `2009`): Safe Harbor keeps no
/// date element finer than the year.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] when the value is not a date.
pub fn date_to_year(value: &str) -> Result<String> {
    Date::parse(value)
        .map(|d| format!("{:04}", d.year))
        .ok_or_else(|| Error::parameter("date", "the value is not a date (YYYY-MM-DD)"))
}

/// An age in whole years, with every age over 89 aggregated into `90+`.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] when the value is not a
/// non-negative whole number of years.
pub fn top_code_age(value: &str) -> Result<String> {
    let age: u32 = value
        .trim()
        .parse()
        .map_err(|_| Error::parameter("age", "the value is not an age in whole years"))?;
    Ok(if age > 89 {
        AGE_90_OR_OLDER.to_owned()
    } else {
        age.to_string()
    })
}

/// A birth date reduced to its year, except that a year revealing an age
/// over 89 at `reference` (the release date) is aggregated into
/// `<=YYYY` with YYYY = reference year − 90, as the rule requires of "all
/// date elements (including year) indicative of such age".
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] when the value is not a date.
pub fn birth_date_to_year(value: &str, reference: Date) -> Result<String> {
    let birth = Date::parse(value)
        .ok_or_else(|| Error::parameter("birth date", "the value is not a date (YYYY-MM-DD)"))?;
    let age = age_at(birth, reference);
    // Someone born in reference year − 90 may still be 89; the whole year is
    // aggregated so the year alone never reveals an age over 89.
    Ok(if age > 89 || birth.year <= reference.year - 90 {
        format!("<={}", reference.year - 90)
    } else {
        format!("{:04}", birth.year)
    })
}

/// The age in whole years at `reference` of someone born on `birth`.
pub(crate) fn age_at(birth: Date, reference: Date) -> i32 {
    let mut age = reference.year - birth.year;
    if (reference.month, reference.day) < (birth.month, birth.day) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages() {
        assert_eq!(date_to_year("2009-07-14").unwrap(), "2009");
        assert!(date_to_year("14/07/2009").is_err());
        assert_eq!(top_code_age("89").unwrap(), "89");
        assert_eq!(top_code_age("90").unwrap(), "90+");
        assert_eq!(top_code_age("104").unwrap(), "90+");
        assert!(top_code_age("-3").is_err());
        let reference = Date::parse("2026-11-28").unwrap();
        assert_eq!(birth_date_to_year("1937-01-01", reference).unwrap(), "1937");
        assert_eq!(
            birth_date_to_year("1936-12-31", reference).unwrap(),
            "<=1936"
        );
        assert_eq!(
            birth_date_to_year("1920-05-05", reference).unwrap(),
            "<=1936"
        );
        assert!(birth_date_to_year("1936-02-30", reference).is_err());
    }
}
