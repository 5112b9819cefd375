//! t-closeness with the Earth Mover's Distance.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frequency::histogram::HistogramRef;
use crate::frequency::table::EquivalenceClass;
use crate::model::sensitive::SensitiveAttribute;
use crate::model::{Monotonicity, PrivacyModel};

/// The ground distance between sensitive values used by the EMD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroundDistance {
    /// Every two distinct values are at distance 1 (categorical values).
    Equal,
    /// Values sorted v_1 < … < v_m are at distance |i − j|/(m − 1) (numbers, ordinals).
    Ordered,
    /// Distance = level of the lowest common ancestor / hierarchy height.
    Hierarchical,
}

/// t-closeness: the distribution of the sensitive attribute in every class
/// is within Earth Mover's Distance t of its distribution in the whole table.
///
/// # Definition
///
/// EMD(P, Q_E) ≤ t, with P the distribution over the whole input table and
/// Q_E that of class E ([§3.3](crate::methods#33-t-closeness)):
///
/// ```text
/// equal:        EMD = ½ Σ_v |p_v − q_v|
/// ordered:      EMD = (1/(m−1)) Σ_{i=1..m} |Σ_{j≤i} (q_j − p_j)|   (0 when m = 1)
/// hierarchical: EMD = Σ_N (level(N)/H) · min(pos(N), neg(N))        (bottom-up, Li et al.)
/// ```
///
/// All three are computed exactly on integers scaled by n·|E|
/// (p_v·|E|·n = N_v·|E|, q_v·|E|·n = c_v·n, as ARX does for the hierarchical
/// distance) and divided once at the end, so the result is the correctly
/// rounded quotient of the exact distance.
///
/// # Monotonicity
///
/// Li et al. 2007 show the generalization property: the EMD of a union of
/// classes is at most the largest EMD of its parts (EMD is convex in Q).
/// Not under suppression: merging a failing class with a passing one can
/// fail, so the records to suppress can grow ([§3.10](crate::methods#310-monotonicity-and-suppression); ARX: true / false).
///
/// # Citations
///
/// Li, Li, Venkatasubramanian, t-Closeness, ICDE 2007. ARX
/// `criteria/{EqualDistance,OrderedDistance,HierarchicalDistance}TCloseness.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct TCloseness {
    attribute: SensitiveAttribute,
    t: f64,
    distance: GroundDistance,
    by_rank: Vec<u32>,
}

impl TCloseness {
    /// t-closeness on `attribute` with the given ground distance.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when t is outside [0, 1], when
    /// the ordered distance is asked of an attribute without an order, or the
    /// hierarchical distance of one without a single-rooted hierarchy.
    pub fn new(attribute: &SensitiveAttribute, t: f64, distance: GroundDistance) -> Result<Self> {
        if !(0.0..=1.0).contains(&t) {
            return Err(Error::parameter(
                "t",
                format!("t must be in [0, 1], got {t}"),
            ));
        }
        let mut by_rank = Vec::new();
        match distance {
            GroundDistance::Equal => {}
            GroundDistance::Ordered => {
                let ranks = attribute.ranks().ok_or_else(|| {
                    Error::parameter(
                        "distance",
                        format!(
                            "ordered t-closeness needs an ordered attribute; '{}' is an unordered string (declare type integer, decimal, date or ordered-string)",
                            attribute.name()
                        ),
                    )
                })?;
                by_rank = vec![0; ranks.len()];
                for (code, &rank) in ranks.iter().enumerate() {
                    by_rank[rank as usize] = code as u32;
                }
            }
            GroundDistance::Hierarchical => {
                if attribute.tree().is_none() {
                    return Err(Error::parameter(
                        "distance",
                        format!(
                            "hierarchical t-closeness needs a hierarchy with a single root for '{}'",
                            attribute.name()
                        ),
                    ));
                }
            }
        }
        Ok(TCloseness {
            attribute: attribute.clone(),
            t,
            distance,
            by_rank,
        })
    }

    /// The EMD between the class histogram and the whole table.
    pub fn distance(&self, histogram: HistogramRef<'_>) -> f64 {
        let a = &self.attribute;
        let n = i128::from(a.rows());
        let size = histogram.total() as i128;
        // Scaled difference for value v: (p_v − q_v)·n·|E| = N_v·|E| − c_v·n.
        let scaled =
            |code: u32, c: u64| i128::from(a.counts()[code as usize]) * size - i128::from(c) * n;
        match self.distance {
            GroundDistance::Equal => {
                // Σ_v |N_v|E| − c_v n| = n|E| + Σ_{v ∈ E} (|…| − N_v|E|).
                let mut sum = n * size;
                for (code, c) in histogram.iter() {
                    sum += scaled(code, c).abs() - i128::from(a.counts()[code as usize]) * size;
                }
                sum as f64 / (2 * n * size) as f64
            }
            GroundDistance::Ordered => {
                let m = a.counts().iter().filter(|&&c| c > 0).count() as i128;
                if m <= 1 {
                    return 0.0;
                }
                let mut dense = vec![0u64; a.counts().len()];
                for (code, c) in histogram.iter() {
                    dense[code as usize] = c;
                }
                let (mut cumulative, mut sum) = (0i128, 0i128);
                for &code in &self.by_rank {
                    cumulative += scaled(code, dense[code as usize]);
                    sum += cumulative.abs();
                }
                sum as f64 / ((m - 1) * n * size) as f64
            }
            GroundDistance::Hierarchical => {
                let tree = a.tree().expect("checked on construction");
                let mut extra: Vec<i128> = a
                    .counts()
                    .iter()
                    .map(|&total| i128::from(total) * size)
                    .collect();
                for (code, c) in histogram.iter() {
                    extra[code as usize] -= i128::from(c) * n;
                }
                let mut cost = 0i128;
                for (level, parents) in tree.iter().enumerate() {
                    let width = parents.iter().map(|&p| p as usize + 1).max().unwrap_or(0);
                    let (mut pos, mut neg) = (vec![0i128; width], vec![0i128; width]);
                    for (label, &x) in extra.iter().enumerate() {
                        let p = parents[label] as usize;
                        if x > 0 {
                            pos[p] += x;
                        } else {
                            neg[p] -= x;
                        }
                    }
                    let height = level as i128 + 1;
                    cost += height * pos.iter().zip(&neg).map(|(p, q)| *p.min(q)).sum::<i128>();
                    extra = pos.iter().zip(&neg).map(|(p, q)| p - q).collect();
                }
                cost as f64 / (tree.len() as i128 * n * size) as f64
            }
        }
    }
}

impl PrivacyModel for TCloseness {
    fn name(&self) -> String {
        let d = match self.distance {
            GroundDistance::Equal => "equal",
            GroundDistance::Ordered => "ordered",
            GroundDistance::Hierarchical => "hierarchical",
        };
        format!(
            "{}-closeness ({d} distance) on {}",
            self.t,
            self.attribute.name()
        )
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: false,
        }
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        self.distance(class.histogram(self.attribute.index())) <= self.t
    }
}
