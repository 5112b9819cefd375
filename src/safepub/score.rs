//! Utility scores of bounded sensitivity for the private choice of a
//! transformation ([§8.4](crate::methods#84-differentially-private-anonymization-safepub)).
//!
//! A score is a loss S (lower is better) in integer units, with the
//! sensitivity Δ of S in the same units: the exponential mechanism at ε
//! then weighs a node by exp(−ε·(S − S_min)/(2Δ)). The losses are those of
//! ARX's score functions (`getScore` of its Loss, precision and
//! discernibility metrics): every record not released (not sampled, or in
//! a class below k) costs as if fully suppressed.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::noise::Rational;
use crate::noise::mechanism::gcd;

/// Fixed-point bits of the fractional losses (Loss and precision).
const FRACTION_BITS: u32 = 20;

/// The utility a differentially private anonymization optimizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DpScore {
    /// Loss (Iyengar 2002): per record and attribute, the share of the
    /// attribute's domain its generalized value covers; 1 for a record not
    /// released. Sensitivity d·(k − 1) for d attributes (k ≥ 2).
    Loss,
    /// Precision (Sweeney 2002): per record and attribute, level/height; 1
    /// for a record not released. Sensitivity d·(k − 1).
    Precision,
    /// Discernibility: each released record costs its class's size, each
    /// record not released n. Sensitivity n·(k²/(k − 1) + 1) (5n at k = 1).
    Discernibility,
}

impl DpScore {
    /// The score's name as in a ruleset.
    pub fn name(self) -> &'static str {
        match self {
            DpScore::Loss => "loss",
            DpScore::Precision => "precision",
            DpScore::Discernibility => "discernibility",
        }
    }
}

/// A node's outcome on the sample: the records released and the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeScore {
    /// Records in classes of at least k sampled records.
    pub released: u64,
    /// The loss in units (see [`Scorer::per_unit`]).
    pub units: u128,
}

/// Scores nodes of one sample.
pub(crate) struct Scorer<'a> {
    pub score: DpScore,
    pub hierarchies: &'a [&'a CompiledHierarchy],
    /// The minimal class size.
    pub k: u64,
    /// Records in the input (sampled or not).
    pub rows: u64,
}

fn overflow() -> Error {
    Error::parameter(
        "score",
        "the table is too large for the exact score arithmetic (128 bits)",
    )
}

impl Scorer<'_> {
    fn width(&self) -> u128 {
        self.hierarchies.len() as u128
    }

    /// k − 1, or 1 when k = 1 (as ARX divides only for k > 1).
    fn k_minus_one(&self) -> u128 {
        u128::from(self.k.max(2) - 1)
    }

    /// The loss of `table` (the sample at a node): records in classes below
    /// k are not released.
    pub fn score(&self, table: &FrequencyTable) -> Result<NodeScore> {
        let node = table.node().levels();
        let width = self.hierarchies.len();
        let mut released = 0u64;
        // Loss: Σ count·leaves per attribute; precision and discernibility
        // need only the counts.
        let mut leaves = vec![0u128; width];
        let mut squares = 0u128;
        for class in table.iter() {
            let size = class.size();
            if size < self.k {
                continue;
            }
            released += size;
            squares += u128::from(size) * u128::from(size);
            if self.score == DpScore::Loss {
                for (j, &code) in class.key().iter().enumerate() {
                    let level = &self.hierarchies[j].levels()[node[j] as usize];
                    leaves[j] += u128::from(size) * u128::from(level.leaves()[code as usize]);
                }
            }
        }
        let dropped = u128::from(self.rows - released.min(self.rows));
        let one = 1u128 << FRACTION_BITS;
        let units = match self.score {
            DpScore::Loss => {
                let mut units = dropped * self.width() * one;
                for (j, &sum) in leaves.iter().enumerate() {
                    let domain = u128::from(self.hierarchies[j].domain_size().max(1));
                    units += sum.checked_mul(one).ok_or_else(overflow)? / domain;
                }
                units
            }
            DpScore::Precision => {
                let mut units = dropped * self.width() * one;
                for (j, h) in self.hierarchies.iter().enumerate() {
                    let share = u128::from(released) * u128::from(node[j]) * one;
                    units += share.checked_div(h.height() as u128).unwrap_or(0);
                }
                units
            }
            DpScore::Discernibility => u128::from(self.rows)
                .checked_mul(dropped)
                .and_then(|v| v.checked_add(squares))
                .ok_or_else(overflow)?,
        };
        Ok(NodeScore { released, units })
    }

    /// ε/(2Δ) per unit of loss, Δ the sensitivity in units, so that the
    /// exponential mechanism with this rate is ε-differentially private.
    ///
    /// The fractional losses are rounded down per attribute to multiples
    /// of 2^−20, which moves S by less than d·2^−20; the sensitivity used is
    /// inflated by twice that (Δ = d(k − 1)·2^20 + 2d units), so the rounded
    /// score is covered.
    pub fn per_unit(&self, epsilon: Rational) -> Result<Rational> {
        let (num, den) = match self.score {
            DpScore::Loss | DpScore::Precision => {
                let delta =
                    self.width() * self.k_minus_one() * (1u128 << FRACTION_BITS) + 2 * self.width();
                (epsilon.num, epsilon.den.checked_mul(2 * delta))
            }
            DpScore::Discernibility => {
                let (k, n) = (u128::from(self.k), u128::from(self.rows));
                // Δ = n(k² + k − 1)/(k − 1), or 5n at k = 1.
                let (dnum, dden) = if k > 1 {
                    (n * (k * k + k - 1), k - 1)
                } else {
                    (5 * n, 1)
                };
                (
                    epsilon.num.checked_mul(dden).ok_or_else(overflow)?,
                    epsilon.den.checked_mul(2).and_then(|v| v.checked_mul(dnum)),
                )
            }
        };
        let den = den.ok_or_else(overflow)?;
        let g = gcd(num, den).max(1);
        Rational::new(num / g, den / g)
    }

    /// Loss of the release `table` (the sample at its node) as ARX's Loss
    /// metric measures it over the input: per attribute, the records'
    /// (leaves − 1)/(domain − 1) of their released value, 1 for a record
    /// not released; the arithmetic mean over attributes (ARX's
    /// `MetricMDNMLoss` at gs = 0.5, what `measure --release` reports as
    /// granularity).
    pub fn arx_loss(&self, table: &FrequencyTable) -> f64 {
        let node = table.node().levels();
        let n = self.rows as f64;
        let mut sums = vec![0.0f64; self.hierarchies.len()];
        let mut released = 0u64;
        for class in table.iter().filter(|c| c.size() >= self.k) {
            released += class.size();
            for (j, &code) in class.key().iter().enumerate() {
                let level = &self.hierarchies[j].levels()[node[j] as usize];
                sums[j] += class.size() as f64 * level.leaves()[code as usize] as f64;
            }
        }
        let dropped = (self.rows - released.min(self.rows)) as f64;
        let values: Vec<f64> = sums
            .iter()
            .zip(self.hierarchies)
            .map(|(&leaves, h)| {
                let domain = h.domain_size() as f64;
                if domain <= 1.0 {
                    return 0.0;
                }
                let shares = leaves / domain + dropped;
                let least = n / domain;
                ((shares - least) / (n - least)).max(0.0)
            })
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    }
}
