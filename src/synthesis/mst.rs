//! MST (McKenna, Miklau and Sheldon 2021): noisy one-way marginals, a
//! maximum spanning tree of attribute pairs chosen by the exponential
//! mechanism, noisy two-way marginals on its edges, a consistent tree model
//! fitted to them, and records sampled from it
//! ([§8.5](crate::methods#85-differentially-private-synthetic-data-mst)).
//!
//! With a conditioning attribute, the records are split into strata by its
//! value and every marginal is measured within each stratum (the strata's
//! tables stacked into one histogram, which one record changes in one
//! cell: the same cost as one table); the tree and the merged domains are
//! shared, each stratum gets its own tables. With none there is one
//! stratum and this is MST as published.
//!
//! Every step that reads the data is a zCDP mechanism spent from one
//! [`ZcdpBudget`]: the Gaussian measurements by the exact discrete
//! Gaussian ([`gaussian_histogram`]), the choices by the exact
//! [`exponential_mechanism`] (ε-DP, hence ε²/8-zCDP). The rest reads only
//! the noisy measurements (post-processing).

use rand::{Rng, RngExt};
use rayon::prelude::*;

use super::allot::allot;
use crate::error::{Error, Result};
use crate::noise::mechanism::exact_rational;
use crate::noise::{
    ZcdpBudget, epsilon_within, exponential_mechanism, gaussian_histogram, histogram_variance,
};

/// Fixed-point units per count of the selection score (its sensitivity is
/// one count, so `SCORE_UNITS` units).
const SCORE_UNITS: f64 = 1024.0;

/// Iterations of the projection of an edge table onto its marginals.
const PROJECTION_ROUNDS: usize = 400;

/// How one attribute's values were merged after the one-way measurement:
/// values measured below 3σ share one bin.
#[derive(Clone, Debug)]
pub(crate) struct Compression {
    /// The merged code of every value of the domain.
    pub code_of: Vec<u32>,
    /// The values of every merged code.
    pub members: Vec<Vec<u32>>,
}

/// A noisy measurement and the variance of each of its cells.
#[derive(Clone, Debug)]
struct Measured {
    values: Vec<f64>,
    variance: Vec<f64>,
}

/// The model of one stratum: its number of records, every attribute's
/// marginal, and every edge's table (rows: the edge's first attribute),
/// in the order of [`Model::edges`].
#[derive(Clone, Debug)]
struct Stratum {
    total: f64,
    marginals: Vec<Vec<f64>>,
    tables: Vec<Vec<f64>>,
}

/// The fitted model: per attribute its merged domain, the tree's edges,
/// per stratum its marginals and tables, and what was spent where.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub compressions: Vec<Compression>,
    /// The tree's edges (pairs of attribute indices).
    pub edges: Vec<(usize, usize)>,
    strata: Vec<Stratum>,
    /// The estimated number of records.
    pub total: f64,
    /// ρ of the one-way measurements, the selection and the two-way
    /// measurements.
    pub rho_split: [f64; 3],
    /// Every noisy measurement as drawn, with the attributes it counts
    /// (one-way over the full domain, two-way over the merged ones, each
    /// stratum's table after the other's) and the ρ it spent.
    /// (Read by the tests of the noise's variance.)
    #[cfg_attr(not(test), allow(dead_code))]
    pub measurements: Vec<(Vec<usize>, f64, Vec<i128>)>,
}

/// ρ/`parts`, rounded down so that `parts` shares never exceed ρ.
fn share(rho: f64, parts: usize) -> f64 {
    (rho / parts as f64).next_down()
}

/// Fits MST to `columns` (codes into domains of `sizes`), each record in
/// stratum `strata[row]` of `k` (all 0 and `k` = 1 for plain MST),
/// spending all of `budget`.
pub(crate) fn fit<R: Rng + ?Sized>(
    columns: &[Vec<u32>],
    sizes: &[usize],
    strata: &[u32],
    k: usize,
    budget: &mut ZcdpBudget,
    rng: &mut R,
) -> Result<Model> {
    let d = columns.len();
    if d == 0 {
        return Err(Error::parameter("attributes", "nothing to synthesize"));
    }
    let rho = budget.total();
    let rho_split = if d == 1 {
        [rho, 0.0, 0.0]
    } else {
        let third = share(rho, 3);
        [third, third, third]
    };
    // One-way marginals, ρ/3 shared by the d attributes.
    let rho_one = share(rho_split[0], d);
    let sigma2_one = histogram_variance(rho_one)?;
    let mut compressions = Vec::with_capacity(d);
    let mut one_way = Vec::with_capacity(d);
    let mut measurements = Vec::new();
    for (i, (column, &size)) in columns.iter().zip(sizes).enumerate() {
        let table = stratified_counts(column, size, strata, k);
        let noisy = gaussian_histogram(rng, &table, rho_one, budget)?;
        let (compression, measured) = compress(&noisy, size, k, sigma2_one);
        measurements.push((vec![i], rho_one, noisy));
        compressions.push(compression);
        one_way.push(measured);
    }
    let merged: Vec<Vec<u32>> = columns
        .par_iter()
        .zip(&compressions)
        .map(|(column, c)| column.iter().map(|&v| c.code_of[v as usize]).collect())
        .collect();
    let merged_sizes: Vec<usize> = compressions.iter().map(|c| c.members.len()).collect();
    // The tree, chosen with ρ/3; its edges measured with ρ/3.
    let mut edges = Vec::new();
    let mut two_way: Vec<Vec<Measured>> = Vec::new();
    if d > 1 {
        let stratified = Stratified {
            merged: &merged,
            sizes: &merged_sizes,
            strata,
            k,
        };
        edges = select(&stratified, &one_way, rho_split[1], budget, rng)?;
        let rho_two = share(rho_split[2], edges.len());
        let sigma2_two = histogram_variance(rho_two)?;
        for &(a, b) in &edges {
            let table = stratified.pair_counts(a, b);
            let noisy = gaussian_histogram(rng, &table, rho_two, budget)?;
            let cells = merged_sizes[a] * merged_sizes[b];
            two_way.push(
                noisy
                    .chunks(cells)
                    .map(|chunk| Measured {
                        values: chunk.iter().map(|&v| v as f64).collect(),
                        variance: vec![sigma2_two; cells],
                    })
                    .collect(),
            );
            measurements.push((vec![a, b], rho_two, noisy));
        }
    }
    let strata_models: Vec<Stratum> = (0..k)
        .into_par_iter()
        .map(|t| {
            let one: Vec<&Measured> = one_way.iter().map(|m| &m[t]).collect();
            let two: Vec<&Measured> = two_way.iter().map(|m| &m[t]).collect();
            estimate(&one, &edges, &two, &merged_sizes)
        })
        .collect();
    Ok(Model {
        compressions,
        total: strata_models.iter().map(|s| s.total).sum(),
        edges,
        strata: strata_models,
        rho_split,
        measurements,
    })
}

/// Merged columns with each record's stratum.
struct Stratified<'a> {
    merged: &'a [Vec<u32>],
    sizes: &'a [usize],
    strata: &'a [u32],
    k: usize,
}

impl Stratified<'_> {
    /// Every stratum's table of `a` (rows) by `b` (columns), row-major,
    /// one stratum after the other.
    fn pair_counts(&self, a: usize, b: usize) -> Vec<u64> {
        let (size_a, size_b) = (self.sizes[a], self.sizes[b]);
        let mut table = vec![0u64; self.k * size_a * size_b];
        for ((&x, &y), &t) in self.merged[a].iter().zip(&self.merged[b]).zip(self.strata) {
            table[(t as usize * size_a + x as usize) * size_b + y as usize] += 1;
        }
        table
    }
}

/// Every stratum's counts of `column`, one stratum after the other.
fn stratified_counts(column: &[u32], size: usize, strata: &[u32], k: usize) -> Vec<u64> {
    let mut counts = vec![0u64; k * size];
    for (&v, &t) in column.iter().zip(strata) {
        counts[t as usize * size + v as usize] += 1;
    }
    counts
}

/// Merges the values whose noisy count (summed over the `k` strata)
/// lies below 3σ√k into one bin (the last); each stratum's measurement of
/// it is the sum of theirs.
fn compress(noisy: &[i128], size: usize, k: usize, sigma2: f64) -> (Compression, Vec<Measured>) {
    let threshold = 3.0 * (sigma2 * k as f64).sqrt();
    let mut code_of = vec![0u32; size];
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut rare = Vec::new();
    for v in 0..size {
        let sum: f64 = (0..k).map(|t| noisy[t * size + v] as f64).sum();
        if sum >= threshold {
            code_of[v] = members.len() as u32;
            members.push(vec![v as u32]);
        } else {
            rare.push(v as u32);
        }
    }
    if !rare.is_empty() {
        for &v in &rare {
            code_of[v as usize] = members.len() as u32;
        }
        members.push(rare);
    }
    let measured = (0..k)
        .map(|t| {
            let stratum = &noisy[t * size..(t + 1) * size];
            Measured {
                values: members
                    .iter()
                    .map(|m| m.iter().map(|&v| stratum[v as usize] as f64).sum())
                    .collect(),
                variance: members.iter().map(|m| sigma2 * m.len() as f64).collect(),
            }
        })
        .collect();
    (Compression { code_of, members }, measured)
}

/// The inverse-variance weighted mean of estimates `(value, variance)`.
fn combine(estimates: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (value, variance) in estimates {
        num += value / variance;
        den += 1.0 / variance;
    }
    num / den
}

/// The Euclidean projection of `v` onto `{x ≥ 0, Σx = total}`.
fn project_simplex(v: &[f64], total: f64) -> Vec<f64> {
    let mut sorted = v.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut cumulative = 0.0;
    let mut theta = 0.0;
    for (i, &u) in sorted.iter().enumerate() {
        cumulative += u;
        let t = (cumulative - total) / (i + 1) as f64;
        if u - t > 0.0 {
            theta = t;
        }
    }
    v.iter().map(|&x| (x - theta).max(0.0)).collect()
}

/// A stratum's number of records: the inverse-variance weighted mean of
/// its measurements' sums.
fn stratum_total<'a>(measured: impl Iterator<Item = &'a Measured>) -> f64 {
    combine(measured.map(|m| (m.values.iter().sum::<f64>(), m.variance.iter().sum::<f64>())))
        .max(1.0)
}

/// The exponential mechanism's choice of r − 1 edges joining the r
/// attributes into a tree (Kruskal's order, each round among the pairs
/// that join two components), scoring a pair by the L1 distance between
/// its true two-way marginals (in every stratum) and those the one-way
/// measurements imply.
fn select<R: Rng + ?Sized>(
    data: &Stratified<'_>,
    one_way: &[Vec<Measured>],
    rho: f64,
    budget: &mut ZcdpBudget,
    rng: &mut R,
) -> Result<Vec<(usize, usize)>> {
    let d = data.merged.len();
    let sizes = data.sizes;
    let totals: Vec<f64> = (0..data.k)
        .map(|t| stratum_total(one_way.iter().map(|m| &m[t])))
        .collect();
    // independent[a][t]: attribute a's projected marginal in stratum t.
    let independent: Vec<Vec<Vec<f64>>> = one_way
        .iter()
        .map(|m| {
            m.iter()
                .zip(&totals)
                .map(|(m, &total)| project_simplex(&m.values, total))
                .collect()
        })
        .collect();
    let pairs: Vec<(usize, usize)> = (0..d)
        .flat_map(|a| (a + 1..d).map(move |b| (a, b)))
        .collect();
    let scores: Vec<u128> = pairs
        .par_iter()
        .map(|&(a, b)| {
            let table = data.pair_counts(a, b);
            let cells = sizes[a] * sizes[b];
            let mut l1 = 0.0;
            for (t, &total) in totals.iter().enumerate() {
                let stratum = &table[t * cells..(t + 1) * cells];
                for (i, &pa) in independent[a][t].iter().enumerate() {
                    for (j, &pb) in independent[b][t].iter().enumerate() {
                        l1 += (stratum[i * sizes[b] + j] as f64 - pa * pb / total).abs();
                    }
                }
            }
            (l1 * SCORE_UNITS).floor() as u128
        })
        .collect();
    let rounds = d - 1;
    let rho_round = share(rho, rounds);
    // ε-DP is ε²/8-zCDP: the largest ε whose ε²/8 fits the round's share.
    let epsilon = epsilon_within(rho_round);
    // Probability ∝ exp(ε·score/(2Δ)), Δ = SCORE_UNITS units.
    let per_unit = exact_rational(epsilon / (2.0 * SCORE_UNITS))?;
    let mut parent: Vec<usize> = (0..d).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut chosen = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let candidates: Vec<usize> = (0..pairs.len())
            .filter(|&p| find(&mut parent, pairs[p].0) != find(&mut parent, pairs[p].1))
            .collect();
        let best = candidates.iter().map(|&p| scores[p]).max().unwrap_or(0);
        let losses: Vec<u128> = candidates.iter().map(|&p| best - scores[p]).collect();
        budget.spend(epsilon * epsilon / 8.0)?;
        let pick = candidates[exponential_mechanism(rng, &losses, per_unit)?];
        let (a, b) = pairs[pick];
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        parent[ra] = rb;
        chosen.push((a, b));
    }
    Ok(chosen)
}

/// The model one stratum's measurements imply: its total, every
/// attribute's marginal (its one-way measurement and the sums of its
/// edges' tables, weighed by their variances, projected onto the
/// simplex), and every edge's table as the nearest non-negative table with
/// those marginals (Dykstra's alternating projections).
fn estimate(
    one_way: &[&Measured],
    edges: &[(usize, usize)],
    two_way: &[&Measured],
    sizes: &[usize],
) -> Stratum {
    let total = stratum_total(one_way.iter().chain(two_way).copied());
    let marginals: Vec<Vec<f64>> = (0..one_way.len())
        .map(|i| {
            let cells = (0..sizes[i])
                .map(|v| {
                    let own = (one_way[i].values[v], one_way[i].variance[v]);
                    let from_edges = edges.iter().zip(two_way).filter_map(|(&(a, b), m)| {
                        if a == i {
                            let row = &m.values[v * sizes[b]..(v + 1) * sizes[b]];
                            Some((row.iter().sum::<f64>(), m.variance[0] * sizes[b] as f64))
                        } else if b == i {
                            let column = (0..sizes[a]).map(|r| m.values[r * sizes[i] + v]);
                            Some((column.sum::<f64>(), m.variance[0] * sizes[a] as f64))
                        } else {
                            None
                        }
                    });
                    combine(std::iter::once(own).chain(from_edges))
                })
                .collect::<Vec<f64>>();
            project_simplex(&cells, total)
        })
        .collect();
    let tables = edges
        .iter()
        .zip(two_way)
        .map(|(&(a, b), m)| nearest_table(&m.values, &marginals[a], &marginals[b]))
        .collect();
    Stratum {
        total,
        marginals,
        tables,
    }
}

/// The non-negative table nearest `noisy` (L2) with row sums `rows` and
/// column sums `columns` (equal totals), by Dykstra's algorithm between the
/// affine set of those sums and the non-negative orthant.
fn nearest_table(noisy: &[f64], rows: &[f64], columns: &[f64]) -> Vec<f64> {
    let (n, m) = (rows.len(), columns.len());
    let mut x = noisy.to_vec();
    let mut p = vec![0.0; x.len()];
    let mut q = vec![0.0; x.len()];
    let mut z = vec![0.0; x.len()];
    for _ in 0..PROJECTION_ROUNDS {
        // z = P_affine(x + p)
        for i in 0..x.len() {
            z[i] = x[i] + p[i];
        }
        let row_gap: Vec<f64> = (0..n)
            .map(|r| rows[r] - z[r * m..(r + 1) * m].iter().sum::<f64>())
            .collect();
        let column_gap: Vec<f64> = (0..m)
            .map(|c| columns[c] - (0..n).map(|r| z[r * m + c]).sum::<f64>())
            .collect();
        let s: f64 = row_gap.iter().sum();
        for r in 0..n {
            for c in 0..m {
                z[r * m + c] +=
                    row_gap[r] / m as f64 + column_gap[c] / n as f64 - s / (n * m) as f64;
            }
        }
        let mut moved = 0.0f64;
        for i in 0..x.len() {
            p[i] += x[i] - z[i];
            let next = (z[i] + q[i]).max(0.0);
            q[i] += z[i] - next;
            moved = moved.max((next - x[i]).abs());
            x[i] = next;
        }
        if moved < 1e-6 {
            break;
        }
    }
    x
}

impl Model {
    /// `rows` records sampled from the model: their strata allotted in
    /// proportion to the strata's totals, then within each stratum the
    /// tree walked breadth first from attribute 0: the root's values
    /// allotted in proportion to its marginal, each further attribute's
    /// within every group of records sharing its parent's value in
    /// proportion to the edge's row (whole counts, remainders by weighted
    /// draws, shuffled); each merged bin expanded to one of its values
    /// uniformly. Returns every record's stratum and the codes in the
    /// original domains, one column per attribute.
    pub(crate) fn sample<R: Rng + ?Sized>(
        &self,
        rows: usize,
        rng: &mut R,
    ) -> (Vec<u32>, Vec<Vec<u32>>) {
        let totals: Vec<f64> = self.strata.iter().map(|s| s.total).collect();
        let strata = allot(&totals, rows, rng);
        let d = self.compressions.len();
        let mut columns = vec![vec![0u32; rows]; d];
        for (t, stratum) in self.strata.iter().enumerate() {
            let members: Vec<usize> = (0..rows).filter(|&r| strata[r] as usize == t).collect();
            if members.is_empty() {
                continue;
            }
            let merged = stratum.sample(&self.edges, members.len(), rng);
            for ((column, codes), compression) in
                columns.iter_mut().zip(merged).zip(&self.compressions)
            {
                for (&row, c) in members.iter().zip(codes) {
                    let values = &compression.members[c as usize];
                    column[row] = if values.len() == 1 {
                        values[0]
                    } else {
                        values[rng.random_range(0..values.len())]
                    };
                }
            }
        }
        (strata, columns)
    }
}

impl Stratum {
    /// `rows` records of this stratum in the merged domains.
    fn sample<R: Rng + ?Sized>(
        &self,
        edges: &[(usize, usize)],
        rows: usize,
        rng: &mut R,
    ) -> Vec<Vec<u32>> {
        let d = self.marginals.len();
        let mut merged: Vec<Option<Vec<u32>>> = vec![None; d];
        // Breadth-first from attribute 0 over the tree (a forest when an
        // attribute is alone: each component starts from its marginal).
        for root in 0..d {
            if merged[root].is_some() {
                continue;
            }
            merged[root] = Some(allot(&self.marginals[root], rows, rng));
            let mut queue = vec![root];
            while let Some(parent) = queue.pop() {
                for (e, &(a, b)) in edges.iter().enumerate() {
                    let (child, by_row) = if a == parent {
                        (b, true)
                    } else if b == parent {
                        (a, false)
                    } else {
                        continue;
                    };
                    if merged[child].is_some() {
                        continue;
                    }
                    let parent_codes = merged[parent].as_ref().expect("sampled");
                    let codes = self.sample_child(e, (a, b), by_row, parent_codes, child, rng);
                    merged[child] = Some(codes);
                    queue.push(child);
                }
            }
        }
        merged
            .into_iter()
            .map(|codes| codes.expect("every attribute sampled"))
            .collect()
    }

    fn sample_child<R: Rng + ?Sized>(
        &self,
        edge: usize,
        (a, b): (usize, usize),
        by_row: bool,
        parent_codes: &[u32],
        child: usize,
        rng: &mut R,
    ) -> Vec<u32> {
        let table = &self.tables[edge];
        let parent_size = self.marginals[if by_row { a } else { b }].len();
        let child_size = self.marginals[child].len();
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); parent_size];
        for (row, &v) in parent_codes.iter().enumerate() {
            groups[v as usize].push(row);
        }
        let mut out = vec![0u32; parent_codes.len()];
        for (v, group) in groups.iter().enumerate() {
            if group.is_empty() {
                continue;
            }
            let mut weights: Vec<f64> = (0..child_size)
                .map(|c| {
                    if by_row {
                        table[v * child_size + c]
                    } else {
                        table[c * parent_size + v]
                    }
                })
                .collect();
            if weights.iter().sum::<f64>() <= 0.0 {
                weights.clone_from(&self.marginals[child]);
            }
            for (&row, code) in group.iter().zip(allot(&weights, group.len(), rng)) {
                out[row] = code;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn counts(column: &[u32], size: usize) -> Vec<u64> {
        let mut counts = vec![0u64; size];
        for &v in column {
            counts[v as usize] += 1;
        }
        counts
    }

    /// The table of `a` (rows) by `b` (columns), row-major.
    fn pair_counts(a: &[u32], b: &[u32], size_b: usize, size_a: usize) -> Vec<u64> {
        let mut table = vec![0u64; size_a * size_b];
        for (&x, &y) in a.iter().zip(b) {
            table[x as usize * size_b + y as usize] += 1;
        }
        table
    }

    #[test]
    fn the_measurements_have_the_calibrated_variance() {
        // Two attributes: 6,000 values (a fifth of them used, 50 records each)
        // and 3. The
        // one-way measurements get ρ/6 each (σ² = 3/ρ), the single edge
        // ρ/3 (σ² = 3/(2ρ)); their noise (noisy − true count) must fit the
        // discrete Gaussian of that variance.
        let mut rng = StdRng::seed_from_u64(5);
        let n = 60_000;
        let a: Vec<u32> = (0..n).map(|i| (i * 7 % 1200) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let rho = 0.06;
        let mut budget = ZcdpBudget::new(rho).unwrap();
        let strata = vec![0u32; n];
        let model = fit(
            &[a.clone(), b.clone()],
            &[6000, 3],
            &strata,
            1,
            &mut budget,
            &mut rng,
        )
        .unwrap();
        assert_eq!(model.measurements.len(), 3);
        let (attrs, rho_a, noisy) = &model.measurements[0];
        assert_eq!(attrs, &[0]);
        assert!((rho_a - rho / 6.0).abs() < 1e-15);
        let truth = counts(&a, 6000);
        let noise: Vec<i128> = noisy
            .iter()
            .zip(&truth)
            .map(|(y, &c)| y - i128::from(c))
            .collect();
        crate::noise::fit::Reference::discrete_gaussian(3.0 / rho)
            .of(format_args!("MST one-way noise"))
            .assert_fits(&noise);
        let (attrs, rho_e, noisy) = &model.measurements[2];
        assert_eq!(attrs, &[0, 1]);
        assert!((rho_e - rho / 3.0).abs() < 1e-15);
        let c = &model.compressions;
        let merged_a: Vec<u32> = a.iter().map(|&v| c[0].code_of[v as usize]).collect();
        let merged_b: Vec<u32> = b.iter().map(|&v| c[1].code_of[v as usize]).collect();
        let truth = pair_counts(&merged_a, &merged_b, c[1].members.len(), c[0].members.len());
        assert_eq!(noisy.len(), truth.len());
        // Enough cells for the fit: 1,200 used values × 3.
        assert!(truth.len() >= 3000, "{}", truth.len());
        let noise: Vec<i128> = noisy
            .iter()
            .zip(&truth)
            .map(|(y, &c)| y - i128::from(c))
            .collect();
        crate::noise::fit::Reference::discrete_gaussian(3.0 / (2.0 * rho))
            .of(format_args!("MST two-way noise"))
            .assert_fits(&noise);
        // The whole budget is spent, never more.
        let spent: f64 = budget.spent().iter().sum();
        assert!(spent <= rho && spent > rho * (1.0 - 1e-9), "{spent}");
    }

    #[test]
    fn strata_share_the_merged_domain_and_keep_their_own_measurements() {
        // Two strata, σ² = 4: a value is rare when its two noisy counts sum
        // below 3·√(4·2) ≈ 8.49.
        let noisy = [5, 1, 0, 9, /* stratum 1 */ 6, 2, 3, -1];
        let (c, m) = compress(&noisy, 4, 2, 4.0);
        // Sums 11, 3, 3, 8: value 0 kept, 1–3 merged.
        assert_eq!(c.code_of, [0, 1, 1, 1]);
        assert_eq!(m[0].values, [5.0, 10.0]);
        assert_eq!(m[1].values, [6.0, 4.0]);
        assert_eq!(m[1].variance, [4.0, 12.0]);
        // Stratified counts: one stratum after the other.
        assert_eq!(
            stratified_counts(&[0, 1, 1, 0], 2, &[0, 0, 1, 1], 2),
            [1, 1, 1, 1]
        );
        assert_eq!(
            stratified_counts(&[0, 1, 1, 0], 2, &[1, 1, 1, 1], 2),
            [0, 0, 2, 2]
        );
    }

    #[test]
    fn a_strong_dependence_on_the_condition_is_kept() {
        // b equals the stratum; a is independent. Conditioned, every
        // sampled record keeps b = stratum (the model's b marginal within
        // each stratum is measured, not inferred).
        let mut rng = StdRng::seed_from_u64(8);
        let n = 20_000;
        let strata: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
        let a: Vec<u32> = (0..n).map(|i| (i / 2 % 5) as u32).collect();
        let b = strata.clone();
        let mut budget = ZcdpBudget::new(1.0).unwrap();
        let model = fit(&[a, b], &[5, 2], &strata, 2, &mut budget, &mut rng).unwrap();
        let (sampled_strata, columns) = model.sample(5000, &mut rng);
        let agree = sampled_strata
            .iter()
            .zip(&columns[1])
            .filter(|(s, b)| s == b)
            .count();
        assert!(agree > 4950, "{agree}");
        let ones = sampled_strata.iter().filter(|&&s| s == 1).count();
        assert!((2400..=2600).contains(&ones), "{ones}");
    }

    #[test]
    fn the_simplex_projection_keeps_the_total_and_clips() {
        let p = project_simplex(&[5.0, -1.0, 3.0], 6.0);
        // θ = 1: [4, 0, 2].
        assert_eq!(p, [4.0, 0.0, 2.0]);
        let p = project_simplex(&[1.0, 1.0], 4.0);
        assert_eq!(p, [2.0, 2.0]);
    }

    #[test]
    fn the_nearest_table_meets_its_marginals_and_is_non_negative() {
        // Noisy 2 × 3 table with a negative cell; marginals 10/20 and 5/10/15.
        let noisy = [4.0, -2.0, 6.0, 1.0, 12.0, 9.0];
        let x = nearest_table(&noisy, &[10.0, 20.0], &[5.0, 10.0, 15.0]);
        assert!(x.iter().all(|&v| v >= 0.0));
        for (r, want) in [10.0, 20.0].iter().enumerate() {
            assert!((x[r * 3..r * 3 + 3].iter().sum::<f64>() - want).abs() < 1e-4);
        }
        for (c, want) in [5.0, 10.0, 15.0].iter().enumerate() {
            assert!((x[c] + x[3 + c] - want).abs() < 1e-4);
        }
        // A table that already fits is its own nearest.
        let fits = [1.0, 4.0, 5.0, 4.0, 6.0, 10.0];
        let y = nearest_table(&fits, &[10.0, 20.0], &[5.0, 10.0, 15.0]);
        for (a, b) in fits.iter().zip(&y) {
            assert!((a - b).abs() < 1e-9);
        }
    }

    #[test]
    fn compression_merges_values_below_three_sigma() {
        // σ² = 4: threshold 6.
        let (c, m) = compress(&[100, 3, 7, -2], 4, 1, 4.0);
        let m = &m[0];
        assert_eq!(c.code_of, [0, 2, 1, 2]);
        assert_eq!(c.members, [vec![0], vec![2], vec![1, 3]]);
        assert_eq!(m.values, [100.0, 7.0, 1.0]);
        assert_eq!(m.variance, [4.0, 4.0, 8.0]);
    }
}
