//! The Expert Determination report (METHODS.md §8): its settings, its
//! content as versioned JSON, the hash-chained audit trail, the HTML and
//! Markdown renderings, and verification.
//!
//! The report stage only reads what upstream stages produced; the run that
//! produces it is [`crate::run_expert_determination`].

mod audit;
mod digest;
mod document;
mod html;
mod markdown;
mod outline;
mod settings;
mod svg;
mod verify;

pub use audit::{AuditEntry, AuditTrail, verify_chain};
pub use digest::{sha256_file, sha256_hex};
pub use document::{
    ColumnReport, Context, DataSection, Identification, LevelResult, Methods, PrincipleAssessment,
    ReleaseSection, Report, Results, RiskCheck, RiskSection, SCHEMA_VERSION, ScanSection, SignOff,
    Summary, ThresholdSetting,
};
pub use html::render_html;
pub use markdown::render_markdown;
pub use outline::SECTIONS;
pub use settings::{
    Expert, ExpertDeterminationRule, MEASURES, OutputFormat, PrincipleRatings, Rating, ReleaseType,
    ThreatModel,
};
pub use verify::{Verification, verify_report};
