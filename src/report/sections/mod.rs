//! One builder per report section: each turns the [`Report`] document into
//! the section's blocks. The order and titles of the sections are in
//! `outline.rs`; the renderers (`html.rs`, `markdown.rs`) draw the blocks.
//!
//! [`Report`]: crate::report::Report

mod closing;
mod context;
mod data;
#[cfg(test)]
pub(crate) mod fixture;
mod methods;
mod results;
mod risk;
mod scan;
mod summary;

pub(crate) use closing::{audit, limitations, release, sign_off, verification};
pub(crate) use context::context;
pub(crate) use data::data;
pub(crate) use methods::methods;
pub(crate) use results::results;
pub(crate) use risk::risk;
pub(crate) use scan::scan;
pub(crate) use summary::summary;
