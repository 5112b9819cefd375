//! Attribute metadata: the role and type of each column.

use serde::{Deserialize, Serialize};

/// What a column is, for disclosure control.
///
/// The roles follow ARX and sdcMicro: direct identifiers are removed or
/// tokenized, quasi-identifiers are generalized, sensitive attributes are
/// protected by l-diversity, t-closeness and similar models, and insensitive
/// attributes pass through unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributeRole {
    /// A direct identifier (name, SSN, MRN, …): never released as is.
    Identifier,
    /// An indirect identifier an attacker may know (age, ZIP, sex, …).
    QuasiIdentifier,
    /// An attribute whose disclosure harms the subject (diagnosis, income, …).
    Sensitive,
    /// Anything else: released unchanged.
    Insensitive,
}

impl AttributeRole {
    /// Whether columns with this role are dictionary-encoded for computation.
    pub fn is_encoded(self) -> bool {
        matches!(
            self,
            AttributeRole::QuasiIdentifier | AttributeRole::Sensitive
        )
    }
}

/// The data type of a column. Values are read as text and validated against it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributeType {
    /// Unordered categories.
    #[default]
    String,
    /// Ordered categories; the order comes from the ruleset's `order` list or,
    /// failing that, from the row order of the column's hierarchy.
    OrderedString,
    /// Whole numbers (parsed as `i64`).
    Integer,
    /// Decimal numbers (parsed as `f64`; NaN and infinities are rejected).
    Decimal,
    /// Calendar dates in ISO 8601 form `YYYY-MM-DD`.
    Date,
}

impl AttributeType {
    /// A human-readable name, used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::OrderedString => "ordered string",
            AttributeType::Integer => "integer",
            AttributeType::Decimal => "decimal",
            AttributeType::Date => "date (YYYY-MM-DD)",
        }
    }

    /// Whether values of this type have a natural order.
    pub fn is_ordered(self) -> bool {
        !matches!(self, AttributeType::String)
    }

    /// Parses `value` to a number that orders values of this type: the
    /// integer, the decimal, or the day number of a date. `None` for strings
    /// and for values that do not parse (including NaN and infinities).
    pub fn sort_key(self, value: &str) -> Option<f64> {
        match self {
            AttributeType::String | AttributeType::OrderedString => None,
            AttributeType::Integer => value.trim().parse::<i64>().ok().map(|v| v as f64),
            AttributeType::Decimal => value.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
            AttributeType::Date => {
                crate::data::date::Date::parse(value).map(|d| d.day_number() as f64)
            }
        }
    }

    /// Whether `value` is a valid value of this type.
    pub fn is_valid(self, value: &str) -> bool {
        match self {
            AttributeType::String | AttributeType::OrderedString => true,
            _ => self.sort_key(value).is_some(),
        }
    }
}

/// What to do with a missing cell (a null, or a string listed as a missing
/// marker) in a quasi-identifier or sensitive column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    /// Stop with an error naming the column and the row (the default: no
    /// silent data loss).
    #[default]
    Error,
    /// Treat every missing cell of the column as one ordinary category whose
    /// label is the dataset's missing label (default `NULL`). The category
    /// must then appear in the column's hierarchy like any other value, and
    /// it forms its own equivalence classes (it does not match other values).
    Category,
}

/// One column's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// The column name, as in the header of the data.
    pub name: String,
    /// The disclosure-control role.
    pub role: AttributeRole,
    /// The data type.
    #[serde(default, rename = "type")]
    pub data_type: AttributeType,
}

impl Attribute {
    /// Creates attribute metadata.
    pub fn new(
        name: impl Into<String>,
        role: AttributeRole,
        data_type: AttributeType,
    ) -> Attribute {
        Attribute {
            name: name.into(),
            role,
            data_type,
        }
    }
}
