//! The t-closeness example of Li, Li & Venkatasubramanian (ICDE 2007),
//! Tables 3 and 4, with expected values derived by hand below.

use deidentify::{
    Node, PrivacyProfile,
    frequency::FrequencyTable,
    measure::ProfileOptions,
    model::{GroundDistance, SensitiveAttribute, TCloseness},
};

use crate::{close, scratch};

const DATA: &str = "zip,age,salary,disease
47677,29,3,gastric ulcer
47602,22,4,gastritis
47678,27,5,stomach cancer
47905,43,6,gastritis
47909,52,11,flu
47906,47,8,bronchitis
47605,30,7,bronchitis
47673,36,9,pneumonia
47607,32,10,stomach cancer
";

// The disease hierarchy of the example (as in ARX's test2 files): height 3.
const DISEASE: &str =
    "gastric ulcer;stomach disease;digestive system disease;respiratory&digestive disease
gastritis;stomach disease;digestive system disease;respiratory&digestive disease
stomach cancer;stomach disease;digestive system disease;respiratory&digestive disease
flu;respiratory infection;vascular lung disease;respiratory&digestive disease
bronchitis;respiratory infection;vascular lung disease;respiratory&digestive disease
pneumonia;respiratory infection;vascular lung disease;respiratory&digestive disease
";

const RULESET: &str = r#"
[data]
path = "data.csv"

[[attribute]]
name = "zip"
role = "quasi-identifier"
hierarchy = { type = "redaction" }

[[attribute]]
name = "age"
role = "quasi-identifier"
type = "integer"
hierarchy = { type = "interval", levels = [{ breaks = [0, 30, 40, 150] }] }

[[attribute]]
name = "salary"
role = "sensitive"
type = "integer"

[[attribute]]
name = "disease"
role = "sensitive"
hierarchy = "disease.csv"
"#;

/// The 3-diverse table of the paper: 476**/2*, 4790*/≥40, 476**/3*.
fn paper_node() -> Node {
    Node::new(vec![2, 1])
}

fn load() -> deidentify::ruleset::LoadedRuleset {
    let dir = scratch(
        "li2007",
        &[
            ("data.csv", DATA),
            ("disease.csv", DISEASE),
            ("rules.toml", RULESET),
        ],
    );
    deidentify::Ruleset::from_file(&dir.join("rules.toml"))
        .unwrap()
        .load()
        .unwrap()
}

#[test]
fn classes_are_the_papers() {
    let data = load();
    let table =
        FrequencyTable::from_dataset(&data.dataset, &data.hierarchies, &paper_node()).unwrap();
    assert_eq!(table.counts(), &[3, 3, 3]);
}

#[test]
fn per_class_distances_match_hand_computation() {
    let data = load();
    let table =
        FrequencyTable::from_dataset(&data.dataset, &data.hierarchies, &paper_node()).unwrap();
    let salary = SensitiveAttribute::new(&data.dataset, &data.hierarchies, "salary", None).unwrap();
    let disease =
        SensitiveAttribute::new(&data.dataset, &data.hierarchies, "disease", None).unwrap();
    let ordered = TCloseness::new(&salary, 0.5, GroundDistance::Ordered).unwrap();
    let hierarchical = TCloseness::new(&disease, 0.5, GroundDistance::Hierarchical).unwrap();
    let equal = TCloseness::new(&disease, 0.5, GroundDistance::Equal).unwrap();
    // Ordered, class {3k,4k,5k}: r = (2,2,2,−1,−1,−1,−1,−1,−1)/9, cumulative
    // sums (2,4,6,5,4,3,2,1,0)/9 add to 3, divided by m − 1 = 8: 0.375 (the
    // paper's figure). {6k,8k,11k}: 1/6 (the paper's 0.167); {7k,9k,10k}: 17/72.
    let salary_emd: Vec<f64> = table
        .histograms(salary.index())
        .map(|h| ordered.distance(h))
        .collect();
    assert_eq!(salary_emd, vec![0.375, 1.0 / 6.0, 17.0 / 72.0]);
    // Hierarchical, class {gastric ulcer, gastritis, stomach cancer}: all of
    // the 4/9 surplus on stomach diseases must travel to respiratory
    // infections through the root (height 3 of 3): 4/9. Class {gastritis,
    // flu, bronchitis}: p − q = (1, −1, 2 | −2, −1, 1)/9; within stomach
    // diseases 1/9 moves at height 1 (cost 1/27), likewise within respiratory
    // infections (1/27), and 2/9 crosses the root (2/9): 8/27.
    let disease_emd: Vec<f64> = table
        .histograms(disease.index())
        .map(|h| hierarchical.distance(h))
        .collect();
    assert!(close(disease_emd[0], 4.0 / 9.0, 1e-15), "{disease_emd:?}");
    assert!(close(disease_emd[1], 8.0 / 27.0, 1e-15), "{disease_emd:?}");
    assert!(close(disease_emd[2], 8.0 / 27.0, 1e-15), "{disease_emd:?}");
    // Equal distance, class 1: ½(|1/9−1/3| + |2/9−1/3|·2 + 1/9 + 2/9 + 1/9) = 4/9.
    assert!(close(
        equal.distance(table.histogram(disease.index(), 0)),
        4.0 / 9.0,
        1e-15
    ));
}

#[test]
fn profile_of_the_papers_table() {
    let data = load();
    let p = PrivacyProfile::measure(
        &data.dataset,
        &data.hierarchies,
        &paper_node(),
        &ProfileOptions::default(),
    )
    .unwrap();
    assert_eq!((p.rows, p.classes, p.k, p.sample_uniques), (9, 3, 3, 0));
    let d = &p.sensitive["disease"];
    assert_eq!(d.l_distinct, 3);
    // exp(ln 3) rounds to 2.9999999999999996.
    assert!(close(d.l_entropy, 3.0, 1e-15));
    assert_eq!(d.recursive_c_l, 3);
    assert!(close(d.t_hierarchical.unwrap(), 4.0 / 9.0, 1e-15));
    assert_eq!(d.t_ordered, None);
    // Gastric ulcer: q = 1/3 against p = 1/9: ln 3, gain (1/3 − 1/9)/(1/9) = 2 ≤ −ln(1/9).
    assert!(close(d.delta_disclosure, 3f64.ln(), 1e-15));
    assert!(close(d.beta_basic, 2.0, 1e-15));
    assert!(close(d.beta_enhanced.unwrap(), 2.0, 1e-15));
    assert!(close(d.alpha, 1.0 / 3.0, 1e-15));
    let s = &p.sensitive["salary"];
    assert_eq!(s.t_ordered, Some(0.375));
    assert_eq!(s.t_hierarchical, None);
    assert_eq!(s.l_distinct, 3);
}

#[test]
fn the_second_table_of_the_paper() {
    // Node [1,2]: 4767*/4790*/4760* (ZIP masked one digit, age fully
    // generalized): classes {1,3,8}, {2,7,9}, {4,5,6}; Salary max 1/6, Disease
    // hierarchical max 8/27 (class {4,5,6}) by the same bottom-up computation.
    let data = load();
    let p = PrivacyProfile::measure(
        &data.dataset,
        &data.hierarchies,
        &Node::new(vec![1, 2]),
        &ProfileOptions::default(),
    )
    .unwrap();
    assert_eq!(p.classes, 3);
    assert!(close(
        p.sensitive["salary"].t_ordered.unwrap(),
        1.0 / 6.0,
        1e-15
    ));
    assert!(close(
        p.sensitive["disease"].t_hierarchical.unwrap(),
        8.0 / 27.0,
        1e-15
    ));
}
