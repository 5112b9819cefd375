//! MST (McKenna, Miklau and Sheldon 2021): noisy one-way marginals, a
//! maximum spanning tree of attribute pairs chosen by the exponential
//! mechanism, noisy two-way marginals on its edges, a consistent tree model
//! fitted to them, and records sampled from it
//! ([§8.5](crate::methods#85-differentially-private-synthetic-data-mst)).
//!
//! Every step that reads the data is a zCDP mechanism spent from one
//! [`ZcdpBudget`]: the Gaussian measurements by the exact discrete
//! Gaussian ([`gaussian_histogram`]), the choices by the exact
//! [`exponential_mechanism`] (ε-DP, hence ε²/8-zCDP). The rest reads only
//! the noisy measurements (post-processing).

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::noise::mechanism::exact_rational;
use crate::noise::{ZcdpBudget, exponential_mechanism, gaussian_histogram, histogram_variance};

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

/// An edge of the tree with its consistent table (rows: `a`, columns: `b`).
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    pub a: usize,
    pub b: usize,
    table: Vec<f64>,
}

/// The fitted model: per attribute its merged domain and estimated
/// marginal, the tree's tables, and what was spent where.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub compressions: Vec<Compression>,
    marginals: Vec<Vec<f64>>,
    pub edges: Vec<Edge>,
    /// The estimated number of records.
    pub total: f64,
    /// ρ of the one-way measurements, the selection and the two-way
    /// measurements.
    pub rho_split: [f64; 3],
    /// Every noisy measurement as drawn, with the attributes it counts
    /// (one-way over the full domain, two-way over the merged ones) and
    /// the ρ it spent.
    pub measurements: Vec<(Vec<usize>, f64, Vec<i128>)>,
}

/// ρ/`parts`, rounded down so that `parts` shares never exceed ρ.
fn share(rho: f64, parts: usize) -> f64 {
    (rho / parts as f64).next_down()
}

/// Fits MST to `columns` (codes into domains of `sizes`), spending all of
/// `budget`.
pub(crate) fn fit<R: Rng + ?Sized>(
    columns: &[Vec<u32>],
    sizes: &[usize],
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
        let noisy = gaussian_histogram(rng, &counts(column, size), rho_one, budget)?;
        let (compression, measured) = compress(&noisy, sigma2_one);
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
    let mut two_way = Vec::new();
    if d > 1 {
        let pairs = select(&merged, &merged_sizes, &one_way, rho_split[1], budget, rng)?;
        let rho_two = share(rho_split[2], pairs.len());
        let sigma2_two = histogram_variance(rho_two)?;
        for (a, b) in pairs {
            let table = pair_counts(&merged[a], &merged[b], merged_sizes[b], merged_sizes[a]);
            let noisy = gaussian_histogram(rng, &table, rho_two, budget)?;
            measurements.push((vec![a, b], rho_two, noisy.clone()));
            two_way.push((
                a,
                b,
                Measured {
                    values: noisy.iter().map(|&v| v as f64).collect(),
                    variance: vec![sigma2_two; noisy.len()],
                },
            ));
        }
    }
    let mut model = estimate(compressions, one_way, two_way, &merged_sizes, rho_split);
    model.measurements = measurements;
    Ok(model)
}

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

/// Merges the values measured below 3σ into one bin (the last), whose
/// measurement is their sum.
fn compress(noisy: &[i128], sigma2: f64) -> (Compression, Measured) {
    let threshold = 3.0 * sigma2.sqrt();
    let mut code_of = vec![0u32; noisy.len()];
    let mut members = Vec::new();
    let mut values = Vec::new();
    let mut rare = Vec::new();
    let mut rare_sum = 0.0;
    for (v, &y) in noisy.iter().enumerate() {
        let y = y as f64;
        if y >= threshold {
            code_of[v] = members.len() as u32;
            members.push(vec![v as u32]);
            values.push(y);
        } else {
            rare.push(v as u32);
            rare_sum += y;
        }
    }
    let mut variance = vec![sigma2; values.len()];
    if !rare.is_empty() {
        let code = members.len() as u32;
        for &v in &rare {
            code_of[v as usize] = code;
        }
        variance.push(sigma2 * rare.len() as f64);
        members.push(rare);
        values.push(rare_sum);
    }
    (
        Compression { code_of, members },
        Measured { values, variance },
    )
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

/// The exponential mechanism's choice of r − 1 edges joining the r
/// attributes into a tree (Kruskal's order, each round among the pairs
/// that join two components), scoring a pair by the L1 distance between
/// its true two-way marginal and the one the one-way measurements imply.
fn select<R: Rng + ?Sized>(
    merged: &[Vec<u32>],
    sizes: &[usize],
    one_way: &[Measured],
    rho: f64,
    budget: &mut ZcdpBudget,
    rng: &mut R,
) -> Result<Vec<(usize, usize)>> {
    let d = merged.len();
    let total = combine(
        one_way
            .iter()
            .map(|m| (m.values.iter().sum::<f64>(), m.variance.iter().sum::<f64>())),
    )
    .max(1.0);
    let independent: Vec<Vec<f64>> = one_way
        .iter()
        .map(|m| project_simplex(&m.values, total))
        .collect();
    let pairs: Vec<(usize, usize)> = (0..d)
        .flat_map(|a| (a + 1..d).map(move |b| (a, b)))
        .collect();
    let scores: Vec<u128> = pairs
        .par_iter()
        .map(|&(a, b)| {
            let table = pair_counts(&merged[a], &merged[b], sizes[b], sizes[a]);
            let mut l1 = 0.0;
            for (i, &pa) in independent[a].iter().enumerate() {
                for (j, &pb) in independent[b].iter().enumerate() {
                    l1 += (table[i * sizes[b] + j] as f64 - pa * pb / total).abs();
                }
            }
            (l1 * SCORE_UNITS).floor() as u128
        })
        .collect();
    let rounds = d - 1;
    let rho_round = share(rho, rounds);
    // ε-DP is ε²/8-zCDP: the largest ε whose ε²/8 fits the round's share.
    let mut epsilon = (8.0 * rho_round).sqrt();
    while epsilon * epsilon / 8.0 > rho_round {
        epsilon = epsilon.next_down();
    }
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

/// The model the measurements imply: one total, every attribute's marginal
/// (its one-way measurement and the sums of its edges' tables, weighed by
/// their variances, projected onto the simplex), and every edge's table as
/// the nearest non-negative table with those marginals (Dykstra's
/// alternating projections).
fn estimate(
    compressions: Vec<Compression>,
    one_way: Vec<Measured>,
    two_way: Vec<(usize, usize, Measured)>,
    sizes: &[usize],
    rho_split: [f64; 3],
) -> Model {
    let sums = one_way
        .iter()
        .map(|m| (m.values.iter().sum::<f64>(), m.variance.iter().sum::<f64>()))
        .chain(
            two_way
                .iter()
                .map(|(_, _, m)| (m.values.iter().sum::<f64>(), m.variance.iter().sum::<f64>())),
        );
    let total = combine(sums).max(1.0);
    let marginals: Vec<Vec<f64>> = (0..one_way.len())
        .map(|i| {
            let cells = (0..sizes[i])
                .map(|v| {
                    let own = (one_way[i].values[v], one_way[i].variance[v]);
                    let from_edges = two_way.iter().filter_map(|(a, b, m)| {
                        if *a == i {
                            let row = &m.values[v * sizes[*b]..(v + 1) * sizes[*b]];
                            Some((row.iter().sum::<f64>(), m.variance[0] * sizes[*b] as f64))
                        } else if *b == i {
                            let column = (0..sizes[*a]).map(|r| m.values[r * sizes[i] + v]);
                            Some((column.sum::<f64>(), m.variance[0] * sizes[*a] as f64))
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
    let edges = two_way
        .into_par_iter()
        .map(|(a, b, m)| Edge {
            a,
            b,
            table: nearest_table(&m.values, &marginals[a], &marginals[b]),
        })
        .collect();
    Model {
        compressions,
        marginals,
        edges,
        total,
        rho_split,
        measurements: Vec::new(),
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
    /// `rows` records sampled from the tree: the root's values allotted in
    /// proportion to its marginal, each further attribute's within every
    /// group of records sharing its parent's value in proportion to the
    /// edge's row (whole counts, remainders by weighted draws, shuffled),
    /// then each merged bin expanded to one of its values uniformly.
    /// Returns codes in the original domains, one column per attribute.
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rows: usize, rng: &mut R) -> Vec<Vec<u32>> {
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
                for edge in &self.edges {
                    let (child, by_row) = if edge.a == parent {
                        (edge.b, true)
                    } else if edge.b == parent {
                        (edge.a, false)
                    } else {
                        continue;
                    };
                    if merged[child].is_some() {
                        continue;
                    }
                    let parent_codes = merged[parent].as_ref().expect("sampled");
                    merged[child] = Some(self.sample_child(edge, by_row, parent_codes, child, rng));
                    queue.push(child);
                }
            }
        }
        merged
            .into_iter()
            .zip(&self.compressions)
            .map(|(codes, compression)| {
                codes
                    .expect("every attribute sampled")
                    .into_iter()
                    .map(|c| {
                        let members = &compression.members[c as usize];
                        if members.len() == 1 {
                            members[0]
                        } else {
                            members[rng.random_range(0..members.len())]
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn sample_child<R: Rng + ?Sized>(
        &self,
        edge: &Edge,
        by_row: bool,
        parent_codes: &[u32],
        child: usize,
        rng: &mut R,
    ) -> Vec<u32> {
        let parent_size = self.marginals[if by_row { edge.a } else { edge.b }].len();
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
                        edge.table[v * child_size + c]
                    } else {
                        edge.table[c * parent_size + v]
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

/// `n` codes in proportion to `weights`: the whole parts of n·wᵢ/Σw, the
/// remaining records to distinct codes drawn by their fractional parts,
/// shuffled.
fn allot<R: Rng + ?Sized>(weights: &[f64], n: usize, rng: &mut R) -> Vec<u32> {
    let sum: f64 = weights.iter().sum();
    let (mut whole, mut fractions): (Vec<usize>, Vec<f64>) = if sum > 0.0 {
        weights
            .iter()
            .map(|&w| {
                let share = w / sum * n as f64;
                (share.floor() as usize, share - share.floor())
            })
            .unzip()
    } else {
        (vec![0; weights.len()], vec![1.0; weights.len()])
    };
    let mut missing = n.saturating_sub(whole.iter().sum());
    while missing > 0 {
        let total: f64 = fractions.iter().sum();
        let pick = if total > 0.0 {
            let mut target = rng.random::<f64>() * total;
            let mut pick = fractions.iter().rposition(|&f| f > 0.0).unwrap_or(0);
            for (i, &f) in fractions.iter().enumerate() {
                if f > 0.0 && target < f {
                    pick = i;
                    break;
                }
                target -= f;
            }
            pick
        } else {
            rng.random_range(0..weights.len())
        };
        whole[pick] += 1;
        fractions[pick] = 0.0;
        missing -= 1;
    }
    let mut codes: Vec<u32> = whole
        .iter()
        .enumerate()
        .flat_map(|(c, &k)| std::iter::repeat_n(c as u32, k))
        .collect();
    codes.truncate(n);
    codes.shuffle(rng);
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

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
        let model = fit(&[a.clone(), b.clone()], &[6000, 3], &mut budget, &mut rng).unwrap();
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
    fn allotment_is_proportional_and_whole() {
        let mut rng = StdRng::seed_from_u64(3);
        let codes = allot(&[0.5, 0.25, 0.25, 0.0], 10, &mut rng);
        assert_eq!(codes.len(), 10);
        let count = |c| codes.iter().filter(|&&x| x == c).count();
        assert_eq!(count(0), 5);
        assert!((2..=3).contains(&count(1)) && (2..=3).contains(&count(2)));
        assert_eq!(count(3), 0);
    }

    #[test]
    fn compression_merges_values_below_three_sigma() {
        // σ² = 4: threshold 6.
        let (c, m) = compress(&[100, 3, 7, -2], 4.0);
        assert_eq!(c.code_of, [0, 2, 1, 2]);
        assert_eq!(c.members, [vec![0], vec![2], vec![1, 3]]);
        assert_eq!(m.values, [100.0, 7.0, 1.0]);
        assert_eq!(m.variance, [4.0, 4.0, 8.0]);
    }
}
