//! The ruleset methods that read transformed data
//! ([§7](crate::methods#7-transformations-of-columns)).

use polars::prelude::DataFrame;
use rand::Rng;

use crate::error::Result;
use crate::ruleset::{LoadedRuleset, Ruleset};
use crate::transform::{TransformRecord, apply_transforms_with_missing};

impl Ruleset {
    /// Reads the data ([`Ruleset::read_data`]) and applies the ruleset's
    /// `[[transform]]` list with its missing-value markers
    /// ([`apply_transforms_with_missing`]). This is what a pipeline with
    /// transformations should call; [`Ruleset::read_data`] and
    /// [`Ruleset::load`] return the data untransformed.
    ///
    /// # Errors
    ///
    /// The errors of [`Ruleset::read_data`] and [`apply_transforms`](crate::transform::apply_transforms).
    pub fn read_transformed<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<(DataFrame, Vec<TransformRecord>)> {
        let frame = self.read_data()?;
        apply_transforms_with_missing(frame, &self.transforms, &self.data.missing_values, rng)
    }

    /// [`Ruleset::read_transformed`], then encoding ([`Ruleset::load_frame`]):
    /// [`Ruleset::load`] with the transformations applied, and their records.
    ///
    /// # Errors
    ///
    /// The errors of [`Ruleset::read_transformed`] and [`Ruleset::load_frame`].
    pub fn load_transformed<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<(LoadedRuleset, Vec<TransformRecord>)> {
        let (frame, records) = self.read_transformed(rng)?;
        let loaded = self.load_frame(&frame, &self.data_path().display().to_string())?;
        Ok((loaded, records))
    }
}
