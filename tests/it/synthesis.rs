//! Differentially private synthetic data (MST and AIM) end to end: from the
//! ruleset, the same seed gives the same table, every value lies in its
//! public domain, the utility report's figures, and clear errors for bad
//! parameters.

use deidentify::Ruleset;
use deidentify::synthesis::{
    Domain, SynthesisAttribute, SynthesisConfig, SynthesisMethod, UtilityOptions, evaluate,
    synthesize,
};
use polars::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::examples::{cargo_example, example_json};
use crate::{root, scratch};

fn adult() -> (Ruleset, DataFrame, SynthesisConfig) {
    let ruleset = Ruleset::from_file(&root().join("datasets/adult/adult9-synth.toml")).unwrap();
    let data = ruleset.read_data().unwrap();
    let config = ruleset.synthesis().unwrap().expect("a [synthesis] table");
    (ruleset, data, config)
}

#[test]
fn the_same_seed_gives_the_same_table_and_values_stay_in_their_domains() {
    let (_, data, config) = adult();
    let config = config.with_rows(5000);
    let a = synthesize(&data, &config, &mut StdRng::seed_from_u64(11)).unwrap();
    let b = synthesize(&data, &config, &mut StdRng::seed_from_u64(11)).unwrap();
    let c = synthesize(&data, &config, &mut StdRng::seed_from_u64(12)).unwrap();
    assert!(a.frame.equals(&b.frame));
    assert!(!a.frame.equals(&c.frame));
    assert_eq!(a.frame.height(), 5000);
    assert_eq!(a.frame.width(), 9);
    for attribute in &config.attributes {
        let Domain::Values(values) = &attribute.domain else {
            panic!("adult's domains are listed")
        };
        let column = a
            .frame
            .column(&attribute.name)
            .unwrap()
            .str()
            .unwrap()
            .clone();
        assert!(
            column
                .iter()
                .all(|v| values.iter().any(|d| Some(d.as_str()) == v)),
            "{}",
            attribute.name
        );
    }
    let s = &a.summary;
    // Nine attributes joined by a spanning tree of eight edges.
    assert_eq!(s.tree.len(), 8);
    let mut reached = vec![s.tree[0].0.clone()];
    for _ in 0..8 {
        for (x, y) in &s.tree {
            if reached.contains(x) && !reached.contains(y) {
                reached.push(y.clone());
            } else if reached.contains(y) && !reached.contains(x) {
                reached.push(x.clone());
            }
        }
    }
    assert_eq!(reached.len(), 9, "the tree spans every attribute");
    // ρ for (1, 10⁻⁹) by Canonne, Kamath and Steinke's conversion:
    // OpenDP's figure (0.01497305767358852, smartnoise-synth's
    // `cdp_rho(1, 1e-9)`) to within 10⁻⁹ below (our ε is rounded up by
    // 10⁻¹²) and 10⁻⁴ above; spent in thirds, never beyond ε.
    let rho = s.rho;
    let opendp = 0.01497305767358852;
    assert!(
        (opendp * (1.0 - 1e-9)..opendp * 1.0001).contains(&rho),
        "{rho}"
    );
    assert!(s.rho_split.iter().all(|&r| (r - rho / 3.0).abs() < 1e-12));
    // (ε as the spent ρ implies it, in floating point.)
    assert!(
        s.epsilon_spent <= 1.0 + 1e-12 && s.epsilon_spent > 0.999,
        "{}",
        s.epsilon_spent
    );
    assert_eq!(s.input_rows, 30162);
    assert!(
        (s.estimated_rows - 30162.0).abs() < 300.0,
        "{}",
        s.estimated_rows
    );
    // Without a row count, the noisy estimate's.
    let mut unsized_config = config.clone();
    unsized_config.rows = None;
    let d = synthesize(&data, &unsized_config, &mut StdRng::seed_from_u64(3)).unwrap();
    assert_eq!(d.frame.height() as f64, d.summary.estimated_rows.round());
}

#[test]
fn synthetic_adult_keeps_the_marginals_and_the_utility_report_measures_it() {
    let (_, data, config) = adult();
    let synthetic = synthesize(&data, &config, &mut StdRng::seed_from_u64(7)).unwrap();
    let options = UtilityOptions::default().with_target("salary-class");
    let utility = evaluate(&data, &synthetic.frame, &config.attributes, &options).unwrap();
    assert_eq!(
        utility
            .distances
            .iter()
            .map(|d| (d.order, d.marginals))
            .collect::<Vec<_>>(),
        [(1, 9), (2, 36), (3, 84)]
    );
    // MST at ε = 1 on 30,162 records: one-way marginals within a few
    // percent, and far closer than records drawn uniformly from the
    // domains (the baseline below).
    let (one, two, three) = (
        &utility.distances[0],
        &utility.distances[1],
        &utility.distances[2],
    );
    assert!(one.mean < 0.03, "{one:?}");
    assert!(two.mean < 0.12 && three.mean < 0.2, "{two:?} {three:?}");
    let uniform = uniform_table(&config, 30162);
    let baseline = evaluate(
        &data,
        &uniform,
        &config.attributes,
        &UtilityOptions::default(),
    )
    .unwrap();
    assert!(
        baseline.distances[1].mean > 3.0 * two.mean,
        "{:?}",
        baseline.distances[1]
    );
    let c = utility.classifier.as_ref().unwrap();
    assert!(!c.held_out);
    assert_eq!((c.train_rows, c.test_rows), (30162 - 6032, 6032));
    // Salary class from the other eight: real ≈ 0.82, majority ≈ 0.75.
    assert!(
        c.trained_on_real > 0.8 && c.majority > 0.7 && c.majority < 0.8,
        "{c:?}"
    );
    // A tree of two-way marginals links salary class to one or two other
    // attributes only, so a classifier trained on MST's records predicts
    // about as well as the majority class (0.742 against 0.755 here).
    assert!(c.trained_on_synthetic > c.majority - 0.05, "{c:?}");
    assert!(utility.exact_copies > 0.0 && utility.exact_copies < 1.0);

    // The real table against itself (and tested on itself): no distance,
    // every record a copy, the classifiers equal.
    let options = options.with_test(data.clone());
    let same = evaluate(&data, &data, &config.attributes, &options).unwrap();
    assert!(same.distances.iter().all(|d| d.max == 0.0));
    assert_eq!(same.exact_copies, 1.0);
    let c = same.classifier.unwrap();
    assert_eq!(c.trained_on_real, c.trained_on_synthetic);
}

#[test]
fn conditioning_on_the_label_keeps_what_predicts_it() {
    let (_, data, config) = adult();
    let conditioned = config.clone().with_condition("salary-class");
    let options = UtilityOptions::default().with_target("salary-class");
    let mut accuracy = Vec::new();
    for config in [&config, &conditioned] {
        let synthetic = synthesize(&data, config, &mut StdRng::seed_from_u64(7)).unwrap();
        let utility = evaluate(&data, &synthetic.frame, &config.attributes, &options).unwrap();
        accuracy.push(utility.classifier.unwrap());
        if config.condition.is_some() {
            // Eight features joined by seven edges; salary class is the
            // strata, not a node of the tree.
            assert_eq!(synthetic.summary.tree.len(), 7);
            assert!(
                synthetic
                    .summary
                    .tree
                    .iter()
                    .all(|(a, b)| a != "salary-class" && b != "salary-class")
            );
            assert_eq!(synthetic.summary.condition.as_deref(), Some("salary-class"));
            assert!(synthetic.summary.epsilon_spent <= 1.0 + 1e-12);
            assert!(
                utility.distances[1].mean < 0.12,
                "{:?}",
                utility.distances[1]
            );
        }
    }
    // Plain MST links salary class to one or two attributes: about the
    // majority class. Measured with every marginal, it is predicted nearly
    // as well as from real records (0.81 here against 0.81).
    let (plain, with) = (&accuracy[0], &accuracy[1]);
    assert!(
        with.trained_on_synthetic > plain.trained_on_synthetic + 0.03,
        "{plain:?} {with:?}"
    );
    assert!(with.trained_on_synthetic > with.majority + 0.03, "{with:?}");
    // A condition that is not synthesized is refused.
    let bad = config.clone().with_condition("income");
    let e = synthesize(&data, &bad, &mut StdRng::seed_from_u64(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("condition") && e.contains("income"), "{e}");
}

/// Records drawn uniformly from every attribute's domain.
#[test]
fn aim_keeps_more_of_the_pairs_than_mst_and_predicts_the_label() {
    let (_, data, config) = adult();
    let options = UtilityOptions::default().with_target("salary-class");
    let aim_config = config.clone().with_method(SynthesisMethod::Aim);
    let aim = synthesize(&data, &aim_config, &mut StdRng::seed_from_u64(7)).unwrap();
    let mst = synthesize(&data, &config, &mut StdRng::seed_from_u64(7)).unwrap();
    let s = &aim.summary;
    assert_eq!(s.method, "AIM");
    // All of ρ spent (the last round takes what is left, less 10⁻⁹ of it),
    // split into one-way measurements, selections and chosen marginals.
    let spent: f64 = s.rho_split.iter().sum();
    assert!(
        spent <= s.rho && spent > s.rho * (1.0 - 1e-6),
        "{spent} of {}",
        s.rho
    );
    assert!(s.rho_split.iter().all(|&r| r > 0.0));
    assert!(s.epsilon_spent <= 1.0 + 1e-12 && s.epsilon_spent > 0.999);
    assert!(!s.tree.is_empty());
    assert!(s.tree.iter().all(|(a, b)| a != b));
    // Every attribute keeps its whole domain (AIM merges nothing).
    assert!(
        s.attributes
            .iter()
            .all(|a| a.modelled_size == a.domain_size)
    );
    let aim_utility = evaluate(&data, &aim.frame, &config.attributes, &options).unwrap();
    let mst_utility = evaluate(&data, &mst.frame, &config.attributes, &options).unwrap();
    // Seed 7 at ε = 1: AIM 0.037 / 0.083 on the two- and three-way
    // marginals against MST's 0.057 / 0.12 (AIM measures the pairs where
    // its model is worst, MST only a tree's), and its records predict
    // salary class about as well as real ones (0.82) where MST's barely
    // beat the majority class (0.75).
    for order in [1, 2] {
        assert!(
            aim_utility.distances[order].mean < 0.85 * mst_utility.distances[order].mean,
            "order {}: AIM {:?} MST {:?}",
            order + 1,
            aim_utility.distances[order],
            mst_utility.distances[order]
        );
    }
    let c = aim_utility.classifier.unwrap();
    assert!(c.trained_on_synthetic > c.majority + 0.03, "{c:?}");
    // Conditioning is MST's; AIM refuses it.
    let refused = synthesize(
        &data,
        &aim_config.with_condition("salary-class"),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("condition"), "{refused}");
}

fn uniform_table(config: &SynthesisConfig, rows: usize) -> DataFrame {
    let mut rng = StdRng::seed_from_u64(1);
    let columns = config
        .attributes
        .iter()
        .map(|a| {
            let Domain::Values(values) = &a.domain else {
                unreachable!()
            };
            let picked: Vec<&str> = (0..rows)
                .map(|_| values[rand::RngExt::random_range(&mut rng, 0..values.len())].as_str())
                .collect();
            Column::from(Series::new(a.name.as_str().into(), picked))
        })
        .collect();
    DataFrame::new(rows, columns).unwrap()
}

#[test]
fn bad_parameters_are_clear_errors() {
    let (_, data, config) = adult();
    let mut rng = StdRng::seed_from_u64(1);
    let with =
        |epsilon: f64, delta: f64| SynthesisConfig::new(epsilon, delta, config.attributes.clone());
    for (bad, name) in [
        (with(0.0, 1e-9), "epsilon"),
        (with(-1.0, 1e-9), "epsilon"),
        (with(f64::NAN, 1e-9), "epsilon"),
        (with(f64::INFINITY, 1e-9), "epsilon"),
        (with(1.0, 1.0), "delta"),
        (with(1.0, 0.0), "delta"),
        (with(1.0, 1e-9).with_rows(0), "rows"),
        (SynthesisConfig::new(1.0, 1e-9, Vec::new()), "attributes"),
    ] {
        let e = synthesize(&data, &bad, &mut rng).unwrap_err().to_string();
        assert!(e.contains(name), "{name}: {e}");
    }
    // A value outside its listed domain: column and row, never the value.
    let narrow = SynthesisConfig::new(
        1.0,
        1e-9,
        vec![SynthesisAttribute::new(
            "race",
            Domain::values(["White".to_owned(), "Black".to_owned()]).unwrap(),
        )],
    );
    let e = synthesize(&data, &narrow, &mut rng)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column 'race', row") && !e.contains("Asian"),
        "{e}"
    );
    let unknown = SynthesisConfig::new(
        1.0,
        1e-9,
        vec![SynthesisAttribute::new(
            "nope",
            Domain::values(["a".to_owned()]).unwrap(),
        )],
    );
    assert!(
        synthesize(&data, &unknown, &mut rng)
            .unwrap_err()
            .to_string()
            .contains("nope")
    );
}

#[test]
fn the_ruleset_refuses_attributes_without_a_public_domain() {
    let dir = scratch(
        "synthesis-domain",
        &[
            ("d.csv", "age;sex\n30;F\n41;M\n"),
            (
                "r.toml",
                "[data]\npath = \"d.csv\"\ndelimiter = \";\"\n\n[[attribute]]\nname = \"age\"\nrole = \"quasi-identifier\"\ntype = \"integer\"\n\n[[attribute]]\nname = \"sex\"\nrole = \"quasi-identifier\"\n\n[synthesis]\nepsilon = 1.0\n",
            ),
        ],
    );
    let ruleset = Ruleset::from_file(&dir.join("r.toml")).unwrap();
    let e = ruleset.synthesis().unwrap_err().to_string();
    assert!(e.contains("'age' has no public domain"), "{e}");
    // Bins for age and an order for sex make it whole.
    let toml = std::fs::read_to_string(dir.join("r.toml")).unwrap()
        .replace("role = \"quasi-identifier\"\n\n[synthesis]", "role = \"quasi-identifier\"\ntype = \"ordered-string\"\norder = [\"F\", \"M\"]\n\n[synthesis]")
        + "rows = 10\n[synthesis.bins]\nage = { low = 0, high = 99, width = 10 }\n";
    std::fs::write(dir.join("r.toml"), toml).unwrap();
    let ruleset = Ruleset::from_file(&dir.join("r.toml")).unwrap();
    let config = ruleset.synthesis().unwrap().unwrap();
    assert_eq!(config.rows, Some(10));
    assert_eq!(config.condition, None);
    assert_eq!(config.attributes[0].domain.size(), 10);
    let out = synthesize(
        &ruleset.read_data().unwrap(),
        &config,
        &mut StdRng::seed_from_u64(2),
    )
    .unwrap();
    let ages = out.frame.column("age").unwrap().str().unwrap().clone();
    assert!(
        ages.iter()
            .all(|v| v.unwrap().parse::<u32>().unwrap() < 100)
    );
    // Bins on a string attribute, or for an attribute not synthesized.
    let toml = std::fs::read_to_string(dir.join("r.toml")).unwrap()
        + "sex = { low = 0, high = 1, width = 1 }\n";
    std::fs::write(dir.join("r.toml"), toml).unwrap();
    let e = Ruleset::from_file(&dir.join("r.toml"))
        .unwrap()
        .synthesis()
        .unwrap_err()
        .to_string();
    assert!(e.contains("bins need an integer or decimal"), "{e}");
}

#[test]
fn the_example_writes_the_table_and_its_utility_and_measures_other_files() {
    let dir = scratch("synthesize-example", &[]);
    let output = dir.join("synth.csv");
    let config = root().join("datasets/adult/adult9-synth.toml");
    let json = example_json(
        "synthesize",
        &[
            "--config",
            config.to_str().unwrap(),
            "--epsilon",
            "0.5",
            "--rows",
            "2000",
            "--seed",
            "4",
            "--output",
            output.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(json["synthesis"]["rows"], 2000);
    assert_eq!(json["synthesis"]["epsilon"], 0.5);
    assert_eq!(json["seeded"], true);
    assert_eq!(json["utility"]["synthetic_rows"], 2000);
    assert!(
        json["utility"]["classifier"]["trained_on_synthetic"]
            .as_f64()
            .unwrap()
            > 0.5
    );
    let text = std::fs::read_to_string(&output).unwrap();
    assert_eq!(text.lines().count(), 2001);
    assert!(text.starts_with(
        "sex;age;race;marital-status;education;native-country;workclass;occupation;salary-class"
    ));
    // The same file measured again gives the same utility.
    let again = example_json(
        "synthesize",
        &[
            "--config",
            config.to_str().unwrap(),
            "--evaluate",
            output.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(again["utility"], json["utility"]);
    assert!(again["synthesis"].is_null());
    // AIM by --method; an unknown method is refused by name.
    let aim_output = dir.join("aim.csv");
    let aim = example_json(
        "synthesize",
        &[
            "--config",
            config.to_str().unwrap(),
            "--epsilon",
            "0.3",
            "--rows",
            "1000",
            "--seed",
            "4",
            "--method",
            "aim",
            "--no-utility",
            "--output",
            aim_output.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(aim["synthesis"]["method"], "AIM");
    assert_eq!(
        std::fs::read_to_string(&aim_output)
            .unwrap()
            .lines()
            .count(),
        1001
    );
    let out = cargo_example(
        "synthesize",
        &[
            "--config",
            config.to_str().unwrap(),
            "--method",
            "pgm",
            "--output",
            dir.join("pgm.csv").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pgm"));
    // ε ≤ 0 is refused and nothing is written.
    let bad = dir.join("bad.csv");
    let out = cargo_example(
        "synthesize",
        &[
            "--config",
            config.to_str().unwrap(),
            "--epsilon",
            "0",
            "--output",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("epsilon"));
    assert!(!bad.exists());
    // The input is never overwritten.
    let out = cargo_example(
        "synthesize",
        &[
            "--config",
            config.to_str().unwrap(),
            "--output",
            root().join("datasets/adult/adult.csv").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
}

/// Adult's Expert Determination ruleset with a `[synthesis]` table, in a
/// fresh folder; `edit` changes its text first.
fn adult_with_synthesis(
    name: &str,
    edit: impl Fn(String) -> String,
) -> (std::path::PathBuf, Ruleset) {
    let adult = root().join("datasets/adult");
    let text = std::fs::read_to_string(adult.join("adult.toml"))
        .unwrap()
        .replace(
            "path = \"adult.csv\"",
            &format!("path = \"{}/adult.csv\"", adult.display()),
        )
        .replace(
            "\"hierarchies/",
            &format!("\"{}/hierarchies/", adult.display()),
        );
    let text = edit(text)
        + "\n[synthesis]\nepsilon = 1.0\nrows = 3000\nattributes = [\"sex\", \"age\", \"race\", \"occupation\", \"salary-class\"]\ntarget = \"salary-class\"\n";
    let dir = scratch(name, &[("ruleset.toml", &text)]);
    let ruleset = Ruleset::from_file(&dir.join("ruleset.toml")).unwrap();
    (dir, ruleset)
}

/// The Expert Determination with seed 5, writing into `dir/out`.
fn run_seeded(
    dir: &std::path::Path,
    ruleset: &Ruleset,
) -> (std::path::PathBuf, deidentify::pipeline::RunOutcome) {
    let out = dir.join("out");
    let options = deidentify::RunOptions::new(out.clone()).with_seed(5);
    let outcome = deidentify::run_expert_determination(ruleset, &options, &mut |_| {}).unwrap();
    (out, outcome)
}

#[test]
fn the_expert_determination_reports_and_writes_synthetic_data_when_configured() {
    let (dir, ruleset) = adult_with_synthesis("synthesis-expert-determination", |t| t);
    let (out, outcome) = run_seeded(&dir, &ruleset);
    let report = &outcome.report;
    assert!(report.summary.passes, "{:?}", report.summary.failures);
    let s = report
        .results
        .synthesis
        .as_ref()
        .expect("a synthesis section");
    assert!(s.seeded);
    assert_eq!((s.summary.epsilon, s.summary.rows), (1.0, 3000));
    assert_eq!(s.summary.tree.len(), 4);
    assert_eq!(s.utility.distances.len(), 3);
    assert_eq!(
        s.utility.classifier.as_ref().unwrap().target,
        "salary-class"
    );
    // The file beside the release, its hash in the report; the same
    // records as the library draws with the same seed from the same data.
    let file = out.join(s.file.as_ref().unwrap());
    assert_eq!(file, out.join("adult-deidentified.synthetic.csv"));
    assert_eq!(
        s.sha256.as_deref(),
        Some(deidentify::report::sha256_file(&file).unwrap().as_str())
    );
    let config = ruleset.synthesis().unwrap().unwrap();
    let library = synthesize(
        &ruleset.read_data().unwrap(),
        &config,
        &mut StdRng::seed_from_u64(5),
    )
    .unwrap();
    assert_eq!(library.summary.tree, s.summary.tree);
    let written = polars::prelude::CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(file.clone()))
        .unwrap()
        .finish()
        .unwrap();
    assert!(written.equals(&library.frame));
    // The audit trail records the synthesis and the file; the renderings
    // show the section.
    let steps: Vec<&str> = report.audit.iter().map(|e| e.step.as_str()).collect();
    assert!(steps.contains(&"synthesis"), "{steps:?}");
    assert!(
        report.audit.iter().any(
            |e| e.description == "Wrote the synthetic data to adult-deidentified.synthetic.csv"
        )
    );
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    let markdown = std::fs::read_to_string(&outcome.markdown).unwrap();
    for text in [&html, &markdown] {
        assert!(
            text.contains("Synthetic data")
                && text.contains("(1, 0.000000001)-differential privacy")
        );
    }
}

#[test]
fn a_failing_expert_determination_writes_no_synthetic_data() {
    let (dir, ruleset) = adult_with_synthesis("synthesis-failing-run", |t| {
        t.replace("prosecutor_average = 0.05", "prosecutor_average = 0.0001")
    });
    let (out, outcome) = run_seeded(&dir, &ruleset);
    assert!(!outcome.report.summary.passes);
    let s = outcome.report.results.synthesis.as_ref().unwrap();
    assert_eq!((s.file.as_ref(), s.sha256.as_ref()), (None, None));
    assert!(!out.join("adult-deidentified.synthetic.csv").exists());
    assert!(
        outcome
            .report
            .audit
            .iter()
            .any(|e| e.description.starts_with("Wrote no synthetic data"))
    );
}

/// A random table: 1–6 listed columns over 1–40 values (skewed), and an
/// integer column binned over bounds that may cut its values off.
fn random_table() -> impl proptest::strategy::Strategy<Value = (DataFrame, Vec<SynthesisAttribute>)>
{
    use proptest::prelude::*;
    (
        prop::collection::vec(1u32..40, 1..6),
        1usize..300,
        any::<u64>(),
        (-20i64..20, 1i64..60, 1i64..15),
    )
        .prop_map(|(domains, rows, seed, (low, span, width))| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut columns = Vec::new();
            let mut attributes = Vec::new();
            for (j, &size) in domains.iter().enumerate() {
                let name = format!("c{j}");
                let values: Vec<String> = (0..size).map(|v| format!("v{v}")).collect();
                let picked: Vec<&str> = (0..rows)
                    .map(|_| {
                        let a = rand::RngExt::random_range(&mut rng, 0..size);
                        let b = rand::RngExt::random_range(&mut rng, 0..size);
                        values[a.min(b) as usize].as_str()
                    })
                    .collect();
                columns.push(Column::from(Series::new(name.as_str().into(), picked)));
                attributes.push(SynthesisAttribute::new(
                    name,
                    Domain::values(values).unwrap(),
                ));
            }
            let numbers: Vec<i64> = (0..rows)
                .map(|_| rand::RngExt::random_range(&mut rng, -40i64..80))
                .collect();
            columns.push(Column::from(Series::new("n".into(), numbers)));
            attributes.push(SynthesisAttribute::new(
                "n",
                Domain::bins(low as f64, (low + span) as f64, width as f64, true).unwrap(),
            ));
            (DataFrame::new(rows, columns).unwrap(), attributes)
        })
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
    ))]

    /// On any table and any parameters: the requested number of records,
    /// every value inside its domain (binned numbers within the bounds),
    /// a spanning tree, never more than ε spent, the same seed the same
    /// records, and utility figures within their ranges.
    #[test]
    fn synthesis_keeps_its_invariants(
        (data, attributes) in random_table(),
        epsilon in 0.01f64..10.0,
        log_delta in -12i32..-2,
        rows in 1u64..400,
        seed in proptest::prelude::any::<u64>(),
    ) {
        let config = SynthesisConfig::new(epsilon, 10f64.powi(log_delta), attributes.clone()).with_rows(rows);
        let a = synthesize(&data, &config, &mut StdRng::seed_from_u64(seed)).unwrap();
        let b = synthesize(&data, &config, &mut StdRng::seed_from_u64(seed)).unwrap();
        proptest::prop_assert!(a.frame.equals(&b.frame));
        proptest::prop_assert_eq!(a.frame.height() as u64, rows);
        let names: Vec<String> = a.frame.get_column_names().iter().map(|n| n.to_string()).collect();
        proptest::prop_assert_eq!(names, attributes.iter().map(|x| x.name.clone()).collect::<Vec<_>>());
        for attribute in &attributes {
            let column = a.frame.column(&attribute.name).unwrap().str().unwrap().clone();
            for value in column.iter() {
                let value = value.unwrap();
                match &attribute.domain {
                    Domain::Values(values) => proptest::prop_assert!(values.iter().any(|v| v == value)),
                    Domain::Bins { low, high, .. } => {
                        let v: f64 = value.parse().unwrap();
                        proptest::prop_assert!(v >= *low && v <= *high, "{} outside [{}, {}]", v, low, high);
                    }
                }
            }
        }
        let s = &a.summary;
        proptest::prop_assert_eq!(s.tree.len(), attributes.len() - 1);
        proptest::prop_assert!(s.epsilon_spent <= epsilon * (1.0 + 1e-12));
        let utility = evaluate(&data, &a.frame, &attributes, &UtilityOptions::default()).unwrap();
        for d in &utility.distances {
            // (Distances are sums of floating-point shares: within 10⁻¹².)
            proptest::prop_assert!(
                d.mean >= 0.0 && d.mean <= d.max + 1e-12 && d.max <= 1.0 + 1e-12,
                "{:?}",
                d
            );
        }
        proptest::prop_assert!((0.0..=1.0).contains(&utility.exact_copies));
    }
}

proptest::proptest! {
    // (A 25th of the cases asked for: each case fits AIM several times, and
    // CI asks for 1,000.)
    #![proptest_config(proptest::test_runner::Config::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse::<u32>().ok()).map_or(8, |c| c.div_ceil(25))
    ))]

    /// AIM on any table: the requested number of records, every value in
    /// its domain, never more than ε spent, the same seed the same records.
    #[test]
    fn aim_keeps_its_invariants(
        (data, attributes) in random_table(),
        epsilon in 0.05f64..5.0,
        rows in 1u64..300,
        seed in proptest::prelude::any::<u64>(),
    ) {
        let config = SynthesisConfig::new(epsilon, 1e-9, attributes.clone())
            .with_rows(rows)
            .with_method(SynthesisMethod::Aim);
        let a = synthesize(&data, &config, &mut StdRng::seed_from_u64(seed)).unwrap();
        let b = synthesize(&data, &config, &mut StdRng::seed_from_u64(seed)).unwrap();
        proptest::prop_assert!(a.frame.equals(&b.frame));
        proptest::prop_assert_eq!(a.frame.height() as u64, rows);
        for attribute in &attributes {
            let column = a.frame.column(&attribute.name).unwrap().str().unwrap().clone();
            for value in column.iter() {
                let value = value.unwrap();
                match &attribute.domain {
                    Domain::Values(values) => proptest::prop_assert!(values.iter().any(|v| v == value)),
                    Domain::Bins { low, high, .. } => {
                        let v: f64 = value.parse().unwrap();
                        proptest::prop_assert!(v >= *low && v <= *high);
                    }
                }
            }
        }
        proptest::prop_assert!(a.summary.epsilon_spent <= epsilon * (1.0 + 1e-12));
        let spent: f64 = a.summary.rho_split.iter().sum();
        proptest::prop_assert!(spent <= a.summary.rho);
    }
}
