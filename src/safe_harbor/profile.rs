//! The Safe Harbor profile: every declared identifier removed, tokenized or
//! generalized as 45 CFR 164.514(b)(2) requires.

use polars::prelude::{Column, DataFrame, DataType};
use serde::{Deserialize, Serialize};

use crate::data::attribute::AttributeRole;
use crate::data::date::Date;
use crate::error::{Error, ErrorKind, Result};
use crate::ruleset::AttributeRule;
use crate::safe_harbor::dates::{birth_date_to_year, date_to_year, top_code_age};
use crate::safe_harbor::token::TokenKey;
use crate::safe_harbor::zip::RestrictedZipPrefixes;

/// The kind of identifier a column holds: the 18 Safe Harbor categories of
/// 164.514(b)(2)(i)(A)–(R) (METHODS.md §1.1), with dates split into
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
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] for a rule naming no column;
/// [`ErrorKind::InvalidValue`] for a cell that does not parse as its kind
/// (naming column and row); [`ErrorKind::InvalidParameter`] when a column
/// is to be tokenized but no key was given, or a kind other than an id is
/// marked `tokenize`.
pub fn apply_safe_harbor(
    frame: &DataFrame,
    rules: &[AttributeRule],
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
        let text = frame
            .column(name)
            .and_then(|c| c.cast(&DataType::String))
            .map_err(|e| ErrorKind::Parse {
                path: "<safe harbor>".into(),
                reason: e.to_string(),
            })?;
        let values = text.str().map_err(|e| ErrorKind::Parse {
            path: "<safe harbor>".into(),
            reason: e.to_string(),
        })?;
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
                                    ErrorKind::InvalidParameter { reason, .. } => reason.clone(),
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
