//! Statistical transformations of columns ([§7](crate::methods#7-transformations-of-columns)), configured as
//! serializable, replayable values ([`TransformSpec`], [`TransformRecord`]).

mod additive_noise;
mod binning;
mod mdav;
mod pipeline;
mod spec;

pub use additive_noise::{AdditiveNoise, NoiseCorrelation};
pub use binning::{Binned, Binning, BinningMethod, MAX_BINS};
pub use mdav::{Microaggregation, mdav};
pub use pipeline::{
    apply_transforms, apply_transforms_with_missing, replay_transforms,
    replay_transforms_with_missing,
};
pub(crate) use spec::check_rule;
pub use spec::{ColumnBinning, TransformRecord, TransformSpec};
