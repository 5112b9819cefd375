//! Configured transformations (binning, top/bottom coding, MDAV, additive
//! noise): application, records, replay from JSON, ruleset integration; and
//! the DP bounded sum's lattice noise against the discrete Laplace pmf.

use deidentify::{
    ErrorKind, Ruleset,
    noise::{BoundedSum, PrivacyBudget, SumNoise},
    transform::{
        TransformRecord, TransformSpec, apply_transforms, apply_transforms_with_missing, mdav,
        replay_transforms,
    },
};
use polars::prelude::{Column, DataFrame};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use statrs::distribution::{ChiSquared, ContinuousCDF};

fn specs(json: &str) -> Vec<TransformSpec> {
    serde_json::from_str(json).unwrap()
}

/// A frame of text columns (as CSV is read); `None` is a null cell.
fn text_frame(columns: &[(&str, Vec<Option<&str>>)]) -> DataFrame {
    let height = columns[0].1.len();
    DataFrame::new(
        height,
        columns
            .iter()
            .map(|(name, values)| Column::new((*name).into(), values.clone()))
            .collect(),
    )
    .unwrap()
}

fn numbers(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let column = frame.column(name).unwrap();
    if let Ok(text) = column.str() {
        text.iter()
            .map(|v| v.map(|s| s.parse::<f64>().unwrap()))
            .collect()
    } else {
        column.f64().unwrap().iter().collect()
    }
}

fn labels(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    frame
        .column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

/// Serializes records to JSON and back, replays them, and checks the output
/// and the records equal the original run's.
fn assert_replays(input: &DataFrame, output: &DataFrame, records: &[TransformRecord]) {
    let json = serde_json::to_string_pretty(records).unwrap();
    let parsed: Vec<TransformRecord> = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, records);
    let (replayed, again) = replay_transforms(input.clone(), &parsed).unwrap();
    assert!(replayed.equals_missing(output), "{replayed} vs {output}");
    // The replay's records carry the same fitted parameters and counts; only
    // `details.requested` says what the replay asked for (the fitted breaks).
    let strip = |rs: &[TransformRecord]| -> Vec<TransformRecord> {
        rs.iter()
            .cloned()
            .map(|mut r| {
                if let Some(d) = r.details.as_object_mut() {
                    d.remove("requested");
                }
                r
            })
            .collect()
    };
    assert_eq!(strip(&again), strip(records));
    // The fitted specs given to apply_transforms do the same, whatever the RNG.
    let fitted: Vec<TransformSpec> = parsed.iter().map(|r| r.spec().unwrap()).collect();
    let (applied, _) =
        apply_transforms(input.clone(), &fitted, &mut StdRng::seed_from_u64(999)).unwrap();
    assert!(applied.equals_missing(output));
}

#[test]
fn equal_frequency_binning_records_its_breaks_and_replays_on_new_data() {
    let frame = text_frame(&[(
        "age",
        vec![
            Some("21"),
            Some("34"),
            None,
            Some("?"),
            Some("45"),
            Some("58"),
            Some("95"),
            Some("30"),
        ],
    )]);
    let steps = specs(
        r#"[{"type":"binning","column":"age","method":"equal-frequency","bins":2,"top":90}]"#,
    );
    let missing = vec!["?".to_owned()];
    let (out, records) = apply_transforms_with_missing(
        frame.clone(),
        &steps,
        &missing,
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap();
    // Inside the coding: 21, 30, 34, 45, 58 → median 34.
    assert_eq!(
        labels(&out, "age"),
        vec![
            Some("[21, 34)".into()),
            Some("[34, 58]".into()),
            None,
            None,
            Some("[34, 58]".into()),
            Some("[34, 58]".into()),
            Some(">=90".into()),
            Some("[21, 34)".into()),
        ]
    );
    let r = &records[0];
    assert_eq!(r.kind, "binning");
    assert_eq!(r.columns, vec!["age"]);
    assert_eq!(r.missing_cells, 2);
    assert_eq!(r.rows_affected, 6);
    assert_eq!(r.parameters["method"], "breaks");
    assert_eq!(
        r.parameters["breaks"],
        serde_json::json!([21.0, 34.0, 58.0])
    );
    assert_eq!(r.details["top_coded"], 1);
    assert_eq!(r.details["requested"]["method"], "equal-frequency");
    // Replay: same output on the same data ("?" is missing only with the marker).
    let fitted: Vec<TransformSpec> = records.iter().map(|r| r.spec().unwrap()).collect();
    let (again, _) = apply_transforms_with_missing(
        frame.clone(),
        &fitted,
        &missing,
        &mut StdRng::seed_from_u64(2),
    )
    .unwrap();
    assert!(again.equals_missing(&out));
    // On new data the recorded breaks are used, not refitted.
    let new = text_frame(&[("age", vec![Some("22"), Some("40"), Some("91")])]);
    let (binned, _) = replay_transforms(new, &records).unwrap();
    assert_eq!(
        labels(&binned, "age"),
        vec![
            Some("[21, 34)".into()),
            Some("[34, 58]".into()),
            Some(">=90".into())
        ]
    );
    // Outside the recorded breaks without coding: an error naming the cell.
    let outside = text_frame(&[("age", vec![Some("30"), Some("19")])]);
    let e = replay_transforms(outside, &records).unwrap_err();
    match e.kind() {
        ErrorKind::InvalidValue {
            column, row, value, ..
        } => assert_eq!((column.as_str(), *row, value.as_str()), ("age", 2, "19")),
        other => panic!("{other}"),
    }
}

#[test]
fn non_numeric_values_are_errors_naming_column_row_and_shape() {
    let frame = text_frame(&[("income", vec![Some("10"), Some("12,5"), Some("3")])]);
    for json in [
        r#"[{"type":"binning","column":"income","method":"equal-width","bins":2}]"#,
        r#"[{"type":"top-bottom-coding","column":"income","top":5}]"#,
        r#"[{"type":"microaggregation","columns":["income"],"k":2}]"#,
        r#"[{"type":"additive-noise","columns":["income"],"fraction":0.1}]"#,
    ] {
        let e = apply_transforms(frame.clone(), &specs(json), &mut StdRng::seed_from_u64(1))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 'income', row 2: a value shaped '99,9' (4 characters) is not a valid finite number",
            "{json}"
        );
    }
    let e = apply_transforms(
        frame.clone(),
        &specs(r#"[{"type":"microaggregation","columns":["wage"],"k":2}]"#),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnknownColumn { .. }));
    // "NaN" and "inf" parse as floats but are not finite numbers.
    let frame = text_frame(&[("x", vec![Some("1"), Some("2"), Some("inf")])]);
    let e = apply_transforms(
        frame,
        &specs(r#"[{"type":"top-bottom-coding","column":"x","top":5}]"#),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("row 3: a value shaped 'aaa' (3 characters)"),
        "{e}"
    );
}

#[test]
fn top_bottom_coding_keeps_numbers_and_counts() {
    let frame = text_frame(&[(
        "age",
        vec![Some("17"), Some("40"), Some("93"), None, Some("89.5")],
    )]);
    let steps = specs(
        r#"[{"type":"top-bottom-coding","column":"age","top":89,"top_value":90,"bottom":18}]"#,
    );
    let (out, records) =
        apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(
        labels(&out, "age"),
        vec![
            Some("18".into()),
            Some("40".into()),
            Some("90".into()),
            None,
            Some("90".into())
        ]
    );
    let r = &records[0];
    assert_eq!((r.rows_affected, r.missing_cells), (3, 1));
    assert_eq!(r.parameters["bottom_value"], 18.0);
    assert_eq!(r.details["top_coded"], 2);
    assert_replays(&frame, &out, &records);
    // Numeric (Parquet-like) columns stay numeric.
    let numeric = DataFrame::new(3, vec![Column::new("x".into(), [1.0f64, 50.0, 120.0])]).unwrap();
    let (out, _) = apply_transforms(
        numeric,
        &specs(r#"[{"type":"top-bottom-coding","column":"x","top":100}]"#),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap();
    assert_eq!(numbers(&out, "x"), vec![Some(1.0), Some(50.0), Some(100.0)]);
}

#[test]
fn microaggregation_of_two_columns_with_missing_cells() {
    let height: Vec<String> = (0..20).map(|i| format!("{}", 150 + 2 * i)).collect();
    let weight: Vec<String> = (0..20).map(|i| format!("{}", 50 + (i * 7) % 30)).collect();
    let mut h: Vec<Option<&str>> = height.iter().map(|s| Some(s.as_str())).collect();
    let w: Vec<Option<&str>> = weight.iter().map(|s| Some(s.as_str())).collect();
    h[3] = None;
    let frame = text_frame(&[("height", h), ("weight", w)]);
    let steps = specs(r#"[{"type":"microaggregation","columns":["height","weight"],"k":3}]"#);
    let (out, records) =
        apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(1)).unwrap();
    let r = &records[0];
    assert_eq!(r.missing_cells, 1);
    assert_eq!(r.details["complete_rows"], 19);
    assert!(r.details["il1s"].as_f64().unwrap() > 0.0);
    // The incomplete row is left as it was, in both columns.
    assert_eq!(numbers(&out, "height")[3], None);
    assert_eq!(numbers(&out, "weight")[3], numbers(&frame, "weight")[3]);
    // Group sizes ≥ k among complete rows: identical output pairs form groups.
    let (hs, ws) = (numbers(&out, "height"), numbers(&out, "weight"));
    let mut groups = std::collections::BTreeMap::new();
    for i in (0..20).filter(|&i| i != 3) {
        *groups
            .entry((hs[i].unwrap().to_bits(), ws[i].unwrap().to_bits()))
            .or_insert(0) += 1;
    }
    assert!(groups.values().all(|&n| n >= 3), "{groups:?}");
    assert_replays(&frame, &out, &records);
    let too_few = text_frame(&[("x", vec![Some("1"), None, Some("2")])]);
    assert!(
        apply_transforms(
            too_few,
            &specs(r#"[{"type":"microaggregation","columns":["x"],"k":3}]"#),
            &mut StdRng::seed_from_u64(1)
        )
        .is_err()
    );
}

#[test]
fn additive_noise_is_seeded_recorded_and_replayed() {
    let a: Vec<String> = (0..200).map(|i| format!("{}", (i * 13) % 97)).collect();
    let b: Vec<String> = (0..200)
        .map(|i| format!("{}", 2 * ((i * 13) % 97) + i % 5))
        .collect();
    let frame = text_frame(&[
        ("a", a.iter().map(|s| Some(s.as_str())).collect()),
        ("b", b.iter().map(|s| Some(s.as_str())).collect()),
    ]);
    let steps = specs(
        r#"[{"type":"additive-noise","columns":["a","b"],"correlation":"correlated","fraction":0.2}]"#,
    );
    let (out1, rec1) =
        apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(5)).unwrap();
    let (out2, rec2) =
        apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(5)).unwrap();
    let (out3, rec3) =
        apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(6)).unwrap();
    assert!(out1.equals_missing(&out2));
    assert_eq!(rec1, rec2);
    assert!(!out1.equals_missing(&out3));
    assert_ne!(rec1[0].parameters["seed"], rec3[0].parameters["seed"]);
    assert_eq!(rec1[0].rows_affected, 400);
    assert_eq!(
        rec1[0].parameters["covariance"].as_array().unwrap().len(),
        2
    );
    assert_replays(&frame, &out1, &rec1);
    // An explicit seed does not draw from the caller's RNG.
    let seeded = specs(r#"[{"type":"additive-noise","columns":["a"],"fraction":0.1,"seed":42}]"#);
    let (x, _) = apply_transforms(frame.clone(), &seeded, &mut StdRng::seed_from_u64(1)).unwrap();
    let (y, _) = apply_transforms(frame.clone(), &seeded, &mut StdRng::seed_from_u64(2)).unwrap();
    assert!(x.equals_missing(&y));
    // A record without its seed cannot be replayed.
    let mut unseeded = rec1[0].clone();
    unseeded.parameters.as_object_mut().unwrap().remove("seed");
    assert!(unseeded.spec().is_err());
}

#[test]
fn a_pipeline_of_steps_replays_from_json() {
    let x: Vec<String> = (0..60).map(|i| format!("{}", (i * 37) % 101)).collect();
    let y: Vec<String> = (0..60).map(|i| format!("{}.5", (i * 11) % 23)).collect();
    let frame = text_frame(&[
        ("x", x.iter().map(|s| Some(s.as_str())).collect()),
        ("y", y.iter().map(|s| Some(s.as_str())).collect()),
    ]);
    let steps = specs(
        r#"[
        {"type":"top-bottom-coding","column":"x","top":90,"bottom":5},
        {"type":"additive-noise","columns":["x"],"fraction":0.05},
        {"type":"microaggregation","columns":["y"],"k":4},
        {"type":"binning","column":"x","method":"equal-width","bins":5}
    ]"#,
    );
    let (out, records) =
        apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(77)).unwrap();
    let kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "top-bottom-coding",
            "additive-noise",
            "microaggregation",
            "binning"
        ]
    );
    assert_replays(&frame, &out, &records);
}

#[test]
fn ruleset_transforms_are_validated_and_applied_before_encoding() {
    let csv = "age;income;sex\n23;1000;m\n35;?;f\n47;3000;f\n61;4000;m\n29;5000;m\n";
    let ruleset = r#"
        [data]
        path = "data.csv"
        delimiter = ";"
        missing_values = ["?"]
        missing_policy = "category"

        [[attribute]]
        name = "age"
        role = "quasi-identifier"
        type = "ordered-string"
        order = ["[23, 35)", "[35, 47)", "[47, 61]"]

        [[attribute]]
        name = "income"
        role = "insensitive"
        type = "decimal"

        [[attribute]]
        name = "sex"
        role = "quasi-identifier"

        [[transform]]
        type = "binning"
        column = "age"
        method = "breaks"
        breaks = [23, 35, 47, 61]

        [[transform]]
        type = "microaggregation"
        columns = ["income"]
        k = 2
    "#;
    let dir = crate::scratch("transform", &[("data.csv", csv), ("rules.toml", ruleset)]);
    let rules = Ruleset::from_file(&dir.join("rules.toml")).unwrap();
    assert_eq!(rules.transforms.len(), 2);
    let mut rng = StdRng::seed_from_u64(3);
    let (frame, records) = rules.read_transformed(&mut rng).unwrap();
    assert_eq!(labels(&frame, "age")[0].as_deref(), Some("[23, 35)"));
    assert_eq!(records[1].missing_cells, 1);
    assert_eq!(labels(&frame, "income")[1], None);
    let (loaded, records2) = rules.load_transformed(&mut rng).unwrap();
    assert_eq!(records, records2);
    assert_eq!(loaded.dataset.quasi_identifiers().len(), 2);
    // read_data stays untransformed.
    assert_eq!(
        labels(&rules.read_data().unwrap(), "age")[0].as_deref(),
        Some("23")
    );
    // Validation on load: a binned column must be declared as labels, the
    // column must be declared, the parameters must be valid.
    for (bad, needle) in [
        (
            ruleset.replace("type = \"ordered-string\"", "type = \"integer\""),
            "transform 1 (binning): column 'age' has type integer",
        ),
        (
            ruleset.replace("columns = [\"income\"]", "columns = [\"wage\"]"),
            "column 'wage' is not a declared attribute",
        ),
        (
            ruleset.replace("k = 2", "k = 1"),
            "transform 2 (microaggregation)",
        ),
        (ruleset.replace("k = 2", "k = 2\nsize = 3"), "unknown field"),
    ] {
        let e = Ruleset::from_toml(&bad, &dir, &dir.join("rules.toml")).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
}

/// The interval a binning label denotes contains `x`.
fn label_contains(label: &str, x: f64) -> bool {
    if let Some(b) = label.strip_prefix('<') {
        return x < b.parse::<f64>().unwrap();
    }
    if let Some(t) = label.strip_prefix(">=") {
        return x >= t.parse::<f64>().unwrap();
    }
    let closed = label.ends_with(']');
    let inner = &label[1..label.len() - 1];
    let (lo, hi) = inner.split_once(", ").unwrap();
    let (lo, hi) = (lo.parse::<f64>().unwrap(), hi.parse::<f64>().unwrap());
    lo <= x && (x < hi || (closed && x == hi))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_binning_label_contains_its_value(
        values in prop::collection::vec(-1000.0f64..1000.0, 1..60),
        bins in 1usize..8,
        frequency in any::<bool>(),
        top in prop::option::of(0.0f64..900.0),
    ) {
        let text: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
        let frame = text_frame(&[("v", text.iter().map(|s| Some(s.as_str())).collect())]);
        let method = if frequency { "equal-frequency" } else { "equal-width" };
        let mut spec = serde_json::json!({"type": "binning", "column": "v", "method": method, "bins": bins});
        if let Some(t) = top {
            spec["top"] = serde_json::json!(t);
        }
        let steps: Vec<TransformSpec> = vec![serde_json::from_value(spec).unwrap()];
        match apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(1)) {
            Ok((out, records)) => {
                for (label, &x) in labels(&out, "v").iter().zip(&values) {
                    let label = label.as_deref().unwrap();
                    prop_assert!(label_contains(label, x), "{} not in {}", x, label);
                }
                assert_replays(&frame, &out, &records);
            }
            // Every value top-coded: nothing left to fit the bins on.
            Err(e) => prop_assert!(values.iter().all(|&v| top.is_some_and(|t| v >= t)), "{}", e),
        }
    }

    #[test]
    fn mdav_groups_have_at_least_k_members_and_keep_the_mean(
        rows in prop::collection::vec((-100.0f64..100.0, 0.0f64..50.0), 4..80),
        k in 2usize..5,
    ) {
        prop_assume!(rows.len() >= k);
        let a: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let b: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let m = mdav(&[a.clone(), b.clone()], k).unwrap();
        let mut sizes = vec![0usize; m.group_count];
        for &g in &m.groups {
            sizes[g] += 1;
        }
        prop_assert!(sizes.iter().all(|&s| s >= k));
        // Through the frame: column means are preserved.
        let frame = DataFrame::new(rows.len(), vec![
            Column::new("a".into(), a.clone()),
            Column::new("b".into(), b.clone()),
        ]).unwrap();
        let steps = specs(&format!(r#"[{{"type":"microaggregation","columns":["a","b"],"k":{k}}}]"#));
        let (out, records) = apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(1)).unwrap();
        for (name, original) in [("a", &a), ("b", &b)] {
            let after: f64 = numbers(&out, name).iter().map(|v| v.unwrap()).sum();
            let before: f64 = original.iter().sum();
            prop_assert!((after - before).abs() <= 1e-9 * (1.0 + before.abs()) * rows.len() as f64);
        }
        assert_replays(&frame, &out, &records);
    }

    #[test]
    fn noise_same_seed_same_output_and_replay(
        values in prop::collection::vec(-50.0f64..50.0, 3..40),
        seed in any::<u64>(),
        fraction in 0.01f64..1.0,
    ) {
        prop_assume!(values.iter().any(|&v| v != values[0]));
        let frame = DataFrame::new(values.len(), vec![Column::new("v".into(), values.clone())]).unwrap();
        let steps = specs(&format!(r#"[{{"type":"additive-noise","columns":["v"],"fraction":{fraction}}}]"#));
        let (x, rx) = apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(seed)).unwrap();
        let (y, ry) = apply_transforms(frame.clone(), &steps, &mut StdRng::seed_from_u64(seed)).unwrap();
        prop_assert!(x.equals_missing(&y));
        prop_assert_eq!(&rx, &ry);
        assert_replays(&frame, &x, &rx);
    }
}

#[test]
fn dp_sum_lattice_noise_matches_the_discrete_laplace_pmf() {
    // [0, 1] on the lattice 2^−2 with ε = 1: Δ_k = 2^34/2^32 + 1 = 5, so the
    // noise in lattice steps is discrete Laplace with scale 5:
    // P(Z = z) = tanh(1/(2·5))·e^(−|z|/5).
    let sum = BoundedSum::new(0.0, 1.0, SumNoise::Laplace { epsilon: 1.0 })
        .unwrap()
        .with_granularity(-2)
        .unwrap();
    assert_eq!(sum.lattice_sensitivity().unwrap(), 5);
    let values = [0.25, 0.5, 0.75]; // exactly 6 steps
    let mut rng = StdRng::seed_from_u64(2024);
    let draws = 100_000u64;
    let mut counts = std::collections::BTreeMap::<i64, u64>::new();
    for _ in 0..draws {
        let mut budget = PrivacyBudget::new(1.0).unwrap();
        let released = sum.release(&values, &mut rng, &mut budget).unwrap();
        assert_eq!(released.k, -2);
        let steps = released.value * 4.0;
        assert_eq!(steps.fract(), 0.0, "outputs lie on the lattice");
        *counts.entry(steps as i64 - 6).or_insert(0) += 1;
    }
    let t = 5.0f64;
    let norm = (1.0 / (2.0 * t)).tanh();
    let pmf = |z: i64| norm * (-(z.abs() as f64) / t).exp();
    // Pearson's χ² over the cells with expected count ≥ 5, tails pooled.
    let (mut chi, mut cells, mut tail_observed, mut tail_expected) = (0.0, 0usize, 0u64, 0.0);
    let inner = 30i64;
    for z in -inner..=inner {
        let expected = pmf(z) * draws as f64;
        let observed = counts.get(&z).copied().unwrap_or(0) as f64;
        chi += (observed - expected).powi(2) / expected;
        cells += 1;
    }
    for (&z, &c) in &counts {
        if z.abs() > inner {
            tail_observed += c;
        }
    }
    tail_expected += draws as f64 * (1.0 - (-inner..=inner).map(pmf).sum::<f64>());
    chi += (tail_observed as f64 - tail_expected).powi(2) / tail_expected;
    cells += 1;
    let critical = ChiSquared::new((cells - 1) as f64)
        .unwrap()
        .inverse_cdf(0.999);
    assert!(
        chi < critical,
        "χ² = {chi} over {cells} cells, critical {critical}"
    );
}
