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

/// A ruleset bundled with the adult data (`datasets/adult/<name>`), loaded
/// (for tests).
#[cfg(test)]
pub(crate) fn bundled_adult(name: &str) -> LoadedRuleset {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    Ruleset::from_file(&root.join("datasets/adult").join(name))
        .and_then(|r| r.load())
        .expect("the bundled ruleset loads")
}
