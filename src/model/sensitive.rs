//! What the models of sensitive attributes need to know about the attribute.

use rustc_hash::FxHashMap;

use crate::data::attribute::{AttributeRole, AttributeType};
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::hierarchy::set::Hierarchies;

/// A sensitive attribute prepared for the models: its position among the
/// dataset's sensitive attributes, the reference distribution P over the
/// whole input table, and, where available, the order of its values and its
/// generalization tree.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitiveAttribute {
    name: String,
    index: usize,
    counts: Vec<u64>,
    rows: u64,
    ranks: Option<Vec<u32>>,
    tree: Option<Vec<Vec<u32>>>,
}

impl SensitiveAttribute {
    /// Every sensitive attribute of `dataset`, in column order, each with
    /// its order from `orders` (for the ordered distance) when given.
    ///
    /// # Errors
    ///
    /// As [`SensitiveAttribute::new`].
    pub fn all(
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        orders: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<SensitiveAttribute>> {
        dataset
            .sensitive()
            .iter()
            .map(|c| {
                SensitiveAttribute::new(
                    dataset,
                    hierarchies,
                    c.name(),
                    orders.get(c.name()).map(Vec::as_slice),
                )
            })
            .collect()
    }

    /// Prepares the sensitive attribute `name` of `dataset`.
    ///
    /// The order of values (for ordered t-closeness) is numeric for integer,
    /// decimal and date attributes; for ordered strings it is `order` when
    /// given, else the row order of the attribute's hierarchy.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::UnknownColumn`] for an unknown column,
    /// [`crate::ErrorKind::InvalidParameter`] when the column is not
    /// sensitive or `order` misses one of its values.
    pub fn new(
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        name: &str,
        order: Option<&[String]>,
    ) -> Result<SensitiveAttribute> {
        let attribute = dataset.attribute(name)?;
        if attribute.role != AttributeRole::Sensitive {
            return Err(Error::parameter(
                "attribute",
                format!("'{name}' is not a sensitive attribute"),
            ));
        }
        let index = dataset
            .with_role(AttributeRole::Sensitive)
            .position(|a| a.name == name)
            .expect("the attribute is sensitive");
        let column = dataset.encoded(name)?;
        SensitiveAttribute::from_counts(
            name,
            attribute.data_type,
            index,
            column.dictionary(),
            column.counts(),
            dataset.rows() as u64,
            hierarchies.get(name),
            order,
        )
    }

    /// Prepares a sensitive attribute from its summary: its type, its
    /// position among the sensitive attributes, its dictionary, the number
    /// of records per code (`counts`) and in all (`rows`), and its compiled
    /// hierarchy if any (for data counted without an encoded [`Dataset`],
    /// such as a streamed table).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `order` misses one of its values.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_counts(
        name: &str,
        data_type: AttributeType,
        index: usize,
        dictionary: &[String],
        counts: Vec<u64>,
        rows: u64,
        hierarchy: Option<&CompiledHierarchy>,
        order: Option<&[String]>,
    ) -> Result<SensitiveAttribute> {
        let positions: Option<Vec<f64>> = match (data_type, order) {
            (_, Some(order)) => {
                let rank: FxHashMap<&str, usize> = order
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.as_str(), i))
                    .collect();
                let positions = dictionary
                    .iter()
                    .map(|v| {
                        rank.get(v.as_str()).map(|&r| r as f64).ok_or_else(|| {
                            Error::parameter(
                                "order",
                                format!(
                                    "the order of '{name}' does not list one of its values, shaped {}",
                                    crate::error::value_shape(v)
                                ),
                            )
                        })
                    })
                    .collect::<Result<_>>()?;
                Some(positions)
            }
            (AttributeType::String, None) => None,
            (AttributeType::OrderedString, None) => hierarchy.map(|h| {
                // Row order of the hierarchy: the leaf labels in first-appearance
                // order of the file are not kept, so rank by the file rows.
                h.file_order().iter().map(|&r| r as f64).collect()
            }),
            (data_type, None) => dictionary
                .iter()
                .map(|v| data_type.sort_key(v))
                .collect::<Option<Vec<f64>>>(),
        };
        let ranks = positions.map(|p| {
            let mut codes: Vec<u32> = (0..p.len() as u32).collect();
            codes.sort_by(|&a, &b| p[a as usize].total_cmp(&p[b as usize]).then(a.cmp(&b)));
            let mut ranks = vec![0u32; p.len()];
            for (rank, &code) in codes.iter().enumerate() {
                ranks[code as usize] = rank as u32;
            }
            ranks
        });
        let tree = hierarchy
            .filter(|h| h.height() > 0 && h.levels()[h.height()].cardinality() == 1)
            .map(|h| (0..h.height()).map(|level| h.parents(level)).collect());
        Ok(SensitiveAttribute {
            name: name.to_owned(),
            index,
            counts,
            rows,
            ranks,
            tree,
        })
    }

    /// The attribute name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Position among the dataset's sensitive attributes (column order), the
    /// index of its histograms in a [`crate::frequency::FrequencyTable`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// N_v: the number of records with value `code` in the whole table.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// n: the number of records of the whole table.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// p_v = N_v / n.
    pub fn p(&self, code: u32) -> f64 {
        self.counts[code as usize] as f64 / self.rows as f64
    }

    /// For each code, its rank in the value order (0-based), if ordered.
    pub fn ranks(&self) -> Option<&[u32]> {
        self.ranks.as_deref()
    }

    /// The generalization tree, if the attribute has a hierarchy with a single
    /// root: `tree()[λ][label]` is the parent at level λ+1 of a level-λ label.
    pub fn tree(&self) -> Option<&[Vec<u32>]> {
        self.tree.as_deref()
    }
}
