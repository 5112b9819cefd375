//! The encoded dataset: every column with its role, quasi-identifiers and
//! sensitive attributes as dictionary codes.

use polars::prelude::{Column, DataFrame, DataType};
use rayon::prelude::*;

use crate::data::attribute::{Attribute, AttributeRole, AttributeType, MissingPolicy};
use crate::data::column::{EncodedColumn, Encoder};
use crate::error::{Error, ErrorKind, Result};

/// How a table is turned into a [`Dataset`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// Strings that mean "missing" in addition to nulls (an empty CSV field
    /// is read as null). Default: none.
    pub missing_values: Vec<String>,
    /// What to do with missing cells in quasi-identifier and sensitive columns.
    pub missing_policy: MissingPolicy,
    /// The label of the missing category under [`MissingPolicy::Category`].
    pub missing_label: String,
    /// A name for the data's origin, used in error messages (a file path).
    pub source_name: String,
}

impl EncodeOptions {
    /// The options with the strings that mean "missing".
    pub fn with_missing_values(mut self, missing_values: Vec<String>) -> EncodeOptions {
        self.missing_values = missing_values;
        self
    }

    /// The options with the policy for missing cells.
    pub fn with_missing_policy(mut self, missing_policy: MissingPolicy) -> EncodeOptions {
        self.missing_policy = missing_policy;
        self
    }

    /// The options with the label of the missing category.
    pub fn with_missing_label(mut self, missing_label: String) -> EncodeOptions {
        self.missing_label = missing_label;
        self
    }

    /// The options naming the data's origin in error messages.
    pub fn with_source_name(mut self, source_name: String) -> EncodeOptions {
        self.source_name = source_name;
        self
    }
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            missing_values: Vec::new(),
            missing_policy: MissingPolicy::Error,
            missing_label: "NULL".to_owned(),
            source_name: "<dataframe>".to_owned(),
        }
    }
}

/// A table ready for anonymization.
///
/// Quasi-identifier and sensitive columns are dictionary-encoded
/// ([`EncodedColumn`]); identifier and insensitive columns are kept as text
/// for the output stage. Columns keep the order of the input table, which
/// is also the order of the quasi-identifiers in every level vector.
#[derive(Clone, Debug)]
pub struct Dataset {
    attributes: Vec<Attribute>,
    encoded: Vec<Option<EncodedColumn>>,
    passthrough: DataFrame,
    rows: usize,
}

impl Dataset {
    /// Encodes a polars `DataFrame` whose columns are described by `attributes`.
    ///
    /// Every column of the frame must have an attribute, and every attribute
    /// a column: an unlisted column could be an identifier released by
    /// mistake, so it is an error rather than passed through silently.
    /// Columns of any dtype are read through their text form.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EmptyTable`] for a table without rows,
    /// [`ErrorKind::UnknownColumn`] for an attribute the frame lacks,
    /// [`ErrorKind::Ruleset`] for a frame column without an attribute,
    /// [`ErrorKind::MissingValue`] for a missing cell under
    /// [`MissingPolicy::Error`], and [`ErrorKind::InvalidValue`] for a value
    /// that does not parse as its declared type (each naming column and row).
    pub fn from_dataframe(
        frame: &DataFrame,
        attributes: &[Attribute],
        options: &EncodeOptions,
    ) -> Result<Dataset> {
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        for attribute in attributes {
            if !names.contains(&attribute.name) {
                return Err(ErrorKind::UnknownColumn {
                    column: attribute.name.clone(),
                    available: names.join(", "),
                }
                .into());
            }
        }
        // Keep the frame's column order; reject columns without a role.
        let mut ordered = Vec::with_capacity(names.len());
        for name in &names {
            let attribute = attributes.iter().find(|a| &a.name == name).ok_or_else(|| {
                Error::new(ErrorKind::Ruleset {
                    path: options.source_name.clone().into(),
                    reason: format!(
                        "column '{name}' has no role; give it one (use role = \"insensitive\" to release it unchanged)"
                    ),
                })
            })?;
            ordered.push(attribute.clone());
        }
        if frame.height() == 0 {
            return Err(ErrorKind::EmptyTable {
                source_name: options.source_name.clone(),
            }
            .into());
        }
        let encoded = ordered
            .par_iter()
            .map(|attribute| {
                if attribute.role.is_encoded() {
                    let column = frame
                        .column(&attribute.name)
                        .map_err(|e| parse_error(options, e))?;
                    encode_column(column, attribute, options).map(Some)
                } else {
                    Ok(None)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let passthrough_columns: Vec<Column> = ordered
            .iter()
            .filter(|a| !a.role.is_encoded())
            .map(|a| {
                frame
                    .column(&a.name)
                    .and_then(|c| c.cast(&DataType::String))
                    .map_err(|e| parse_error(options, e))
            })
            .collect::<Result<_>>()?;
        let passthrough = DataFrame::new(frame.height(), passthrough_columns)
            .map_err(|e| parse_error(options, e))?;
        Ok(Dataset {
            attributes: ordered,
            encoded,
            passthrough,
            rows: frame.height(),
        })
    }

    /// Builds a dataset from already encoded columns (all of them quasi-identifiers
    /// or sensitive attributes), mainly for tests and for synthetic data.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the lengths differ or a role is not
    /// encoded; [`ErrorKind::EmptyTable`] when there are no rows.
    pub fn from_encoded(
        columns: Vec<(EncodedColumn, AttributeRole, AttributeType)>,
    ) -> Result<Dataset> {
        let rows = columns.first().map_or(0, |c| c.0.len());
        if rows == 0 {
            return Err(ErrorKind::EmptyTable {
                source_name: "<encoded columns>".into(),
            }
            .into());
        }
        let mut attributes = Vec::new();
        let mut encoded = Vec::new();
        for (column, role, data_type) in columns {
            if column.len() != rows {
                return Err(Error::parameter(
                    "columns",
                    format!(
                        "column '{}' has {} rows, expected {rows}",
                        column.name(),
                        column.len()
                    ),
                ));
            }
            if !role.is_encoded() {
                return Err(Error::parameter(
                    "columns",
                    format!(
                        "column '{}': only quasi-identifiers and sensitive attributes are encoded",
                        column.name()
                    ),
                ));
            }
            attributes.push(Attribute::new(column.name(), role, data_type));
            encoded.push(Some(column));
        }
        Ok(Dataset {
            attributes,
            encoded,
            passthrough: DataFrame::empty_with_height(rows),
            rows,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// All attributes, in column order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The attribute named `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownColumn`] if there is none.
    pub fn attribute(&self, name: &str) -> Result<&Attribute> {
        self.position(name).map(|i| &self.attributes[i])
    }

    fn position(&self, name: &str) -> Result<usize> {
        self.attributes
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| {
                ErrorKind::UnknownColumn {
                    column: name.to_owned(),
                    available: self
                        .attributes
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
                .into()
            })
    }

    /// The encoded column named `name` (a quasi-identifier or sensitive attribute).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownColumn`] if there is no such column, and
    /// [`ErrorKind::InvalidParameter`] if it is not encoded.
    pub fn encoded(&self, name: &str) -> Result<&EncodedColumn> {
        let i = self.position(name)?;
        self.encoded[i].as_ref().ok_or_else(|| {
            Error::parameter(
                "attribute",
                format!("'{name}' is neither a quasi-identifier nor a sensitive attribute"),
            )
        })
    }

    /// The attributes with role `role`, in column order.
    pub fn with_role(&self, role: AttributeRole) -> impl Iterator<Item = &Attribute> {
        self.attributes.iter().filter(move |a| a.role == role)
    }

    /// The quasi-identifier columns, in column order.
    pub fn quasi_identifiers(&self) -> Vec<&EncodedColumn> {
        self.encoded_with_role(AttributeRole::QuasiIdentifier)
    }

    /// The names of the quasi-identifiers, in column order (the order of a
    /// node's levels).
    pub fn quasi_identifier_names(&self) -> Vec<String> {
        self.with_role(AttributeRole::QuasiIdentifier)
            .map(|a| a.name.clone())
            .collect()
    }

    /// The sensitive columns, in column order.
    pub fn sensitive(&self) -> Vec<&EncodedColumn> {
        self.encoded_with_role(AttributeRole::Sensitive)
    }

    fn encoded_with_role(&self, role: AttributeRole) -> Vec<&EncodedColumn> {
        self.attributes
            .iter()
            .zip(&self.encoded)
            .filter(|(a, _)| a.role == role)
            .filter_map(|(_, c)| c.as_ref())
            .collect()
    }

    /// The identifier and insensitive columns, as text.
    pub fn passthrough(&self) -> &DataFrame {
        &self.passthrough
    }

    /// The rows `rows` (ascending, each below [`Dataset::rows`]) as a
    /// dataset of their own with the same dictionaries, so codes, and the
    /// hierarchies compiled for this dataset, mean the same in both.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EmptyTable`] when `rows` is empty,
    /// [`ErrorKind::InvalidParameter`] for a row out of range, and
    /// [`ErrorKind::Parse`] when polars cannot take the rows.
    pub(crate) fn select_rows(&self, rows: &[usize]) -> Result<Dataset> {
        if rows.is_empty() {
            return Err(ErrorKind::EmptyTable {
                source_name: "<selected rows>".into(),
            }
            .into());
        }
        if rows.iter().any(|&r| r >= self.rows) {
            return Err(Error::parameter("rows", "a selected row is out of range"));
        }
        let encoded = self
            .encoded
            .iter()
            .map(|column| {
                column.as_ref().map(|c| {
                    let codes = rows.iter().map(|&r| c.codes()[r]).collect();
                    EncodedColumn::from_parts(c.name(), codes, c.dictionary().to_vec())
                })
            })
            .collect();
        let indices: Vec<polars::prelude::IdxSize> = rows
            .iter()
            .map(|&r| r as polars::prelude::IdxSize)
            .collect();
        let take = polars::prelude::IdxCa::from_vec("rows".into(), indices);
        let passthrough = if self.passthrough.width() == 0 {
            DataFrame::empty_with_height(rows.len())
        } else {
            self.passthrough.take(&take).map_err(|e| {
                Error::from(ErrorKind::Parse {
                    path: "<selected rows>".into(),
                    reason: e.to_string(),
                })
            })?
        };
        Ok(Dataset {
            attributes: self.attributes.clone(),
            encoded,
            passthrough,
            rows: rows.len(),
        })
    }
}

fn parse_error(options: &EncodeOptions, e: impl std::fmt::Display) -> Error {
    ErrorKind::Parse {
        path: options.source_name.clone().into(),
        reason: e.to_string(),
    }
    .into()
}

/// Dictionary-encodes one column, applying the missing-value policy and
/// checking every distinct value against the declared type.
fn encode_column(
    column: &Column,
    attribute: &Attribute,
    options: &EncodeOptions,
) -> Result<EncodedColumn> {
    let text = column
        .cast(&DataType::String)
        .map_err(|e| parse_error(options, e))?;
    let values = text.str().map_err(|e| parse_error(options, e))?;
    let mut encoder = Encoder::default();
    let mut codes = Vec::with_capacity(values.len());
    let mut missing_code = None;
    for (row, value) in values.iter().enumerate() {
        let value = value.filter(|v| !options.missing_values.iter().any(|m| m == v));
        let code = match value {
            Some(v) => encoder.code(v),
            None => match options.missing_policy {
                MissingPolicy::Error => {
                    return Err(ErrorKind::MissingValue {
                        column: attribute.name.clone(),
                        row: row + 1,
                    }
                    .into());
                }
                MissingPolicy::Category => {
                    *missing_code.get_or_insert_with(|| encoder.code(&options.missing_label))
                }
            },
        };
        codes.push(code);
    }
    let column =
        EncodedColumn::from_parts(attribute.name.clone(), codes, encoder.into_dictionary());
    let invalid =
        column.dictionary().iter().enumerate().find(|(code, v)| {
            Some(*code as u32) != missing_code && !attribute.data_type.is_valid(v)
        });
    if let Some((code, value)) = invalid {
        let row = column.first_rows()[code];
        return Err(ErrorKind::InvalidValue {
            column: attribute.name.clone(),
            row: row + 1,
            value: value.clone(),
            expected: attribute.data_type.name().to_owned(),
        }
        .into());
    }
    Ok(column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        DataFrame::new(
            3,
            vec![
                Column::new("age".into(), &["30", "40", "30"]),
                Column::new("name".into(), &["Ann", "Bob", "Cy"]),
                Column::new("dx".into(), &[Some("flu"), None, Some("flu")]),
            ],
        )
        .unwrap()
    }

    fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::new(
                "age",
                AttributeRole::QuasiIdentifier,
                AttributeType::Integer,
            ),
            Attribute::new("name", AttributeRole::Identifier, AttributeType::String),
            Attribute::new("dx", AttributeRole::Sensitive, AttributeType::String),
        ]
    }

    #[test]
    fn missing_value_is_an_error_naming_column_and_row() {
        let err = Dataset::from_dataframe(&frame(), &attributes(), &EncodeOptions::default())
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::MissingValue { column, row: 2 } if column == "dx"),
            "{err}"
        );
    }

    #[test]
    fn missing_value_as_category() {
        let options = EncodeOptions {
            missing_policy: MissingPolicy::Category,
            ..EncodeOptions::default()
        };
        let data = Dataset::from_dataframe(&frame(), &attributes(), &options).unwrap();
        let dx = data.encoded("dx").unwrap();
        assert_eq!(dx.codes(), &[0, 1, 0]);
        assert_eq!(dx.dictionary(), &["flu", "NULL"]);
        assert_eq!(data.quasi_identifiers().len(), 1);
        assert_eq!(data.passthrough().width(), 1);
        assert!(data.encoded("name").is_err());
    }

    #[test]
    fn invalid_integer_names_column_row_and_value() {
        let frame =
            DataFrame::new(3, vec![Column::new("age".into(), &["30", "4x", "30"])]).unwrap();
        let attrs = [Attribute::new(
            "age",
            AttributeRole::QuasiIdentifier,
            AttributeType::Integer,
        )];
        let err = Dataset::from_dataframe(&frame, &attrs, &EncodeOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 'age', row 2: a value shaped '9a' (2 characters) is not a valid integer"
        );
    }

    #[test]
    fn nan_is_not_a_decimal() {
        let frame = DataFrame::new(2, vec![Column::new("w".into(), &["1.5", "NaN"])]).unwrap();
        let attrs = [Attribute::new(
            "w",
            AttributeRole::Sensitive,
            AttributeType::Decimal,
        )];
        let err = Dataset::from_dataframe(&frame, &attrs, &EncodeOptions::default()).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidValue { row: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn unlisted_and_unknown_columns_are_errors() {
        let err = Dataset::from_dataframe(&frame(), &attributes()[..2], &EncodeOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("column 'dx' has no role"), "{err}");
        let mut attrs = attributes();
        attrs.push(Attribute::new(
            "zip",
            AttributeRole::QuasiIdentifier,
            AttributeType::String,
        ));
        let err = Dataset::from_dataframe(&frame(), &attrs, &EncodeOptions::default()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::UnknownColumn { column, .. } if column == "zip"));
    }

    #[test]
    fn empty_table_is_an_error() {
        let frame = DataFrame::new(0, vec![Column::new("age".into(), Vec::<&str>::new())]).unwrap();
        let attrs = [Attribute::new(
            "age",
            AttributeRole::QuasiIdentifier,
            AttributeType::Integer,
        )];
        let err = Dataset::from_dataframe(&frame, &attrs, &EncodeOptions::default()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::EmptyTable { .. }));
    }
}
