//! # deidentify
//!
//! Statistical anonymization of health data under HIPAA.
//!
//! The data flows one way, one public module per stage:
//!
//! | Stage | Module | What it holds |
//! |---|---|---|
//! | ruleset | [`ruleset`] | the TOML file: data, roles, hierarchies, models |
//! | data in | [`data`] | CSV/Parquet input, roles, dictionary encoding |
//! | hierarchies | [`hierarchy`] | ARX-format tables, builders, level tables |
//! | Safe Harbor | [`safe_harbor`] | the 18 identifiers, keyed tokens, the residual scan |
//! | transformations | [`transform`] | binning, microaggregation, additive noise |
//! | frequency table | [`frequency`] | classes at a node, mergeable counts |
//! | models | [`model`], [`measure`] | privacy models; a node's privacy profile |
//! | metrics | [`metric`] | information loss as ARX computes it |
//! | search | [`search`](mod@search) | the lattice and the optimal search |
//! | apply | [`apply`](mod@apply) | the release at a node (the second pass over rows) |
//! | recode | [`recode`](mod@recode) | local recoding, Mondrian, cell suppression; measuring any release |
//! | risk | [`risk`] | re-identification risk before and after |
//! | noise | [`noise`] | exact discrete samplers, DP counts, sums and means |
//! | DP releases | [`safepub`], [`synthesis`] | differentially private anonymization; DP synthetic data (MST) |
//! | report | [`report`] | the Expert Determination report, audit trail, signature |
//! | end to end | [`pipeline`], [`stream`] | the whole run; data larger than memory |
//!
//! The root re-exports the names a first program needs; [`prelude`] brings
//! the common types and traits in one import; [`error`] and [`exit`] hold
//! the error type and the example programs' exit statuses; [`methods`] is
//! the methods document every formula cites.
//!
//! ```no_run
//! use deidentify::{Node, PrivacyProfile, Ruleset};
//!
//! let ruleset = Ruleset::from_file("datasets/adult/adult.toml".as_ref())?;
//! let loaded = ruleset.load()?;
//! let node = Node::bottom(loaded.dataset.quasi_identifiers().len());
//! let profile = PrivacyProfile::measure(&loaded.dataset, &loaded.hierarchies, &node, &Default::default())?;
//! println!("k = {}", profile.k);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate does not guarantee
//!
//! k-anonymity, l-diversity, t-closeness and the other syntactic models
//! bound what an attacker learns *under their assumptions* (the attacker
//! knows only the quasi-identifiers; the records are independent). They are
//! not differential privacy, and an attacker with more background knowledge
//! than modelled may learn more. Each item's documentation gives its
//! formula and the publication it follows, and cites by section the
//! crate's methods document, [`methods`], which states every formula, the
//! conventions shared with ARX and sdcMicro and where the crate departs
//! from them.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod apply;
pub mod data;
pub mod error;
pub mod exit;
mod files;
pub mod frequency;
pub mod hierarchy;
pub mod measure;
pub mod methods;
pub mod metric;
pub mod model;
pub mod noise;
pub mod pipeline;
mod population;
pub mod prelude;
pub mod recode;
pub mod report;
pub mod risk;
pub mod ruleset;
pub mod safe_harbor;
pub mod safepub;
pub mod search;
pub mod spark;
pub mod stream;
pub mod synthesis;
pub mod transform;

pub use apply::{Anonymized, apply};
pub use data::Dataset;
pub use error::{Error, ErrorKind, Result};
pub use frequency::Node;
pub use hierarchy::Hierarchies;
pub use measure::PrivacyProfile;
pub use pipeline::{RunOptions, run_expert_determination};
pub use report::{Report, verify_report};
pub use risk::RiskAnalysis;
pub use ruleset::Ruleset;
pub use safe_harbor::apply_safe_harbor;
pub use search::{AnonymizationConfig, search};

/// polars, whose `DataFrame` appears in this crate's signatures, re-exported
/// so a caller uses the same version.
pub use polars;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
