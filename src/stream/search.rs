//! Searching and evaluating from a streamed table (no rows read).

use std::collections::BTreeMap;
use std::time::Instant;

use crate::data::attribute::AttributeRole;
use crate::error::{Error, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::metric::UtilityModel;
use crate::model::SensitiveAttribute;
use crate::search::{AnonymizationConfig, Evaluator, NodeEvaluation, SearchResult, search_with};
use crate::stream::ingest::{ColumnSummary, StreamedTable, StreamedTableParts, qi_hierarchies};

impl StreamedTable {
    /// Searches the generalization lattice as [`crate::search()`] does on the
    /// in-memory data, from this table (the rows are not read again). A
    /// table counted at minimum levels is searched above that node only:
    /// the nodes below it count as failing, so the result is the best node
    /// among those at or above the minimum levels.
    ///
    /// # Errors
    ///
    /// As [`crate::search()`].
    pub fn search(
        &mut self,
        config: &AnonymizationConfig,
        orders: &BTreeMap<String, Vec<String>>,
    ) -> Result<SearchResult> {
        let started = Instant::now();
        let names = self.quasi_identifier_names();
        with_evaluator(self, config, orders, |evaluator, _| {
            search_with(evaluator, names, config, started, &|_| {})
        })
    }

    /// Evaluates one node with `config`, as [`crate::search::evaluate_node`] does.
    ///
    /// # Errors
    ///
    /// As [`StreamedTable::search`], and node errors (wrong length, level
    /// out of range).
    pub fn evaluate(
        &mut self,
        config: &AnonymizationConfig,
        orders: &BTreeMap<String, Vec<String>>,
        node: &Node,
    ) -> Result<NodeEvaluation> {
        with_evaluator(self, config, orders, |evaluator, _| {
            let table = evaluator.bottom.roll_up(&evaluator.hierarchies, node)?;
            Ok(evaluator.judge(&table).1)
        })
    }

    /// The table with its labels, for writing to Parquet
    /// ([`crate::stream::LabeledTable::write_parquet`]).
    ///
    /// # Errors
    ///
    /// As [`crate::stream::LabeledTable::new`] (never for a table counted here).
    pub fn labeled(&self) -> Result<crate::stream::parquet::LabeledTable> {
        let qis = self.quasi_identifier_hierarchies()?;
        let labels = qis
            .iter()
            .zip(self.table.node().levels())
            .map(|(h, &l)| Ok(h.level(l as usize)?.labels().to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let sensitive_values = self
            .columns
            .iter()
            .filter(|c| c.role == AttributeRole::Sensitive)
            .map(|c| c.dictionary.clone())
            .collect();
        crate::stream::parquet::LabeledTable::new(
            self.table.clone(),
            self.quasi_identifier_names(),
            labels,
            self.sensitive_names(),
            sensitive_values,
            self.rows,
            false,
        )
    }
}

/// Runs `f` with an evaluator of `config` over the table `streamed` (which
/// the evaluator holds meanwhile; it is put back afterwards).
pub(crate) fn with_evaluator<T>(
    streamed: &mut StreamedTable,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    f: impl FnOnce(&Evaluator<'_>, &StreamedTableParts<'_>) -> Result<T>,
) -> Result<T> {
    config.check()?;
    let compiled = qi_hierarchies(&streamed.columns, &streamed.hierarchies)?;
    let sensitive = |name: &str| -> Result<SensitiveAttribute> {
        let column = streamed.column(name)?;
        if column.role != AttributeRole::Sensitive {
            return Err(Error::parameter(
                "attribute",
                format!("'{name}' is not a sensitive attribute"),
            ));
        }
        let index = streamed
            .columns
            .iter()
            .filter(|c| c.role == AttributeRole::Sensitive)
            .position(|c| c.name == name)
            .expect("the attribute is sensitive");
        SensitiveAttribute::from_counts(
            name,
            column.data_type,
            index,
            &column.dictionary,
            column.counts.clone(),
            streamed.rows,
            streamed.hierarchies.get(name),
            orders.get(name).map(Vec::as_slice),
        )
    };
    let dictionary = |name: &str| -> Result<&[String]> {
        streamed.column(name).map(|c| c.dictionary.as_slice())
    };
    let models = config
        .models
        .iter()
        .map(|m| m.build_with(streamed.rows, &sensitive, &dictionary))
        .collect::<Result<Vec<_>>>()?;
    let qis: Vec<&ColumnSummary> = streamed
        .columns
        .iter()
        .filter(|c| c.role == AttributeRole::QuasiIdentifier)
        .collect();
    let names: Vec<&str> = qis.iter().map(|c| c.name.as_str()).collect();
    let counts: Vec<Vec<u64>> = qis.iter().map(|c| c.counts.clone()).collect();
    let utility =
        UtilityModel::from_counts(&names, &counts, &compiled, streamed.rows, &config.metric)?;
    // The evaluator owns its bottom table: lend it ours.
    let placeholder = FrequencyTable::from_parts(
        streamed.table.node().clone(),
        streamed.table.cardinalities().to_vec(),
        streamed.table.sensitive_cardinalities().to_vec(),
        Vec::new(),
        Vec::new(),
        vec![Vec::new(); streamed.table.sensitive_attributes()],
    )?;
    let bottom = std::mem::replace(&mut streamed.table, placeholder);
    let evaluator = Evaluator::from_parts(bottom, compiled, models, utility, config);
    let parts = StreamedTableParts {
        source: &streamed.source,
        attributes: &streamed.attributes,
        columns: &streamed.columns,
    };
    let result = f(&evaluator, &parts);
    streamed.table = evaluator.bottom;
    result
}

/// The table at `node` with its evaluation and each class's outlier flag,
/// or [`crate::ErrorKind::InvalidParameter`] when more records fail the
/// models than the suppression limit allows (what a release starts from).
pub(crate) fn feasible_release(
    evaluator: &Evaluator<'_>,
    node: &Node,
) -> Result<(FrequencyTable, NodeEvaluation, Vec<bool>)> {
    let table = evaluator.bottom.roll_up(&evaluator.hierarchies, node)?;
    let (_, evaluation, outliers) = evaluator.judge(&table);
    match outliers {
        Some(outliers) => Ok((table, evaluation, outliers)),
        None => Err(Error::parameter(
            "node",
            format!(
                "{node} is not feasible: more records fail the models than the suppression limit allows"
            ),
        )),
    }
}
