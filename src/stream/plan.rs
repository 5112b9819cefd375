//! What an external engine needs to write a release without this process
//! reading the rows: each quasi-identifier's value → label map at the node,
//! and the label tuples of the suppressed classes.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::frequency::node::Node;
use crate::search::{AnonymizationConfig, NodeEvaluation};
use crate::stream::ingest::StreamedTable;
use crate::stream::search::{feasible_release, with_evaluator};

/// A release at one node, as lookups: applying it to a row replaces each
/// quasi-identifier's value (after the missing-value policy) by its label in
/// [`ReleasePlan::maps`], then every quasi-identifier of a row whose label
/// tuple is a suppressed class of [`ReleasePlan::classes`] by `*`. This is
/// what [`StreamedTable::apply_to_file`] does to each row, which also
/// refuses a row whose value was not counted, whose tuple is in no class,
/// or whose sensitive value is not among [`ReleasePlan::sensitive`]'s.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReleasePlan {
    /// The quasi-identifier names, in column order.
    pub quasi_identifiers: Vec<String>,
    /// Per quasi-identifier, every counted value with its label at the node.
    pub maps: Vec<Vec<(String, String)>>,
    /// The label tuples (quasi-identifier order) of every class at the node.
    pub classes: Vec<Vec<String>>,
    /// Whether each class is suppressed.
    pub suppressed: Vec<bool>,
    /// Every sensitive attribute with its counted values (the missing
    /// label included when the missing-value policy made one).
    pub sensitive: Vec<(String, Vec<String>)>,
    /// The node's evaluation.
    pub evaluation: NodeEvaluation,
    /// The rows of the suppressed classes.
    pub suppressed_rows: u64,
}

impl StreamedTable {
    /// The release at `node` as lookups, for an engine that writes it (see
    /// [`ReleasePlan`]).
    ///
    /// # Errors
    ///
    /// As [`StreamedTable::evaluate`]; [`crate::ErrorKind::InvalidParameter`]
    /// when the node is not feasible.
    pub fn release_plan(
        &mut self,
        config: &AnonymizationConfig,
        orders: &BTreeMap<String, Vec<String>>,
        node: &Node,
    ) -> Result<ReleasePlan> {
        let names = self.quasi_identifier_names();
        with_evaluator(self, config, orders, |evaluator, parts| {
            let (table, evaluation, outliers) = feasible_release(evaluator, node)?;
            let mut levels = Vec::new();
            for (h, &l) in evaluator.hierarchies.iter().zip(node.levels()) {
                levels.push(h.level(l as usize)?);
            }
            let maps = names
                .iter()
                .zip(&levels)
                .map(|(name, level)| {
                    let column = parts
                        .columns
                        .iter()
                        .find(|c| &c.name == name)
                        .expect("a quasi-identifier is an encoded column");
                    column
                        .dictionary
                        .iter()
                        .zip(level.map())
                        .map(|(value, &label)| {
                            (value.clone(), level.labels()[label as usize].clone())
                        })
                        .collect()
                })
                .collect();
            let classes = (0..table.classes())
                .map(|class| {
                    levels
                        .iter()
                        .enumerate()
                        .map(|(j, level)| level.labels()[table.code(class, j) as usize].clone())
                        .collect()
                })
                .collect();
            let suppressed_rows = (0..table.classes())
                .filter(|&c| outliers[c])
                .map(|c| table.counts()[c])
                .sum();
            let sensitive = parts
                .columns
                .iter()
                .filter(|c| c.role == crate::data::attribute::AttributeRole::Sensitive)
                .map(|c| (c.name.clone(), c.dictionary.clone()))
                .collect();
            Ok(ReleasePlan {
                quasi_identifiers: names.clone(),
                maps,
                classes,
                suppressed: outliers,
                sensitive,
                evaluation,
                suppressed_rows,
            })
        })
    }
}
