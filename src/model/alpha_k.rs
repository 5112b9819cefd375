//! (α,k)-anonymity.

use crate::error::{Error, Result};
use crate::frequency::histogram::HistogramRef;
use crate::frequency::table::EquivalenceClass;
use crate::model::sensitive::SensitiveAttribute;
use crate::model::{Monotonicity, PrivacyModel};

/// (α,k)-anonymity: classes of at least k records in which no sensitive
/// value (or one protected value) has a relative frequency above α.
///
/// # Definition
///
/// |E| ≥ k and, for the protected value s (Wong et al.'s original form) or
/// for every value (the general form, when no value is named):
/// c_s/|E| ≤ α ([§3.8](crate::methods#38-αk-anonymity)).
///
/// # Monotonicity
///
/// The frequency of a value in a union of classes is a weighted mean of its
/// frequencies in the parts, so it is at most the largest: monotone under
/// generalization. Not under suppression: merging a failing class with a
/// passing one can fail, so the records to suppress can grow.
///
/// # Citations
///
/// Wong, Li, Fu, Wang, KDD 2006; pycanon `_k_anonymity.alpha_k_anonymity`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlphaKAnonymity {
    attribute: String,
    index: usize,
    alpha: f64,
    k: u64,
    protected: Option<u32>,
}

impl AlphaKAnonymity {
    /// (α,k)-anonymity on `attribute`; `protected` is the dictionary code of
    /// the protected value, or `None` for every value.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when α is outside (0, 1] or k < 1.
    pub fn new(
        attribute: &SensitiveAttribute,
        alpha: f64,
        k: u64,
        protected: Option<u32>,
    ) -> Result<Self> {
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(Error::parameter(
                "alpha",
                format!("α must be in (0, 1], got {alpha}"),
            ));
        }
        if k < 1 {
            return Err(Error::parameter("k", "k must be at least 1"));
        }
        Ok(AlphaKAnonymity {
            attribute: attribute.name().to_owned(),
            index: attribute.index(),
            alpha,
            k,
            protected,
        })
    }
}

/// The largest relative frequency of a sensitive value in the class
/// (of `protected` only, when given).
pub(crate) fn largest_frequency(histogram: HistogramRef<'_>, protected: Option<u32>) -> f64 {
    let size = histogram.total() as f64;
    let top = match protected {
        Some(code) => histogram.count(code),
        None => histogram.max_count(),
    };
    top as f64 / size
}

impl PrivacyModel for AlphaKAnonymity {
    fn name(&self) -> String {
        format!(
            "({},{})-anonymity on {}",
            self.alpha, self.k, self.attribute
        )
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: false,
        }
    }

    fn minimal_class_size(&self) -> u64 {
        self.k
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        class.size() >= self.k
            && largest_frequency(class.histogram(self.index), self.protected) <= self.alpha
    }
}
