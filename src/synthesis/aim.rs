//! AIM (McKenna, Mullins, Sheldon and Miklau, "AIM: An Adaptive and
//! Iterative Mechanism for Differentially Private Synthetic Data", VLDB
//! 2022), as its authors' code and smartnoise-synth run it
//! ([§8.6](crate::methods#86-differentially-private-synthetic-data-aim)).
//!
//! The workload is every pair of attributes whose table has at most
//! [`AimOptions::max_cells`] cells; the candidates are its downward closure
//! (pairs and single attributes), each weighted by how many workload
//! attributes it shares. All one-way marginals are measured first; then,
//! round after round, the exponential mechanism picks the candidate the
//! current model approximates worst (its L1 error less the error noise
//! alone would leave, times its weight), among those that keep the
//! junction tree within the model size allowed so far; the pick is
//! measured with Gaussian noise and the model re-estimated (Private-PGM,
//! [`super::mirror`]). When a measurement changes the model by less than
//! its noise would, σ halves and the selection's ε doubles; the last round
//! spends what is left. Records are then sampled down the elimination
//! order.
//!
//! Every access to the data is a zCDP mechanism spent from one
//! [`ZcdpBudget`]: the measurements by the exact discrete Gaussian, the
//! selections by the exact exponential mechanism (ε-DP, hence ε²/8-zCDP).

use rand::Rng;
use rustc_hash::FxHashMap;

use super::allot::allot;
use super::factor::{cells, contains, union};
use super::junction::model_cells;
use super::mirror::{Fitted, Measurement, estimate};
use crate::error::{Error, Result};
use crate::noise::mechanism::exact_rational;
use crate::noise::{
    ZcdpBudget, epsilon_within, exponential_mechanism, gaussian_histogram, histogram_variance,
};

/// Fixed-point units per count of the selection score.
const SCORE_UNITS: f64 = 1024.0;

/// Mirror-descent steps per estimate, at most.
const ITERATIONS: usize = 1000;

/// Relative loss gained over 50 steps below which an estimate stops.
const TOLERANCE: f64 = 1e-7;

/// AIM's parameters (the published defaults by [`AimOptions::default`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AimOptions {
    /// Rounds the budget is first planned for (16 per attribute).
    pub rounds: Option<usize>,
    /// The largest junction tree allowed, in cells (80 MB of 8-byte
    /// cells).
    pub max_model_cells: usize,
    /// Pairs whose table has more cells are left out of the workload.
    pub max_cells: usize,
}

impl Default for AimOptions {
    fn default() -> AimOptions {
        AimOptions {
            rounds: None,
            max_model_cells: 80 * (1 << 20) / 8,
            max_cells: 10_000,
        }
    }
}

/// A fitted AIM model and what it spent.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub fitted: Fitted,
    /// The marginals measured after the one-way ones, in order.
    pub measured: Vec<Vec<usize>>,
    /// ρ of the one-way measurements, the selections and the later
    /// measurements.
    pub rho_split: [f64; 3],
}

/// The exact counts of the marginal over `attrs` (sorted).
fn counts(columns: &[Vec<u32>], sizes: &[usize], attrs: &[usize]) -> Vec<u64> {
    let rows = columns.first().map_or(0, Vec::len);
    let mut index = vec![0usize; rows];
    for &a in attrs {
        for (i, &code) in index.iter_mut().zip(&columns[a]) {
            *i = *i * sizes[a] + code as usize;
        }
    }
    let mut out = vec![0u64; cells(attrs, sizes)];
    for i in index {
        out[i] += 1;
    }
    out
}

/// Measures the marginal over `attrs` with the discrete Gaussian of
/// zCDP `rho` (its σ² rounded up as [`histogram_variance`] rounds it).
fn measure<R: Rng + ?Sized>(
    columns: &[Vec<u32>],
    sizes: &[usize],
    attrs: &[usize],
    rho: f64,
    budget: &mut ZcdpBudget,
    rng: &mut R,
) -> Result<Measurement> {
    let exact = counts(columns, sizes, attrs);
    let noisy = gaussian_histogram(rng, &exact, rho, budget)?;
    Ok(Measurement {
        attrs: attrs.to_vec(),
        values: noisy.iter().map(|&v| v as f64).collect(),
        sigma: histogram_variance(rho)?.sqrt(),
    })
}

/// The candidates: every pair of the workload and every attribute in one,
/// with its weight Σ_w |c ∩ w| over the workload's pairs w.
fn candidates(sizes: &[usize], max_cells: usize) -> Vec<(Vec<usize>, u64)> {
    let d = sizes.len();
    let workload: Vec<Vec<usize>> = (0..d)
        .flat_map(|a| (a + 1..d).map(move |b| vec![a, b]))
        .filter(|w| cells(w, sizes) <= max_cells)
        .collect();
    let mut closure: Vec<Vec<usize>> = workload.clone();
    for w in &workload {
        for &a in w {
            if !closure.contains(&vec![a]) {
                closure.push(vec![a]);
            }
        }
    }
    closure.sort_by_key(|c| (c.len(), c.clone()));
    closure
        .into_iter()
        .map(|c| {
            let weight = workload
                .iter()
                .map(|w| c.iter().filter(|a| w.contains(a)).count() as u64)
                .sum();
            (c, weight)
        })
        .collect()
}

/// Fits AIM to `columns` (codes into domains of `sizes`), spending all of
/// `budget`.
pub(crate) fn fit<R: Rng + ?Sized>(
    columns: &[Vec<u32>],
    sizes: &[usize],
    options: &AimOptions,
    budget: &mut ZcdpBudget,
    rng: &mut R,
) -> Result<Model> {
    let d = columns.len();
    if d == 0 {
        return Err(Error::parameter("attributes", "nothing to synthesize"));
    }
    let rho = budget.total();
    let rounds = options.rounds.unwrap_or(16 * d).max(1) as f64;
    let spent = |budget: &ZcdpBudget| budget.spent().iter().sum::<f64>();
    let mut rho_measure = 0.9 * rho / rounds;
    let mut rho_select = 0.1 * rho / rounds;
    let mut split = [0.0; 3];
    let mut measurements = Vec::with_capacity(d);
    // The one-way marginals, each at the round's measurement share (within
    // ρ: d ≤ rounds).
    let one_way_rho = rho_measure.min(rho / d as f64).next_down();
    for a in 0..d {
        measurements.push(measure(columns, sizes, &[a], one_way_rho, budget, rng)?);
        split[0] += one_way_rho;
    }
    let mut fitted = estimate(sizes, &measurements, None, ITERATIONS, TOLERANCE);
    let candidates = candidates(sizes, options.max_cells);
    let answers: Vec<Vec<u64>> = candidates
        .iter()
        .map(|(c, _)| counts(columns, sizes, c))
        .collect();
    let mut measured = Vec::new();
    let mut last = candidates.is_empty();
    while !last {
        let left = rho - spent(budget);
        if left < 2.0 * (rho_measure + rho_select) {
            // One last round with whatever is left.
            let remaining = left * (1.0 - 1e-9);
            rho_measure = 0.9 * remaining;
            rho_select = 0.1 * remaining;
            last = true;
        }
        let used_after = spent(budget) + rho_measure + rho_select;
        let limit = (options.max_model_cells as f64 * used_after / rho) as usize;
        let sigma = histogram_variance(rho_measure)?.sqrt();
        let free = |c: &[usize]| fitted.cliques.iter().any(|m| contains(m, c));
        let allowed: Vec<usize> = (0..candidates.len())
            .filter(|&i| {
                let c = &candidates[i].0;
                free(c) || {
                    let mut cliques = fitted.cliques.clone();
                    cliques.push(c.clone());
                    model_cells(sizes, &cliques) <= limit
                }
            })
            .collect();
        if allowed.is_empty() {
            break;
        }
        let bias = (2.0 / std::f64::consts::PI).sqrt() * sigma;
        let scores: Vec<i128> = allowed
            .iter()
            .map(|&i| {
                let (c, weight) = &candidates[i];
                let estimate = fitted.marginal(c);
                let l1: f64 = answers[i]
                    .iter()
                    .zip(&estimate)
                    .map(|(&x, &e)| (x as f64 - e).abs())
                    .sum();
                let score = *weight as f64 * (l1 - bias * estimate.len() as f64);
                (score * SCORE_UNITS).floor() as i128
            })
            .collect();
        let best = scores.iter().copied().max().expect("candidates");
        let losses: Vec<u128> = scores.iter().map(|&s| (best - s) as u128).collect();
        let sensitivity = allowed
            .iter()
            .map(|&i| candidates[i].1)
            .max()
            .expect("candidates")
            .max(1);
        let epsilon = epsilon_within(rho_select);
        budget.spend(epsilon * epsilon / 8.0)?;
        split[1] += epsilon * epsilon / 8.0;
        // Probability ∝ exp(ε·score/(2Δ)), Δ = the largest weight, in units.
        let per_unit = exact_rational(epsilon / (2.0 * sensitivity as f64 * SCORE_UNITS))?;
        let pick = allowed[exponential_mechanism(rng, &losses, per_unit)?];
        let chosen = candidates[pick].0.clone();
        let before = fitted.marginal(&chosen);
        measurements.push(measure(columns, sizes, &chosen, rho_measure, budget, rng)?);
        split[2] += rho_measure;
        // From zero potentials, as the reference does: warm starts
        // converge further but fit the noise more at small ε (on Adult at
        // ε = 0.3 the two-way distance was 0.078 warm against 0.073 cold).
        fitted = estimate(sizes, &measurements, None, ITERATIONS, TOLERANCE);
        let after = fitted.marginal(&chosen);
        let moved: f64 = before.iter().zip(&after).map(|(b, a)| (b - a).abs()).sum();
        if moved <= bias * before.len() as f64 {
            // The measurement taught the model little: finer ones.
            rho_measure *= 4.0;
            rho_select *= 4.0;
        }
        measured.push(chosen);
    }
    Ok(Model {
        fitted,
        measured,
        rho_split: split,
    })
}

impl Model {
    /// `rows` records sampled from the model down the reversed elimination
    /// order: each attribute's values allotted within every group of
    /// records that share the values of its already sampled neighbours in
    /// the model, in proportion to the model's conditional distribution
    /// (whole counts, remainders by weighted draws, shuffled). Returns the
    /// codes, one column per attribute.
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rows: usize, rng: &mut R) -> Vec<Vec<u32>> {
        let fitted = &self.fitted;
        let sizes = &fitted.tree.sizes;
        let d = sizes.len();
        let mut columns: Vec<Option<Vec<u32>>> = vec![None; d];
        for &col in fitted.tree.elimination.iter().rev() {
            let neighbours = fitted
                .cliques
                .iter()
                .filter(|c| c.contains(&col))
                .fold(Vec::new(), |acc, c| union(&acc, c));
            let parents: Vec<usize> = neighbours
                .into_iter()
                .filter(|&a| a != col && columns[a].is_some())
                .collect();
            let attrs = union(&parents, &[col]);
            let marginal = fitted.marginal(&attrs);
            if parents.is_empty() {
                columns[col] = Some(allot(&marginal, rows, rng));
                continue;
            }
            // Strides of the marginal's row-major layout.
            let mut strides = vec![0usize; attrs.len()];
            let mut stride = 1;
            for (j, &a) in attrs.iter().enumerate().rev() {
                strides[j] = stride;
                stride *= sizes[a];
            }
            let col_stride = strides[attrs.iter().position(|&a| a == col).expect("col")];
            let mut groups: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
            for r in 0..rows {
                let base: usize = attrs
                    .iter()
                    .zip(&strides)
                    .filter(|&(&a, _)| a != col)
                    .map(|(&a, &s)| columns[a].as_ref().expect("sampled")[r] as usize * s)
                    .sum();
                groups.entry(base).or_default().push(r);
            }
            let mut keys: Vec<usize> = groups.keys().copied().collect();
            keys.sort_unstable();
            let mut out = vec![0u32; rows];
            for base in keys {
                let group = &groups[&base];
                let mut weights: Vec<f64> = (0..sizes[col])
                    .map(|v| marginal[base + v * col_stride])
                    .collect();
                if weights.iter().sum::<f64>() <= 0.0 {
                    weights = fitted.marginal(&[col]);
                }
                for (&r, code) in group.iter().zip(allot(&weights, group.len(), rng)) {
                    out[r] = code;
                }
            }
            columns[col] = Some(out);
        }
        columns
            .into_iter()
            .map(|c| c.expect("every attribute sampled"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn candidates_are_the_workloads_closure_with_its_weights() {
        // Three attributes, the pair (1, 2) (600 cells) too large for the
        // workload.
        let c = candidates(&[2, 3, 200], 500);
        let names: Vec<&Vec<usize>> = c.iter().map(|(c, _)| c).collect();
        assert_eq!(
            names,
            vec![&vec![0], &vec![1], &vec![2], &vec![0, 1], &vec![0, 2]]
        );
        let weights: Vec<u64> = c.iter().map(|(_, w)| *w).collect();
        // {0} is in both pairs; (0, 1) shares 2 with itself and 1 with (0, 2).
        assert_eq!(weights, vec![2, 1, 1, 3, 3]);
    }

    #[test]
    fn the_budget_is_spent_and_a_strong_pair_is_measured() {
        // Attribute 1 copies attribute 0; attribute 2 is independent noise.
        let mut rng = StdRng::seed_from_u64(11);
        let rows = 4000;
        let a: Vec<u32> = (0..rows).map(|_| rng.random_range(0..4)).collect();
        let c: Vec<u32> = (0..rows).map(|_| rng.random_range(0..3)).collect();
        let columns = vec![a.clone(), a, c];
        let sizes = [4, 4, 3];
        let mut budget = ZcdpBudget::new(0.5).expect("ρ");
        let model = fit(
            &columns,
            &sizes,
            &AimOptions::default(),
            &mut budget,
            &mut rng,
        )
        .expect("fits");
        let spent: f64 = budget.spent().iter().sum();
        assert!(spent <= 0.5 && spent > 0.5 * (1.0 - 1e-6), "spent {spent}");
        assert!((model.rho_split.iter().sum::<f64>() - spent).abs() < 1e-12);
        assert!(model.measured.contains(&vec![0, 1]), "{:?}", model.measured);
        let sample = model.sample(1000, &mut rng);
        let agree = (0..1000).filter(|&r| sample[0][r] == sample[1][r]).count();
        assert!(agree > 950, "{agree} of 1000 records keep the copy");
    }
}
