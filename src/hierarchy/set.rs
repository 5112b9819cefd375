//! The compiled hierarchies of a dataset, by column.

use crate::data::attribute::AttributeRole;
use crate::data::dataset::Dataset;
use crate::error::{Error, ErrorKind, Result};
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::hierarchy::table::Hierarchy;

/// The compiled hierarchies of a dataset's quasi-identifiers (every one has
/// a hierarchy; a quasi-identifier given none gets the height-0 identity,
/// so it can only be suppressed, never generalized) and of those sensitive
/// attributes that have one (hierarchical t-closeness needs it).
#[derive(Clone, Debug)]
pub struct Hierarchies {
    compiled: Vec<CompiledHierarchy>,
}

impl Hierarchies {
    /// Compiles `hierarchies` (column name, hierarchy) against `dataset`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownColumn`] for a hierarchy whose column is not a
    /// quasi-identifier or sensitive attribute of the dataset, and the errors
    /// of [`CompiledHierarchy::new`] (a value missing from its hierarchy).
    pub fn compile(dataset: &Dataset, hierarchies: &[Hierarchy]) -> Result<Hierarchies> {
        let mut compiled = Vec::new();
        for h in hierarchies {
            let column = dataset.encoded(h.column())?;
            compiled.push(CompiledHierarchy::new(h, column)?);
        }
        for attribute in dataset.with_role(AttributeRole::QuasiIdentifier) {
            if !compiled.iter().any(|c| c.column() == attribute.name) {
                compiled.push(CompiledHierarchy::identity(
                    dataset.encoded(&attribute.name)?,
                ));
            }
        }
        Ok(Hierarchies { compiled })
    }

    /// Wraps hierarchies already compiled against their columns'
    /// dictionaries (for data encoded without a [`Dataset`], such as a
    /// streamed table). Every quasi-identifier needs one, as
    /// [`Hierarchies::compile`] guarantees; the caller supplies identities.
    pub(crate) fn from_compiled(compiled: Vec<CompiledHierarchy>) -> Hierarchies {
        Hierarchies { compiled }
    }

    /// The hierarchy of `column`, if it has one.
    pub fn get(&self, column: &str) -> Option<&CompiledHierarchy> {
        self.compiled.iter().find(|c| c.column() == column)
    }

    /// The hierarchy of `column`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the column has none.
    pub fn require(&self, column: &str) -> Result<&CompiledHierarchy> {
        self.get(column).ok_or_else(|| {
            ErrorKind::InvalidParameter {
                name: "hierarchy".into(),
                reason: format!("attribute '{column}' has no hierarchy"),
            }
            .into()
        })
    }

    /// The hierarchies of the dataset's quasi-identifiers, in column order,
    /// checked to be compiled against this dataset's dictionaries.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when a quasi-identifier has no
    /// hierarchy; [`ErrorKind::InvalidHierarchy`] when one was compiled
    /// against another dictionary (hierarchies of another dataset).
    pub fn checked_quasi_identifiers<'a>(
        &'a self,
        dataset: &'a Dataset,
    ) -> Result<Vec<&'a CompiledHierarchy>> {
        dataset
            .quasi_identifiers()
            .into_iter()
            .map(|column| {
                let hierarchy = self.require(column.name())?;
                let identity = &hierarchy.levels()[0];
                if identity.map().len() != column.cardinality()
                    || identity.labels() != column.dictionary()
                {
                    return Err(Error::hierarchy(
                        column.name(),
                        "the hierarchy was compiled against another dictionary; compile the hierarchies for this dataset (Hierarchies::compile)",
                    ));
                }
                Ok(hierarchy)
            })
            .collect()
    }

    /// The hierarchies of the dataset's quasi-identifiers, in column order
    /// (unchecked: see [`Hierarchies::checked_quasi_identifiers`]).
    pub fn quasi_identifiers<'a>(&'a self, dataset: &'a Dataset) -> Vec<&'a CompiledHierarchy> {
        dataset
            .with_role(AttributeRole::QuasiIdentifier)
            .filter_map(|a| self.get(&a.name))
            .collect()
    }
}
