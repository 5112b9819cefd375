//! The Expert Determination report ([§9](crate::methods#9-the-expert-determination-report)): its settings, its
//! content as versioned JSON, the hash-chained audit trail, the HTML and
//! Markdown renderings, verification, and the expert's Ed25519 signature.
//!
//! The report stage only reads what upstream stages produced; the run that
//! produces it is [`crate::run_expert_determination`].

mod audit;
mod blocks;
mod chart;
mod digest;
mod document;
pub(crate) mod format;
mod html;
mod keys;
mod markdown;
mod outline;
mod read;
mod sections;
mod settings;
mod sign;
mod signature;
mod svg;
mod verify;

pub use audit::{AuditEntry, AuditTrail, verify_chain};
pub use digest::{sha256_file, sha256_hex};
pub use document::{
    ColumnReport, Context, DataSection, DifferentialPrivacySection, Identification, LevelResult,
    Methods, PrincipleAssessment, RecodingResult, ReleaseSection, Report, Results, RiskCheck,
    RiskSection, SCHEMA_VERSION, ScanSection, SignOff, Summary, SynthesisSection, ThresholdSetting,
};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use html::render_html;
pub use keys::{
    MAX_KEY_BYTES, generate_key_pair, public_key_path, public_key_sha256, read_signing_key,
    read_verifying_key,
};
pub use markdown::render_markdown;
pub use outline::SECTIONS;
pub use settings::{
    Expert, ExpertDeterminationRule, MEASURES, OutputFormat, PrincipleRatings, Rating, ReleaseType,
    ThreatModel,
};
pub use sign::sign_report;
pub use signature::{
    MAX_SIGNATURE_BYTES, ReportSignature, SIGNATURE_ALGORITHM, SIGNATURE_FORMAT, signature_path,
    signed_message,
};
pub use verify::{
    MAX_REPORT_BYTES, SignatureStatus, Verdict, Verification, VerifyOptions, verify_report,
    verify_report_file,
};
