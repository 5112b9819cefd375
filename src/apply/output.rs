//! The anonymized table and writing it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::apply::destination::write_atomically;

use polars::prelude::{Column, CsvWriter, DataFrame, ParquetWriter, SerWriter};

use crate::data::attribute::AttributeRole;
use crate::data::dataset::Dataset;
use crate::error::{ErrorKind, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::set::Hierarchies;
use crate::search::{AnonymizationConfig, NodeEvaluation};

/// The label written for a suppressed quasi-identifier.
pub const SUPPRESSED: &str = "*";

/// An anonymized table.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Anonymized {
    /// The released data: identifiers removed, quasi-identifiers replaced by
    /// their labels at the node (`*` for suppressed records), sensitive and
    /// insensitive values unchanged; columns in input order.
    pub frame: DataFrame,
    /// The node's evaluation (suppressed records, classes, score).
    pub evaluation: NodeEvaluation,
    /// For every row, whether it was suppressed.
    pub suppressed_rows: Vec<bool>,
}

impl Anonymized {
    /// For every class of `table` (counted at this result's node from the
    /// same data), whether its records were suppressed.
    ///
    /// # Errors
    ///
    /// The errors of [`FrequencyTable::row_classes`].
    pub fn suppressed_classes(
        &self,
        table: &FrequencyTable,
        dataset: &Dataset,
        hierarchies: &Hierarchies,
    ) -> Result<Vec<bool>> {
        let mut suppressed = vec![false; table.classes()];
        for (row, class) in table
            .row_classes(dataset, hierarchies)?
            .into_iter()
            .enumerate()
        {
            suppressed[class] |= self.suppressed_rows[row];
        }
        Ok(suppressed)
    }
}

/// Applies `node` to `dataset`: generalizes every quasi-identifier, and
/// suppresses (replaces by `*`) the quasi-identifiers of every record in a
/// class that fails a model of `config`.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
///
/// use deidentify::model::ModelSpec;
/// use deidentify::{AnonymizationConfig, Node, Ruleset, apply};
///
/// let loaded = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())?.load()?;
/// let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.0);
/// // ARX's optimum for this configuration (the search finds it too).
/// let node = Node::new(vec![0, 4, 1, 1, 3, 2, 2, 1, 0]);
/// let released = apply(&loaded.dataset, &loaded.hierarchies, &config, &BTreeMap::new(), &node)?;
/// assert_eq!(released.frame.height(), 30_162); // nothing suppressed
/// assert_eq!(released.evaluation.suppressed, 0);
/// # Ok::<(), deidentify::Error>(())
/// ```
///
/// # Errors
///
/// As [`crate::search::evaluate_node`]; and [`crate::ErrorKind::InvalidParameter`]
/// when the node is not feasible (more records would be suppressed than the
/// limit allows).
pub fn apply(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    node: &Node,
) -> Result<Anonymized> {
    let (evaluation, table, outlier) =
        crate::search::judge_node(dataset, hierarchies, config, orders, node)?;
    let Some(outlier) = outlier else {
        return Err(crate::error::Error::parameter(
            "node",
            format!(
                "{node} is not feasible: more records fail the models than the suppression limit allows"
            ),
        ));
    };
    let qis = dataset.quasi_identifiers();
    let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
    let suppressed_rows: Vec<bool> = table
        .row_classes(dataset, hierarchies)?
        .into_iter()
        .map(|class| outlier[class])
        .collect();
    let frame = release_frame(dataset, |qi| {
        let level = &compiled[qi].levels()[node.levels()[qi] as usize];
        let codes = qis[qi].codes();
        (0..dataset.rows())
            .map(|r| {
                if suppressed_rows[r] {
                    SUPPRESSED
                } else {
                    level.labels()[level.map()[codes[r] as usize] as usize].as_str()
                }
            })
            .collect()
    })?;
    Ok(Anonymized {
        frame,
        evaluation,
        suppressed_rows,
    })
}

/// The released table of `dataset`: identifiers removed, the `qi`-th
/// quasi-identifier's column given by `quasi_identifier(qi)` (one value per
/// row), sensitive and insensitive values unchanged; columns in input order.
///
/// # Errors
///
/// [`ErrorKind::Parse`] when polars refuses the columns (never for columns
/// of the dataset's length).
pub(crate) fn release_frame<'v>(
    dataset: &Dataset,
    mut quasi_identifier: impl FnMut(usize) -> Vec<&'v str>,
) -> Result<DataFrame> {
    let mut columns = Vec::new();
    let mut qi = 0;
    for attribute in dataset.attributes() {
        match attribute.role {
            AttributeRole::Identifier => {}
            AttributeRole::Insensitive => {
                columns.push(
                    dataset
                        .passthrough()
                        .column(&attribute.name)
                        .expect("kept")
                        .clone(),
                );
            }
            AttributeRole::Sensitive => {
                let column = dataset.encoded(&attribute.name)?;
                let values: Vec<&str> = (0..dataset.rows()).map(|r| column.value(r)).collect();
                columns.push(Column::new(attribute.name.as_str().into(), values));
            }
            AttributeRole::QuasiIdentifier => {
                let values = quasi_identifier(qi);
                columns.push(Column::new(attribute.name.as_str().into(), values));
                qi += 1;
            }
        }
    }
    DataFrame::new(dataset.rows(), columns).map_err(|e| {
        ErrorKind::Parse {
            path: "<output>".into(),
            reason: e.to_string(),
        }
        .into()
    })
}

/// Writes `frame` as CSV with a header and the given separator.
///
/// # Errors
///
/// [`ErrorKind::Io`] or [`ErrorKind::Write`] when the file cannot be written.
pub fn write_csv(frame: &DataFrame, path: &Path, delimiter: u8) -> Result<()> {
    let mut frame = frame.clone();
    write_atomically(path, |file| {
        CsvWriter::new(file)
            .include_header(true)
            .with_separator(delimiter)
            .finish(&mut frame)
            .map_err(|e| e.to_string())
    })
}

/// Writes `frame` as Parquet.
///
/// # Errors
///
/// [`ErrorKind::Io`] or [`ErrorKind::Write`] when the file cannot be written.
pub fn write_parquet(frame: &DataFrame, path: &Path) -> Result<()> {
    let mut frame = frame.clone();
    write_atomically(path, |file| {
        ParquetWriter::new(file)
            .finish(&mut frame)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}
