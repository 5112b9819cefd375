//! Streaming: the streamed table, search and output equal the in-memory
//! ones; partition tables merge to the whole; bad rows deep in a file name
//! their line and leave no output behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deidentify::{
    AnonymizationConfig, ErrorKind, Node, Ruleset, apply,
    apply::{write_csv, write_parquet},
    data::read_parquet,
    frequency::FrequencyTable,
    model::ModelSpec,
    search,
    stream::{LabeledTable, StreamOptions, StreamedTable},
};

use crate::{load, root, scratch};

const ADULT_HEADER: &str =
    "sex;age;race;marital-status;education;native-country;workclass;occupation;salary-class";

/// A ruleset text for the adult schema (occupation sensitive) over `data`,
/// with hierarchies from the repository.
fn adult_ruleset(data: &str) -> String {
    let text = std::fs::read_to_string(root().join("datasets/adult/adult.toml")).unwrap();
    let hierarchies = root().join("datasets/adult/hierarchies");
    text.replace("path = \"adult.csv\"", &format!("path = \"{data}\""))
        .replace("\"hierarchies/", &format!("\"{}/", hierarchies.display()))
}

/// Writes a ruleset for `data` into `dir` and parses it.
fn ruleset_in(dir: &Path, data: &str) -> Ruleset {
    let path = dir.join(format!("{data}.toml"));
    std::fs::write(&path, adult_ruleset(data)).unwrap();
    Ruleset::from_file(&path).unwrap()
}

/// `rows` records sampled (seeded xorshift) from adult's rows, with ages
/// moved by up to ±3 years within 17..=90: a small census-like file.
fn generated_rows(rows: usize, seed: u64) -> Vec<String> {
    let adult = std::fs::read_to_string(root().join("datasets/adult/adult.csv")).unwrap();
    let records: Vec<&str> = adult.lines().skip(1).collect();
    let mut state = seed.max(1);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..rows)
        .map(|_| {
            let record = records[(next() % records.len() as u64) as usize];
            let mut fields: Vec<String> = record.split(';').map(str::to_owned).collect();
            let age: i64 = fields[1].parse().unwrap();
            let moved = (age + (next() % 7) as i64 - 3).clamp(17, 90);
            fields[1] = moved.to_string();
            fields.join(";")
        })
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = String::from(ADULT_HEADER);
    text.push('\n');
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn options(batch_rows: usize) -> StreamOptions {
    StreamOptions::default().with_batch_rows(batch_rows)
}

/// k = 5 with distinct 2-diversity of occupation, 2% suppression (shared
/// with the Spark tests).
pub(super) fn config() -> AnonymizationConfig {
    AnonymizationConfig::new(
        vec![
            ModelSpec::KAnonymity { k: 5 },
            ModelSpec::DistinctLDiversity {
                attribute: "occupation".into(),
                l: 2.0,
            },
        ],
        0.02,
    )
}

/// Asserts that the streamed table of `ruleset` equals the in-memory one:
/// same dictionaries (so same codes), same classes in the same order.
fn assert_same_table(ruleset: &Ruleset, batch_rows: usize) -> StreamedTable {
    let loaded = ruleset.load().unwrap();
    let streamed = StreamedTable::from_ruleset(ruleset, &options(batch_rows)).unwrap();
    assert_eq!(streamed.rows(), loaded.dataset.rows() as u64);
    for column in streamed.columns() {
        assert_eq!(
            column.dictionary,
            loaded.dataset.encoded(&column.name).unwrap().dictionary(),
            "{}",
            column.name
        );
    }
    let width = loaded.dataset.quasi_identifiers().len();
    let memory =
        FrequencyTable::from_dataset(&loaded.dataset, &loaded.hierarchies, &Node::bottom(width))
            .unwrap();
    let table = streamed.table();
    assert_eq!(table.classes(), memory.classes());
    assert_eq!(*table, memory);
    for c in 0..table.classes() {
        assert_eq!(table.key(c), memory.key(c));
    }
    streamed
}

#[test]
fn streamed_adult_table_equals_in_memory_table() {
    let ruleset = Ruleset::from_file(&root().join("datasets/adult/adult.toml")).unwrap();
    // Many batches, and one.
    assert_same_table(&ruleset, 1_000);
    assert_same_table(&ruleset, 1 << 20);
}

#[test]
fn streamed_parquet_table_equals_in_memory_table() {
    let dir = scratch("stream-parquet", &[]);
    let adult = load("datasets/adult/adult.toml");
    let frame = adult.ruleset.read_data().unwrap();
    write_parquet(&frame, &dir.join("adult.parquet")).unwrap();
    let ruleset = ruleset_in(&dir, "adult.parquet");
    assert_same_table(&ruleset, 4_096);
}

#[test]
fn streamed_generated_table_equals_in_memory_table_also_at_minimum_levels() {
    let dir = scratch("stream-generated", &[]);
    write_lines(&dir.join("census.csv"), &generated_rows(20_000, 7));
    let ruleset = ruleset_in(&dir, "census.csv");
    let streamed = assert_same_table(&ruleset, 3_000);
    assert!(streamed.table().classes() > 5_000);
    // Counting at a minimum node gives the bottom table rolled up to it.
    let min_levels: BTreeMap<String, u32> = [("age".to_owned(), 2), ("education".to_owned(), 1)]
        .into_iter()
        .collect();
    let at_minimum = StreamedTable::from_ruleset(
        &ruleset,
        &StreamOptions::default()
            .with_batch_rows(3_000)
            .with_min_levels(min_levels),
    )
    .unwrap();
    let node = Node::parse("age=2,education=1", &streamed.quasi_identifier_names()).unwrap();
    assert_eq!(at_minimum.table().node(), &node);
    let hierarchies = streamed.hierarchies();
    let qis: Vec<_> = streamed
        .quasi_identifier_names()
        .iter()
        .map(|n| hierarchies.require(n).unwrap())
        .collect();
    let rolled = streamed.table().roll_up(&qis, &node).unwrap();
    assert_eq!(*at_minimum.table(), rolled);
    assert!(at_minimum.table().classes() < streamed.table().classes());
}

/// A search and apply run in memory and streamed.
struct BothWays {
    memory: deidentify::search::SearchResult,
    /// Nodes the streamed search checked.
    nodes_checked: u64,
    anonymized: deidentify::Anonymized,
    output: deidentify::stream::StreamedOutput,
    streamed: StreamedTable,
}

/// Searches `ruleset`'s data for `config` in memory and streamed (in
/// batches of `batch_rows`) and applies the optimum both ways, asserting the
/// same optimum, the same evaluation and the same CSV bytes
/// (`dir/memory.csv`, `dir/streamed.csv`).
fn run_both_ways(
    dir: &Path,
    ruleset: &Ruleset,
    config: &AnonymizationConfig,
    batch_rows: usize,
) -> BothWays {
    let loaded = ruleset.load().unwrap();
    let orders = ruleset.orders();
    let memory = search(&loaded.dataset, &loaded.hierarchies, config, &orders).unwrap();
    let optimum = memory.optimum.clone().expect("a solution exists");
    let mut streamed = StreamedTable::from_ruleset(ruleset, &options(batch_rows)).unwrap();
    let result = streamed.search(config, &orders).unwrap();
    assert_eq!(result.optimum, memory.optimum);
    let anonymized = apply(
        &loaded.dataset,
        &loaded.hierarchies,
        config,
        &orders,
        &optimum.node,
    )
    .unwrap();
    // CSV: byte for byte.
    write_csv(&anonymized.frame, &dir.join("memory.csv"), b';').unwrap();
    let output = streamed
        .apply_to_file(
            config,
            &orders,
            &optimum.node,
            &dir.join("streamed.csv"),
            b';',
            &options(batch_rows),
        )
        .unwrap();
    assert_eq!(output.evaluation, optimum);
    assert_eq!(
        std::fs::read(dir.join("streamed.csv")).unwrap(),
        std::fs::read(dir.join("memory.csv")).unwrap()
    );
    BothWays {
        memory,
        nodes_checked: result.nodes_checked,
        anonymized,
        output,
        streamed,
    }
}

#[test]
fn streamed_search_and_output_equal_the_in_memory_run() {
    let dir = scratch("stream-apply", &[]);
    write_lines(&dir.join("census.csv"), &generated_rows(12_000, 11));
    let ruleset = ruleset_in(&dir, "census.csv");
    let orders = ruleset.orders();
    let config = config();
    let run = run_both_ways(&dir, &ruleset, &config, 2_500);
    let (memory, anonymized, output, mut streamed) =
        (run.memory, run.anonymized, run.output, run.streamed);
    let optimum = memory.optimum.clone().unwrap();
    assert_eq!(run.nodes_checked, memory.nodes_checked);
    assert_eq!(output.rows, 12_000);
    assert_eq!(
        output.suppressed_rows,
        anonymized.suppressed_rows.iter().filter(|&&s| s).count() as u64
    );
    // Parquet: equal frames.
    streamed
        .apply_to_file(
            &config,
            &orders,
            &optimum.node,
            &dir.join("streamed.parquet"),
            b';',
            &options(2_500),
        )
        .unwrap();
    let read = read_parquet(&dir.join("streamed.parquet")).unwrap();
    assert!(read.equals_missing(&anonymized.frame));
    // The table is intact after searching and applying.
    assert_eq!(streamed.table().rows(), 12_000);
    // Counted at minimum levels below the optimum, the search finds it too
    // (it only visits nodes above the minimum), and applies it the same way.
    let names = streamed.quasi_identifier_names();
    let min_levels: BTreeMap<String, u32> = names
        .iter()
        .zip(optimum.node.levels())
        .filter(|(_, l)| **l > 0)
        .map(|(n, &l)| (n.clone(), l - 1))
        .collect();
    assert!(!min_levels.is_empty());
    let mut at_minimum = StreamedTable::from_ruleset(
        &ruleset,
        &StreamOptions::default()
            .with_batch_rows(2_500)
            .with_min_levels(min_levels),
    )
    .unwrap();
    assert!(at_minimum.table().node().height() > 0);
    let result = at_minimum.search(&config, &orders).unwrap();
    assert_eq!(result.optimum, memory.optimum);
    at_minimum
        .apply_to_file(
            &config,
            &orders,
            &optimum.node,
            &dir.join("minimum.csv"),
            b';',
            &options(2_500),
        )
        .unwrap();
    assert_eq!(
        std::fs::read(dir.join("minimum.csv")).unwrap(),
        std::fs::read(dir.join("memory.csv")).unwrap()
    );
}

#[test]
fn partition_tables_merge_to_the_whole_through_parquet() {
    let dir = scratch("stream-partitions", &[]);
    let lines = generated_rows(9_000, 23);
    write_lines(&dir.join("whole.csv"), &lines);
    write_lines(&dir.join("part1.csv"), &lines[..4_000]);
    write_lines(&dir.join("part2.csv"), &lines[4_000..]);
    let count = |data: &str| {
        StreamedTable::from_ruleset(&ruleset_in(&dir, data), &options(1_000))
            .unwrap()
            .labeled()
            .unwrap()
    };
    let whole = count("whole.csv");
    // A round trip keeps codes, class order and metadata.
    whole
        .write_parquet(&dir.join("whole.table.parquet"))
        .unwrap();
    let read = LabeledTable::read_parquet(&dir.join("whole.table.parquet")).unwrap();
    assert_eq!(read.table(), whole.table());
    assert_eq!(read.quasi_identifiers(), whole.quasi_identifiers());
    assert_eq!(read.sensitive(), ["occupation"]);
    assert_eq!(read.total_rows(), 9_000);
    assert!(!read.is_partial());
    // Partitions, written and read back, then merged (in either order).
    let mut parts = Vec::new();
    for name in ["part1", "part2"] {
        let mut part = count(&format!("{name}.csv"));
        part.set_partial(true);
        let path = dir.join(format!("{name}.table.parquet"));
        part.write_parquet(&path).unwrap();
        parts.push(LabeledTable::read_parquet(&path).unwrap());
    }
    assert!(parts[0].is_partial());
    let mut merged = parts[0].clone();
    merged.merge(&parts[1]).unwrap();
    assert_eq!(merged.total_rows(), 9_000);
    assert_eq!(merged.decoded(), whole.decoded());
    let mut reversed = parts[1].clone();
    reversed.merge(&parts[0]).unwrap();
    assert_eq!(reversed.decoded(), whole.decoded());
    // Tables at different nodes do not merge.
    let other = LabeledTable::new(
        FrequencyTable::from_parts(
            Node::new(vec![1; 8]),
            vec![1; 8],
            vec![1],
            Vec::new(),
            Vec::new(),
            vec![Vec::new()],
        )
        .unwrap(),
        whole.quasi_identifiers().to_vec(),
        vec![vec!["*".to_owned()]; 8],
        vec!["occupation".to_owned()],
        vec![vec!["x".to_owned()]],
        0,
        true,
    )
    .unwrap();
    let err = merged.merge(&other).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::IncompatibleTables { .. }),
        "{err}"
    );
}

/// A generated file whose line `bad_line` (the header is line 1) is replaced.
fn file_with_bad_line(dir: &Path, rows: usize, bad_line: usize, bad: &str) -> PathBuf {
    let mut lines = generated_rows(rows, 5);
    lines[bad_line - 2] = bad.to_owned();
    let path = dir.join("census.csv");
    write_lines(&path, &lines);
    path
}

#[test]
fn a_malformed_row_deep_in_a_file_names_its_line() {
    let dir = scratch("stream-ragged", &[]);
    file_with_bad_line(&dir, 60_000, 50_001, "Male;39;White;Never-married");
    let ruleset = ruleset_in(&dir, "census.csv");
    let err = StreamedTable::from_ruleset(&ruleset, &options(4_096)).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Parse { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("line 50001 has 4 fields, the header has 9"),
        "{err}"
    );
    // A value missing from its hierarchy names the column, row and value.
    file_with_bad_line(
        &dir,
        60_000,
        45_002,
        "Male;130;White;Never-married;Bachelors;United-States;State-gov;Adm-clerical;<=50K",
    );
    let err = StreamedTable::from_ruleset(&ruleset, &options(4_096)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 'age', row 45001: a value shaped '999' (3 characters) is not in the column's hierarchy"
    );
}

#[test]
fn a_failed_streamed_apply_leaves_no_output() {
    let dir = scratch("stream-no-output", &[]);
    write_lines(&dir.join("census.csv"), &generated_rows(30_000, 5));
    let ruleset = ruleset_in(&dir, "census.csv");
    let mut streamed = StreamedTable::from_ruleset(&ruleset, &options(4_096)).unwrap();
    let config = config();
    let orders = ruleset.orders();
    let node = streamed
        .search(&config, &orders)
        .unwrap()
        .optimum
        .unwrap()
        .node;
    // The file is damaged after counting, deep inside.
    file_with_bad_line(&dir, 30_000, 25_001, "Male;39;White");
    for output in ["out.csv", "out.parquet"] {
        let err = streamed
            .apply_to_file(
                &config,
                &orders,
                &node,
                &dir.join(output),
                b';',
                &options(4_096),
            )
            .unwrap_err();
        assert!(err.to_string().contains("line 25001"), "{err}");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("out"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[test]
fn a_long_run_of_empty_lines_reads_through_in_one_row_batches() {
    let dir = scratch("stream-blank-lines", &[]);
    let mut lines = generated_rows(40, 11);
    // 200,000 empty lines between two records: 200,000 batches of nothing
    // in a row (read by recursion, they would overflow the reader's stack).
    lines.insert(20, "\n".repeat(199_999));
    write_lines(&dir.join("blank.csv"), &lines);
    let ruleset = ruleset_in(&dir, "blank.csv");
    let streamed = StreamedTable::from_ruleset(&ruleset, &options(1)).unwrap();
    assert_eq!(streamed.rows(), 40);
    assert_eq!(streamed.table().counts().iter().sum::<u64>(), 40);
}

/// Models of the whole release and estimated k-map stream as they run in
/// memory: same optimum, same suppressed records, same output bytes.
#[test]
fn streamed_release_models_equal_the_in_memory_run() {
    let dir = scratch("stream-release", &[]);
    write_lines(&dir.join("census.csv"), &generated_rows(8_000, 5));
    let ruleset = ruleset_in(&dir, "census.csv");
    let config = AnonymizationConfig::new(
        vec![
            ModelSpec::KMap {
                k: 8,
                population: 16_000,
                significance: 0.05,
                estimator: deidentify::model::CellSizeEstimator::Poisson,
            },
            ModelSpec::AverageRisk {
                threshold: 0.04,
                highest_risk: None,
                records_at_risk: None,
            },
            ModelSpec::PopulationUniqueness {
                threshold: 0.002,
                population: None,
                sampling_fraction: Some(0.5),
                estimator: deidentify::model::UniquenessEstimator::Zayatz,
            },
        ],
        0.05,
    );
    let run = run_both_ways(&dir, &ruleset, &config, 1_500);
    // Suppression happened, so the streamed judgement of classes matters.
    assert!(run.memory.optimum.unwrap().suppressed > 0);
}

#[test]
fn a_ruleset_listing_columns_in_another_order_streams_as_in_memory() {
    let dir = scratch("stream-order", &[]);
    write_lines(&dir.join("census.csv"), &generated_rows(6_000, 5));
    // The [[attribute]] tables in reverse order of the file's columns.
    let text = adult_ruleset("census.csv");
    let head = &text[..text.find("[[attribute]]").unwrap()];
    let tail = &text[text.find("[anonymization]").unwrap()..];
    let blocks: Vec<&str> = text[head.len()..text.len() - tail.len()]
        .split("[[attribute]]")
        .filter(|b| !b.trim().is_empty())
        .collect();
    let reversed: String = blocks
        .iter()
        .rev()
        .map(|b| format!("[[attribute]]{b}"))
        .collect();
    let path = dir.join("reversed.toml");
    std::fs::write(&path, format!("{head}{reversed}\n{tail}")).unwrap();
    let ruleset = Ruleset::from_file(&path).unwrap();
    assert_ne!(ruleset.attributes[0].name, "sex");
    run_both_ways(&dir, &ruleset, &config(), 1_000);
}
