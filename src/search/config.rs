//! What the search looks for.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metric::{MetricKind, MetricSpec};
use crate::model::ModelSpec;

/// How the lattice is searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum Strategy {
    /// Provably optimal with pruning: predictive tagging with the models'
    /// monotonicity (Flash-style binary search along paths), then utility
    /// pruning with the metric's monotonicity or lower bounds. Returns the
    /// same node as [`Strategy::Exhaustive`].
    Optimal,
    /// Evaluates every node (in parallel); the reference for tests.
    Exhaustive,
    /// Best-first search with greedy descents that stops after `max_nodes`
    /// evaluations (ARX's Lightning, simplified), for lattices too large to
    /// search; the result is the best node found, not necessarily optimal.
    Heuristic {
        /// The evaluation budget.
        max_nodes: u64,
    },
    /// Best-effort search for lattices of any size
    /// ([§6.5](crate::methods#65-best-effort-search)): a local search from
    /// the top (greedy descents, the best node over random groups of
    /// attributes with the others held, exchanges of levels between
    /// attributes, random kicks) finds good transformations early; on
    /// lattices of at most
    /// [`MAX_LATTICE_NODES`](crate::search::MAX_LATTICE_NODES) nodes it then
    /// checks the nodes in order of their lower bound until the best found
    /// is proven optimal. It stops when either budget is spent and returns
    /// the best transformation found so far; on a lattice too large to
    /// complete, the local search goes on until a budget is spent. With
    /// neither budget it runs until the local search stalls (and, on a
    /// lattice it can complete, until the optimum is proven).
    ///
    /// The time limit is wall time, and the search's parallel work runs on
    /// rayon's current pool (the global one, unless the search is called
    /// inside [`rayon::ThreadPool::install`]). Work of others holding that
    /// pool's threads, such as a second search running at the same time,
    /// delays its batches and can make it stop late: give concurrent
    /// searches pools of their own.
    BestEffort {
        /// Wall-time budget in milliseconds.
        time_limit_ms: Option<u64>,
        /// Evaluation budget in nodes.
        max_nodes: Option<u64>,
    },
}

impl Strategy {
    /// The name used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Optimal => "optimal",
            Strategy::Exhaustive => "exhaustive",
            Strategy::Heuristic { .. } => "heuristic",
            Strategy::BestEffort { .. } => "best-effort",
        }
    }
}

/// How a release recodes the quasi-identifiers
/// ([§6.6](crate::methods#66-local-recoding)): one level per attribute for
/// every record (global, full-domain: the lattice [`search`](crate::search())
/// and [`apply`](crate::apply())), or record by record
/// ([`crate::recode::recode`] runs every kind).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum Recoding {
    /// Full-domain generalization: the optimum of the lattice, every record
    /// of a column at the same level; failing classes suppressed whole.
    #[default]
    Global,
    /// Local generalization with the hierarchies: a top-down split of the
    /// records in which each part takes the lowest levels its own records
    /// allow, so records of one column are released at different levels.
    Local,
    /// Mondrian multidimensional partitioning (LeFevre, DeWitt and
    /// Ramakrishnan 2006): integer, decimal and date quasi-identifiers are
    /// split at the median and released as ranges; the others split along
    /// their hierarchies as in [`Recoding::Local`].
    Mondrian {
        /// Relaxed partitioning (records with the median value may go to
        /// either side, so ranges may overlap) instead of strict (every
        /// value on one side).
        relaxed: bool,
    },
    /// Local suppression of cells (as sdcMicro's `localSuppression`): every
    /// record meets k-anonymity after blanking the fewest quasi-identifier
    /// cells, the least important attributes first.
    CellSuppression {
        /// Quasi-identifiers from the most to the least important; the
        /// least important are blanked first. Those not named rank after
        /// the named ones, more distinct values first blanked. Empty: by
        /// distinct values alone.
        importance: Vec<String>,
    },
}

impl Recoding {
    /// The name used in rulesets and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Recoding::Global => "global",
            Recoding::Local => "local",
            Recoding::Mondrian { relaxed: false } => "mondrian",
            Recoding::Mondrian { relaxed: true } => "mondrian-relaxed",
            Recoding::CellSuppression { .. } => "cell-suppression",
        }
    }

    /// Parses a name of [`Recoding::name`]; `importance` is cell
    /// suppression's order of attributes (an error with any other kind).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for an unknown name or an
    /// importance order given to another kind.
    pub fn parse(name: &str, importance: Vec<String>) -> Result<Recoding> {
        let ordered = !importance.is_empty();
        let recoding = match name {
            "global" => Recoding::Global,
            "local" => Recoding::Local,
            "mondrian" | "mondrian-strict" => Recoding::Mondrian { relaxed: false },
            "mondrian-relaxed" => Recoding::Mondrian { relaxed: true },
            "cell-suppression" => Recoding::CellSuppression { importance },
            _ => {
                return Err(Error::parameter(
                    "recoding",
                    format!(
                        "unknown recoding '{name}' (known: global, local, mondrian, mondrian-relaxed, cell-suppression)"
                    ),
                ));
            }
        };
        if !matches!(recoding, Recoding::CellSuppression { .. }) && ordered {
            return Err(Error::parameter(
                "importance",
                format!(
                    "an importance order applies to cell suppression only, not to '{name}' recoding"
                ),
            ));
        }
        Ok(recoding)
    }
}

/// The heuristic's evaluation budget when none is given.
pub const DEFAULT_HEURISTIC_BUDGET: u64 = 10_000;

impl std::str::FromStr for Strategy {
    type Err = Error;

    /// Parses a strategy name: `optimal`, `exhaustive`, `heuristic` (with
    /// the default budget of [`DEFAULT_HEURISTIC_BUDGET`] evaluations) or
    /// `heuristic:N` (a budget of N evaluations), `best-effort` (without a
    /// budget: set [`Strategy::BestEffort`]'s fields for one).
    ///
    /// # Examples
    ///
    /// ```
    /// use deidentify::search::Strategy;
    ///
    /// assert_eq!("optimal".parse::<Strategy>()?, Strategy::Optimal);
    /// assert_eq!("heuristic:500".parse::<Strategy>()?, Strategy::Heuristic { max_nodes: 500 });
    /// assert!("fastest".parse::<Strategy>().is_err());
    /// # Ok::<(), deidentify::Error>(())
    /// ```
    fn from_str(name: &str) -> Result<Strategy> {
        let (kind, budget) = match name.split_once(':') {
            Some((kind, budget)) => (kind, Some(budget)),
            None => (name, None),
        };
        match (kind, budget) {
            ("optimal", None) => Ok(Strategy::Optimal),
            ("exhaustive", None) => Ok(Strategy::Exhaustive),
            ("heuristic", None) => Ok(Strategy::Heuristic {
                max_nodes: DEFAULT_HEURISTIC_BUDGET,
            }),
            ("best-effort", None) => Ok(Strategy::BestEffort {
                time_limit_ms: None,
                max_nodes: None,
            }),
            ("heuristic", Some(budget)) => match budget.parse::<u64>() {
                Ok(max_nodes) => Ok(Strategy::Heuristic { max_nodes }),
                Err(_) => Err(Error::parameter(
                    "strategy",
                    "the heuristic's budget after ':' must be a whole number of evaluations",
                )),
            },
            _ => Err(Error::parameter(
                "strategy",
                format!(
                    "unknown strategy '{name}' (known: optimal, exhaustive, heuristic, heuristic:N, best-effort)"
                ),
            )),
        }
    }
}

/// The search configuration: privacy models, the suppression limit, the metric, the strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AnonymizationConfig {
    /// The models: every released class satisfies each class model, and the
    /// release as a whole each model of the whole release.
    pub models: Vec<ModelSpec>,
    /// The largest fraction of records that may be suppressed, in [0, 1];
    /// the absolute limit is ⌊rate·n⌋ ([§6.2](crate::methods#62-the-suppression-limit)).
    pub suppression_limit: f64,
    /// The utility metric.
    pub metric: MetricSpec,
    /// The search strategy.
    pub strategy: Strategy,
    /// How records are recoded (default global: the lattice's optimum).
    #[serde(default)]
    pub recoding: Recoding,
}

impl AnonymizationConfig {
    /// A configuration with the given models, a suppression limit, the Loss
    /// metric and the optimal strategy.
    pub fn new(models: Vec<ModelSpec>, suppression_limit: f64) -> AnonymizationConfig {
        AnonymizationConfig {
            models,
            suppression_limit,
            metric: MetricSpec::new(MetricKind::Loss),
            strategy: Strategy::Optimal,
            recoding: Recoding::Global,
        }
    }

    /// The configuration with `metric` as its utility metric.
    pub fn with_metric(mut self, metric: MetricSpec) -> AnonymizationConfig {
        self.metric = metric;
        self
    }

    /// The configuration with `strategy` as its search strategy.
    pub fn with_strategy(mut self, strategy: Strategy) -> AnonymizationConfig {
        self.strategy = strategy;
        self
    }

    /// The configuration with `recoding` as its recoding.
    pub fn with_recoding(mut self, recoding: Recoding) -> AnonymizationConfig {
        self.recoding = recoding;
        self
    }

    /// Sets `model`: it replaces every model of the same kind (for a model
    /// of a sensitive attribute, of the same kind on the same attribute), or
    /// is added when there is none. k-anonymity goes first, as the search
    /// lists it; any other model goes where the one it replaces was, or
    /// last. This is how a program overrides a ruleset's model from its
    /// command line (`anonymize --k 5`).
    ///
    /// # Examples
    ///
    /// ```
    /// use deidentify::{AnonymizationConfig, model::ModelSpec};
    ///
    /// let mut config = AnonymizationConfig::new(
    ///     vec![ModelSpec::SampleUniqueness { threshold: 0.05 }, ModelSpec::KAnonymity { k: 2 }],
    ///     0.02,
    /// );
    /// config.set_model(ModelSpec::KAnonymity { k: 5 });
    /// config.set_model(ModelSpec::SampleUniqueness { threshold: 0.01 });
    /// assert_eq!(
    ///     config.models,
    ///     [ModelSpec::KAnonymity { k: 5 }, ModelSpec::SampleUniqueness { threshold: 0.01 }]
    /// );
    /// ```
    pub fn set_model(&mut self, model: ModelSpec) {
        let same = |m: &ModelSpec| {
            std::mem::discriminant(m) == std::mem::discriminant(&model)
                && m.attribute() == model.attribute()
        };
        let at = self.models.iter().position(same);
        self.models.retain(|m| !same(m));
        if matches!(model, ModelSpec::KAnonymity { .. }) {
            self.models.insert(0, model);
        } else {
            let at = at.unwrap_or(self.models.len()).min(self.models.len());
            self.models.insert(at, model);
        }
    }

    /// Checks the parameters that do not depend on the data.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a suppression limit outside
    /// [0, 1], a heuristic budget of 0, or a best-effort budget of 0 nodes
    /// or 0 ms.
    pub fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.suppression_limit) {
            return Err(Error::parameter(
                "suppression_limit",
                format!("must be in [0, 1], got {}", self.suppression_limit),
            ));
        }
        if let Strategy::Heuristic { max_nodes: 0 } = self.strategy {
            return Err(Error::parameter(
                "max_nodes",
                "the heuristic needs a budget of at least 1 node",
            ));
        }
        if let Strategy::BestEffort {
            time_limit_ms,
            max_nodes,
        } = self.strategy
        {
            if max_nodes == Some(0) {
                return Err(Error::parameter(
                    "max_nodes",
                    "the best-effort search needs a budget of at least 1 node",
                ));
            }
            if time_limit_ms == Some(0) {
                return Err(Error::parameter(
                    "time_limit_ms",
                    "the best-effort search needs a time limit of at least 1 ms",
                ));
            }
        }
        if self.differential_privacy().is_some() {
            if self.models.len() > 1 {
                return Err(Error::parameter(
                    "models",
                    "differential privacy stands alone: its guarantee covers sampling and its own suppression, not the suppression other models would add",
                ));
            }
            if self.recoding != Recoding::Global {
                return Err(Error::parameter(
                    "recoding",
                    "differential privacy releases a global transformation (recoding = \"global\")",
                ));
            }
        }
        Ok(())
    }

    /// The differential-privacy model, when the configuration has one
    /// (its release is made by [`crate::safepub`], not by the search).
    pub fn differential_privacy(&self) -> Option<&ModelSpec> {
        self.models
            .iter()
            .find(|m| matches!(m, ModelSpec::DifferentialPrivacy { .. }))
    }
}
