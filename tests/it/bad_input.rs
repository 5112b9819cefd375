//! Bad input gets a clear error naming what is wrong, never a panic.

use std::collections::BTreeMap;

use deidentify::{ErrorKind, ModelSpec, Ruleset};

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

fn load_files(name: &str, files: &[(&str, &str)]) -> deidentify::Result<deidentify::LoadedRuleset> {
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
        "column 'age', row 3: value '35' is not in the column's hierarchy"
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
        "column 'age', row 2: value 'thirty' is not a valid integer"
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
            distance: deidentify::GroundDistance::Equal,
        },
        ModelSpec::TCloseness {
            attribute: "occupation".into(),
            t: 0.2,
            distance: deidentify::GroundDistance::Ordered,
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
    let err = deidentify::FrequencyTable::from_dataset(
        &adult.dataset,
        &adult.hierarchies,
        &deidentify::Node::new(vec![0; 3]),
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidParameter { .. }),
        "{err}"
    );
    let err = deidentify::FrequencyTable::from_dataset(
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
    let frame = deidentify::read_csv(
        &crate::root().join("datasets/adult/adult.csv"),
        &deidentify::CsvOptions {
            delimiter: b';',
            ..Default::default()
        },
    )
    .unwrap();
    deidentify::write_parquet(&frame, &dir.join("adult.parquet")).unwrap();
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
