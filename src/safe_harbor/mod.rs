//! HIPAA Safe Harbor building blocks (45 CFR 164.514(b)(2); [§1](crate::methods#1-hipaa-safe-harbor)):
//! stable keyed tokens, ZIP codes to three digits with the restricted
//! prefixes, dates to years, ages over 89 aggregated, and the
//! residual-identifier scan.

mod dates;
mod profile;
mod scan;
mod token;
mod zip;

pub use dates::{AGE_90_OR_OLDER, birth_date_to_year, date_to_year, top_code_age};
pub use profile::{ColumnAction, IdentifierKind, SafeHarborColumn, apply_safe_harbor};
pub use scan::{Detector, Finding, ScanReport, Scanner};
pub use token::{ColumnTokenizer, KeyEncoding, MIN_KEY_BYTES, TokenKey};
pub use zip::RestrictedZipPrefixes;
