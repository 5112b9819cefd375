//! Generalization hierarchies: ARX-format tables, builders, and their
//! compiled form (lookup tables over a column's dictionary).

pub(crate) mod builder;
pub(crate) mod compiled;
pub(crate) mod set;
pub(crate) mod table;

pub use builder::{
    DateGranularity, DateHierarchy, GroupingHierarchy, HierarchyBuilder, IntervalHierarchy,
    IntervalLevel, RedactionHierarchy, TOP_LABEL,
};
pub use compiled::{CompiledHierarchy, Level};
pub use set::Hierarchies;
pub use table::Hierarchy;
