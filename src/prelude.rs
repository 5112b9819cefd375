//! The types and traits most programs use, in one import:
//!
//! ```
//! use deidentify::prelude::*;
//! ```
//!
//! It brings the ruleset and the data ([`Ruleset`], [`LoadedRuleset`],
//! [`Dataset`], [`Hierarchies`]), the frequency table and its nodes, the
//! privacy models and the traits they implement ([`PrivacyModel`],
//! [`UtilityModel`]), the search's configuration and result, the
//! anonymized output, the risk analysis, Safe Harbor, and the end-to-end
//! run with its report. Everything else lives in the stage modules
//! ([`crate::model`], [`crate::risk`], …).

pub use crate::apply::{Anonymized, apply};
pub use crate::data::{AttributeRole, Dataset};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::frequency::{FrequencyTable, Node};
pub use crate::hierarchy::{Hierarchies, Hierarchy};
pub use crate::measure::PrivacyProfile;
pub use crate::metric::{MetricKind, MetricSpec, UtilityModel};
pub use crate::model::{
    DistinctLDiversity, EntropyLDiversity, KAnonymity, ModelSpec, PrivacyModel,
    RecursiveClDiversity, TCloseness,
};
pub use crate::pipeline::{RunOptions, RunOutcome, run_expert_determination};
pub use crate::report::{Report, verify_report};
pub use crate::risk::{RiskAnalysis, RiskOptions};
pub use crate::ruleset::{LoadedRuleset, Ruleset};
pub use crate::safe_harbor::apply_safe_harbor;
pub use crate::search::{AnonymizationConfig, SearchResult, Strategy, search};
