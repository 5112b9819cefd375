//! A small fixed report for the section tests: 30 records, three
//! quasi-identifiers (sex, age, race), 2-anonymity.

use crate::report::document::Report;

/// The fixed report.
pub(crate) fn report() -> Report {
    serde_json::from_str(include_str!("fixture.json")).expect("the fixture parses")
}
