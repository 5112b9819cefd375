//! MDAV microaggregation (Domingo-Ferrer & Mateo-Sanz 2002; sdcMicro `mdav`;
//! [§7.2](crate::methods#72-microaggregation)).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The result of microaggregating numeric columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Microaggregation {
    /// The group size k.
    pub k: usize,
    /// The aggregated columns: every value replaced by its group's mean.
    pub columns: Vec<Vec<f64>>,
    /// The group of every record (0-based).
    pub groups: Vec<usize>,
    /// Number of groups.
    pub group_count: usize,
    /// Information loss IL1s = Σ_j Σ_i |x_ij − x′_ij| / (√2·S_j), with S_j the
    /// standard deviation of original column j (sdcMicro `dUtility`, [§5.3](crate::methods#53-il1s)).
    pub il1s: f64,
}

/// Multivariate MDAV: groups of at least `k` records (between k and 2k − 1)
/// built around the records farthest from the centroid, on standardized
/// variables; each value is replaced by its group mean, so column means are
/// preserved exactly (up to rounding). With one column this is univariate MDAV.
///
/// # Formula
///
/// ```text
/// while ≥ 3k records remain: c = centroid; r = farthest from c; s = farthest from r;
///     group r with its k−1 nearest, then s with its k−1 nearest (of the rest)
/// if ≥ 2k remain: r = farthest from c; group r with its k−1 nearest; the rest form a group
/// else the rest form one group
/// ```
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for k < 2, no columns, columns of
/// unequal length, fewer than k records, or a value that is not finite.
pub fn mdav(columns: &[Vec<f64>], k: usize) -> Result<Microaggregation> {
    let n = check_input(columns, k)?;
    let stats = column_stats(columns, n)?;
    let z = standardize(columns, &stats, n);
    let (groups, group_count) = Grouping {
        z: &z,
        k,
        width: columns.len(),
    }
    .groups(n);
    let aggregated = group_means(columns, &groups, group_count, n);
    let il1s = information_loss(columns, &aggregated, &stats);
    Ok(Microaggregation {
        k,
        columns: aggregated,
        groups,
        group_count,
        il1s,
    })
}

/// Checks [`mdav`]'s input; returns the number of records.
fn check_input(columns: &[Vec<f64>], k: usize) -> Result<usize> {
    if k < 2 {
        return Err(Error::parameter(
            "k",
            "microaggregation needs groups of at least 2",
        ));
    }
    let n = columns.first().map_or(0, Vec::len);
    if columns.is_empty() || columns.iter().any(|c| c.len() != n) {
        return Err(Error::parameter(
            "columns",
            "one or more numeric columns of equal length are needed",
        ));
    }
    if n < k {
        return Err(Error::parameter(
            "k",
            format!("k = {k} is larger than the {n} records"),
        ));
    }
    if let Some((j, i)) = columns
        .iter()
        .enumerate()
        .find_map(|(j, c)| c.iter().position(|v| !v.is_finite()).map(|i| (j, i)))
    {
        return Err(Error::parameter(
            "columns",
            format!("column {j}, row {}: not a finite number", i + 1),
        ));
    }
    Ok(n)
}

/// Each column's (mean, sample standard deviation) over its `n` values; an
/// error when either is not finite.
fn column_stats(columns: &[Vec<f64>], n: usize) -> Result<Vec<(f64, f64)>> {
    let stats: Vec<(f64, f64)> = columns
        .iter()
        .map(|c| {
            let mean = c.iter().sum::<f64>() / n as f64;
            let var = if n > 1 {
                c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
            } else {
                0.0
            };
            (mean, var.sqrt())
        })
        .collect();
    if let Some(j) = stats
        .iter()
        .position(|&(m, s)| !(m.is_finite() && s.is_finite()))
    {
        return Err(Error::parameter(
            "columns",
            format!("column {j}: the values are too large to average in floating point"),
        ));
    }
    Ok(stats)
}

/// The records standardized (zero mean, unit variance; constant columns
/// stay 0), one row per record.
fn standardize(columns: &[Vec<f64>], stats: &[(f64, f64)], n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            columns
                .iter()
                .zip(stats)
                .map(|(c, &(m, s))| if s > 0.0 { (c[i] - m) / s } else { 0.0 })
                .collect()
        })
        .collect()
}

/// The squared Euclidean distance of two records.
fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>()
}

/// MDAV's grouping of the standardized records `z` (of `width` columns)
/// into groups of at least `k`.
struct Grouping<'z> {
    z: &'z [Vec<f64>],
    k: usize,
    width: usize,
}

impl Grouping<'_> {
    /// The group of each of the `n` records, and the number of groups.
    fn groups(&self, n: usize) -> (Vec<usize>, usize) {
        let z = self.z;
        let k = self.k;
        let mut remaining: Vec<usize> = (0..n).collect();
        let mut groups = vec![usize::MAX; n];
        let mut group_count = 0;
        while remaining.len() >= 3 * k {
            let c = self.centroid(&remaining);
            let r = self.farthest(&remaining, &c);
            let s = self.farthest(&remaining, &z[r]);
            self.take_group(&mut remaining, r, &mut groups, group_count);
            group_count += 1;
            let s = if remaining.contains(&s) {
                s
            } else {
                self.farthest(&remaining, &z[r])
            };
            self.take_group(&mut remaining, s, &mut groups, group_count);
            group_count += 1;
        }
        if remaining.len() >= 2 * k {
            let c = self.centroid(&remaining);
            let r = self.farthest(&remaining, &c);
            self.take_group(&mut remaining, r, &mut groups, group_count);
            group_count += 1;
        }
        if !remaining.is_empty() {
            for &r in &remaining {
                groups[r] = group_count;
            }
            group_count += 1;
        }
        (groups, group_count)
    }

    /// The centroid of the records `rows`.
    fn centroid(&self, rows: &[usize]) -> Vec<f64> {
        let mut c = vec![0.0; self.width];
        for &r in rows {
            for (cj, v) in c.iter_mut().zip(&self.z[r]) {
                *cj += v;
            }
        }
        c.iter().map(|v| v / rows.len() as f64).collect()
    }

    /// The farthest record from `point` (ties: the lowest row).
    fn farthest(&self, rows: &[usize], point: &[f64]) -> usize {
        let z = self.z;
        *rows
            .iter()
            .max_by(|&&a, &&b| {
                distance(&z[a], point)
                    .total_cmp(&distance(&z[b], point))
                    .then(b.cmp(&a))
            })
            .expect("rows remain")
    }

    /// Takes `around` and its k − 1 nearest remaining records as group `id`.
    fn take_group(
        &self,
        remaining: &mut Vec<usize>,
        around: usize,
        groups: &mut [usize],
        id: usize,
    ) {
        let z = self.z;
        let mut order = remaining.clone();
        order.sort_by(|&a, &b| {
            distance(&z[a], &z[around])
                .total_cmp(&distance(&z[b], &z[around]))
                .then(a.cmp(&b))
        });
        let chosen: Vec<usize> = order.into_iter().take(self.k).collect();
        for &r in &chosen {
            groups[r] = id;
        }
        remaining.retain(|r| !chosen.contains(r));
    }
}

/// Each value of the `n` records replaced by its group's mean.
fn group_means(
    columns: &[Vec<f64>],
    groups: &[usize],
    group_count: usize,
    n: usize,
) -> Vec<Vec<f64>> {
    let mut sums = vec![vec![0.0; group_count]; columns.len()];
    let mut sizes = vec![0usize; group_count];
    for i in 0..n {
        sizes[groups[i]] += 1;
        for (j, c) in columns.iter().enumerate() {
            sums[j][groups[i]] += c[i];
        }
    }
    columns
        .iter()
        .enumerate()
        .map(|(j, _)| {
            (0..n)
                .map(|i| sums[j][groups[i]] / sizes[groups[i]] as f64)
                .collect()
        })
        .collect()
}

/// The information loss IL1s of `aggregated` against `columns` (with their
/// `stats`).
fn information_loss(columns: &[Vec<f64>], aggregated: &[Vec<f64>], stats: &[(f64, f64)]) -> f64 {
    columns
        .iter()
        .zip(aggregated)
        .zip(stats)
        .map(|((c, a), &(_, s))| {
            let total: f64 = c.iter().zip(a).map(|(x, y)| (x - y).abs()).sum();
            if s > 0.0 {
                total / (std::f64::consts::SQRT_2 * s)
            } else {
                0.0
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn univariate_by_hand() {
        // 1..=7 with k = 3: ≥ 2k remain: the farthest from the centroid (4) are 1 and 7;
        // ties go to the lowest row, so {1,2,3} first; the rest {4,5,6,7} form the last group.
        let x: Vec<f64> = (1..=7).map(f64::from).collect();
        let m = mdav(std::slice::from_ref(&x), 3).unwrap();
        assert_eq!(m.group_count, 2);
        assert_eq!(m.columns[0], vec![2.0, 2.0, 2.0, 5.5, 5.5, 5.5, 5.5]);
        // The mean is preserved.
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&m.columns[0]) - mean(&x)).abs() < 1e-12);
        // IL1s = (1+0+1 + 1.5+0.5+0.5+1.5) / (√2·sd(1..7)), sd = √(28/6).
        let expected = 6.0 / (std::f64::consts::SQRT_2 * (28.0f64 / 6.0).sqrt());
        assert!((m.il1s - expected).abs() < 1e-12);
    }

    #[test]
    fn groups_have_between_k_and_2k_minus_1_records_and_means_are_kept() {
        let n = 101;
        let a: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * i) % 53) as f64 * 0.5).collect();
        for k in [2, 3, 5, 10] {
            let m = mdav(&[a.clone(), b.clone()], k).unwrap();
            let mut sizes = vec![0usize; m.group_count];
            for &g in &m.groups {
                sizes[g] += 1;
            }
            assert!(
                sizes.iter().all(|&s| s >= k && s < 2 * k),
                "k = {k}: {sizes:?}"
            );
            for (original, aggregated) in [(&a, &m.columns[0]), (&b, &m.columns[1])] {
                let diff: f64 = original.iter().sum::<f64>() - aggregated.iter().sum::<f64>();
                assert!(diff.abs() < 1e-9);
            }
        }
    }

    #[test]
    fn bad_input() {
        assert!(mdav(&[vec![1.0, 2.0]], 1).is_err());
        assert!(mdav(&[vec![1.0, 2.0]], 3).is_err());
        assert!(mdav(&[vec![1.0, f64::NAN, 3.0]], 2).is_err());
        assert!(mdav(&[vec![1.0, 2.0], vec![1.0]], 2).is_err());
        assert!(mdav(&[], 2).is_err());
    }
}
