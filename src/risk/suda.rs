//! Special uniques: minimal sample uniques (MSUs) and SUDA scores
//! ([§4.3](crate::methods#43-individual-risk-and-special-uniques)), as sdcMicro's `suda2` reports them.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::frequency::node::Node;
use crate::hierarchy::set::Hierarchies;
use crate::risk::check_row_flags;

/// The most key variables SUDA accepts (the subset lattice has 2^M nodes).
pub const MAX_SUDA_VARIABLES: usize = 20;

/// SUDA results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suda {
    /// The number of key variables M.
    pub variables: usize,
    /// The largest MSU size searched.
    pub max_size: usize,
    /// Records with at least one MSU (a non-zero SUDA score).
    pub special_uniques: u64,
    /// Number of MSUs by size: `msus_by_size[k - 1]` for size k.
    pub msus_by_size: Vec<u64>,
    /// The DIS estimate of P(correct match | sample unique).
    pub dis: f64,
    /// The SUDA score of every record (0 for records without an MSU); not serialized.
    #[serde(skip)]
    pub scores: Vec<f64>,
    /// The DIS-SUDA score of every record; not serialized.
    #[serde(skip)]
    pub dis_scores: Vec<f64>,
    /// The largest DIS-SUDA score.
    pub max_dis_score: f64,
    /// Records per DIS-SUDA score band: `= 0`, `(0, 0.1)`, `[0.1, 0.2)`, …, `[0.9, 1]`.
    pub dis_distribution: Vec<u64>,
}

/// Finds every minimal sample unique up to `max_size` variables.
///
/// `columns[v][r]` is the code of record `r` in key variable `v`. An MSU of
/// a record is a set of variables on which its values are unique in the
/// sample while no proper subset is; uniqueness only grows with the set, so
/// it suffices that no subset one variable smaller is unique. The search
/// visits the subset lattice by size, counting each subset's value
/// combinations once (exact; 2^M subsets, so M ≤ [`MAX_SUDA_VARIABLES`]).
///
/// Returns, per record, the sizes of its MSUs.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for no variables, more than
/// [`MAX_SUDA_VARIABLES`], columns of unequal length, or `max_size` 0.
pub fn minimal_sample_uniques(columns: &[&[u32]], max_size: usize) -> Result<Vec<Vec<usize>>> {
    let m = columns.len();
    if m == 0 || m > MAX_SUDA_VARIABLES {
        return Err(Error::parameter(
            "variables",
            format!("SUDA needs 1 to {MAX_SUDA_VARIABLES} key variables, got {m}"),
        ));
    }
    if max_size == 0 {
        return Err(Error::parameter(
            "max_size",
            "the largest MSU size must be at least 1",
        ));
    }
    let n = columns[0].len();
    if columns.iter().any(|c| c.len() != n) {
        return Err(Error::parameter(
            "columns",
            "key variables of unequal length",
        ));
    }
    let max_size = max_size.min(m);
    let cardinalities: Vec<u64> = columns
        .iter()
        .map(|c| u64::from(c.iter().copied().max().unwrap_or(0)) + 1)
        .collect();
    // unique[mask] = per record, whether its values on `mask` are unique.
    let mut unique: FxHashMap<u32, Vec<bool>> = FxHashMap::default();
    let mut msus: Vec<Vec<usize>> = vec![Vec::new(); n];
    for k in 1..=max_size {
        let masks: Vec<u32> = (1u32..(1u32 << m))
            .filter(|s| s.count_ones() as usize == k)
            .collect();
        let layer: Vec<(u32, Vec<bool>)> = masks
            .par_iter()
            .map(|&mask| (mask, uniques_on(columns, &cardinalities, mask)))
            .collect();
        for (mask, is_unique) in &layer {
            for (r, &u) in is_unique.iter().enumerate() {
                if u && (k == 1
                    || (0..m)
                        .filter(|&v| mask & (1 << v) != 0)
                        .all(|v| !unique[&(mask & !(1 << v))][r]))
                {
                    msus[r].push(k);
                }
            }
        }
        unique = layer.into_iter().collect();
    }
    Ok(msus)
}

/// For every record, whether its values on the variables of `mask` are
/// unique in the sample (value combinations packed into one integer key
/// when they fit in 128 bits).
fn uniques_on(columns: &[&[u32]], cardinalities: &[u64], mask: u32) -> Vec<bool> {
    let variables: Vec<usize> = (0..columns.len())
        .filter(|&v| mask & (1 << v) != 0)
        .collect();
    let n = columns[0].len();
    let fits = variables
        .iter()
        .try_fold(1u128, |acc, &v| {
            acc.checked_mul(u128::from(cardinalities[v]))
        })
        .is_some();
    if fits {
        let keys: Vec<u128> = (0..n)
            .map(|r| {
                variables.iter().fold(0u128, |acc, &v| {
                    acc * u128::from(cardinalities[v]) + u128::from(columns[v][r])
                })
            })
            .collect();
        let mut counts: FxHashMap<u128, u32> = FxHashMap::default();
        for &key in &keys {
            *counts.entry(key).or_default() += 1;
        }
        keys.iter().map(|key| counts[key] == 1).collect()
    } else {
        let keys: Vec<Vec<u32>> = (0..n)
            .map(|r| variables.iter().map(|&v| columns[v][r]).collect())
            .collect();
        let mut counts: FxHashMap<&[u32], u32> = FxHashMap::default();
        for key in &keys {
            *counts.entry(key).or_default() += 1;
        }
        keys.iter().map(|key| counts[key.as_slice()] == 1).collect()
    }
}

impl Suda {
    /// SUDA on the given key variables: MSUs up to `max_size`, sdcMicro's
    /// original scores w(k) = (M − k)!, DIS with sampling fraction
    /// `dis_fraction`, and DIS-SUDA scores.
    ///
    /// # Formula
    ///
    /// ```text
    /// score(r)  = Σ_{MSU of r} (M − |MSU|)!
    /// DIS       = U·f / (U·f + P·(1 − f))   U = sample uniques, P = records in pairs
    /// q         = 1 + (8 − M)/20;  A = Σ_{r: score > 0} score(r)^(−q)
    /// DIS-SUDA  = 1 / (1 + (U/DIS − U) / (score(r)^q · A))   (0 when score = 0)
    /// ```
    ///
    /// # Citations
    ///
    /// Elliot, Manning & Ford 2002; Manning, Haglin & Keane, DMKD 16 (2008);
    /// Skinner & Elliot, JRSS-B 64(4) 2002; sdcMicro `R/suda2.R`, `src/Suda2.h`.
    ///
    /// # Errors
    ///
    /// Those of [`minimal_sample_uniques`], and
    /// [`crate::ErrorKind::InvalidParameter`] for `dis_fraction` outside (0, 1).
    pub fn new(columns: &[&[u32]], max_size: usize, dis_fraction: f64) -> Result<Suda> {
        if !(dis_fraction > 0.0 && dis_fraction < 1.0) {
            return Err(Error::parameter(
                "dis_fraction",
                format!("must be in (0, 1), got {dis_fraction}"),
            ));
        }
        let msus = minimal_sample_uniques(columns, max_size)?;
        let m = columns.len();
        let factorial = |x: usize| (1..=x).map(|i| i as f64).product::<f64>();
        let scores: Vec<f64> = msus
            .iter()
            .map(|sizes| sizes.iter().map(|&k| factorial(m - k)).sum())
            .collect();
        let mut msus_by_size = vec![0u64; max_size.min(m)];
        for sizes in &msus {
            for &k in sizes {
                msus_by_size[k - 1] += 1;
            }
        }
        // Sample uniques and records in pairs on the full key.
        let mut counts: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        let n = columns[0].len();
        for r in 0..n {
            *counts
                .entry(columns.iter().map(|c| c[r]).collect())
                .or_default() += 1;
        }
        let uniques = counts.values().filter(|&&c| c == 1).count() as f64;
        let pairs = 2.0 * counts.values().filter(|&&c| c == 2).count() as f64;
        let f = dis_fraction;
        let dis = if uniques == 0.0 {
            0.0
        } else {
            uniques * f / (uniques * f + pairs * (1.0 - f))
        };
        let q = 1.0 + (8.0 - m as f64) / 20.0;
        let a: f64 = scores
            .iter()
            .filter(|&&s| s > 0.0)
            .map(|s| s.powf(-q))
            .sum();
        let dis_scores: Vec<f64> = scores
            .iter()
            .map(|&s| {
                if s > 0.0 && dis > 0.0 {
                    1.0 / (1.0 + (uniques / dis - uniques) / (s.powf(q) * a))
                } else {
                    0.0
                }
            })
            .collect();
        let mut dis_distribution = vec![0u64; 11];
        for &d in &dis_scores {
            let band = if d == 0.0 {
                0
            } else {
                1 + ((d * 10.0).floor() as usize).min(9)
            };
            dis_distribution[band] += 1;
        }
        Ok(Suda {
            variables: m,
            max_size: max_size.min(m),
            special_uniques: scores.iter().filter(|&&s| s > 0.0).count() as u64,
            msus_by_size,
            dis,
            scores,
            max_dis_score: dis_scores.iter().copied().fold(0.0, f64::max),
            dis_scores,
            dis_distribution,
        })
    }
}

impl Suda {
    /// SUDA on `dataset`'s quasi-identifiers generalized to `node`, over the
    /// records not flagged in `suppressed_rows`.
    ///
    /// # Errors
    ///
    /// Node errors, and those of [`Suda::new`].
    pub fn of_dataset(
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        node: &Node,
        suppressed_rows: Option<&[bool]>,
        max_size: usize,
        dis_fraction: f64,
    ) -> Result<Suda> {
        let qis = dataset.quasi_identifiers();
        let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
        if node.levels().len() != qis.len() {
            return Err(Error::parameter(
                "node",
                format!("{node} does not have one level per quasi-identifier"),
            ));
        }
        check_row_flags(suppressed_rows, dataset.rows())?;
        let released: Vec<usize> = (0..dataset.rows())
            .filter(|&r| !suppressed_rows.is_some_and(|s| s[r]))
            .collect();
        let columns: Vec<Vec<u32>> = qis
            .iter()
            .zip(&compiled)
            .zip(node.levels())
            .map(|((column, h), &level)| {
                let map = h.level(level as usize)?.map();
                Ok(released
                    .iter()
                    .map(|&r| map[column.codes()[r] as usize])
                    .collect())
            })
            .collect::<Result<_>>()?;
        let views: Vec<&[u32]> = columns.iter().map(Vec::as_slice).collect();
        Suda::new(&views, max_size, dis_fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msus_by_hand() {
        // Records (a, b): (0,0) (0,1) (1,0) (1,0).
        // Record 0: a=0 not unique (2), b=0 not unique (3), (a,b)=(0,0) unique → MSU {a,b}.
        // Record 1: b=1 unique → MSU {b}; (a,b) unique but contains {b} → not minimal.
        // Records 2, 3: (1,0) twice → nothing.
        let a = [0u32, 0, 1, 1];
        let b = [0u32, 1, 0, 0];
        let msus = minimal_sample_uniques(&[&a, &b], 2).unwrap();
        assert_eq!(msus, vec![vec![2], vec![1], vec![], vec![]]);
        let suda = Suda::new(&[&a, &b], 2, 0.01).unwrap();
        // M = 2: w(1) = 1! = 1, w(2) = 0! = 1.
        assert_eq!(suda.scores, vec![1.0, 1.0, 0.0, 0.0]);
        assert_eq!(suda.special_uniques, 2);
        // U = 2 sample uniques, P = 2 records in a pair: DIS = 0.02/(0.02 + 1.98).
        assert!((suda.dis - 0.02 / 2.0).abs() < 1e-15);
        assert_eq!(suda.dis_distribution.iter().sum::<u64>(), 4);
        // q = 1 + 6/20 = 1.3, A = 1^-q + 1^-q = 2, U/DIS − U = 198:
        // DIS-SUDA = 1/(1 + 198/(1·2)) = 0.01 for records 0 and 1.
        assert_dis_scores(&suda, &[0.01, 0.01, 0.0, 0.0]);
        assert_eq!(suda.msus_by_size, vec![1, 1]);
    }

    /// `suda`'s DIS-SUDA scores against reference values (relative 1e-14: the
    /// references are 40-digit decimals from tests/reference/suda.py, the
    /// crate's are f64 with `powf`).
    fn assert_dis_scores(suda: &Suda, expected: &[f64]) {
        assert_eq!(suda.dis_scores.len(), expected.len());
        for (r, (&ours, &want)) in suda.dis_scores.iter().zip(expected).enumerate() {
            assert!(
                (ours - want).abs() <= 1e-14 * want.abs(),
                "record {r}: DIS-SUDA {ours}, expected {want}"
            );
        }
    }

    /// M = 3, by hand (checked by brute force in tests/reference/suda.py).
    /// Records (a, b, c); value counts a: 0×4, 1×3, 2×1; b: 0×4, 1×4; c: 0×3, 1×5;
    /// (a,b): (0,0)×2 (0,1)×2 (1,0)×1 (1,1)×2 (2,0)×1; (a,c): (0,0)×2 (0,1)×2
    /// (1,0)×1 (1,1)×2 (2,1)×1; (b,c): (0,0)×2 (0,1)×2 (1,0)×1 (1,1)×3.
    ///
    /// ```text
    /// r0 (0,0,0): no unique value or pair; the triple is unique → MSU {a,b,c}  w(3) = 0! = 1
    /// r1 (0,0,1): likewise                                    → {a,b,c}        1
    /// r2 (0,1,0): (b,c) = (1,0) unique                        → {b,c}  w(2) = 1! = 1
    /// r3 (1,0,0): (a,b) = (1,0) and (a,c) = (1,0) unique      → {a,b}, {a,c}   1 + 1 = 2
    /// r4, r5 (1,1,1): a pair on all three                     → none           0
    /// r6 (0,1,1): only the triple is unique                   → {a,b,c}        1
    /// r7 (2,0,1): a = 2 unique (every larger set contains it) → {a}   w(1) = 2! = 2
    /// ```
    ///
    /// MSUs by size 1, 3, 3. U = 6 uniques on the full key, P = 2 records in a
    /// pair, f = 0.01: DIS = 0.06/(0.06 + 1.98) = 1/34. q = 1 + 5/20 = 1.25,
    /// A = 4·1 + 2·2^-1.25, U/DIS − U = 198: DIS-SUDA = 1/(1 + 198/(s^1.25·A)).
    #[test]
    fn three_variables_by_hand() {
        let a = [0u32, 0, 0, 1, 1, 1, 0, 2];
        let b = [0u32, 0, 1, 0, 1, 1, 1, 0];
        let c = [0u32, 1, 0, 0, 1, 1, 1, 1];
        let msus = minimal_sample_uniques(&[&a, &b, &c], 3).unwrap();
        let expected: Vec<Vec<usize>> = vec![
            vec![3],
            vec![3],
            vec![2],
            vec![2, 2],
            vec![],
            vec![],
            vec![3],
            vec![1],
        ];
        assert_eq!(msus, expected);
        let suda = Suda::new(&[&a, &b, &c], 3, 0.01).unwrap();
        assert_eq!(suda.scores, vec![1.0, 1.0, 1.0, 2.0, 0.0, 0.0, 1.0, 2.0]);
        assert_eq!(suda.msus_by_size, vec![1, 3, 3]);
        assert_eq!(suda.special_uniques, 6);
        assert!((suda.dis - 1.0 / 34.0).abs() <= 1e-15, "{}", suda.dis);
        let (one, two) = (0.02386548521923056, 0.054954207230590746);
        assert_dis_scores(&suda, &[one, one, one, two, 0.0, 0.0, one, two]);
        // Searching MSUs up to size 2 only loses the three of size 3.
        let short = Suda::new(&[&a, &b, &c], 2, 0.01).unwrap();
        assert_eq!(short.scores, vec![0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 2.0]);

        // sdcMicro's own M = 3 example (tests/testthat/test_suda2.R, "suda2 simple example
        // contrubtion": a = (2,1,1), b = (0,3,0), c = (0,6,0)). r0: a = 2 → {a}, 2! = 2;
        // r1: b = 3 and c = 6 → {b}, {c}, 2 + 2 = 4; r2: (a,b) = (1,0) and (a,c) = (1,0) →
        // 1 + 1 = 2. sdcMicro reports the contributions a 50 %, b 37.5 %, c 37.5 %: a takes
        // part in MSUs worth 2 + 1 + 1 = 4 of the total 8, b and c in 2 + 1 = 3 each.
        // Every record is unique (U = 3, P = 0): DIS = 1 and every DIS-SUDA score is 1.
        let (a, b, c) = ([2u32, 1, 1], [0u32, 3, 0], [0u32, 6, 0]);
        let suda = Suda::new(&[&a, &b, &c], 3, 0.01).unwrap();
        assert_eq!(suda.scores, vec![2.0, 4.0, 2.0]);
        assert_eq!(suda.dis, 1.0);
        assert_eq!(suda.dis_scores, vec![1.0, 1.0, 1.0]);
    }

    /// M = 4: sdcMicro's published examples (tests/testthat/test_suda2.R), whose
    /// SUDA scores sdcMicro's own tests assert; MSUs by hand (checked by brute
    /// force in tests/reference/suda.py); w(k) = (4 − k)!: 6, 2, 1, 1.
    #[test]
    fn four_variables_sdcmicro_examples() {
        // "suda2 book example": (age, gender, income, education); sdcMicro: score[5:8] =
        // (4, 2, 6, 8). Codes: 20s/60s; male/female; 50k+/50k-; highschool/university/middle.
        // r0–r3: two pairs → none.
        // r4 (20s, female, 50k-, university): (gender, education) and (age, education) unique;
        //    no value is, no other pair is (education = university twice, income+education
        //    twice), every unique triple contains one of them → 2 + 2 = 4.
        // r5 (20s, female, 50k-, highschool): (gender, education) = (female, highschool) → 2.
        // r6 (…, middleschool): education unique; nothing without it is → 6.
        // r7 (60s, male, 50k-, university): age unique → 6; (gender, education) =
        //    (male, university) → 2; → 8.
        let age = [0u32, 0, 0, 0, 0, 0, 0, 1];
        let gender = [0u32, 0, 0, 0, 1, 1, 1, 0];
        let income = [0u32, 0, 1, 1, 1, 1, 1, 1];
        let education = [0u32, 0, 0, 0, 1, 0, 2, 1];
        let columns = [&age[..], &gender, &income, &education];
        let suda = Suda::new(&columns, 4, 0.01).unwrap();
        assert_eq!(suda.scores, vec![0.0, 0.0, 0.0, 0.0, 4.0, 2.0, 6.0, 8.0]);
        assert_eq!(suda.msus_by_size, vec![2, 4, 0, 0]);
        // U = 4, P = 4 (two pairs): DIS = 0.04/(0.04 + 3.96) = 0.01; q = 1.2,
        // A = 4^-1.2 + 2^-1.2 + 6^-1.2 + 8^-1.2, U/DIS − U = 396.
        assert!((suda.dis - 0.01).abs() <= 1e-17, "{}", suda.dis);
        assert_dis_scores(
            &suda,
            &[
                0.0,
                0.0,
                0.0,
                0.0,
                0.01085909508641207,
                0.004755860508376835,
                0.01754516985485378,
                0.024601056013068324,
            ],
        );

        // "suda2 sdc guideline" (residence, gender, education, labour); sdcMicro: scores
        // (0, 0, 6, 0, 12, 0, 6, 10, 0, 0). Codes: Urban/Rural; Female/Male; secondary
        // incomplete/primary incomplete/secondary complete/primary complete/post-secondary;
        // employed/non-LF/unemployed.
        // r2: education = primary incomplete → 6 (urban+female+non-LF is 4 records).
        // r4: residence = rural → 6; (gender, education) = (F, secondary complete),
        //     (gender, labour) = (F, unemployed), (education, labour) = (sec. complete,
        //     unemployed) → 2 + 2 + 2; → 12.
        // r6: education = primary complete → 6.
        // r7: education = post-secondary → 6; (residence, labour) = (urban, unemployed),
        //     (gender, labour) = (M, unemployed) → 2 + 2; → 10.
        // r0/r1, r3/r5, r8/r9: pairs → 0.
        let residence = [0u32, 0, 0, 0, 1, 0, 0, 0, 0, 0];
        let gender = [0u32, 0, 0, 1, 0, 1, 0, 1, 0, 0];
        let education = [0u32, 0, 1, 2, 2, 2, 3, 4, 0, 0];
        let labour = [0u32, 0, 1, 0, 2, 0, 1, 2, 1, 1];
        let columns = [&residence[..], &gender, &education, &labour];
        let msus = minimal_sample_uniques(&columns, 4).unwrap();
        assert_eq!(msus[4], vec![1, 2, 2, 2]);
        assert_eq!(msus[7], vec![1, 2, 2]);
        let suda = Suda::new(&columns, 4, 0.01).unwrap();
        assert_eq!(
            suda.scores,
            vec![0.0, 0.0, 6.0, 0.0, 12.0, 0.0, 6.0, 10.0, 0.0, 0.0]
        );
        assert_eq!(suda.msus_by_size, vec![4, 5, 0, 0]);
        assert_eq!(suda.special_uniques, 4);
        // U = 4, P = 6 (three pairs): DIS = 0.04/(0.04 + 5.94) = 0.006688963210702341.
        assert!(
            (suda.dis - 0.006688963210702341).abs() <= 1e-15 * 0.0067,
            "{}",
            suda.dis
        );
        let (six, twelve, ten) = (
            0.004986797707115754,
            0.011383006246553124,
            0.009166678732077927,
        );
        assert_dis_scores(
            &suda,
            &[0.0, 0.0, six, 0.0, twelve, 0.0, six, ten, 0.0, 0.0],
        );
    }

    #[test]
    fn bad_parameters() {
        let a = [0u32, 1];
        assert!(minimal_sample_uniques(&[], 1).is_err());
        assert!(minimal_sample_uniques(&[&a], 0).is_err());
        assert!(minimal_sample_uniques(&[&a, &a[..1]], 1).is_err());
        assert!(Suda::new(&[&a], 1, 0.0).is_err());
    }
}
