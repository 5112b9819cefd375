//! Differentially private anonymization: SafePub (Bild, Kuhn and Prasser,
//! PoPETs 2018), with exact sampling and an exact exponential mechanism
//! ([§8.4](crate::methods#84-differentially-private-anonymization-safepub)).
//!
//! A release is (ε, δ)-differentially private in the records it is drawn
//! from: each record enters a random sample with probability β; a
//! transformation (a lattice node) is chosen by the exponential mechanism
//! with part of ε (the search budget); the sample is generalized to it and
//! only classes of at least k sampled records are released, in random
//! order. β and k follow from the rest of ε and from δ
//! ([`SamplingParameters`]). The output is truthful: every released value
//! is a generalization of a real record's value, nothing is perturbed.
//!
//! Unlike ARX, which releases the best-scoring pivot of its walk (a choice
//! made on the data outside the privacy budget), the walk here ends with
//! one more exponential mechanism among the pivots; and by default the
//! transformation is chosen by a single exponential mechanism over every
//! node ([`DpSearch::Lattice`]), which spends the whole search budget on
//! one choice.
//!
//! The guarantee holds when the hierarchies are fixed without looking at
//! the data, every released column is a quasi-identifier (a sensitive or
//! insensitive column released unchanged would make records unique), and
//! the random source is secret: pass a generator seeded from the operating
//! system (`StdRng::try_from_rng(&mut rand::rngs::SysRng)`) for a release; a fixed seed is for
//! tests and reproducing a run, never for data that leaves the premises.
//!
//! ```
//! use deidentify::safepub::{DpSearch, SafePubConfig, release};
//! use deidentify::Ruleset;
//! use rand::SeedableRng;
//!
//! let loaded = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())?.load()?;
//! let config = SafePubConfig::new(1.0, 1e-6);
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let out = release(&loaded.dataset, &loaded.hierarchies, &config, &mut rng)?;
//! assert_eq!(out.summary.parameters.k, 73); // ε = 0.9 left for sampling, δ = 10⁻⁶
//! assert_eq!(out.frame.height() as u64, out.summary.released_rows);
//! assert!(out.summary.released_rows <= out.summary.sampled_rows);
//! # Ok::<(), deidentify::Error>(())
//! ```

mod parameters;
mod score;
mod search;

use polars::prelude::{Column, DataFrame};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::attribute::AttributeRole;
use crate::data::dataset::Dataset;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::set::Hierarchies;
use crate::metric::MetricKind;
use crate::model::ModelSpec;
use crate::noise::mechanism::exact_rational;
use crate::noise::{Rational, bernoulli_one_minus_exp};
use crate::search::{AnonymizationConfig, Lattice};

pub use parameters::SamplingParameters;
pub use score::DpScore;
pub use search::{DpSearch, MAX_DP_LATTICE_NODES};

use score::Scorer;
use search::NodeScores;

/// The search budget ARX uses by default.
pub const DEFAULT_SEARCH_EPSILON: f64 = 0.1;

/// A differentially private anonymization's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SafePubConfig {
    /// The whole ε (search and anonymization).
    pub epsilon: f64,
    /// δ.
    pub delta: f64,
    /// The part of ε spent choosing the transformation (0 for
    /// [`DpSearch::Fixed`]).
    pub search_epsilon: f64,
    /// How the transformation is chosen.
    pub search: DpSearch,
    /// The utility the search optimizes.
    pub score: DpScore,
}

impl SafePubConfig {
    /// ε and δ with ARX's search budget (0.1), the lattice search and Loss.
    pub fn new(epsilon: f64, delta: f64) -> SafePubConfig {
        SafePubConfig {
            epsilon,
            delta,
            search_epsilon: DEFAULT_SEARCH_EPSILON,
            search: DpSearch::Lattice,
            score: DpScore::Loss,
        }
    }

    /// The configuration with `search_epsilon` as its search budget.
    pub fn with_search_epsilon(mut self, search_epsilon: f64) -> SafePubConfig {
        self.search_epsilon = search_epsilon;
        self
    }

    /// The configuration with `search` as its search.
    pub fn with_search(mut self, search: DpSearch) -> SafePubConfig {
        self.search = search;
        self
    }

    /// The configuration with `score` as its utility.
    pub fn with_score(mut self, score: DpScore) -> SafePubConfig {
        self.score = score;
        self
    }

    /// The ε left for sampling and suppression, exactly, and as `f64`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for ε not positive and finite,
    /// a search budget outside [0, ε) (0 only, and required, for a fixed
    /// transformation).
    pub fn anonymization_epsilon(&self) -> Result<(Rational, f64)> {
        let epsilon = exact_rational(self.epsilon).map_err(|_| {
            Error::parameter(
                "epsilon",
                format!("ε must be positive and finite, got {}", self.epsilon),
            )
        })?;
        let fixed = matches!(self.search, DpSearch::Fixed { .. });
        if fixed {
            if self.search_epsilon != 0.0 {
                return Err(Error::parameter(
                    "search_budget",
                    "a fixed transformation spends no search budget: set it to 0",
                ));
            }
            return Ok((epsilon, self.epsilon));
        }
        if !(self.search_epsilon > 0.0 && self.search_epsilon < self.epsilon) {
            return Err(Error::parameter(
                "search_budget",
                format!(
                    "the search budget must be in (0, ε) = (0, {}), got {}",
                    self.epsilon, self.search_epsilon
                ),
            ));
        }
        let search = exact_rational(self.search_epsilon)?;
        // Both are dyadic: subtract over the larger denominator.
        let den = epsilon.den.max(search.den);
        let num = epsilon.num * (den / epsilon.den) - search.num * (den / search.den);
        let rest = Rational::new(num, den)?;
        Ok((rest, self.epsilon - self.search_epsilon))
    }

    /// The configuration a search configuration's
    /// [`ModelSpec::DifferentialPrivacy`] describes, with its metric as the
    /// score; `quasi_identifiers` (in column order) place the names of
    /// fixed `levels`. `None` when the configuration has no such model.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a metric without a score
    /// of bounded sensitivity (only Loss, precision and discernibility have
    /// one), metric weights (the scores weigh every attribute alike), a
    /// level for a name that is not a quasi-identifier or a
    /// quasi-identifier without one, or both `steps` and `levels`.
    pub fn from_config(
        config: &AnonymizationConfig,
        quasi_identifiers: &[String],
    ) -> Result<Option<SafePubConfig>> {
        let Some(ModelSpec::DifferentialPrivacy {
            epsilon,
            delta,
            search_budget,
            steps,
            levels,
        }) = config.differential_privacy()
        else {
            return Ok(None);
        };
        let score = match config.metric.kind {
            MetricKind::Loss => DpScore::Loss,
            MetricKind::Precision => DpScore::Precision,
            MetricKind::Discernibility | MetricKind::DiscernibilityNm => DpScore::Discernibility,
            other => {
                return Err(Error::parameter(
                    "metric",
                    format!(
                        "differential privacy optimizes loss, precision or discernibility (scores of bounded sensitivity), not {}",
                        other.name()
                    ),
                ));
            }
        };
        if !config.metric.weights.is_empty() {
            return Err(Error::parameter(
                "weights",
                "the differentially private scores weigh every quasi-identifier alike: remove the metric's weights",
            ));
        }
        let search = match (steps, levels) {
            (Some(_), Some(_)) => {
                return Err(Error::parameter(
                    "levels",
                    "give steps (a walk) or levels (a fixed transformation), not both",
                ));
            }
            (Some(steps), None) => DpSearch::Walk { steps: *steps },
            (None, Some(levels)) => {
                if let Some(name) = levels.keys().find(|n| !quasi_identifiers.contains(n)) {
                    return Err(Error::parameter(
                        "levels",
                        format!("'{name}' is not a quasi-identifier"),
                    ));
                }
                let node = quasi_identifiers
                    .iter()
                    .map(|name| {
                        levels.get(name).copied().ok_or_else(|| {
                            Error::parameter(
                                "levels",
                                format!("no level for the quasi-identifier '{name}'"),
                            )
                        })
                    })
                    .collect::<Result<Vec<u32>>>()?;
                DpSearch::Fixed {
                    node: Node::new(node),
                }
            }
            (None, None) => DpSearch::Lattice,
        };
        let default_budget = if matches!(search, DpSearch::Fixed { .. }) {
            0.0
        } else {
            DEFAULT_SEARCH_EPSILON
        };
        Ok(Some(SafePubConfig {
            epsilon: *epsilon,
            delta: *delta,
            search_epsilon: search_budget.unwrap_or(default_budget),
            search,
            score,
        }))
    }

    /// The search budget as an exact rational.
    fn search_rational(&self) -> Result<Rational> {
        exact_rational(self.search_epsilon)
    }
}

/// The parameters a release was made with, for the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DpParameters {
    /// The whole ε.
    pub epsilon: f64,
    /// δ.
    pub delta: f64,
    /// ε spent on choosing the transformation.
    pub search_epsilon: f64,
    /// ε spent on sampling and suppression.
    pub anonymization_epsilon: f64,
    /// The sampling probability.
    pub beta: f64,
    /// The minimal class size.
    pub k: u64,
    /// δ reached at k (below the target).
    pub delta_at_k: f64,
    /// The search.
    pub search: DpSearch,
    /// The utility optimized.
    pub score: DpScore,
}

/// What a differentially private release was made with and of, for the
/// report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DpSummary {
    /// The parameters.
    pub parameters: DpParameters,
    /// Records in the input.
    pub input_rows: u64,
    /// Records sampled.
    pub sampled_rows: u64,
    /// Records released.
    pub released_rows: u64,
    /// Classes released.
    pub released_classes: u64,
    /// Loss of the release over the input as ARX's Loss metric measures it:
    /// per attribute the mean over input records of the released value's
    /// (leaves − 1)/(domain − 1), a record not released counting 1; the
    /// arithmetic mean over quasi-identifiers. 0 is the input itself, 1
    /// nothing released.
    pub loss: f64,
    /// Nodes scored by the search.
    pub nodes_scored: u64,
    /// Nodes in the lattice.
    pub lattice_size: u64,
}

/// A differentially private release.
#[derive(Clone, Debug)]
pub struct SafePubRelease {
    /// The released records (quasi-identifiers generalized, identifiers
    /// dropped), in random order; records not sampled or in classes below
    /// k are not in it.
    pub frame: DataFrame,
    /// The transformation.
    pub node: Node,
    /// Parameters and counts.
    pub summary: DpSummary,
    /// The walk's pivots, top first (empty for the other searches).
    pub pivots: Vec<Node>,
    /// The input rows released, in the release's order (for the operator's
    /// own measurements: which records were drawn is part of the secret
    /// randomness and must not leave with the release).
    pub rows: Vec<usize>,
    /// Wall time of the release, in milliseconds.
    pub elapsed_ms: f64,
}

/// Checks that every column released is a quasi-identifier.
fn check_roles(dataset: &Dataset) -> Result<()> {
    for attribute in dataset.attributes() {
        match attribute.role {
            AttributeRole::QuasiIdentifier | AttributeRole::Identifier => {}
            AttributeRole::Sensitive | AttributeRole::Insensitive => {
                return Err(ErrorKind::Ruleset {
                    path: "<differential privacy>".into(),
                    reason: format!(
                        "column '{}' is {} and would be released unchanged, which differential privacy does not cover (a rare value singles a record out): make it a quasi-identifier with a hierarchy, or drop it with role = \"identifier\"",
                        attribute.name,
                        if attribute.role == AttributeRole::Sensitive {
                            "sensitive"
                        } else {
                            "insensitive"
                        }
                    ),
                }
                .into());
            }
        }
    }
    if dataset.quasi_identifiers().is_empty() {
        return Err(Error::parameter(
            "attributes",
            "differential privacy needs at least one quasi-identifier",
        ));
    }
    Ok(())
}

/// Releases `dataset` under (ε, δ)-differential privacy with `config`,
/// drawing every random choice from `rng`.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for ε ≤ 0, δ outside (0, 1), a
/// search budget outside (0, ε), a walk of 0 steps, a fixed node of the
/// wrong shape, a lattice too large for [`DpSearch::Lattice`], or a sample
/// that drew no record; [`crate::ErrorKind::Ruleset`] for a sensitive or
/// insensitive column; hierarchy errors as for the search.
pub fn release<R: Rng + ?Sized>(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &SafePubConfig,
    rng: &mut R,
) -> Result<SafePubRelease> {
    let started = std::time::Instant::now();
    check_roles(dataset)?;
    let (anonymization, anonymization_f64) = config.anonymization_epsilon()?;
    let sampling = SamplingParameters::derive(anonymization_f64, config.delta)?;
    let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
    let lattice = Lattice::new(compiled.iter().map(|h| h.height() as u32).collect())?;
    if let DpSearch::Fixed { node } = &config.search {
        check_node(node, &lattice)?;
    }
    // 1. The sample: each record with probability 1 − e^(−ε_anon), exactly.
    let mut rows = Vec::new();
    for r in 0..dataset.rows() {
        if bernoulli_one_minus_exp(rng, anonymization)? {
            rows.push(r);
        }
    }
    if rows.is_empty() {
        return Err(Error::parameter(
            "sample",
            "the random sample drew no record: nothing to release",
        ));
    }
    let sample = dataset.select_rows(&rows)?;
    let input_rows = dataset.rows() as u64;
    let bottom = FrequencyTable::from_dataset(&sample, hierarchies, &Node::bottom(compiled.len()))?;
    let scorer = Scorer {
        score: config.score,
        hierarchies: &compiled,
        k: sampling.k,
        rows: input_rows,
    };
    // 2. The transformation, chosen privately.
    let scores = NodeScores {
        bottom: &bottom,
        hierarchies: &compiled,
        scorer: &scorer,
        lattice: &lattice,
    };
    let search_epsilon = if matches!(config.search, DpSearch::Fixed { .. }) {
        Rational { num: 0, den: 1 }
    } else {
        config.search_rational()?
    };
    let choice = search::choose(rng, &scores, &config.search, search_epsilon)?;
    // 3. The release: classes of at least k sampled records, shuffled.
    let table = bottom.roll_up(&compiled, &choice.node)?;
    let classes = table.row_classes(&sample, hierarchies)?;
    let keep: Vec<bool> = table.counts().iter().map(|&c| c >= sampling.k).collect();
    let mut released: Vec<usize> = (0..sample.rows()).filter(|&r| keep[classes[r]]).collect();
    released.shuffle(rng);
    let frame = release_frame(&sample, &compiled, &choice.node, &released)?;
    let loss = scorer.arx_loss(&table);
    Ok(SafePubRelease {
        frame,
        node: choice.node,
        summary: DpSummary {
            parameters: DpParameters {
                epsilon: config.epsilon,
                delta: config.delta,
                search_epsilon: config.search_epsilon,
                anonymization_epsilon: anonymization_f64,
                beta: sampling.beta,
                k: sampling.k,
                delta_at_k: sampling.delta_at_k,
                search: config.search.clone(),
                score: config.score,
            },
            input_rows,
            sampled_rows: rows.len() as u64,
            released_rows: released.len() as u64,
            released_classes: keep.iter().filter(|&&k| k).count() as u64,
            loss,
            nodes_scored: choice.scored,
            lattice_size: lattice.size(),
        },
        pivots: choice.pivots,
        rows: released.iter().map(|&r| rows[r]).collect(),
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

fn check_node(node: &Node, lattice: &Lattice) -> Result<()> {
    let heights = lattice.heights();
    if node.levels().len() != heights.len() || node.levels().iter().zip(heights).any(|(l, h)| l > h)
    {
        return Err(Error::parameter(
            "levels",
            format!("{node} is not a node of the lattice (heights {heights:?})"),
        ));
    }
    Ok(())
}

/// The quasi-identifiers of `rows` of `sample` generalized to `node`, in
/// the order given.
fn release_frame(
    sample: &Dataset,
    compiled: &[&crate::hierarchy::CompiledHierarchy],
    node: &Node,
    rows: &[usize],
) -> Result<DataFrame> {
    let columns: Vec<Column> = sample
        .quasi_identifiers()
        .iter()
        .enumerate()
        .map(|(j, column)| {
            let level = &compiled[j].levels()[node.levels()[j] as usize];
            let codes = column.codes();
            let values: Vec<&str> = rows
                .iter()
                .map(|&r| level.labels()[level.map()[codes[r] as usize] as usize].as_str())
                .collect();
            Column::new(column.name().into(), values)
        })
        .collect();
    DataFrame::new(rows.len(), columns).map_err(|e| {
        ErrorKind::Parse {
            path: "<output>".into(),
            reason: e.to_string(),
        }
        .into()
    })
}
