//! Judging one group of records against the models, as a class of its own.

use std::collections::BTreeMap;

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::frequency::histogram::Histogram;
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::set::Hierarchies;
use crate::model::PrivacyModel;
use crate::search::AnonymizationConfig;

/// The configured models, ready to judge a set of rows as one class.
pub(crate) struct ClassCheck<'a> {
    models: Vec<Box<dyn PrivacyModel>>,
    min_size: u64,
    sizes_decide: bool,
    sensitive: Vec<&'a [u32]>,
    cardinalities: Vec<u32>,
}

impl<'a> ClassCheck<'a> {
    /// Builds the models of `config` for `dataset`.
    ///
    /// # Errors
    ///
    /// The models' errors ([`crate::model::ModelSpec::build`]);
    /// [`crate::ErrorKind::InvalidParameter`] for a model that judges the
    /// release as a whole (`method` names the recoding that cannot
    /// guarantee it) and for a configuration without a model.
    pub(crate) fn new(
        dataset: &'a Dataset,
        hierarchies: &Hierarchies,
        config: &AnonymizationConfig,
        orders: &BTreeMap<String, Vec<String>>,
        method: &str,
    ) -> Result<ClassCheck<'a>> {
        if config.models.is_empty() {
            return Err(Error::parameter(
                "models",
                "a release needs at least one privacy model",
            ));
        }
        let models = config
            .models
            .iter()
            .map(|m| m.build(dataset, hierarchies, orders))
            .collect::<Result<Vec<_>>>()?;
        if let Some(model) = models.iter().find(|m| m.judges_release()) {
            return Err(Error::parameter(
                "models",
                format!(
                    "{} judges the release as a whole, and {method} recoding decides class by class: \
                     it cannot guarantee the model (use global recoding, which suppresses whole classes until the release meets it)",
                    model.name()
                ),
            ));
        }
        let sensitive = dataset.sensitive();
        Ok(ClassCheck {
            min_size: models
                .iter()
                .map(|m| m.minimal_class_size())
                .max()
                .unwrap_or(1),
            sizes_decide: models.iter().all(|m| m.decided_by_size()),
            cardinalities: sensitive.iter().map(|c| c.cardinality() as u32).collect(),
            sensitive: sensitive.iter().map(|c| c.codes()).collect(),
            models,
        })
    }

    /// The size below which no class passes.
    pub(crate) fn min_size(&self) -> u64 {
        self.min_size
    }

    /// Whether the records `rows` (row indices), released as one class,
    /// satisfy every model.
    pub(crate) fn passes(&self, rows: &[u32]) -> bool {
        let n = rows.len() as u64;
        if n < self.min_size {
            return false;
        }
        if self.sizes_decide {
            return true;
        }
        let histograms: Vec<Vec<Histogram>> = self
            .sensitive
            .iter()
            .map(|codes| {
                vec![Histogram::from_pairs(
                    rows.iter().map(|&r| (codes[r as usize], 1)),
                )]
            })
            .collect();
        let table = FrequencyTable::from_parts(
            Node::bottom(1),
            vec![1],
            self.cardinalities.clone(),
            vec![0],
            vec![n],
            histograms,
        )
        .expect("one class of counted rows");
        let class = table.iter().next().expect("one class");
        self.models.iter().all(|m| m.is_satisfied_by(&class))
    }
}
