//! The end-to-end run: ruleset in, de-identified data and a signable report
//! out. It calls every stage in order (read, Safe Harbor, transformations,
//! encode, risk, search, apply, risk, scan, write, report) and appends each
//! to the audit trail.

mod clock;
mod document;
mod run;
mod stages;
#[cfg(test)]
mod tests;

pub use run::{RunOptions, RunOutcome, STEPS, quarantine_name, run_expert_determination};
