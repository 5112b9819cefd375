//! Measurements: the privacy profile of a table at a generalization node.

pub(crate) mod profile;

pub use profile::{PrivacyProfile, ProfileOptions, SensitiveProfile};
