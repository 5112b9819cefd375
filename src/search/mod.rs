//! The search for the least-loss transformation that satisfies the models
//! ([§6](crate::methods#6-lattice-search)).

mod best_effort;
mod bound;
mod cache;
mod config;
mod crew;
mod evaluator;
mod lattice;
mod lowest;
mod projection;
mod strategies;
mod subproblem;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use best_effort::Progress;
pub use config::{AnonymizationConfig, DEFAULT_HEURISTIC_BUDGET, Recoding, Strategy};
pub(crate) use evaluator::Evaluator;
pub use evaluator::NodeEvaluation;
pub use lattice::{Lattice, MAX_LATTICE_NODES};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::set::Hierarchies;

/// What a search found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchResult {
    /// The best node, or `None` when no node satisfies the models within the
    /// suppression limit (not an error: the configuration cannot be met).
    pub optimum: Option<NodeEvaluation>,
    /// The quasi-identifiers, in the order of the node's levels.
    pub quasi_identifiers: Vec<String>,
    /// Number of nodes whose classes were computed.
    pub nodes_checked: u64,
    /// Number of nodes in the lattice.
    pub lattice_size: u64,
    /// The absolute suppression limit ⌊rate·n⌋.
    pub max_suppressed: u64,
    /// The strategy used.
    pub strategy: Strategy,
    /// Whether the result is proven optimal (optimal and exhaustive
    /// strategies; the best-effort search when it completed, or when its
    /// lower bound reached the best score).
    pub proven_optimal: bool,
    /// A lower bound on the optimum's score, when known: the optimum's own
    /// score when proven optimal; for a best-effort search stopped by its
    /// budget, the least lower bound of the nodes below no node it found
    /// failing; on a lattice it could complete, of the nodes it had not
    /// checked; on one it could not, from searches of the table projected
    /// onto groups of the quasi-identifiers, where those bound it; whichever
    /// is largest (the best score if that is lower;
    /// [§6.5](crate::methods#65-best-effort-search)). How far the best node
    /// found can be from the optimum.
    #[serde(default)]
    pub lower_bound: Option<f64>,
    /// Wall time of the search, in milliseconds.
    pub elapsed_ms: f64,
    /// The models as the search applied them ([`crate::model::PrivacyModel::name`]),
    /// in configuration order: k-map with its derived k′, for instance.
    #[serde(default)]
    pub applied_models: Vec<String>,
}

impl SearchResult {
    /// The optimum's levels by attribute name.
    pub fn levels(&self) -> Option<BTreeMap<String, u32>> {
        self.optimum.as_ref().map(|o| {
            self.quasi_identifiers
                .iter()
                .cloned()
                .zip(o.node.levels().iter().copied())
                .collect()
        })
    }
}

/// Searches the generalization lattice of `dataset` for the node that
/// satisfies every model of `config` (with record suppression within the
/// limit) at the least information loss.
///
/// Ties are broken by the rule of [`Strategy`]-independent ranking: lower
/// score, then lower level sum, then the lexicographically smaller level
/// vector; so every strategy that evaluates the optimum returns the same node.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
///
/// use deidentify::model::ModelSpec;
/// use deidentify::{AnonymizationConfig, Ruleset, search};
///
/// let loaded = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())?.load()?;
/// // 5-anonymity with at most 2 % of the records suppressed, least Loss.
/// let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02);
/// let result = search(&loaded.dataset, &loaded.hierarchies, &config, &BTreeMap::new())?;
/// let optimum = result.optimum.expect("the top node is always 5-anonymous here");
/// assert!(optimum.suppressed <= 603); // ⌊0.02 · 30,162⌋
/// let loss = optimum.score.as_ref().map(|s| s.score);
/// println!("{} with Loss {loss:?}", optimum.node);
/// # Ok::<(), deidentify::Error>(())
/// ```
///
/// # Errors
///
/// Errors of the configuration ([`AnonymizationConfig::check`]), of the
/// models ([`crate::model::ModelSpec::build`]: unknown attributes, parameters out of
/// range, k larger than the table) and of the metric, and
/// [`crate::ErrorKind::InvalidParameter`] when the optimal or exhaustive
/// strategy is asked to search more than [`MAX_LATTICE_NODES`] nodes.
pub fn search(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
) -> Result<SearchResult> {
    search_with_progress(dataset, hierarchies, config, orders, &|_| {})
}

/// [`search`], calling `progress` as the search goes: the best-effort
/// search ([`Strategy::BestEffort`]) calls it after every batch of nodes it
/// evaluates, with the nodes checked and the best transformation so far
/// (the other strategies do not call it).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Mutex;
///
/// use deidentify::model::ModelSpec;
/// use deidentify::search::{Strategy, search_with_progress};
/// use deidentify::{AnonymizationConfig, Ruleset};
///
/// let loaded = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())?.load()?;
/// let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02)
///     .with_strategy(Strategy::BestEffort { time_limit_ms: Some(5_000), max_nodes: None });
/// let improvements = Mutex::new(Vec::new());
/// let result = search_with_progress(
///     &loaded.dataset,
///     &loaded.hierarchies,
///     &config,
///     &BTreeMap::new(),
///     &|p| {
///         if p.improved {
///             improvements.lock().unwrap().push(p.best.clone());
///         }
///     },
/// )?;
/// // The last improvement reported is the result.
/// let last = improvements.into_inner().unwrap().pop().flatten();
/// let optimum = result.optimum.expect("found");
/// assert_eq!(last.map(|(node, _)| node), Some(optimum.node));
/// # Ok::<(), deidentify::Error>(())
/// ```
///
/// # Errors
///
/// As [`search`].
pub fn search_with_progress(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Result<SearchResult> {
    let started = Instant::now();
    // On a worker thread of the pool: each parallel round of the search
    // then starts without handing its work to another thread and waiting
    // to be woken (which costs more than a small round's work).
    rayon::scope(|_| {
        let evaluator = Evaluator::new(dataset, hierarchies, config, orders)?;
        search_with(
            &evaluator,
            dataset.quasi_identifier_names(),
            config,
            started,
            progress,
        )
    })
}

/// Runs the search of `config.strategy` with a prepared evaluator; the
/// quasi-identifier names and the start time go into the result;
/// `progress` as for [`search_with_progress`].
///
/// # Errors
///
/// As [`search`], for the lattice size.
pub(crate) fn search_with(
    evaluator: &Evaluator<'_>,
    quasi_identifiers: Vec<String>,
    config: &AnonymizationConfig,
    started: Instant,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Result<SearchResult> {
    let heights = evaluator
        .hierarchies
        .iter()
        .map(|h| h.height() as u32)
        .collect();
    let lattice = Lattice::new(heights)?;
    let bounded = matches!(
        config.strategy,
        Strategy::Heuristic { .. } | Strategy::BestEffort { .. }
    );
    if !bounded && lattice.size() > MAX_LATTICE_NODES {
        return Err(Error::parameter(
            "strategy",
            format!(
                "the lattice has {} nodes, more than the {} an optimal search handles; use the best-effort search",
                lattice.size(),
                MAX_LATTICE_NODES
            ),
        ));
    }
    let (outcome, proven_optimal, lower_bound) = match config.strategy {
        Strategy::Optimal => (
            crew::with_crew(rayon::current_num_threads(), |crew| {
                strategies::optimal(evaluator, &lattice, crew, None)
                    .expect("no deadline stops the search")
            }),
            true,
            None,
        ),
        Strategy::Exhaustive => (strategies::exhaustive(evaluator, &lattice), true, None),
        Strategy::Heuristic { max_nodes } => (
            strategies::heuristic(evaluator, &lattice, max_nodes),
            false,
            None,
        ),
        Strategy::BestEffort {
            time_limit_ms,
            max_nodes,
        } => {
            // (On a lattice the search cannot complete, projections may
            // bound its optimum.)
            let projections = (lattice.size() > MAX_LATTICE_NODES)
                .then(|| projection::Projections::new(evaluator, config, projection::GROUP_NODES))
                .flatten();
            // (And the local search there has a large neighbourhood.)
            let subproblems = (lattice.size() > MAX_LATTICE_NODES)
                .then(|| subproblem::Subproblems::new(evaluator, config))
                .flatten();
            let budget = best_effort::Budget::new(started, time_limit_ms, max_nodes);
            let found = best_effort::best_effort(
                evaluator,
                &lattice,
                budget,
                started,
                progress,
                best_effort::LargeLattice {
                    projections: projections.as_ref(),
                    subproblems: subproblems.as_ref(),
                },
            );
            (found.outcome, found.proven_optimal, found.lower_bound)
        }
    };
    let lower_bound = if proven_optimal {
        outcome
            .best
            .as_ref()
            .and_then(|b| b.score.as_ref())
            .map(|s| s.score)
    } else {
        lower_bound
    };
    debug_assert!(
        outcome
            .best
            .as_ref()
            .is_none_or(|b| b.suppressed <= evaluator.max_suppressed)
    );
    Ok(SearchResult {
        optimum: outcome.best,
        quasi_identifiers,
        nodes_checked: outcome.nodes_checked,
        lattice_size: lattice.size(),
        max_suppressed: evaluator.max_suppressed,
        strategy: config.strategy,
        proven_optimal,
        lower_bound,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
        applied_models: evaluator.models.iter().map(|m| m.name()).collect(),
    })
}

/// Evaluates one node with `config` (feasibility, suppressed records,
/// classes and score), as the search does.
///
/// # Errors
///
/// As [`search`], and node errors (wrong length, level out of range).
pub fn evaluate_node(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    node: &Node,
) -> Result<NodeEvaluation> {
    Ok(judge_node(dataset, hierarchies, config, orders, node)?.0)
}

/// Evaluates one node and also returns its frequency table and, when the
/// node is feasible, which of its classes are suppressed.
///
/// # Errors
///
/// As [`evaluate_node`].
pub(crate) fn judge_node(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    node: &Node,
) -> Result<(NodeEvaluation, FrequencyTable, Option<Vec<bool>>)> {
    let evaluator = Evaluator::new(dataset, hierarchies, config, orders)?;
    let table = evaluator.bottom.roll_up(&evaluator.hierarchies, node)?;
    let (_, evaluation, outliers) = evaluator.judge(&table);
    Ok((evaluation, table, outliers))
}
