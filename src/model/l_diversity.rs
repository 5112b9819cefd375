//! l-diversity: distinct, entropy and recursive (c,l).

use crate::error::{Error, Result};
use crate::frequency::histogram::HistogramRef;
use crate::frequency::table::EquivalenceClass;
use crate::model::sensitive::SensitiveAttribute;
use crate::model::{Monotonicity, PrivacyModel};

fn check_l(l: f64) -> Result<()> {
    if l.is_finite() && l >= 1.0 {
        Ok(())
    } else {
        Err(Error::parameter(
            "l",
            format!("l must be a number ≥ 1, got {l}"),
        ))
    }
}

/// Distinct l-diversity: every class holds at least l distinct sensitive values.
///
/// # Definition
///
/// With m the number of distinct values of the sensitive attribute in class
/// E: m ≥ ⌈l⌉ ([§3.2](crate::methods#32-l-diversity); ARX `distributions.size() >= ceil(l)`).
///
/// # Monotonicity
///
/// A union of classes holds at least as many distinct values as each part,
/// so both under generalization and under suppression the property is kept
/// and the records to suppress never increase (ARX: both true).
///
/// # Citations
///
/// Machanavajjhala, Kifer, Gehrke, Venkitasubramaniam, ICDE 2006 / TKDD 2007.
/// ARX `criteria/DistinctLDiversity.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct DistinctLDiversity {
    attribute: String,
    index: usize,
    l: f64,
}

impl DistinctLDiversity {
    /// Distinct l-diversity on `attribute`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when l < 1 or not finite.
    pub fn new(attribute: &SensitiveAttribute, l: f64) -> Result<Self> {
        check_l(l)?;
        Ok(DistinctLDiversity {
            attribute: attribute.name().to_owned(),
            index: attribute.index(),
            l,
        })
    }
}

impl PrivacyModel for DistinctLDiversity {
    fn name(&self) -> String {
        format!("distinct-{}-diversity on {}", self.l, self.attribute)
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: true,
        }
    }

    fn minimal_class_size(&self) -> u64 {
        self.l.ceil() as u64
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        class.histogram(self.index).distinct() as f64 >= self.l.ceil()
    }
}

/// Entropy l-diversity: the entropy of the sensitive values in every class
/// is at least ln l.
///
/// # Definition
///
/// H(E) = −Σ (n_i/|E|) ln(n_i/|E|) ≥ ln l (natural log, Shannon estimator).
/// Evaluated as ARX does ([§3.2](crate::methods#32-l-diversity)): pass iff m ≥ ⌈l⌉ and
/// Σ n_i·ln n_i ≤ |E|·(ln |E| − ln l) in double arithmetic, so that the
/// exact ties H(E) = ln l, frequent on adult, pass.
///
/// # Monotonicity
///
/// Entropy is concave, so the entropy of a union of classes is at least the
/// smallest entropy of its parts: monotone under generalization. Not under
/// suppression: merging a failing class with a passing one can fail, so the
/// records to suppress can grow ([§3.10](crate::methods#310-monotonicity-and-suppression); ARX: true / false).
///
/// # Citations
///
/// Machanavajjhala et al., TKDD 2007. ARX `criteria/EntropyLDiversity.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct EntropyLDiversity {
    attribute: String,
    index: usize,
    l: f64,
}

impl EntropyLDiversity {
    /// Entropy l-diversity on `attribute`; l may be real.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when l < 1 or not finite.
    pub fn new(attribute: &SensitiveAttribute, l: f64) -> Result<Self> {
        check_l(l)?;
        Ok(EntropyLDiversity {
            attribute: attribute.name().to_owned(),
            index: attribute.index(),
            l,
        })
    }
}

impl PrivacyModel for EntropyLDiversity {
    fn name(&self) -> String {
        format!("entropy-{}-diversity on {}", self.l, self.attribute)
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: false,
        }
    }

    fn minimal_class_size(&self) -> u64 {
        self.l.ceil() as u64
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        let h = class.histogram(self.index);
        if (h.distinct() as f64) < self.l.ceil() {
            return false;
        }
        let total = class.size() as f64;
        let bound = total * (total.ln() - self.l.ln());
        let mut sum = 0.0;
        for (_, n) in h.iter() {
            let n = n as f64;
            sum += n * n.ln();
            if bound < sum {
                return false;
            }
        }
        true
    }
}

/// Recursive (c,l)-diversity: the most frequent sensitive value is not too
/// frequent compared with the rarer ones.
///
/// # Definition
///
/// With counts n_1 ≥ n_2 ≥ … ≥ n_m in class E: m ≥ l and
/// n_1 < c·(n_l + n_{l+1} + … + n_m), strictly ([§3.2](crate::methods#32-l-diversity)).
///
/// # Monotonicity
///
/// Monotone under generalization (Machanavajjhala et al. 2007); not under
/// suppression, by the same merging argument as entropy l-diversity (ARX:
/// true / false).
///
/// # Citations
///
/// Machanavajjhala et al., TKDD 2007. ARX `criteria/RecursiveCLDiversity.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecursiveClDiversity {
    attribute: String,
    index: usize,
    c: f64,
    l: u64,
}

impl RecursiveClDiversity {
    /// Recursive (c,l)-diversity on `attribute`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when c ≤ 0 or l < 1.
    pub fn new(attribute: &SensitiveAttribute, c: f64, l: u64) -> Result<Self> {
        if !(c.is_finite() && c > 0.0) {
            return Err(Error::parameter(
                "c",
                format!("c must be a positive number, got {c}"),
            ));
        }
        if l < 1 {
            return Err(Error::parameter("l", "l must be at least 1"));
        }
        Ok(RecursiveClDiversity {
            attribute: attribute.name().to_owned(),
            index: attribute.index(),
            c,
            l,
        })
    }
}

impl PrivacyModel for RecursiveClDiversity {
    fn name(&self) -> String {
        format!(
            "recursive-({},{})-diversity on {}",
            self.c, self.l, self.attribute
        )
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: false,
        }
    }

    fn minimal_class_size(&self) -> u64 {
        self.l
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        recursive_holds(
            &class.histogram(self.index).sorted_counts(),
            self.c,
            self.l as usize,
        )
    }
}

/// Whether counts sorted in decreasing order satisfy recursive (c,l)-diversity.
fn recursive_holds(sorted: &[u64], c: f64, l: usize) -> bool {
    if l == 0 || sorted.len() < l {
        return false;
    }
    let tail: u64 = sorted[l - 1..].iter().sum();
    (sorted[0] as f64) < c * tail as f64
}

/// The largest l for which the class satisfies recursive (c,l)-diversity
/// (0 when none does).
pub(crate) fn largest_recursive_l(histogram: HistogramRef<'_>, c: f64) -> usize {
    let sorted = histogram.sorted_counts();
    // The tail sum shrinks as l grows, so the satisfied l form a prefix 1..=l*.
    (1..=sorted.len())
        .take_while(|&l| recursive_holds(&sorted, c, l))
        .last()
        .unwrap_or(0)
}

/// The Shannon entropy (natural log) of the class's sensitive values.
pub(crate) fn entropy(histogram: HistogramRef<'_>) -> f64 {
    let total = histogram.total() as f64;
    let sum: f64 = histogram
        .iter()
        .map(|(_, n)| n as f64 * (n as f64).ln())
        .sum();
    total.ln() - sum / total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frequency::histogram::Histogram;

    #[test]
    fn recursive_cl_by_hand() {
        // counts 5,3,2: l=2 → 5 < c·(3+2) holds for c=2 (10), l=3 → 5 < 2·2 fails.
        let h = Histogram::from_pairs([(0, 5), (1, 3), (2, 2)]);
        assert_eq!(largest_recursive_l(h.view(), 2.0), 2);
        // c = 1: l=1 → 5 < 10 holds; l=2 → 5 < 5 fails (strict).
        assert_eq!(largest_recursive_l(h.view(), 1.0), 1);
        // A single value: l=1 → n < 2n holds.
        assert_eq!(
            largest_recursive_l(Histogram::from_pairs([(4, 7)]).view(), 2.0),
            1
        );
        assert!(!recursive_holds(&[3, 3], 2.0, 3));
        assert!(recursive_holds(&[3, 3], 2.0, 2));
    }

    #[test]
    fn entropy_by_hand() {
        let h = Histogram::from_pairs([(0, 1), (1, 1), (2, 2)]);
        let expected = -(0.25f64 * 0.25f64.ln() * 2.0 + 0.5 * 0.5f64.ln());
        assert!((entropy(h.view()) - expected).abs() < 1e-15);
        assert_eq!(entropy(Histogram::from_pairs([(3, 9)]).view()), 0.0);
    }
}

#[cfg(test)]
mod arx_ties {
    use super::*;
    use crate::data::attribute::{AttributeRole, AttributeType};
    use crate::data::column::EncodedColumn;
    use crate::data::dataset::Dataset;
    use crate::frequency::node::Node;
    use crate::frequency::table::FrequencyTable;
    use crate::hierarchy::set::Hierarchies;

    /// One class per count pattern; H(E) = ln 5 exactly for every pattern
    /// found on ARX's adult data set, and all of them must pass entropy-5-diversity.
    #[test]
    fn exact_ties_pass_as_in_arx() {
        let patterns: [&[u64]; 7] = [
            &[1, 1, 1, 1, 1],
            &[4, 2, 1, 1, 1, 1],
            &[2, 2, 2, 2, 2],
            &[8, 4, 4, 1, 1, 1, 1],
            &[8, 4, 2, 2, 2, 2],
            &[3, 3, 3, 3, 3],
            &[9, 8, 6, 3, 3, 1],
        ];
        let (mut q, mut s) = (Vec::new(), Vec::new());
        for (class, counts) in patterns.iter().enumerate() {
            for (value, &c) in counts.iter().enumerate() {
                for _ in 0..c {
                    q.push(class.to_string());
                    s.push(value.to_string());
                }
            }
        }
        let dataset = Dataset::from_encoded(vec![
            (
                EncodedColumn::from_values("q", q.iter().map(String::as_str)),
                AttributeRole::QuasiIdentifier,
                AttributeType::String,
            ),
            (
                EncodedColumn::from_values("s", s.iter().map(String::as_str)),
                AttributeRole::Sensitive,
                AttributeType::String,
            ),
        ])
        .unwrap();
        let hierarchies = Hierarchies::compile(&dataset, &[]).unwrap();
        let table = FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(1)).unwrap();
        let attribute = SensitiveAttribute::new(&dataset, &hierarchies, "s", None).unwrap();
        let five = EntropyLDiversity::new(&attribute, 5.0).unwrap();
        let more = EntropyLDiversity::new(&attribute, 5.000001).unwrap();
        assert_eq!(table.classes(), 7);
        for class in table.iter() {
            assert!(five.is_satisfied_by(&class), "class {}", class.index());
            assert!(!more.is_satisfied_by(&class), "class {}", class.index());
        }
    }
}
