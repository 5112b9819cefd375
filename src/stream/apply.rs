//! Streaming apply: the anonymized output written batch by batch.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::mpsc::sync_channel;

use polars::prelude::{Column, CsvWriter, DataFrame, DataType, ParquetWriter, Schema, SerWriter};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::data::attribute::{AttributeRole, MissingPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::search::{AnonymizationConfig, NodeEvaluation};
use crate::stream::encryption::{Sink, write_through_temporary};
use crate::stream::ingest::StreamedTableParts;
use crate::stream::ingest::{StreamOptions, StreamedTable};
use crate::stream::search::{feasible_release, with_evaluator};
use crate::stream::source::{Batch, BatchReader, Format};

/// The label of a suppressed quasi-identifier (as in [`crate::apply()`]).
const SUPPRESSED: &str = "*";

/// What a streamed apply wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamedOutput {
    /// The node's evaluation (suppressed records, classes, score).
    pub evaluation: NodeEvaluation,
    /// Rows written.
    pub rows: u64,
    /// Rows whose quasi-identifiers were suppressed.
    pub suppressed_rows: u64,
}

/// Writing one output file, batch by batch (through the sink over its
/// temporary file, which encrypts when a staging key is given).
enum OutputWriter<'a> {
    Csv(polars::io::csv::write::BatchedWriter<&'a mut Sink<File>>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<&'a mut Sink<File>>>),
}

impl StreamedTable {
    /// Applies `node` to the data file, reading it again in batches and
    /// writing the anonymized rows to `output` (Parquet for a `.parquet`
    /// name, else CSV separated by `delimiter`): the same table as
    /// [`crate::apply()`] on the in-memory data, written as
    /// [`crate::apply::write_csv`] / [`crate::apply::write_parquet`] would write it.
    ///
    /// The output goes to a temporary name in the same folder
    /// (`.<name>.partial`), renamed to `output` only when every row has been
    /// written; on error it is removed, so no partial file is left under the
    /// final name. With [`StreamOptions::staging_key`] the output is an age
    /// file encrypted to that key, encrypted as it is written (the temporary
    /// file never holds plaintext); decrypt it with
    /// [`crate::stream::StagingKey::decrypt_file`] or `age -d -i key.txt`.
    ///
    /// # Errors
    ///
    /// As [`StreamedTable::evaluate`]; [`ErrorKind::InvalidParameter`] when
    /// the node is not feasible; reading errors as for counting, and
    /// [`ErrorKind::Parse`] for a value not seen when counting (the file
    /// changed); [`ErrorKind::Io`] when the output cannot be written.
    pub fn apply_to_file(
        &mut self,
        config: &AnonymizationConfig,
        orders: &BTreeMap<String, Vec<String>>,
        node: &Node,
        output: &Path,
        delimiter: u8,
        options: &StreamOptions,
    ) -> Result<StreamedOutput> {
        with_evaluator(self, config, orders, |evaluator, parts| {
            let (table, evaluation, outliers) = feasible_release(evaluator, node)?;
            let mut counts = (0, 0);
            write_through_temporary(output, options.staging_key.as_ref(), |sink| {
                counts = write_rows(
                    parts,
                    &evaluator.hierarchies,
                    node,
                    &table,
                    &outliers,
                    sink,
                    output,
                    delimiter,
                    options.batch_rows,
                )?;
                Ok(())
            })?;
            let (rows, suppressed_rows) = counts;
            Ok(StreamedOutput {
                evaluation,
                rows,
                suppressed_rows,
            })
        })
    }
}

/// One output column: what it is made of.
enum Plan {
    /// Quasi-identifier `k` (among the requested columns) with its level's
    /// labels and map, and its frozen dictionary.
    QuasiIdentifier {
        requested: usize,
        qi: usize,
    },
    Sensitive {
        requested: usize,
        column: usize,
    },
    Insensitive {
        requested: usize,
    },
}

/// Streams the rows into `sink` (over the temporary file of `output`);
/// returns (rows, suppressed rows).
#[allow(clippy::too_many_arguments)]
fn write_rows(
    parts: &StreamedTableParts<'_>,
    hierarchies: &[&crate::hierarchy::compiled::CompiledHierarchy],
    node: &Node,
    table: &crate::frequency::table::FrequencyTable,
    outliers: &[bool],
    sink: &mut Sink<File>,
    output: &Path,
    delimiter: u8,
    batch_rows: usize,
) -> Result<(u64, u64)> {
    let source = parts.source;
    let plan = OutputPlan::new(parts);
    let levels: Vec<&crate::hierarchy::compiled::Level> = hierarchies
        .iter()
        .zip(node.levels())
        .map(|(h, &l)| h.level(l as usize))
        .collect::<Result<_>>()?;
    let mut reader = BatchReader::open(&source.path, source.format, &plan.requested, batch_rows)?;
    let header = reader.header().to_vec();
    crate::stream::ingest::check_columns(&header, parts.attributes, &source.path)?;
    let mut writer = open_writer(sink, output, delimiter, &plan.requested)?;
    let write_error = |e: polars::prelude::PolarsError| output_error(output, e);
    let context = BatchContext {
        parts,
        plan: &plan,
        levels: &levels,
        table,
        outliers,
    };
    let (mut rows, mut suppressed_rows) = (0u64, 0u64);
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = sync_channel::<Result<Batch>>(1);
        scope.spawn(move || {
            loop {
                let item = match reader.next_batch() {
                    Ok(Some(batch)) => Ok(batch),
                    Ok(None) => break,
                    Err(e) => Err(e),
                };
                let stop = item.is_err();
                if sender.send(item).is_err() || stop {
                    break;
                }
            }
        });
        for batch in receiver {
            let batch = batch?;
            let keys = context.batch_keys(&batch)?;
            let suppressed = context.suppressed(&batch, &keys)?;
            suppressed_rows += suppressed.iter().filter(|&&s| s).count() as u64;
            let columns = context.output_columns(&batch, &keys, &suppressed)?;
            let frame = DataFrame::new(batch.rows(), columns).map_err(write_error)?;
            match &mut writer {
                OutputWriter::Csv(w) => w.write_batch(&frame).map_err(write_error)?,
                OutputWriter::Parquet(w) => w.write_batch(&frame).map_err(write_error)?,
            }
            rows += batch.rows() as u64;
        }
        Ok(())
    })?;
    match &mut writer {
        OutputWriter::Csv(w) => w.finish().map_err(write_error)?,
        OutputWriter::Parquet(w) => {
            w.finish().map_err(write_error)?;
        }
    }
    Ok((rows, suppressed_rows))
}

/// The write error of the output file `output`.
fn output_error(output: &Path, e: polars::prelude::PolarsError) -> Error {
    ErrorKind::Write {
        path: output.to_path_buf(),
        reason: e.to_string(),
    }
    .into()
}

/// Opens the batched writer of `output` (Parquet or delimited text, by its
/// extension) over `sink`, every column of `requested` as text.
fn open_writer<'s>(
    sink: &'s mut Sink<File>,
    output: &Path,
    delimiter: u8,
    requested: &[String],
) -> Result<OutputWriter<'s>> {
    let schema: Schema = requested
        .iter()
        .map(|n| (n.as_str().into(), DataType::String))
        .collect();
    let write_error = |e: polars::prelude::PolarsError| output_error(output, e);
    Ok(match Format::of_path(output, delimiter) {
        Format::Parquet => OutputWriter::Parquet(Box::new(
            ParquetWriter::new(sink)
                .batched(&schema)
                .map_err(write_error)?,
        )),
        Format::Csv { .. } => OutputWriter::Csv(
            CsvWriter::new(sink)
                .include_header(true)
                .with_separator(delimiter)
                .batched(&schema)
                .map_err(write_error)?,
        ),
    })
}

/// The output's columns: those read (every column except identifiers, in
/// file order), what each is made of, the frozen dictionaries of the
/// encoded columns (in `parts.columns` order), and which encoded columns
/// are quasi-identifiers.
struct OutputPlan<'a> {
    requested: Vec<String>,
    plans: Vec<Plan>,
    indexes: Vec<FxHashMap<&'a str, u32>>,
    qi_columns: Vec<usize>,
}

impl<'a> OutputPlan<'a> {
    /// Plans the output columns of the streamed table `parts`.
    fn new(parts: &StreamedTableParts<'a>) -> OutputPlan<'a> {
        // Columns to read: every column except identifiers, in file order.
        let released: Vec<&crate::data::attribute::Attribute> = parts
            .attributes
            .iter()
            .filter(|a| a.role != AttributeRole::Identifier)
            .collect();
        let requested: Vec<String> = released.iter().map(|a| a.name.clone()).collect();
        let mut plans = Vec::new();
        // Frozen dictionaries of the encoded columns (in `parts.columns` order).
        let indexes: Vec<FxHashMap<&str, u32>> = parts
            .columns
            .iter()
            .map(|c| {
                c.dictionary
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.as_str(), i as u32))
                    .collect()
            })
            .collect();
        let mut qi = 0;
        for (requested, a) in released.iter().enumerate() {
            let column = parts.columns.iter().position(|c| c.name == a.name);
            plans.push(match (a.role, column) {
                (AttributeRole::QuasiIdentifier, Some(_)) => {
                    qi += 1;
                    Plan::QuasiIdentifier {
                        requested,
                        qi: qi - 1,
                    }
                }
                (AttributeRole::Sensitive, Some(column)) => Plan::Sensitive { requested, column },
                _ => Plan::Insensitive { requested },
            });
        }
        let qi_columns: Vec<usize> = parts
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == AttributeRole::QuasiIdentifier)
            .map(|(i, _)| i)
            .collect();
        OutputPlan {
            requested,
            plans,
            indexes,
            qi_columns,
        }
    }
}

/// What turning a batch into output columns needs.
struct BatchContext<'c, 'a> {
    parts: &'c StreamedTableParts<'a>,
    plan: &'c OutputPlan<'a>,
    levels: &'c [&'c crate::hierarchy::compiled::Level],
    table: &'c crate::frequency::table::FrequencyTable,
    outliers: &'c [bool],
}

impl BatchContext<'_, '_> {
    /// The quasi-identifiers' label codes at the node, per column.
    fn batch_keys(&self, batch: &Batch) -> Result<Vec<Vec<u32>>> {
        let (parts, plans) = (self.parts, &self.plan.plans);
        self.plan
            .qi_columns
            .par_iter()
            .enumerate()
            .map(|(q, &c)| {
                let requested = plans
                    .iter()
                    .find_map(|p| match p {
                        Plan::QuasiIdentifier { requested, qi } if *qi == q => Some(*requested),
                        _ => None,
                    })
                    .expect("every quasi-identifier is planned");
                let codes = frozen_codes(
                    batch,
                    requested,
                    &self.plan.indexes[c],
                    parts,
                    c,
                    parts.source,
                )?;
                let map = self.levels[q].map();
                Ok(codes.into_iter().map(|code| map[code as usize]).collect())
            })
            .collect::<Result<_>>()
    }

    /// Whether each row of the batch (with quasi-identifier codes `keys`)
    /// is in an outlier class; an error when a row is in no class.
    fn suppressed(&self, batch: &Batch, keys: &[Vec<u32>]) -> Result<Vec<bool>> {
        let (table, outliers) = (self.table, self.outliers);
        let width = keys.len();
        let classes: Vec<Option<bool>> = (0..batch.rows())
            .into_par_iter()
            .with_min_len(4096)
            .map_init(
                || vec![0u32; width],
                |key, row| {
                    for (k, column) in key.iter_mut().zip(keys) {
                        *k = column[row];
                    }
                    table.class_of(key).map(|class| outliers[class])
                },
            )
            .collect();
        if let Some(row) = classes.iter().position(Option::is_none) {
            return Err(ErrorKind::Parse {
                path: self.parts.source.path.clone(),
                reason: format!(
                    "row {} is in no class of the counted table (the file changed since it was counted)",
                    batch.first_row + row as u64 + 1
                ),
            }
            .into());
        }
        Ok(classes.into_iter().map(|c| c == Some(true)).collect())
    }

    /// The batch's output columns, suppressed rows' quasi-identifiers
    /// replaced by [`SUPPRESSED`].
    fn output_columns(
        &self,
        batch: &Batch,
        keys: &[Vec<u32>],
        suppressed: &[bool],
    ) -> Result<Vec<Column>> {
        let (parts, requested, levels) = (self.parts, &self.plan.requested, self.levels);
        self.plan
            .plans
            .par_iter()
            .map(|plan| -> Result<Column> {
                Ok(match plan {
                    Plan::QuasiIdentifier {
                        requested: r,
                        qi: q,
                    } => {
                        let labels = levels[*q].labels();
                        let values: Vec<&str> = keys[*q]
                            .iter()
                            .zip(suppressed)
                            .map(|(&label, &s)| {
                                if s {
                                    SUPPRESSED
                                } else {
                                    labels[label as usize].as_str()
                                }
                            })
                            .collect();
                        Column::new(requested[*r].as_str().into(), values)
                    }
                    Plan::Sensitive {
                        requested: r,
                        column,
                    } => {
                        let codes = frozen_codes(
                            batch,
                            *r,
                            &self.plan.indexes[*column],
                            parts,
                            *column,
                            parts.source,
                        )?;
                        let dictionary = &parts.columns[*column].dictionary;
                        let values: Vec<&str> = codes
                            .iter()
                            .map(|&c| dictionary[c as usize].as_str())
                            .collect();
                        Column::new(requested[*r].as_str().into(), values)
                    }
                    Plan::Insensitive { requested: r } => {
                        let values: Vec<Option<&str>> = batch.values(*r).collect();
                        Column::new(requested[*r].as_str().into(), values)
                    }
                })
            })
            .collect::<Result<_>>()
    }
}

/// The codes of a batch's column under the counted (frozen) dictionary,
/// with the missing-value policy applied as when counting.
fn frozen_codes(
    batch: &Batch,
    requested: usize,
    index: &FxHashMap<&str, u32>,
    parts: &StreamedTableParts<'_>,
    column: usize,
    source: &crate::stream::ingest::SourceSpec,
) -> Result<Vec<u32>> {
    let name = &parts.columns[column].name;
    let mut codes = Vec::with_capacity(batch.rows());
    for (i, value) in batch.values(requested).enumerate() {
        let row = batch.first_row + i as u64 + 1;
        let value = value.filter(|v| !source.missing_values.iter().any(|m| m == v));
        let value = match value {
            Some(v) => v,
            None => match source.missing_policy {
                MissingPolicy::Error => {
                    return Err(ErrorKind::MissingValue {
                        column: name.clone(),
                        row: row as usize,
                    }
                    .into());
                }
                MissingPolicy::Category => source.missing_label.as_str(),
            },
        };
        match index.get(value) {
            Some(&c) => codes.push(c),
            None => {
                return Err(ErrorKind::Parse {
                    path: source.path.clone(),
                    reason: format!(
                        "column '{name}', row {row}: a value shaped {} was not seen when the table was counted (the file changed)",
                        crate::error::value_shape(value)
                    ),
                }
                .into());
            }
        }
    }
    Ok(codes)
}
