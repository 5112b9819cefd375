//! How useful and how close to the real data a synthetic table is: the
//! total variation distance of its marginals, a classifier trained on it
//! and tested on real records, and the share of records that copy a real
//! one ([§8.5](crate::methods#85-differentially-private-synthetic-data-mst)).

use polars::prelude::DataFrame;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::{
    DecisionTreeClassifier, DecisionTreeClassifierParameters,
};

use super::{SynthesisAttribute, encode};
use crate::error::{Error, Result};

/// What [`evaluate`] measures beyond the marginals.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct UtilityOptions {
    /// The attribute a classifier predicts from the others (none: no
    /// classifier).
    pub target: Option<String>,
    /// Real records the synthesizer did not see, to test the classifiers
    /// on. Without them a fifth of the real records (drawn with `seed`) is
    /// the test set, which the synthesizer did see.
    pub test: Option<DataFrame>,
    /// The seed of that split.
    pub seed: u64,
}

impl UtilityOptions {
    /// Options with a classifier predicting `target`.
    pub fn with_target(mut self, target: impl Into<String>) -> UtilityOptions {
        self.target = Some(target.into());
        self
    }

    /// Options testing the classifiers on `test`.
    pub fn with_test(mut self, test: DataFrame) -> UtilityOptions {
        self.test = Some(test);
        self
    }
}

/// The total variation distance over every marginal of one order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarginalDistance {
    /// How many attributes each marginal spans.
    pub order: usize,
    /// How many marginals (every set of `order` attributes).
    pub marginals: usize,
    /// Their mean distance.
    pub mean: f64,
    /// The largest.
    pub max: f64,
    /// The attributes of the largest.
    pub worst: Vec<String>,
}

/// Accuracy of a classifier trained on real and on synthetic records,
/// both tested on the same real records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierUtility {
    /// The predicted attribute.
    pub target: String,
    /// The classifier.
    pub model: String,
    /// The real records trained on.
    pub train_rows: u64,
    /// The real records tested on.
    pub test_rows: u64,
    /// Whether the synthesizer never saw the test records.
    pub held_out: bool,
    /// Accuracy when trained on the real records.
    pub trained_on_real: f64,
    /// Accuracy when trained on the synthetic records.
    pub trained_on_synthetic: f64,
    /// Accuracy of always predicting the real training records' most
    /// frequent class.
    pub majority: f64,
}

/// A synthetic table measured against the real one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthesisUtility {
    /// The attributes compared.
    pub attributes: Vec<String>,
    /// Real records.
    pub real_rows: u64,
    /// Synthetic records.
    pub synthetic_rows: u64,
    /// Total variation distance (½ Σ |p − q|, 0 identical, 1 disjoint) of
    /// every 1-, 2- and 3-way marginal.
    pub distances: Vec<MarginalDistance>,
    /// The share of synthetic records equal to some real record on every
    /// attribute.
    pub exact_copies: f64,
    /// The classifier comparison, when a target was given.
    pub classifier: Option<ClassifierUtility>,
}

/// Measures `synthetic` against `real` on `attributes` (both read through
/// the same domains, so binned columns are compared by bin).
///
/// # Errors
///
/// As [`super::synthesize`]'s reading of the data, for either table; a
/// target that is not one of the attributes.
pub fn evaluate(
    real: &DataFrame,
    synthetic: &DataFrame,
    attributes: &[SynthesisAttribute],
    options: &UtilityOptions,
) -> Result<SynthesisUtility> {
    let real_codes = encode(real, attributes)?;
    let synthetic_codes = encode(synthetic, attributes)?;
    let sizes: Vec<usize> = attributes.iter().map(|a| a.domain.size()).collect();
    let names: Vec<String> = attributes.iter().map(|a| a.name.clone()).collect();
    let distances = (1..=3.min(attributes.len()))
        .map(|order| marginal_distances(order, &real_codes, &synthetic_codes, &sizes, &names))
        .collect();
    let classifier = match &options.target {
        None => None,
        Some(target) => {
            let target = names.iter().position(|n| n == target).ok_or_else(|| {
                Error::parameter(
                    "target",
                    format!("'{target}' is not one of the synthesized attributes"),
                )
            })?;
            let test = match &options.test {
                Some(test) => Some(encode(test, attributes)?),
                None => None,
            };
            Some(classify(
                target,
                &real_codes,
                &synthetic_codes,
                test.as_deref(),
                &names,
                options.seed,
            )?)
        }
    };
    Ok(SynthesisUtility {
        attributes: names,
        real_rows: real.height() as u64,
        synthetic_rows: synthetic.height() as u64,
        distances,
        exact_copies: exact_copies(&real_codes, &synthetic_codes),
        classifier,
    })
}

/// Every set of `order` attributes, in lexicographic order.
fn subsets(d: usize, order: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(order);
    fn rec(
        start: usize,
        d: usize,
        order: usize,
        current: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if current.len() == order {
            out.push(current.clone());
            return;
        }
        for i in start..d {
            current.push(i);
            rec(i + 1, d, order, current, out);
            current.pop();
        }
    }
    rec(0, d, order, &mut current, &mut out);
    out
}

fn marginal(columns: &[Vec<u32>], set: &[usize], sizes: &[usize]) -> FxHashMap<u64, u64> {
    let mut keys = vec![0u64; columns[0].len()];
    for &a in set {
        for (key, &code) in keys.iter_mut().zip(&columns[a]) {
            *key = *key * sizes[a] as u64 + u64::from(code);
        }
    }
    let mut counts = FxHashMap::default();
    for key in keys {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// ½ Σ |p − q| between the marginals of `set` in two tables.
fn total_variation(
    real: &[Vec<u32>],
    synthetic: &[Vec<u32>],
    set: &[usize],
    sizes: &[usize],
) -> f64 {
    let p = marginal(real, set, sizes);
    let q = marginal(synthetic, set, sizes);
    let (n, m) = (real[0].len() as f64, synthetic[0].len() as f64);
    let mut sum = 0.0;
    for (key, &c) in &p {
        let other = q.get(key).copied().unwrap_or(0) as f64 / m;
        sum += (c as f64 / n - other).abs();
    }
    for (key, &c) in &q {
        if !p.contains_key(key) {
            sum += c as f64 / m;
        }
    }
    sum / 2.0
}

fn marginal_distances(
    order: usize,
    real: &[Vec<u32>],
    synthetic: &[Vec<u32>],
    sizes: &[usize],
    names: &[String],
) -> MarginalDistance {
    let sets = subsets(sizes.len(), order);
    let distances: Vec<f64> = sets
        .par_iter()
        .map(|set| total_variation(real, synthetic, set, sizes))
        .collect();
    let (worst, max) =
        distances.iter().enumerate().fold(
            (0, 0.0f64),
            |(wi, w), (i, &v)| if v > w { (i, v) } else { (wi, w) },
        );
    MarginalDistance {
        order,
        marginals: sets.len(),
        mean: distances.iter().sum::<f64>() / distances.len() as f64,
        max,
        worst: sets[worst].iter().map(|&a| names[a].clone()).collect(),
    }
}

fn rows_of(columns: &[Vec<u32>]) -> impl Iterator<Item = Vec<u32>> + '_ {
    (0..columns[0].len()).map(move |r| columns.iter().map(|c| c[r]).collect())
}

fn exact_copies(real: &[Vec<u32>], synthetic: &[Vec<u32>]) -> f64 {
    let seen: FxHashSet<Vec<u32>> = rows_of(real).collect();
    let copies = rows_of(synthetic).filter(|r| seen.contains(r)).count();
    copies as f64 / synthetic[0].len() as f64
}

/// The rows `rows` of `columns` with every attribute but `target` as a
/// feature (its code in the domain's order), and their target codes.
fn design(
    columns: &[Vec<u32>],
    rows: &[usize],
    target: usize,
) -> Result<(DenseMatrix<f64>, Vec<i32>)> {
    let width = columns.len() - 1;
    let mut values = Vec::with_capacity(rows.len() * width);
    for &row in rows {
        for (a, column) in columns.iter().enumerate() {
            if a != target {
                values.push(f64::from(column[row]));
            }
        }
    }
    let x = DenseMatrix::new(rows.len(), width, values, false)
        .map_err(|e| Error::parameter("classifier", e.to_string()))?;
    let y = rows.iter().map(|&r| columns[target][r] as i32).collect();
    Ok((x, y))
}

/// The depth limit of the decision trees.
const MAX_DEPTH: u16 = 10;

/// The accuracy on `test` of a decision tree trained on `train` (a
/// constant prediction when the training records hold one class).
fn accuracy(
    train: (&DenseMatrix<f64>, &Vec<i32>),
    test: (&DenseMatrix<f64>, &Vec<i32>),
) -> Result<f64> {
    let classes: FxHashSet<i32> = train.1.iter().copied().collect();
    let predicted: Vec<i32> = if classes.len() < 2 {
        vec![train.1.first().copied().unwrap_or(-1); test.1.len()]
    } else {
        let parameters = DecisionTreeClassifierParameters {
            max_depth: Some(MAX_DEPTH),
            min_samples_leaf: 5,
            seed: Some(0),
            ..DecisionTreeClassifierParameters::default()
        };
        let model = DecisionTreeClassifier::fit(train.0, train.1, parameters)
            .map_err(|e| Error::parameter("classifier", e.to_string()))?;
        model
            .predict(test.0)
            .map_err(|e| Error::parameter("classifier", e.to_string()))?
    };
    let right = predicted.iter().zip(test.1).filter(|(a, b)| a == b).count();
    Ok(right as f64 / test.1.len().max(1) as f64)
}

fn classify(
    target: usize,
    real: &[Vec<u32>],
    synthetic: &[Vec<u32>],
    test: Option<&[Vec<u32>]>,
    names: &[String],
    seed: u64,
) -> Result<ClassifierUtility> {
    let all: Vec<usize> = (0..real[0].len()).collect();
    let (train_rows, test_rows, test_columns) = match test {
        Some(test) => (all, (0..test[0].len()).collect::<Vec<_>>(), test),
        None => {
            let mut shuffled = all;
            shuffled.shuffle(&mut StdRng::seed_from_u64(seed));
            let cut = shuffled.len() / 5;
            let test_rows = shuffled[..cut].to_vec();
            (shuffled[cut..].to_vec(), test_rows, real)
        }
    };
    if test_rows.is_empty() || train_rows.is_empty() {
        return Err(Error::parameter(
            "classifier",
            "too few real records to train and test a classifier",
        ));
    }
    let real_train = design(real, &train_rows, target)?;
    let test_set = design(test_columns, &test_rows, target)?;
    let synthetic_rows: Vec<usize> = (0..synthetic[0].len()).collect();
    let synthetic_train = design(synthetic, &synthetic_rows, target)?;
    let mut counts: FxHashMap<i32, usize> = FxHashMap::default();
    for &y in &real_train.1 {
        *counts.entry(y).or_insert(0) += 1;
    }
    let majority_class = counts
        .iter()
        .max_by_key(|&(class, count)| (count, std::cmp::Reverse(*class)))
        .map(|(&c, _)| c)
        .unwrap_or(-1);
    let majority = test_set.1.iter().filter(|&&y| y == majority_class).count() as f64
        / test_set.1.len() as f64;
    Ok(ClassifierUtility {
        target: names[target].clone(),
        model: format!(
            "decision tree (smartcore CART, Gini, depth ≤ {MAX_DEPTH}, leaves ≥ 5), features the codes of the other attributes"
        ),
        train_rows: train_rows.len() as u64,
        test_rows: test_rows.len() as u64,
        held_out: test.is_some(),
        trained_on_real: accuracy((&real_train.0, &real_train.1), (&test_set.0, &test_set.1))?,
        trained_on_synthetic: accuracy(
            (&synthetic_train.0, &synthetic_train.1),
            (&test_set.0, &test_set.1),
        )?,
        majority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_variation_by_hand() {
        // Real a: [0, 0, 1, 1], synthetic a: [0, 1, 1, 1]:
        // ½(|½ − ¼| + |½ − ¾|) = ¼.
        let real = vec![vec![0, 0, 1, 1], vec![0, 1, 0, 1]];
        let synthetic = vec![vec![0, 1, 1, 1], vec![0, 1, 0, 1]];
        let sizes = [2, 2];
        assert_eq!(total_variation(&real, &synthetic, &[0], &sizes), 0.25);
        assert_eq!(total_variation(&real, &synthetic, &[1], &sizes), 0.0);
        // Pairs: real (0,0) (0,1) (1,0) (1,1) each ¼; synthetic (0,0) ¼,
        // (1,1) ½, (1,0) ¼: ½(0 + ¼ + 0 + ¼) = ¼.
        assert_eq!(total_variation(&real, &synthetic, &[0, 1], &sizes), 0.25);
        // Every synthetic row here copies a real one; below, one of two.
        assert_eq!(exact_copies(&real, &synthetic), 1.0);
        let other = vec![vec![0, 1], vec![1, 2]];
        assert_eq!(exact_copies(&real, &other), 0.5);
        assert_eq!(subsets(4, 3).len(), 4);
        assert_eq!(subsets(9, 3).len(), 84);
    }
}
