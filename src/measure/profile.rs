//! The privacy profile: what each model achieves at one node.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::set::Hierarchies;
use crate::model::alpha_k::largest_frequency;
use crate::model::beta_likeness::{enhanced_beta, largest_gain};
use crate::model::delta_disclosure::disclosure;
use crate::model::l_diversity::{entropy, largest_recursive_l};
use crate::model::{AbsentValuePolicy, GroundDistance, SensitiveAttribute, TCloseness};

/// Options of [`PrivacyProfile::measure`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProfileOptions {
    /// The c of recursive (c,l)-diversity for which the largest l is reported.
    pub recursive_c: f64,
    /// How δ-disclosure treats values absent from a class.
    pub absent: AbsentValuePolicy,
    /// Explicit value orders of ordered-string sensitive attributes.
    pub orders: BTreeMap<String, Vec<String>>,
}

impl ProfileOptions {
    /// The options with the c of recursive (c,l)-diversity.
    pub fn with_recursive_c(mut self, recursive_c: f64) -> ProfileOptions {
        self.recursive_c = recursive_c;
        self
    }

    /// The options with δ-disclosure's policy for absent values.
    pub fn with_absent(mut self, absent: AbsentValuePolicy) -> ProfileOptions {
        self.absent = absent;
        self
    }

    /// The options with explicit value orders.
    pub fn with_orders(mut self, orders: BTreeMap<String, Vec<String>>) -> ProfileOptions {
        self.orders = orders;
        self
    }
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            recursive_c: 2.0,
            absent: AbsentValuePolicy::Ignore,
            orders: BTreeMap::new(),
        }
    }
}

/// What the sensitive-attribute models achieve for one attribute: for each,
/// the strongest parameter every class satisfies (the minimum over classes
/// of l, the maximum of t, δ, β and α).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensitiveProfile {
    /// Distinct l-diversity: the fewest distinct values in a class.
    pub l_distinct: usize,
    /// Entropy l-diversity: exp of the smallest class entropy (natural log),
    /// the real-valued effective l.
    pub l_entropy: f64,
    /// The c for which `recursive_c_l` is reported.
    pub recursive_c: f64,
    /// Recursive (c,l)-diversity: the largest l every class satisfies for
    /// `recursive_c` (0 when some class fails even l = 1).
    pub recursive_c_l: usize,
    /// t-closeness, equal ground distance: the largest EMD of a class.
    pub t_equal: f64,
    /// t-closeness, ordered distance (only for ordered attributes).
    pub t_ordered: Option<f64>,
    /// t-closeness, hierarchical distance (only with a single-rooted hierarchy).
    pub t_hierarchical: Option<f64>,
    /// δ-disclosure: the largest |ln(q/p)| (natural log); under the
    /// `ignore` policy only values present in a class count.
    pub delta_disclosure: f64,
    /// Basic β-likeness: the largest relative gain (q − p)/p.
    pub beta_basic: f64,
    /// Enhanced β-likeness: the smallest β satisfied, or `None` when some
    /// gain exceeds −ln p (no β suffices).
    pub beta_enhanced: Option<f64>,
    /// (α,k)-anonymity: the largest relative frequency of a value in a class.
    pub alpha: f64,
}

/// The privacy profile of a table at a node, without suppression: every
/// class counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrivacyProfile {
    /// The node measured, as attribute → level in column order.
    pub levels: BTreeMap<String, u32>,
    /// Number of records.
    pub rows: u64,
    /// Number of equivalence classes.
    pub classes: usize,
    /// The smallest class size (the table is k-anonymous for this k).
    pub k: u64,
    /// Records in classes of size 1 (sample uniques).
    pub sample_uniques: u64,
    /// Per sensitive attribute.
    pub sensitive: BTreeMap<String, SensitiveProfile>,
}

impl PrivacyProfile {
    /// Measures `dataset` generalized to `node`.
    ///
    /// # Errors
    ///
    /// Node errors (wrong length, level out of range) and errors preparing
    /// the sensitive attributes (an order missing a value).
    pub fn measure(
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        node: &Node,
        options: &ProfileOptions,
    ) -> Result<PrivacyProfile> {
        let table = FrequencyTable::from_dataset(dataset, hierarchies, node)?;
        let sensitive = SensitiveAttribute::all(dataset, hierarchies, &options.orders)?;
        let names = dataset.quasi_identifier_names();
        let mut profile = PrivacyProfile::of_table(&table, &sensitive, options)?;
        profile.levels = names
            .into_iter()
            .zip(node.levels().iter().copied())
            .collect();
        Ok(profile)
    }

    /// Measures a frequency table; `sensitive` must describe its sensitive
    /// attributes. `levels` is left empty.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `options.recursive_c` is
    /// not a positive number.
    pub fn of_table(
        table: &FrequencyTable,
        sensitive: &[SensitiveAttribute],
        options: &ProfileOptions,
    ) -> Result<PrivacyProfile> {
        if !(options.recursive_c.is_finite() && options.recursive_c > 0.0) {
            return Err(Error::parameter(
                "recursive_c",
                "c must be a positive number",
            ));
        }
        let k = table.counts().iter().copied().min().unwrap_or(0);
        let sample_uniques = table.counts().iter().filter(|&&c| c == 1).count() as u64;
        let mut profiles = BTreeMap::new();
        for attribute in sensitive {
            let equal = TCloseness::new(attribute, 1.0, GroundDistance::Equal)?;
            let ordered = TCloseness::new(attribute, 1.0, GroundDistance::Ordered).ok();
            let hierarchical = TCloseness::new(attribute, 1.0, GroundDistance::Hierarchical).ok();
            let histograms = table.histograms(attribute.index());
            let mut p = SensitiveProfile {
                l_distinct: usize::MAX,
                l_entropy: f64::INFINITY,
                recursive_c: options.recursive_c,
                recursive_c_l: usize::MAX,
                t_equal: 0.0,
                t_ordered: ordered.as_ref().map(|_| 0.0),
                t_hierarchical: hierarchical.as_ref().map(|_| 0.0),
                delta_disclosure: 0.0,
                beta_basic: 0.0,
                beta_enhanced: Some(0.0),
                alpha: 0.0,
            };
            let mut min_entropy = f64::INFINITY;
            for h in histograms {
                p.l_distinct = p.l_distinct.min(h.distinct());
                min_entropy = min_entropy.min(entropy(h));
                p.recursive_c_l = p
                    .recursive_c_l
                    .min(largest_recursive_l(h, options.recursive_c));
                p.t_equal = p.t_equal.max(equal.distance(h));
                if let (Some(t), Some(model)) = (p.t_ordered.as_mut(), ordered.as_ref()) {
                    *t = t.max(model.distance(h));
                }
                if let (Some(t), Some(model)) = (p.t_hierarchical.as_mut(), hierarchical.as_ref()) {
                    *t = t.max(model.distance(h));
                }
                p.delta_disclosure =
                    p.delta_disclosure
                        .max(disclosure(attribute, h, options.absent));
                p.beta_basic = p.beta_basic.max(largest_gain(attribute, h));
                p.beta_enhanced = match (p.beta_enhanced, enhanced_beta(attribute, h)) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                p.alpha = p.alpha.max(largest_frequency(h, None));
            }
            p.l_entropy = min_entropy.exp();
            if table.classes() == 0 {
                p.l_distinct = 0;
                p.recursive_c_l = 0;
                p.l_entropy = 0.0;
            }
            profiles.insert(attribute.name().to_owned(), p);
        }
        Ok(PrivacyProfile {
            levels: BTreeMap::new(),
            rows: table.rows(),
            classes: table.classes(),
            k,
            sample_uniques,
            sensitive: profiles,
        })
    }
}
