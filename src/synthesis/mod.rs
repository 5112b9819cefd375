//! Differentially private synthetic data: MST (McKenna, Miklau and Sheldon,
//! "Winning the NIST Contest: A scalable and general approach to
//! differentially private synthetic data", 2021) and AIM (McKenna, Mullins,
//! Sheldon and Miklau, VLDB 2022), with exact discrete Gaussian
//! measurements and an exact exponential mechanism, budgeted in
//! zero-concentrated DP ([§8.5](crate::methods#85-differentially-private-synthetic-data-mst),
//! [§8.6](crate::methods#86-differentially-private-synthetic-data-aim)).
//!
//! [`synthesize`] learns a model of the chosen attributes under (ε, δ)-DP
//! and samples any number of synthetic records from it; [`evaluate`]
//! measures how well synthetic records keep the real data's marginals and
//! what a classifier trained on them predicts, and how many copy a real
//! record.
//!
//! The guarantee covers the records of the input (one record added or
//! removed changes the output's distribution by at most e^ε, up to δ). It
//! holds when every attribute's domain is fixed without looking at the
//! data (hierarchy files, listed values, or bins with bounds the user
//! chose) and the random source is secret: a fixed seed is for tests and
//! for reproducing a run.
//!
//! ```
//! use deidentify::synthesis::{Domain, SynthesisAttribute, SynthesisConfig, synthesize};
//! use polars::prelude::*;
//! use rand::SeedableRng;
//!
//! let sex: Vec<&str> = (0..400).map(|i| if i % 3 == 0 { "F" } else { "M" }).collect();
//! let age: Vec<i64> = (0..400).map(|i| 20 + i % 50).collect();
//! let frame = df!("sex" => sex, "age" => age)?;
//! let config = SynthesisConfig::new(
//!     1.0,
//!     1e-6,
//!     vec![
//!         SynthesisAttribute::new("sex", Domain::values(["F".into(), "M".into()])?),
//!         SynthesisAttribute::new("age", Domain::bins(0.0, 99.0, 10.0, true)?),
//!     ],
//! )
//! .with_rows(1000);
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let synthetic = synthesize(&frame, &config, &mut rng)?;
//! assert_eq!(synthetic.frame.height(), 1000);
//! assert_eq!(synthetic.summary.tree.len(), 1); // one edge joins two attributes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod aim;
mod allot;
mod domain;
mod factor;
mod junction;
mod mirror;
mod mst;
mod utility;

use std::time::Instant;

use polars::prelude::{Column, DataFrame, NamedFrom};
use polars::series::Series;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::noise::{ZcdpBudget, tight_epsilon_for, tight_rho_for};

pub use domain::Domain;
pub use utility::{
    ClassifierUtility, MarginalDistance, SynthesisUtility, UtilityOptions, evaluate,
};

/// One attribute to synthesize and its public domain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthesisAttribute {
    /// The column's name.
    pub name: String,
    /// The values it may take.
    pub domain: Domain,
}

impl SynthesisAttribute {
    /// Column `name` over `domain`.
    pub fn new(name: impl Into<String>, domain: Domain) -> SynthesisAttribute {
        SynthesisAttribute {
            name: name.into(),
            domain,
        }
    }
}

/// What to synthesize, under which privacy parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SynthesisConfig {
    /// ε of the (ε, δ) guarantee.
    pub epsilon: f64,
    /// δ of the (ε, δ) guarantee.
    pub delta: f64,
    /// How many records to sample; by default the model's (noisy) estimate
    /// of the input's size.
    pub rows: Option<u64>,
    /// The attributes, in the output's column order.
    pub attributes: Vec<SynthesisAttribute>,
    /// An attribute every marginal is measured with (within each of its
    /// values), so that its dependence on every other attribute is kept:
    /// the label a model trained on the synthetic records will predict.
    /// None: MST as published. MST only.
    pub condition: Option<String>,
    /// The generator.
    #[serde(default)]
    pub method: SynthesisMethod,
}

/// Which marginal-based generator learns the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SynthesisMethod {
    /// MST: one-way marginals and the two-way marginals of a spanning tree
    /// chosen privately; fast, and keeps every pair on the tree.
    #[default]
    Mst,
    /// AIM: marginals chosen round by round where the model is worst,
    /// fitted as a graphical model by Private-PGM; slower, and keeps more
    /// of the two- and three-way structure.
    Aim,
}

impl SynthesisMethod {
    /// The method's name as reports print it ("MST", "AIM").
    pub fn name(self) -> &'static str {
        match self {
            SynthesisMethod::Mst => "MST",
            SynthesisMethod::Aim => "AIM",
        }
    }
}

impl std::str::FromStr for SynthesisMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<SynthesisMethod> {
        match s.to_ascii_lowercase().as_str() {
            "mst" => Ok(SynthesisMethod::Mst),
            "aim" => Ok(SynthesisMethod::Aim),
            _ => Err(Error::parameter(
                "method",
                format!("unknown synthesis method '{s}' (use mst or aim)"),
            )),
        }
    }
}

impl SynthesisConfig {
    /// ε, δ and the attributes; as many rows as the model estimates.
    pub fn new(epsilon: f64, delta: f64, attributes: Vec<SynthesisAttribute>) -> SynthesisConfig {
        SynthesisConfig {
            epsilon,
            delta,
            rows: None,
            attributes,
            condition: None,
            method: SynthesisMethod::Mst,
        }
    }

    /// The configuration learning with `method`.
    pub fn with_method(mut self, method: SynthesisMethod) -> SynthesisConfig {
        self.method = method;
        self
    }

    /// The configuration measuring every marginal within each value of
    /// attribute `name`.
    pub fn with_condition(mut self, name: impl Into<String>) -> SynthesisConfig {
        self.condition = Some(name.into());
        self
    }

    /// The configuration sampling `rows` records.
    pub fn with_rows(mut self, rows: u64) -> SynthesisConfig {
        self.rows = Some(rows);
        self
    }

    /// Checks the parameters: ε positive and finite, δ in (0, 1), rows
    /// (when given) positive, at least one attribute, no name twice, every
    /// domain well formed.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] naming the parameter.
    pub fn check(&self) -> Result<()> {
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::parameter(
                "epsilon",
                format!("ε must be positive and finite, got {}", self.epsilon),
            ));
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(Error::parameter(
                "delta",
                format!("δ must be in (0, 1), got {}", self.delta),
            ));
        }
        if self.rows == Some(0) {
            return Err(Error::parameter(
                "rows",
                "the number of synthetic rows must be positive",
            ));
        }
        if self.attributes.is_empty() {
            return Err(Error::parameter("attributes", "no attribute to synthesize"));
        }
        for (i, a) in self.attributes.iter().enumerate() {
            if self.attributes[..i].iter().any(|b| b.name == a.name) {
                return Err(Error::parameter(
                    "attributes",
                    format!("'{}' is listed twice", a.name),
                ));
            }
            a.domain
                .check()
                .map_err(|e| Error::parameter(format!("domain of '{}'", a.name), e.to_string()))?;
        }
        if let Some(name) = &self.condition {
            if !self.attributes.iter().any(|a| &a.name == name) {
                return Err(Error::parameter(
                    "condition",
                    format!("'{name}' is not one of the synthesized attributes"),
                ));
            }
            if self.attributes.len() < 2 {
                return Err(Error::parameter(
                    "condition",
                    "conditioning needs at least one other attribute",
                ));
            }
            if self.method != SynthesisMethod::Mst {
                return Err(Error::parameter(
                    "condition",
                    "conditioning is for MST; AIM chooses the label's marginals itself",
                ));
            }
        }
        Ok(())
    }
}

/// A synthetic table and how it was made.
#[derive(Clone, Debug)]
pub struct Synthesis {
    /// The synthetic records (every column text).
    pub frame: DataFrame,
    /// The parameters, the budget's split and the model.
    pub summary: SynthesisSummary,
}

/// What a synthesis did, for its report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthesisSummary {
    /// The method ("MST" or "AIM").
    pub method: String,
    /// The attribute every marginal was measured with, if any.
    #[serde(default)]
    pub condition: Option<String>,
    /// ε requested.
    pub epsilon: f64,
    /// δ requested.
    pub delta: f64,
    /// ρ of zero-concentrated DP that (ε, δ) allows.
    pub rho: f64,
    /// ρ spent on the one-way marginals, the choices (MST: of the tree's
    /// edges; AIM: of the marginals, round by round), and the further
    /// marginals (MST: the tree's; AIM: those chosen).
    pub rho_split: [f64; 3],
    /// ε the ρ actually spent implies at δ (at most `epsilon`).
    pub epsilon_spent: f64,
    /// The records read. Exact, hence not differentially private: keep it
    /// out of what is released with the data.
    pub input_rows: u64,
    /// The model's noisy estimate of the number of records.
    pub estimated_rows: f64,
    /// The records sampled.
    pub rows: u64,
    /// The attributes, with their domain's size before and after rare
    /// values were merged.
    pub attributes: Vec<SynthesizedAttribute>,
    /// The pairs measured beyond the one-way marginals, as attribute names
    /// (MST: the tree's edges; AIM: the pairs it chose, in order).
    pub tree: Vec<(String, String)>,
    /// Time to fit and sample, in milliseconds (reading excluded).
    pub elapsed_ms: f64,
}

/// One synthesized attribute in a [`SynthesisSummary`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthesizedAttribute {
    /// The column.
    pub name: String,
    /// Values or bins of its public domain.
    pub domain_size: usize,
    /// Values or bins the model kept apart (those measured below 3σ share
    /// one).
    pub modelled_size: usize,
}

/// Each attribute's codes in its domain.
pub(crate) fn encode(
    frame: &DataFrame,
    attributes: &[SynthesisAttribute],
) -> Result<Vec<Vec<u32>>> {
    if frame.height() == 0 {
        return Err(ErrorKind::EmptyTable {
            source_name: "the data to synthesize from".into(),
        }
        .into());
    }
    attributes
        .iter()
        .map(|a| {
            let column = frame
                .column(&a.name)
                .map_err(|_| ErrorKind::UnknownColumn {
                    column: a.name.clone(),
                    available: frame
                        .get_column_names()
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            a.domain.encode(column)
        })
        .collect()
}

/// What a fitted model produced: every attribute's sampled codes, and
/// what the summary reports of the model.
struct Sampled {
    codes: Vec<Vec<u32>>,
    rows: u64,
    estimated_rows: f64,
    rho_split: [f64; 3],
    modelled_sizes: Vec<usize>,
    pairs: Vec<(usize, usize)>,
}

/// The number of records to sample: as asked, or the model's estimate.
fn rows_to_sample(config: &SynthesisConfig, estimate: f64) -> Result<(u64, usize)> {
    let rows = config
        .rows
        .unwrap_or_else(|| estimate.round().max(1.0) as u64);
    let rows_usize = usize::try_from(rows)
        .map_err(|_| Error::parameter("rows", "too many rows for this machine"))?;
    Ok((rows, rows_usize))
}

/// MST, its features being every attribute but the condition (each
/// record's stratum its value of the condition).
fn sample_mst<R: Rng + ?Sized>(
    mut columns: Vec<Vec<u32>>,
    sizes: &[usize],
    config: &SynthesisConfig,
    budget: &mut ZcdpBudget,
    rng: &mut R,
) -> Result<Sampled> {
    let condition = config
        .condition
        .as_ref()
        .and_then(|name| config.attributes.iter().position(|a| &a.name == name));
    let height = columns.first().map_or(0, Vec::len);
    let (strata, k) = match condition {
        Some(c) => (std::mem::take(&mut columns[c]), sizes[c]),
        None => (vec![0u32; height], 1),
    };
    let features: Vec<usize> = (0..columns.len())
        .filter(|&i| Some(i) != condition)
        .collect();
    let feature_columns: Vec<Vec<u32>> = features
        .iter()
        .map(|&i| std::mem::take(&mut columns[i]))
        .collect();
    let feature_sizes: Vec<usize> = features.iter().map(|&i| sizes[i]).collect();
    let model = mst::fit(&feature_columns, &feature_sizes, &strata, k, budget, rng)?;
    let (rows, rows_usize) = rows_to_sample(config, model.total)?;
    let (sampled_strata, sampled) = model.sample(rows_usize, rng);
    let mut codes: Vec<Vec<u32>> = vec![Vec::new(); config.attributes.len()];
    for (&i, column) in features.iter().zip(sampled) {
        codes[i] = column;
    }
    if let Some(c) = condition {
        codes[c] = sampled_strata;
    }
    let modelled_sizes = (0..sizes.len())
        .map(|i| {
            features
                .iter()
                .position(|&f| f == i)
                .map_or(sizes[i], |f| model.compressions[f].members.len())
        })
        .collect();
    Ok(Sampled {
        codes,
        rows,
        estimated_rows: model.total,
        rho_split: model.rho_split,
        modelled_sizes,
        pairs: model
            .edges
            .iter()
            .map(|&(a, b)| (features[a], features[b]))
            .collect(),
    })
}

/// AIM over every attribute.
fn sample_aim<R: Rng + ?Sized>(
    columns: Vec<Vec<u32>>,
    sizes: &[usize],
    config: &SynthesisConfig,
    budget: &mut ZcdpBudget,
    rng: &mut R,
) -> Result<Sampled> {
    let model = aim::fit(&columns, sizes, &aim::AimOptions::default(), budget, rng)?;
    let (rows, rows_usize) = rows_to_sample(config, model.fitted.total)?;
    let codes = model.sample(rows_usize, rng);
    Ok(Sampled {
        codes,
        rows,
        estimated_rows: model.fitted.total,
        rho_split: model.rho_split,
        modelled_sizes: sizes.to_vec(),
        pairs: model
            .measured
            .iter()
            .filter(|m| m.len() == 2)
            .map(|m| (m[0], m[1]))
            .collect(),
    })
}

/// Learns a model of `config.attributes` of `frame` under (ε, δ)-differential
/// privacy with `config.method` (MST by default, or AIM) and samples
/// synthetic records from it.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for parameters
/// [`SynthesisConfig::check`] refuses; [`crate::ErrorKind::UnknownColumn`]
/// for an attribute the frame lacks; [`crate::ErrorKind::EmptyTable`];
/// [`crate::ErrorKind::MissingValue`] and [`crate::ErrorKind::InvalidValue`]
/// (column and row, never the value) for a cell outside its domain.
pub fn synthesize<R: Rng + ?Sized>(
    frame: &DataFrame,
    config: &SynthesisConfig,
    rng: &mut R,
) -> Result<Synthesis> {
    config.check()?;
    let start = Instant::now();
    let columns = encode(frame, &config.attributes)?;
    let sizes: Vec<usize> = config.attributes.iter().map(|a| a.domain.size()).collect();
    let rho = tight_rho_for(config.epsilon, config.delta)?;
    let mut budget = ZcdpBudget::new(rho)?;
    let sampled = match config.method {
        SynthesisMethod::Mst => sample_mst(columns, &sizes, config, &mut budget, rng)?,
        SynthesisMethod::Aim => sample_aim(columns, &sizes, config, &mut budget, rng)?,
    };
    let rows_usize = sampled.codes.first().map_or(0, Vec::len);
    let series: Vec<Column> = config
        .attributes
        .iter()
        .zip(&sampled.codes)
        .map(|(a, codes)| {
            let values: Vec<String> = codes
                .iter()
                .map(|&c| a.domain.sample_value(c, rng))
                .collect();
            Column::from(Series::new(a.name.as_str().into(), values))
        })
        .collect();
    let frame_out = DataFrame::new(rows_usize, series)
        .map_err(|e| Error::parameter("synthesis", format!("cannot build the table: {e}")))?;
    let spent: f64 = budget.spent().iter().sum();
    let name = |i: usize| config.attributes[i].name.clone();
    let summary = SynthesisSummary {
        method: config.method.name().into(),
        condition: config.condition.clone(),
        epsilon: config.epsilon,
        delta: config.delta,
        rho,
        rho_split: sampled.rho_split,
        epsilon_spent: tight_epsilon_for(spent, config.delta)?,
        input_rows: frame.height() as u64,
        estimated_rows: sampled.estimated_rows,
        rows: sampled.rows,
        attributes: config
            .attributes
            .iter()
            .zip(&sampled.modelled_sizes)
            .map(|(a, &modelled_size)| SynthesizedAttribute {
                name: a.name.clone(),
                domain_size: a.domain.size(),
                modelled_size,
            })
            .collect(),
        tree: sampled
            .pairs
            .iter()
            .map(|&(a, b)| (name(a), name(b)))
            .collect(),
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
    };
    Ok(Synthesis {
        frame: frame_out,
        summary,
    })
}
