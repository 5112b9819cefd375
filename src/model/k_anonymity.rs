//! k-anonymity.

use crate::error::{Error, Result};
use crate::frequency::table::EquivalenceClass;
use crate::model::{Monotonicity, PrivacyModel};

/// k-anonymity: every equivalence class has at least k records.
///
/// # Definition
///
/// A table is k-anonymous when every class E over the quasi-identifiers has
/// |E| ≥ k ([§3.1](crate::methods#31-k-anonymity)). k = 1 is trivially satisfied.
///
/// # Monotonicity
///
/// Under generalization classes only merge, and a union of classes of size
/// ≥ k has size ≥ k: monotone. Under suppression, a record in a class of
/// size < k either stays in a small class or joins a larger one, so the
/// records that must be suppressed never increase: monotone (ARX: both true).
///
/// # Citations
///
/// Samarati & Sweeney 1998; Sweeney, IJUFKS 10(5), 2002. ARX
/// `criteria/KAnonymity.java`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KAnonymity {
    k: u64,
}

impl KAnonymity {
    /// k-anonymity with the given k.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when k < 1.
    pub fn new(k: u64) -> Result<KAnonymity> {
        if k < 1 {
            return Err(Error::parameter("k", "k must be at least 1"));
        }
        Ok(KAnonymity { k })
    }

    /// The k.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl PrivacyModel for KAnonymity {
    fn name(&self) -> String {
        format!("{}-anonymity", self.k)
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: true,
        }
    }

    fn minimal_class_size(&self) -> u64 {
        self.k
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        class.size() >= self.k
    }

    fn decided_by_size(&self) -> bool {
        true
    }
}
