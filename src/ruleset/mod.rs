//! The ruleset: a TOML file describing a dataset, its columns' roles and
//! types, their hierarchies, and (in later stages) what to do with them.

mod file;
mod synthesis;
mod transforms;

pub use file::{
    AnonymizationRule, AttributeRule, DataRule, EngineKind, EngineRule, HierarchyRule,
    LoadedRuleset, MetricRule, Ruleset,
};
pub use synthesis::{BinRule, SynthesisRule};
