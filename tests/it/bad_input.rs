//! Bad input gets a clear error naming what is wrong, never a panic.

use std::collections::BTreeMap;

use deidentify::{ErrorKind, Ruleset, model::ModelSpec};

use crate::{load, scratch};

const RULES: &str = r#"
[data]
path = "data.csv"
delimiter = ";"

[[attribute]]
name = "age"
role = "quasi-identifier"
type = "integer"
hierarchy = "age.csv"

[[attribute]]
name = "dx"
role = "sensitive"
"#;

const AGE: &str = "30;30-39;*\n31;30-39;*\n40;40-49;*\n";

fn load_files(
    name: &str,
    files: &[(&str, &str)],
) -> deidentify::Result<deidentify::ruleset::LoadedRuleset> {
    let dir = scratch(name, files);
    Ruleset::from_file(&dir.join("rules.toml"))?.load()
}

#[test]
fn valid_files_load() {
    let data = load_files(
        "valid",
        &[
            ("rules.toml", RULES),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n30;flu\n40;cold\n"),
        ],
    )
    .unwrap();
    assert_eq!(data.dataset.rows(), 2);
}

#[test]
fn malformed_csv_row_is_reported() {
    let err = load_files(
        "ragged-csv",
        &[
            ("rules.toml", RULES),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n30;flu\n40;cold;extra;fields\n31;flu\n"),
        ],
    )
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Parse { .. }), "{err}");
    assert!(err.to_string().contains("data.csv"), "{err}");
    assert!(
        err.to_string()
            .ends_with("line 3 has 4 fields, the header has 2"),
        "{err}"
    );
    // A short row is an error too, not a silent null.
    let err = load_files(
        "short-csv",
        &[
            ("rules.toml", RULES),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n30;flu\n40\n"),
        ],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("line 3 has 1 fields, the header has 2"),
        "{err}"
    );
}

#[test]
fn missing_data_file_is_an_io_error() {
    let err = load_files("no-data", &[("rules.toml", RULES), ("age.csv", AGE)]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
}

#[test]
fn ragged_hierarchy_names_the_row() {
    let err = load_files(
        "ragged-h",
        &[
            ("rules.toml", RULES),
            ("age.csv", "30;30-39;*\n31;30-39\n"),
            ("data.csv", "age;dx\n30;flu\n"),
        ],
    )
    .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::HierarchyHeight {
                row: 2,
                expected: 3,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn inconsistent_hierarchy_names_label_and_level() {
    let err = load_files(
        "inconsistent-h",
        &[
            ("rules.toml", RULES),
            ("age.csv", "30;30-39;30-49;*\n31;30-39;30-59;*\n"),
            ("data.csv", "age;dx\n30;flu\n"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "hierarchy of 'age' is inconsistent at level 1: label '30-39' generalizes to both '30-49' and '30-59' at level 2"
    );
}

#[test]
fn value_missing_from_hierarchy_names_column_row_and_value() {
    let err = load_files(
        "not-in-h",
        &[
            ("rules.toml", RULES),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n30;flu\n40;flu\n35;cold\n"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 'age', row 3: a value shaped '99' (2 characters) is not in the column's hierarchy"
    );
}

#[test]
fn unknown_column_in_ruleset() {
    let rules = RULES.replace("name = \"dx\"", "name = \"diagnosis\"");
    let err = load_files(
        "unknown-col",
        &[
            ("rules.toml", &rules),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n30;flu\n"),
        ],
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnknownColumn { column, .. } if column == "diagnosis"),
        "{err}"
    );
}

#[test]
fn empty_table() {
    let err = load_files(
        "empty",
        &[
            ("rules.toml", RULES),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n"),
        ],
    )
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::EmptyTable { .. }), "{err}");
}

#[test]
fn malformed_toml_and_unknown_keys() {
    let err = load_files("bad-toml", &[("rules.toml", "[data]\npath = \n")]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Ruleset { .. }), "{err}");
    let rules = RULES.replace(
        "role = \"sensitive\"",
        "role = \"sensitive\"\nhierarhcy = \"x.csv\"",
    );
    let err = load_files("typo", &[("rules.toml", &rules)]).unwrap_err();
    assert!(err.to_string().contains("hierarhcy"), "{err}");
    let rules = RULES.replace("role = \"sensitive\"", "role = \"secret\"");
    let err = load_files("bad-role", &[("rules.toml", &rules)]).unwrap_err();
    assert!(err.to_string().contains("secret"), "{err}");
}

#[test]
fn missing_value_and_invalid_type() {
    let err = load_files(
        "missing",
        &[
            ("rules.toml", RULES),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n30;flu\n;cold\n"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 'age', row 2: missing value (the ruleset's missing-value policy is 'error')"
    );
    let err = load_files(
        "not-int",
        &[
            ("rules.toml", RULES),
            ("age.csv", AGE),
            ("data.csv", "age;dx\n30;flu\nthirty;cold\n"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 'age', row 2: a value shaped 'aaaaaa' (6 characters) is not a valid integer"
    );
}

#[test]
fn model_parameters_out_of_range() {
    let adult = load("datasets/adult/adult.toml");
    let build = |spec: ModelSpec| spec.build(&adult.dataset, &adult.hierarchies, &BTreeMap::new());
    let cases = [
        ModelSpec::KAnonymity { k: 0 },
        ModelSpec::KAnonymity { k: 30_163 },
        ModelSpec::DistinctLDiversity {
            attribute: "occupation".into(),
            l: 0.5,
        },
        ModelSpec::EntropyLDiversity {
            attribute: "occupation".into(),
            l: f64::NAN,
        },
        ModelSpec::TCloseness {
            attribute: "occupation".into(),
            t: 1.5,
            distance: deidentify::model::GroundDistance::Equal,
        },
        ModelSpec::TCloseness {
            attribute: "occupation".into(),
            t: 0.2,
            distance: deidentify::model::GroundDistance::Ordered,
        },
        ModelSpec::BasicBetaLikeness {
            attribute: "occupation".into(),
            beta: 0.0,
        },
        ModelSpec::AlphaKAnonymity {
            attribute: "occupation".into(),
            alpha: 0.5,
            k: 2,
            value: Some("Astronaut".into()),
        },
        ModelSpec::RecursiveClDiversity {
            attribute: "age".into(),
            c: 2.0,
            l: 2,
        },
    ];
    for spec in cases {
        let err = build(spec.clone()).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidParameter { .. }),
            "{spec:?}: {err}"
        );
    }
    let err = build(ModelSpec::DistinctLDiversity {
        attribute: "diagnosis".into(),
        l: 2.0,
    })
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnknownColumn { .. }),
        "{err}"
    );
    assert!(build(ModelSpec::KAnonymity { k: 30_162 }).is_ok());
}

#[test]
fn node_errors() {
    let adult = load("datasets/adult/adult.toml");
    let err = deidentify::frequency::FrequencyTable::from_dataset(
        &adult.dataset,
        &adult.hierarchies,
        &deidentify::Node::new(vec![0; 3]),
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidParameter { .. }),
        "{err}"
    );
    let err = deidentify::frequency::FrequencyTable::from_dataset(
        &adult.dataset,
        &adult.hierarchies,
        &deidentify::Node::new(vec![0, 5, 0, 0, 0, 0, 0, 0]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "level 5 for 'age' is out of range (maximum 4)"
    );
}

#[test]
fn parquet_round_trip_loads_like_csv() {
    let adult = load("datasets/adult/adult.toml");
    let dir = scratch("parquet", &[]);
    let frame = deidentify::data::read_csv(
        &crate::root().join("datasets/adult/adult.csv"),
        &deidentify::data::CsvOptions::default().with_delimiter(b';'),
    )
    .unwrap();
    deidentify::apply::write_parquet(&frame, &dir.join("adult.parquet")).unwrap();
    let text = std::fs::read_to_string(crate::root().join("datasets/adult/adult.toml"))
        .unwrap()
        .replace("path = \"adult.csv\"", "path = \"adult.parquet\"")
        .replace(
            "hierarchies/",
            &format!("{}/datasets/adult/hierarchies/", crate::root().display()),
        );
    let ruleset = Ruleset::from_toml(&text, &dir, &dir.join("adult.toml")).unwrap();
    let from_parquet = ruleset.load().unwrap();
    assert_eq!(from_parquet.dataset.rows(), adult.dataset.rows());
    for (a, b) in from_parquet
        .dataset
        .quasi_identifiers()
        .iter()
        .zip(adult.dataset.quasi_identifiers())
    {
        assert_eq!(a, &b);
    }
}

/// Library calls with pieces that do not belong together are errors too.
#[test]
fn mismatched_library_arguments_are_errors() {
    use deidentify::{
        Node, RiskAnalysis,
        frequency::FrequencyTable,
        metric::{MetricKind, MetricSpec, UtilityModel},
        risk::{Population, RiskOptions, RiskThreshold},
    };
    let data = load("datasets/adult/adult.toml");
    let utility = UtilityModel::new(
        &data.dataset,
        &data.hierarchies,
        &MetricSpec::new(MetricKind::Loss),
    )
    .unwrap();
    let width = data.dataset.quasi_identifiers().len();
    let parameter = |e: deidentify::Error| matches!(e.kind(), ErrorKind::InvalidParameter { .. });
    assert!(parameter(
        utility.lower_bound(&Node::new(vec![99])).unwrap_err()
    ));
    assert!(parameter(
        utility
            .lower_bound(&Node::new(vec![99; width]))
            .unwrap_err()
    ));
    assert!(utility.lower_bound(&Node::bottom(width)).unwrap().is_some());
    let table =
        FrequencyTable::from_dataset(&data.dataset, &data.hierarchies, &Node::bottom(width))
            .unwrap();
    assert!(parameter(utility.score(&table, &[false], 0).unwrap_err()));
    let flags = vec![false; table.classes()];
    assert!(utility.score(&table, &flags, 0).is_ok());

    // Thresholds built from the public variants are checked as the
    // constructors check them; a class of size 0 is an error.
    let options =
        |threshold| RiskOptions::new(threshold).with_population(Population::SamplingFraction(0.5));
    for threshold in [RiskThreshold::ClassSize(0), RiskThreshold::Probability(2.0)] {
        let e = RiskAnalysis::from_class_sizes(&[1, 1], None, &options(threshold)).unwrap_err();
        assert!(parameter(e));
    }
    let e = RiskAnalysis::from_class_sizes(&[0, 1], None, &options(RiskThreshold::ClassSize(2)))
        .unwrap_err();
    assert!(e.to_string().contains("size 0"), "{e}");
    // Suppression flags of the wrong length.
    let e = deidentify::risk::Suda::of_dataset(
        &data.dataset,
        &data.hierarchies,
        &Node::bottom(width),
        Some(&[]),
        3,
        0.01,
    )
    .unwrap_err();
    assert!(parameter(e));
    // Zayatz ignores sizes no sample of n records has.
    let z = deidentify::risk::zayatz(&[(0, 1), (1, 1), (u64::MAX, 1)], 1, 2.0);
    assert_eq!(z, deidentify::risk::zayatz(&[(1, 1)], 1, 2.0));
    assert!(z > 0.0);
}

/// A misspelt builder setting is an error naming it, not silently dropped
/// (a dropped `top` would mean no top-coding).
#[test]
fn unknown_hierarchy_builder_settings_are_errors() {
    let rules = |hierarchy: &str| {
        format!(
            "[data]\npath = \"data.csv\"\n\n[[attribute]]\nname = \"age\"\nrole = \"quasi-identifier\"\ntype = \"integer\"\nhierarchy = {hierarchy}\n"
        )
    };
    let data = "age\n30\n45\n";
    for (hierarchy, named) in [
        (
            r#"{ type = "interval", levels = [{ width = 10 }], tpo = 40 }"#,
            "unknown field `tpo`",
        ),
        (
            r#"{ type = "redaction", charactr = "x" }"#,
            "unknown field `charactr`",
        ),
        (
            r#"{ type = "interval", levels = [{ width = 10, breaks = [0, 50] }] }"#,
            "IntervalLevel",
        ),
    ] {
        let rules = rules(hierarchy);
        let error = match load_files(
            "builder-typo",
            &[("rules.toml", &rules), ("data.csv", data)],
        ) {
            Ok(_) => panic!("{hierarchy} was accepted"),
            Err(e) => e.to_string(),
        };
        // The message after the quoted line names the key.
        let reason = error.lines().last().unwrap_or_default();
        assert!(reason.contains(named), "{hierarchy}: {error}");
    }
    let ok = rules(r#"{ type = "interval", levels = [{ width = 10 }], top = 40 }"#);
    load_files("builder-ok", &[("rules.toml", &ok), ("data.csv", data)]).unwrap();
}

/// Transformation parameters that would write NaN or exhaust memory are
/// errors naming the parameter.
#[test]
fn transformation_parameters_out_of_range_are_errors() {
    use deidentify::transform::{
        AdditiveNoise, Binning, BinningMethod, MAX_BINS, NoiseCorrelation,
    };
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let noise = AdditiveNoise {
        correlation: NoiseCorrelation::Correlated,
        fraction: 0.1,
    };
    let columns = vec![vec![1.0, 2.0, 3.0, 5.0], vec![2.0, 1.0, 4.0, 3.0]];
    for cov in [
        vec![vec![1.0, f64::NAN], vec![f64::NAN, 1.0]],
        vec![vec![1.0, 0.5], vec![0.4, 1.0]],
        vec![vec![1.0, f64::INFINITY], vec![f64::INFINITY, 1.0]],
        vec![vec![-1.0, 0.0], vec![0.0, 1.0]],
    ] {
        let e = noise
            .apply_with_covariance(&columns, &cov, &mut rng)
            .unwrap_err();
        assert!(e.to_string().contains("covariance"), "{cov:?}: {e}");
    }
    let ok = vec![vec![1.0, 0.5], vec![0.5, 1.0]];
    let noisy = noise
        .apply_with_covariance(&columns, &ok, &mut rng)
        .unwrap();
    assert!(noisy.iter().flatten().all(|v| v.is_finite()));

    for bins in [0, MAX_BINS + 1, usize::MAX / 2] {
        for method in [
            BinningMethod::EqualWidth { bins },
            BinningMethod::EqualFrequency { bins },
        ] {
            let binning = Binning {
                method,
                bottom: None,
                top: None,
            };
            let e = binning.apply(&[1.0, 2.0, 3.0]).unwrap_err();
            assert!(e.to_string().contains("bins"), "{e}");
        }
    }
}

/// A misspelt table is an error naming it: `[[transforms]]` must not
/// silently skip the transformations.
#[test]
fn unknown_ruleset_tables_are_errors() {
    let rules = "[data]\npath = \"data.csv\"\n\n[[attribute]]\nname = \"age\"\nrole = \"insensitive\"\n\n[[transforms]]\ntype = \"top-coding\"\n";
    let error = match load_files(
        "table-typo",
        &[("rules.toml", rules), ("data.csv", "age\n30\n")],
    ) {
        Ok(_) => panic!("[[transforms]] was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("transforms"), "{error}");
}

/// Hierarchies compiled for another dataset (same columns, another
/// dictionary) are an error naming the column, not an index out of bounds.
#[test]
fn hierarchies_of_another_dataset_are_errors() {
    use deidentify::{
        AnonymizationConfig, Node,
        frequency::FrequencyTable,
        metric::{MetricKind, MetricSpec, UtilityModel},
        search,
    };
    let adult = load("datasets/adult/adult.toml");
    let text = std::fs::read_to_string(crate::root().join("datasets/adult/adult.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    // The header and 200 records, last first: other dictionaries.
    let mut csv = String::from(lines.remove(0));
    csv.push('\n');
    for line in lines.iter().take(200).rev() {
        csv.push_str(line);
        csv.push('\n');
    }
    let rules = std::fs::read_to_string(crate::root().join("datasets/adult/adult.toml"))
        .unwrap()
        .replace(
            "\"hierarchies/",
            &format!(
                "\"{}/",
                crate::root().join("datasets/adult/hierarchies").display()
            ),
        );
    let rules = rules.replace("path = \"adult.csv\"", "path = \"small.csv\"");
    let small = load_files(
        "other-dictionary",
        &[("rules.toml", &rules), ("small.csv", &csv)],
    )
    .unwrap();
    let width = small.dataset.quasi_identifiers().len();
    let is_hierarchy_error = |e: deidentify::Error| {
        matches!(e.kind(), ErrorKind::InvalidHierarchy { .. })
            && e.to_string().contains("another dictionary")
    };
    let e = FrequencyTable::from_dataset(&small.dataset, &adult.hierarchies, &Node::bottom(width))
        .unwrap_err();
    assert!(is_hierarchy_error(e));
    let e = UtilityModel::new(
        &small.dataset,
        &adult.hierarchies,
        &MetricSpec::new(MetricKind::Loss),
    )
    .unwrap_err();
    assert!(is_hierarchy_error(e));
    let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 2 }], 0.02);
    let e = search(
        &small.dataset,
        &adult.hierarchies,
        &config,
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(is_hierarchy_error(e));
    // Its own hierarchies work.
    search(
        &small.dataset,
        &small.hierarchies,
        &config,
        &BTreeMap::new(),
    )
    .unwrap();
}

/// Finite inputs that overflow in a transformation are errors, not
/// infinities written to the output.
#[test]
fn transformations_that_overflow_are_errors() {
    use deidentify::transform::{AdditiveNoise, NoiseCorrelation, mdav};
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let noise = AdditiveNoise {
        correlation: NoiseCorrelation::Uncorrelated,
        fraction: 1e308,
    };
    let e = noise.apply(&[vec![1.0, 5.0, 9.0]], &mut rng).unwrap_err();
    assert!(e.to_string().contains("fraction"), "{e}");
    let huge = vec![f64::MAX, f64::MAX, -f64::MAX, f64::MAX];
    let e = mdav(&[huge], 2).unwrap_err();
    assert!(e.to_string().contains("too large"), "{e}");
}

/// A page whose bytes do not match the CRC-32 its header stores is refused
/// before polars reads it; the same file unaltered reads. The files were
/// written by pyarrow with page checksums (tests/data/parquet/README.md).
#[test]
fn parquet_page_checksums_are_verified() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parquet");
    let frame = deidentify::data::read_parquet(&dir.join("page-crc.parquet")).unwrap();
    assert_eq!(frame.height(), 4);
    let sex: Vec<String> = (0..4)
        .map(|i| {
            frame
                .column("sex")
                .unwrap()
                .get(i)
                .unwrap()
                .str_value()
                .into_owned()
        })
        .collect();
    assert_eq!(sex, ["Male", "Male", "Female", "Female"]);

    let flipped = dir.join("page-crc-flipped.parquet");
    let error = deidentify::data::read_parquet(&flipped).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Parse { path, .. } if *path == flipped),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("row group 1, column 2: page 1"),
        "{message}"
    );
    assert!(message.contains("CRC-32"), "{message}");
    // The message names where, never the value.
    assert!(!message.contains("emale"), "{message}");
}
