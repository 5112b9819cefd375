//! Re-identification risk ([§4](crate::methods#4-re-identification-risk)): attacker models, sample and
//! population uniqueness, individual risk.
//!
//! Risk is measured over the released records: suppressed records are
//! excluded, as in ARX ([§0.2](crate::methods#02-equivalence-classes-and-suppressed-records)).

mod attacker;
mod individual;
mod suda;
mod threshold;

use serde::{Deserialize, Serialize};

pub use crate::population::{
    Population, SnbFit, UniquenessModel, dankar, pitman, pitman_parameters, snb, zayatz,
};
pub use attacker::{AttackerRisk, MarketerRisk};
pub use individual::{IndividualRisk, benedetti_franconi};
pub use suda::{MAX_SUDA_VARIABLES, Suda, minimal_sample_uniques};
pub use threshold::RiskThreshold;

use crate::apply::Anonymized;
use crate::data::dataset::Dataset;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::set::Hierarchies;
use crate::population::{pitman_or_zero, size_histogram};

/// For every class of `sample_table` (counted from `sample` at some node),
/// its size in a population table: the population is counted at the same
/// node with its own dictionaries and matched to the sample's classes by
/// their generalized labels.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] when a sample class does not occur
/// in the population (the population must contain the sample) or is
/// smaller there; node errors.
pub fn population_class_sizes(
    sample: (&Dataset, &Hierarchies),
    sample_table: &FrequencyTable,
    population: (&Dataset, &Hierarchies),
) -> Result<Vec<u64>> {
    let labels = |hierarchies: Vec<&crate::hierarchy::compiled::CompiledHierarchy>,
                  key: &[u32]|
     -> Vec<String> {
        hierarchies
            .iter()
            .zip(sample_table.node().levels())
            .zip(key)
            .map(|((h, &level), &code)| h.levels()[level as usize].labels()[code as usize].clone())
            .collect()
    };
    let counted = FrequencyTable::from_dataset(population.0, population.1, sample_table.node())?;
    let population_hierarchies = population.1.quasi_identifiers(population.0);
    if population_hierarchies.len() != sample_table.node().levels().len() {
        return Err(Error::parameter(
            "population",
            "the population table must have the sample's quasi-identifiers",
        ));
    }
    let index: rustc_hash::FxHashMap<Vec<String>, u64> = (0..counted.classes())
        .map(|c| {
            (
                labels(population_hierarchies.clone(), counted.key(c)),
                counted.counts()[c],
            )
        })
        .collect();
    let sample_hierarchies = sample.1.quasi_identifiers(sample.0);
    (0..sample_table.classes())
        .map(|c| {
            let key = labels(sample_hierarchies.clone(), sample_table.key(c));
            match index.get(&key) {
                Some(&size) if size >= sample_table.counts()[c] => Ok(size),
                _ => Err(Error::parameter(
                    "population",
                    format!(
                        "the sample class ({}) has {} records but the population table has {}: the population must contain the sample",
                        key.join(", "),
                        sample_table.counts()[c],
                        index.get(&key).copied().unwrap_or(0)
                    ),
                )),
            }
        })
        .collect()
}

/// What a risk analysis assumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RiskOptions {
    /// The acceptable risk.
    pub threshold: RiskThreshold,
    /// The population, for population-uniqueness estimates.
    pub population: Option<Population>,
}

impl RiskOptions {
    /// Options with the acceptable risk `threshold` and no population.
    pub fn new(threshold: RiskThreshold) -> RiskOptions {
        RiskOptions {
            threshold,
            population: None,
        }
    }

    /// The options with `population`, for population-uniqueness estimates.
    pub fn with_population(mut self, population: Population) -> RiskOptions {
        self.population = Some(population);
        self
    }
}

/// The acceptance decision for one measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The measure: `prosecutor`, `journalist`, `marketer`, `sample_uniques`,
    /// `population_uniques` (the Dankar rule's estimate) or `global_risk`.
    pub measure: String,
    /// Its value (a probability or a fraction of records / of the population).
    pub value: f64,
    /// The largest acceptable value.
    pub threshold: f64,
    /// Whether the value is at most the threshold.
    pub passes: bool,
}

/// The threshold in both forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdReport {
    /// As a probability.
    pub probability: f64,
    /// As a smallest class size (the translation of [§2.3](crate::methods#23-risk-thresholds-and-class-sizes)).
    pub k: u64,
}

/// Population uniqueness estimates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationUniques {
    /// The population size N used.
    pub population: f64,
    /// The sampling fraction n/N.
    pub sampling_fraction: f64,
    /// Zayatz's estimate, as a fraction of the population.
    pub zayatz: f64,
    /// Zayatz's estimate, as a number of population uniques.
    pub zayatz_uniques: f64,
    /// The Pitman-model estimate, as a fraction of the population (`None`
    /// when the fit does not converge or is rejected).
    pub pitman: Option<f64>,
    /// The Pitman-model estimate, as a number of population uniques.
    pub pitman_uniques: Option<f64>,
    /// The slide-negative-binomial estimate, as a fraction of the population
    /// (`None` when the fit does not converge).
    pub snb: Option<f64>,
    /// The slide-negative-binomial fit.
    pub snb_fit: Option<SnbFit>,
    /// The Dankar et al. rule's estimate, as a fraction of the population.
    pub dankar: f64,
    /// The model the Dankar et al. rule chose.
    pub dankar_model: UniquenessModel,
}

/// A re-identification risk analysis of released data.
///
/// # Examples
///
/// ```
/// use deidentify::frequency::FrequencyTable;
/// use deidentify::risk::{RiskOptions, RiskThreshold};
/// use deidentify::{Node, RiskAnalysis, Ruleset};
///
/// let loaded = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())?.load()?;
/// // The risk of the data as it is (every quasi-identifier at level 0).
/// let node = Node::bottom(loaded.dataset.quasi_identifiers().len());
/// let table = FrequencyTable::from_dataset(&loaded.dataset, &loaded.hierarchies, &node)?;
/// let options = RiskOptions::new(RiskThreshold::probability(0.2)?);
/// let risk = RiskAnalysis::of_table(&table, None, &options)?;
/// assert_eq!(risk.records, 30_162);
/// assert_eq!(risk.prosecutor.highest_risk, 1.0); // some records are unique
/// assert!(!risk.prosecutor.passes);
/// # Ok::<(), deidentify::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RiskAnalysis {
    /// Released records (suppressed records excluded).
    pub records: u64,
    /// Suppressed records (excluded from every measure).
    pub suppressed: u64,
    /// Equivalence classes of the released records.
    pub classes: usize,
    /// The threshold.
    pub threshold: ThresholdReport,
    /// Fraction of released records that are unique in the sample.
    pub sample_uniques: f64,
    /// Number of sample-unique records.
    pub sample_unique_records: u64,
    /// The prosecutor model: the attacker knows the target is in the data.
    pub prosecutor: AttackerRisk,
    /// The journalist model: the attacker matches against a population.
    pub journalist: AttackerRisk,
    /// What the journalist figures are based on.
    pub journalist_basis: String,
    /// The marketer model: the attacker re-identifies as many records as possible.
    pub marketer: MarketerRisk,
    /// Population uniqueness, when a population is given.
    pub population_uniques: Option<PopulationUniques>,
    /// sdcMicro's individual risk.
    pub individual_risk: IndividualRisk,
    /// `(class size, number of classes)`, by size.
    pub class_sizes: Vec<(u64, u64)>,
    /// Special uniques (SUDA), when computed ([`Suda::of_dataset`]).
    pub suda: Option<Suda>,
    /// The acceptance decision per measure, against the threshold
    /// (prosecutor and journalist: highest risk; marketer and global risk:
    /// average risk; uniqueness: fraction). See [`RiskAnalysis::decisions_with`]
    /// for per-measure thresholds.
    pub decisions: Vec<Decision>,
}

impl RiskAnalysis {
    /// Analyzes the classes of `table`; `suppressed[c]` marks suppressed classes.
    ///
    /// # Errors
    ///
    /// As [`RiskAnalysis::from_class_sizes`]; [`crate::ErrorKind::InvalidParameter`]
    /// when `suppressed` does not have one flag per class.
    pub fn of_table(
        table: &FrequencyTable,
        suppressed: Option<&[bool]>,
        options: &RiskOptions,
    ) -> Result<Self> {
        if let Some(flags) = suppressed
            && flags.len() != table.classes()
        {
            return Err(Error::parameter(
                "suppressed",
                "one flag per class is needed",
            ));
        }
        let is_suppressed = |c: usize| suppressed.is_some_and(|s| s[c]);
        let sizes: Vec<u64> = (0..table.classes())
            .filter(|&c| !is_suppressed(c))
            .map(|c| table.counts()[c])
            .collect();
        let dropped: u64 = (0..table.classes())
            .filter(|&c| is_suppressed(c))
            .map(|c| table.counts()[c])
            .sum();
        let mut analysis = RiskAnalysis::from_class_sizes(&sizes, None, options)?;
        analysis.suppressed = dropped;
        Ok(analysis)
    }

    /// Analyzes the classes of `table` against a population: `population`
    /// gives, for every class of `table` (suppressed ones included), its
    /// size in the population (see [`population_class_sizes`]), so the
    /// journalist and marketer models use the real F_j.
    ///
    /// # Errors
    ///
    /// As [`RiskAnalysis::from_class_sizes`].
    pub fn of_table_against(
        table: &FrequencyTable,
        suppressed: Option<&[bool]>,
        population: &[u64],
        options: &RiskOptions,
    ) -> Result<Self> {
        if population.len() != table.classes()
            || suppressed.is_some_and(|s| s.len() != table.classes())
        {
            return Err(Error::parameter(
                "population",
                "one population size and flag per class is needed",
            ));
        }
        let kept: Vec<usize> = (0..table.classes())
            .filter(|&c| !suppressed.is_some_and(|s| s[c]))
            .collect();
        let sizes: Vec<u64> = kept.iter().map(|&c| table.counts()[c]).collect();
        let population: Vec<u64> = kept.iter().map(|&c| population[c]).collect();
        let mut analysis = RiskAnalysis::from_class_sizes(&sizes, Some(&population), options)?;
        analysis.suppressed = table.rows() - sizes.iter().sum::<u64>();
        Ok(analysis)
    }

    /// Analyzes an anonymized table: the classes at its node, without the
    /// suppressed records.
    ///
    /// # Errors
    ///
    /// As [`RiskAnalysis::of_table`], and node errors.
    pub fn of_anonymized(
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        anonymized: &Anonymized,
        options: &RiskOptions,
    ) -> Result<Self> {
        let table =
            FrequencyTable::from_dataset(dataset, hierarchies, &anonymized.evaluation.node)?;
        let suppressed = anonymized.suppressed_classes(&table, dataset, hierarchies)?;
        RiskAnalysis::of_table(&table, Some(&suppressed), options)
    }

    /// Replaces the individual risk with the weighted one (sdcMicro with
    /// `survey = TRUE`): F̂ of each class is the sum of the sampling weights
    /// in column `weights` (an insensitive column of positive numbers) over its
    /// released records, at `node`; `suppressed_rows` marks records not
    /// released.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::UnknownColumn`] for an unknown column,
    /// [`crate::ErrorKind::InvalidValue`] for a weight that is not a positive
    /// number (naming the row), and node errors.
    pub fn with_sampling_weights(
        mut self,
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        node: &Node,
        suppressed_rows: Option<&[bool]>,
        weights: &str,
    ) -> Result<Self> {
        dataset.attribute(weights)?;
        check_row_flags(suppressed_rows, dataset.rows())?;
        let column = dataset
            .passthrough()
            .column(weights)
            .and_then(|c| c.str().cloned())
            .map_err(|_| {
                Error::parameter(
                    "weights",
                    format!(
                        "'{weights}' must be an insensitive column holding the sampling weights"
                    ),
                )
            })?;
        let table = FrequencyTable::from_dataset(dataset, hierarchies, node)?;
        let mut sums = vec![0.0f64; table.classes()];
        let mut released = vec![false; table.classes()];
        for (row, class) in table
            .row_classes(dataset, hierarchies)?
            .into_iter()
            .enumerate()
        {
            if suppressed_rows.is_some_and(|s| s[row]) {
                continue;
            }
            let text = column.get(row).unwrap_or("");
            let weight = text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|w| w.is_finite() && *w > 0.0)
                .ok_or_else(|| ErrorKind::InvalidValue {
                    column: weights.to_owned(),
                    row: row + 1,
                    value: text.to_owned(),
                    expected: "positive sampling weight".to_owned(),
                })?;
            sums[class] += weight;
            released[class] = true;
        }
        let (sizes, sums): (Vec<u64>, Vec<f64>) = (0..table.classes())
            .filter(|&c| released[c])
            .map(|c| (table.counts()[c], sums[c]))
            .unzip();
        self.individual_risk = IndividualRisk::new(&sizes, Some(&sums));
        Ok(self.decide())
    }

    /// The acceptance decisions with a threshold per measure; measures not in
    /// `thresholds` use the analysis's threshold.
    pub fn decisions_with(
        &self,
        thresholds: &std::collections::BTreeMap<String, f64>,
    ) -> Vec<Decision> {
        let mut measures = vec![
            ("prosecutor", self.prosecutor.highest_risk),
            ("journalist", self.journalist.highest_risk),
            ("marketer", self.marketer.success_rate),
            ("sample_uniques", self.sample_uniques),
            ("global_risk", self.individual_risk.global_risk),
        ];
        if let Some(p) = &self.population_uniques {
            measures.push(("population_uniques", p.dankar));
        }
        measures
            .into_iter()
            .map(|(measure, value)| {
                let threshold = thresholds
                    .get(measure)
                    .copied()
                    .unwrap_or(self.threshold.probability);
                Decision {
                    measure: measure.to_owned(),
                    value,
                    threshold,
                    passes: value <= threshold,
                }
            })
            .collect()
    }

    /// Recomputes [`RiskAnalysis::decisions`] (after the individual risk or
    /// population estimates changed).
    fn decide(mut self) -> Self {
        self.decisions = self.decisions_with(&Default::default());
        self
    }

    /// Analyzes released classes of the given sizes; `population_sizes`, when
    /// known, are the sizes F_j of the same classes in the population.
    ///
    /// Without population sizes the journalist risk equals the prosecutor
    /// risk (a conservative upper bound, as ARX reports it) and the marketer
    /// risk is u/n.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for population sizes that do
    /// not match the classes or are smaller than them, for a class of size
    /// 0, for a threshold out of range, and for an invalid population.
    pub fn from_class_sizes(
        sizes: &[u64],
        population_sizes: Option<&[u64]>,
        options: &RiskOptions,
    ) -> Result<Self> {
        if let Some(population) = population_sizes
            && (population.len() != sizes.len() || population.iter().zip(sizes).any(|(p, s)| p < s))
        {
            return Err(Error::parameter(
                "population_sizes",
                "one population size per class, each at least the class size, is needed",
            ));
        }
        let t = options.threshold.checked()?.as_probability();
        if let Some(empty) = sizes.iter().position(|&s| s == 0) {
            return Err(Error::parameter(
                "sizes",
                format!("class {empty} has size 0; every class has at least one record"),
            ));
        }
        let n: u64 = sizes.iter().sum();
        let histogram = {
            let mut sorted = sizes.to_vec();
            sorted.sort_unstable();
            size_histogram(&sorted)
        };
        let uniques = histogram.iter().find(|e| e.0 == 1).map_or(0, |e| e.1);
        let prosecutor = AttackerRisk::new(sizes, sizes, t);
        let (journalist, basis, marketer) = match population_sizes {
            Some(population) => (
                AttackerRisk::new(sizes, population, t),
                "population class sizes supplied".to_owned(),
                MarketerRisk::new(sizes, population, t),
            ),
            None => (
                prosecutor.clone(),
                "no population table: journalist risk equals prosecutor risk (conservative upper bound)".to_owned(),
                MarketerRisk::new(sizes, sizes, t),
            ),
        };
        let population_uniques = options
            .population
            .map(|p| -> Result<PopulationUniques> {
                let size = p.size(n)?;
                let estimate = zayatz(&histogram, n, size);
                let pitman = pitman_or_zero(&histogram, n, size);
                let snb_fit = snb(&histogram, n, size);
                let (dankar_uniques, dankar_model) = dankar(&histogram, n, size);
                Ok(PopulationUniques {
                    population: size,
                    sampling_fraction: n as f64 / size,
                    zayatz: estimate / size,
                    zayatz_uniques: estimate,
                    pitman: pitman.map(|p| p / size),
                    pitman_uniques: pitman,
                    snb: if uniques == 0 {
                        Some(0.0)
                    } else {
                        snb_fit.map(|s| s.uniques / size)
                    },
                    snb_fit,
                    dankar: dankar_uniques / size,
                    dankar_model,
                })
            })
            .transpose()?;
        Ok(RiskAnalysis {
            records: n,
            suppressed: 0,
            classes: sizes.len(),
            threshold: ThresholdReport {
                probability: t,
                k: options.threshold.as_class_size(),
            },
            sample_uniques: if n == 0 {
                0.0
            } else {
                uniques as f64 / n as f64
            },
            sample_unique_records: uniques,
            prosecutor,
            journalist,
            journalist_basis: basis,
            marketer,
            population_uniques,
            individual_risk: IndividualRisk::new(sizes, None),
            class_sizes: histogram,
            suda: None,
            decisions: Vec::new(),
        }
        .decide())
    }
}

/// Checks that `flags` (suppressed rows), when given, has one flag per row.
pub(crate) fn check_row_flags(flags: Option<&[bool]>, rows: usize) -> Result<()> {
    match flags {
        Some(flags) if flags.len() != rows => Err(Error::parameter(
            "suppressed_rows",
            format!("{} flags for a table of {rows} rows", flags.len()),
        )),
        _ => Ok(()),
    }
}
