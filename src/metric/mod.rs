//! Utility (information-loss) metrics ([§5](crate::methods#5-utility-metrics), computed as ARX does: [§5.1](crate::methods#51-aggregation-weights-and-the-gs-factor), [§5.2](crate::methods#52-metrics)).

mod utility;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use utility::{NodeScore, UtilityModel};

/// Which information-loss metric ranks the transformations (lower is better).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricKind {
    /// ARX's Loss (Iyengar's LM, "granularity"): per attribute the mean share
    /// of the hierarchy's leaves that a released value covers; a suppressed
    /// record costs 1. Default aggregate: arithmetic mean.
    Loss,
    /// Generalization intensity (Sweeney's precision, as a loss): per
    /// attribute the mean of level/height; a suppressed record costs 1.
    /// Default aggregate: arithmetic mean.
    Precision,
    /// DM* (ARX `createDiscernabilityMetric(true)`): Σ over all classes of
    /// |E|², suppressed classes included at their own size.
    Discernibility,
    /// DM (Bayardo & Agrawal): Σ over kept classes of |E|² plus n for each
    /// suppressed record.
    DiscernibilityNm,
    /// Average equivalence class size: n / (kept classes + 1 if any record
    /// is suppressed; the suppressed records form one class).
    Aecs,
    /// Non-uniform entropy, monotonic (ARX `createPrecomputedEntropyMetric(0.1, true)`):
    /// depends only on the levels; suppression is not charged. Default aggregate: sum.
    Entropy,
    /// Non-uniform entropy, non-monotonic (ARX `…(0.1, false)`): adds, for the
    /// suppressed records, the entropy of their labels within the suppressed set.
    EntropyNm,
    /// The sum of the levels.
    Height,
}

impl MetricKind {
    /// The name used in rulesets and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Loss => "loss",
            MetricKind::Precision => "precision",
            MetricKind::Discernibility => "discernibility",
            MetricKind::DiscernibilityNm => "discernibility-nm",
            MetricKind::Aecs => "aecs",
            MetricKind::Entropy => "entropy",
            MetricKind::EntropyNm => "entropy-nm",
            MetricKind::Height => "height",
        }
    }

    /// All metrics.
    pub const ALL: [MetricKind; 8] = [
        MetricKind::Loss,
        MetricKind::Precision,
        MetricKind::Discernibility,
        MetricKind::DiscernibilityNm,
        MetricKind::Aecs,
        MetricKind::Entropy,
        MetricKind::EntropyNm,
        MetricKind::Height,
    ];

    /// The aggregate used when none is configured.
    pub fn default_aggregate(self) -> Aggregate {
        match self {
            MetricKind::Loss | MetricKind::Precision => Aggregate::ArithmeticMean,
            _ => Aggregate::Sum,
        }
    }

    /// Whether the score never decreases under generalization, with or
    /// without suppression (so a search may prune every generalization of a
    /// feasible node). The other metrics are monotone only without suppression.
    pub fn is_monotone_with_suppression(self) -> bool {
        matches!(
            self,
            MetricKind::Entropy | MetricKind::Discernibility | MetricKind::Height
        )
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MetricKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MetricKind::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = MetricKind::ALL.iter().map(|m| m.name()).collect();
                format!("unknown metric '{s}' (known: {})", names.join(", "))
            })
    }
}

/// How per-attribute values combine into one score (ARX's aggregate
/// functions, [§5.1](crate::methods#51-aggregation-weights-and-the-gs-factor)); w_j are the normalized attribute weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregate {
    /// Σ_j w_j·v_j, accumulated in attribute order.
    Sum,
    /// max_j w_j·v_j.
    Max,
    /// Σ_j (v_j/d)·w_j, each term divided first (ARX's order).
    ArithmeticMean,
    /// Π_j (w_j·v_j + 1)^{1/d} − 1.
    GeometricMean,
}

/// A metric with its configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// The metric.
    pub kind: MetricKind,
    /// The aggregate; `None` takes the metric's default.
    #[serde(default)]
    pub aggregate: Option<Aggregate>,
    /// Per-attribute weights (default 0.5 each, as ARX), normalized by the
    /// largest; when all are 0, every attribute counts with weight 1 (as ARX).
    #[serde(default)]
    pub weights: std::collections::BTreeMap<String, f64>,
    /// ARX's generalization/suppression factor gs ∈ [0, 1] (default 0.5):
    /// generalization is weighted gF = 1 if gs ≤ 0.5 else 1 − 2(gs − 0.5),
    /// suppression sF = 2gs if gs < 0.5 else 1. Used by Loss, precision
    /// (kept records cost level/height·gF, suppressed ones sF), AECS (ARX
    /// counts kept classes ·sF and the suppressed records' class ·gF) and
    /// entropy-nm.
    #[serde(default = "default_gs")]
    pub gs_factor: f64,
}

fn default_gs() -> f64 {
    0.5
}

impl MetricSpec {
    /// The metric with default configuration.
    pub fn new(kind: MetricKind) -> MetricSpec {
        MetricSpec {
            kind,
            aggregate: None,
            weights: Default::default(),
            gs_factor: 0.5,
        }
    }

    /// The aggregate in force.
    pub fn aggregate(&self) -> Aggregate {
        self.aggregate
            .unwrap_or_else(|| self.kind.default_aggregate())
    }
}
