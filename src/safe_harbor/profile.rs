//! The Safe Harbor profile: every declared identifier removed, tokenized or
//! generalized as 45 CFR 164.514(b)(2) requires.

use polars::prelude::{Column, DataFrame, DataType};
use serde::{Deserialize, Serialize};

use crate::data::attribute::AttributeRole;
use crate::data::date::Date;
use crate::error::{Error, ErrorKind, Result};
use crate::safe_harbor::dates::{age_at, birth_date_to_year, date_to_year, top_code_age};
use crate::safe_harbor::token::TokenKey;
use crate::safe_harbor::zip::RestrictedZipPrefixes;

/// What Safe Harbor knows of one column: its name, its role, the kind of
/// identifier it holds (if any) and whether to tokenize it. A ruleset gives
/// one per attribute ([`crate::Ruleset::safe_harbor_columns`]).
///
/// # Examples
///
/// ```
/// use deidentify::data::AttributeRole;
/// use deidentify::safe_harbor::{IdentifierKind, SafeHarborColumn};
///
/// let mrn = SafeHarborColumn::new("mrn", AttributeRole::Identifier)
///     .with_identifier(IdentifierKind::Mrn)
///     .with_tokenize(true);
/// assert!(mrn.tokenize);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SafeHarborColumn {
    /// The column name.
    pub name: String,
    /// Its role.
    pub role: AttributeRole,
    /// The kind of identifier it holds, if any.
    pub identifier: Option<IdentifierKind>,
    /// Whether it is replaced by keyed tokens (an id kind only).
    pub tokenize: bool,
}

impl SafeHarborColumn {
    /// A column with no identifier kind, not tokenized.
    pub fn new(name: impl Into<String>, role: AttributeRole) -> SafeHarborColumn {
        SafeHarborColumn {
            name: name.into(),
            role,
            identifier: None,
            tokenize: false,
        }
    }

    /// The column holding identifiers of `kind`.
    pub fn with_identifier(mut self, kind: IdentifierKind) -> SafeHarborColumn {
        self.identifier = Some(kind);
        self
    }

    /// The column tokenized or not.
    pub fn with_tokenize(mut self, tokenize: bool) -> SafeHarborColumn {
        self.tokenize = tokenize;
        self
    }
}

/// The kind of identifier a column holds: the 18 Safe Harbor categories of
/// 164.514(b)(2)(i)(A)–(R) ([§1.1](crate::methods#11-the-eighteen-identifiers)), with dates split into
/// ordinary dates and birth dates, and ages (which Safe Harbor top-codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentifierKind {
    /// (A) Names.
    Name,
    /// (B) Street address, city, county, precinct and other geocodes below a State.
    Address,
    /// (B) ZIP codes: kept to three digits unless restricted.
    Zip,
    /// (C) Dates directly related to an individual: kept to the year.
    Date,
    /// (C) Birth dates: kept to the year; years revealing an age over 89 aggregated.
    BirthDate,
    /// (C) Ages: over 89 aggregated into `90+`.
    Age,
    /// (D) Telephone numbers.
    Phone,
    /// (E) Fax numbers.
    Fax,
    /// (F) E-mail addresses.
    Email,
    /// (G) Social Security numbers.
    Ssn,
    /// (H) Medical record numbers.
    Mrn,
    /// (I) Health plan beneficiary numbers.
    HealthPlanId,
    /// (J) Account numbers.
    Account,
    /// (K) Certificate / licence numbers.
    Licence,
    /// (L) Vehicle identifiers and serial numbers, licence plates.
    VehicleId,
    /// (M) Device identifiers and serial numbers.
    DeviceId,
    /// (N) Web URLs.
    Url,
    /// (O) IP addresses.
    Ip,
    /// (P) Biometric identifiers.
    Biometric,
    /// (Q) Full-face photographs and comparable images.
    Photo,
    /// (R) Any other unique identifying number, characteristic or code.
    OtherId,
}

/// A per-cell transformation.
type CellTransform<'a> = Box<dyn Fn(&str) -> Result<String> + 'a>;

/// What the profile did to one column (an audit-trail entry; never a key or a value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnAction {
    /// The column.
    pub column: String,
    /// Its identifier kind, if declared.
    pub kind: Option<IdentifierKind>,
    /// `removed`, `tokenized`, `generalized` or `kept`.
    pub action: String,
    /// Parameters: the generalization applied, the ZIP list version, the key fingerprint.
    pub detail: String,
    /// Cells changed.
    pub cells: u64,
}

/// Applies Safe Harbor to `frame` as the rules declare: generalizes ZIP
/// codes, dates, birth dates and ages; tokenizes columns marked `tokenize`
/// (with `key`); removes every other identifier column (a column with role
/// `identifier` and no kind included). Other columns are kept as they are.
/// Every column of `frame` must have a rule: a column nobody declared is
/// never released unexamined.
///
/// `reference` is the release date, against which ages over 89 are judged:
/// it must not precede any date or birth date in the data, and where a row
/// has both an age and a birth date, an age over 89 must agree with the
/// birth date's age at `reference`, so the released year and `90+` never
/// contradict each other.
///
/// # Examples
///
/// ```
/// use deidentify::data::Date;
/// use deidentify::safe_harbor::{RestrictedZipPrefixes, TokenKey};
/// use deidentify::{Ruleset, apply_safe_harbor};
///
/// let ruleset = Ruleset::from_file("datasets/synthetic-phi/phi.toml".as_ref())?;
/// let frame = ruleset.read_data()?;
/// // A real key comes from a file or the environment (`TokenKey::from_file`).
/// let key = TokenKey::from_bytes((1..=32).collect())?;
/// let reference = Date::parse("2026-11-28").expect("a date");
/// let zips = RestrictedZipPrefixes::hhs_2000();
/// let (released, actions) =
///     apply_safe_harbor(&frame, &ruleset.safe_harbor_columns(), Some(&key), &zips, reference)?;
/// assert_eq!(released.height(), frame.height());
/// // Names, SSNs, emails and phone numbers are removed; the MRN is tokenized.
/// assert!(released.column("name").is_err() && released.column("ssn").is_err());
/// assert_ne!(released.column("mrn")?.get(0)?, frame.column("mrn")?.get(0)?);
/// println!("{actions:?}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] for a rule naming no column;
/// [`ErrorKind::InvalidParameter`] for a column without a rule, a reference
/// date before a date of the data, or an age over 89 that its row's birth
/// date contradicts;
/// [`ErrorKind::InvalidValue`] for a cell that does not parse as its kind
/// (naming column and row); [`ErrorKind::InvalidParameter`] when a column
/// is to be tokenized but no key was given, or a kind other than an id is
/// marked `tokenize`.
pub fn apply_safe_harbor(
    frame: &DataFrame,
    rules: &[SafeHarborColumn],
    key: Option<&TokenKey>,
    zips: &RestrictedZipPrefixes,
    reference: Date,
) -> Result<(DataFrame, Vec<ColumnAction>)> {
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    for rule in rules {
        if !names.contains(&rule.name) {
            return Err(ErrorKind::UnknownColumn {
                column: rule.name.clone(),
                available: names.join(", "),
            }
            .into());
        }
    }
    // A column the ruleset does not list would be released unexamined.
    if let Some(name) = names.iter().find(|n| !rules.iter().any(|r| &r.name == *n)) {
        return Err(Error::parameter(
            "attribute",
            format!(
                "column '{}' has no role in the ruleset; give it one (role = \"insensitive\" releases it unchanged, role = \"identifier\" removes it)",
                name.escape_debug()
            ),
        ));
    }
    check_reference_date(frame, rules, reference)?;
    let mut columns = Vec::new();
    let mut actions = Vec::new();
    for name in &names {
        let rule = rules.iter().find(|r| &r.name == name);
        let kind = rule.and_then(|r| r.identifier);
        let is_identifier =
            kind.is_some() || rule.is_some_and(|r| r.role == AttributeRole::Identifier);
        if !is_identifier {
            columns.push(frame.column(name).expect("listed").clone());
            continue;
        }
        let text = text_column(frame, name)?;
        let values = text.str().expect("cast to text");
        let tokenize = rule.is_some_and(|r| r.tokenize);
        let transform: Option<(CellTransform<'_>, &str, String)> = match kind {
            Some(IdentifierKind::Zip) => Some((
                Box::new(|v: &str| zips.generalize(v)),
                "generalized",
                format!(
                    "ZIP to 3 digits, restricted prefixes ({}) to 000",
                    zips.version()
                ),
            )),
            Some(IdentifierKind::Date) => {
                Some((Box::new(date_to_year), "generalized", "date to year".into()))
            }
            Some(IdentifierKind::BirthDate) => Some((
                Box::new(move |v: &str| birth_date_to_year(v, reference)),
                "generalized",
                format!(
                    "birth date to year; ages over 89 at {:04}-{:02}-{:02} aggregated",
                    reference.year, reference.month, reference.day
                ),
            )),
            Some(IdentifierKind::Age) => Some((
                Box::new(top_code_age),
                "generalized",
                "ages over 89 to 90+".into(),
            )),
            _ if tokenize => {
                let key = key.ok_or_else(|| {
                    Error::parameter(
                        "key",
                        format!("column '{name}' is to be tokenized but no key was given"),
                    )
                })?;
                let tokenizer = key.column(name);
                Some((
                    Box::new(move |v: &str| Ok(tokenizer.token(v))),
                    "tokenized",
                    format!("keyed BLAKE3 token, key fingerprint {}", key.fingerprint()),
                ))
            }
            _ => None,
        };
        match transform {
            None => actions.push(ColumnAction {
                column: name.clone(),
                kind,
                action: "removed".into(),
                detail: "identifier removed".into(),
                cells: values.len() as u64,
            }),
            Some((f, action, detail)) => {
                let mut out: Vec<Option<String>> = Vec::with_capacity(values.len());
                let mut changed = 0u64;
                for (row, value) in values.iter().enumerate() {
                    out.push(match value {
                        None => None,
                        Some(v) => {
                            let t = f(v).map_err(|e| ErrorKind::InvalidValue {
                                column: name.clone(),
                                row: row + 1,
                                value: if action == "tokenized" {
                                    "<withheld>".into()
                                } else {
                                    v.to_owned()
                                },
                                expected: match e.kind() {
                                    ErrorKind::InvalidParameter { reason, .. } => reason
                                        .strip_prefix("the value is not a ")
                                        .or_else(|| reason.strip_prefix("the value is not an "))
                                        .unwrap_or(reason)
                                        .to_owned(),
                                    other => other.to_string(),
                                },
                            })?;
                            changed += u64::from(t != v);
                            Some(t)
                        }
                    });
                }
                columns.push(Column::new(name.as_str().into(), out));
                actions.push(ColumnAction {
                    column: name.clone(),
                    kind,
                    action: action.into(),
                    detail,
                    cells: changed,
                });
            }
        }
    }
    let frame = DataFrame::new(frame.height(), columns).map_err(|e| ErrorKind::Parse {
        path: "<safe harbor>".into(),
        reason: e.to_string(),
    })?;
    Ok((frame, actions))
}

/// Checks `reference` against the data's dates: none may follow it (a
/// release date before a birth date would keep the birth year of someone
/// over 89), and an age over 89 must agree with its row's birth date.
fn check_reference_date(
    frame: &DataFrame,
    rules: &[SafeHarborColumn],
    reference: Date,
) -> Result<()> {
    let column_of = |kinds: &[IdentifierKind]| -> Vec<&SafeHarborColumn> {
        rules
            .iter()
            .filter(|r| r.identifier.is_some_and(|k| kinds.contains(&k)))
            .collect()
    };
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        let column = text_column(frame, name)?;
        let values = column.str().expect("cast to text");
        Ok(values.iter().map(|v| v.map(str::to_owned)).collect())
    };
    let shown = |d: Date| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
    let mut birth_dates = Vec::new();
    for rule in column_of(&[IdentifierKind::Date, IdentifierKind::BirthDate]) {
        let values = text(&rule.name)?;
        for (row, value) in values.iter().enumerate() {
            let Some(date) = value.as_deref().and_then(Date::parse) else {
                continue;
            };
            if (date.year, date.month, date.day) > (reference.year, reference.month, reference.day)
            {
                return Err(Error::parameter(
                    "reference_date",
                    format!(
                        "the reference date {} is before a date in column '{}', row {}: ages over 89 are judged at the release date, which must not precede any date of the data",
                        shown(reference),
                        rule.name,
                        row + 1
                    ),
                ));
            }
        }
        if rule.identifier == Some(IdentifierKind::BirthDate) {
            birth_dates.push((rule.name.as_str(), values));
        }
    }
    for rule in column_of(&[IdentifierKind::Age]) {
        let ages = text(&rule.name)?;
        for (birth_column, births) in &birth_dates {
            for (row, (age, birth)) in ages.iter().zip(births).enumerate() {
                let age = age.as_deref().and_then(|a| a.trim().parse::<u32>().ok());
                let birth = birth.as_deref().and_then(Date::parse);
                let (Some(age), Some(birth)) = (age, birth) else {
                    continue;
                };
                if age > 89 && birth.year > reference.year - 90 && age_at(birth, reference) <= 89 {
                    return Err(Error::parameter(
                        "reference_date",
                        format!(
                            "column '{}', row {}: the age is over 89, but the birth date in column '{birth_column}' gives an age under 90 at the reference date {}; the released birth year and the age would contradict each other (is the reference date the date the ages were computed?)",
                            rule.name,
                            row + 1,
                            shown(reference)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Column `name` of `frame` cast to text (its `str()` view then exists).
fn text_column(frame: &DataFrame, name: &str) -> Result<Column> {
    frame
        .column(name)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|e| {
            ErrorKind::Parse {
                path: "<safe harbor>".into(),
                reason: e.to_string(),
            }
            .into()
        })
}
