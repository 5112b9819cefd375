//! Adult: measurements against values computed independently with
//! pandas and exact rationals (`tests/reference/adult_profile.py`, output in
//! `tests/data/adult_profile_reference.json`).

use deidentify::{Node, PrivacyProfile, frequency::FrequencyTable, measure::ProfileOptions};
use serde_json::Value;

use crate::{close, load, root};

fn reference() -> Value {
    let text =
        std::fs::read_to_string(root().join("tests/data/adult_profile_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn adult_loads_with_eight_quasi_identifiers() {
    let adult = load("datasets/adult/adult.toml");
    assert_eq!(adult.dataset.rows(), 30_162);
    let names: Vec<&str> = adult
        .dataset
        .quasi_identifiers()
        .iter()
        .map(|c| c.name())
        .collect();
    let mut without_occupation = crate::adult_columns();
    without_occupation.retain(|c| c != "occupation");
    assert_eq!(names, without_occupation);
    assert_eq!(names.len(), 8);
    let heights: Vec<usize> = adult
        .hierarchies
        .quasi_identifiers(&adult.dataset)
        .iter()
        .map(|h| h.height())
        .collect();
    assert_eq!(heights, [1, 4, 1, 2, 3, 2, 2, 1]);
    // ARX's lattice over these 8 QIs has 4,320 nodes, as in ARX.
    assert_eq!(heights.iter().map(|h| h + 1).product::<usize>(), 4_320);
    let occupation = adult.dataset.encoded("occupation").unwrap();
    assert_eq!(occupation.cardinality(), 14);
    // The age hierarchy lists 100 ages; 72 occur in the data.
    let age = adult.hierarchies.get("age").unwrap();
    assert_eq!(age.domain_size(), 100);
    assert_eq!(age.levels()[0].cardinality(), 72);
}

#[test]
fn adult_profiles_match_the_independent_reference() {
    let adult = load("datasets/adult/adult.toml");
    let reference = reference();
    let nodes = reference["nodes"].as_object().unwrap();
    assert!(nodes.len() >= 3);
    for (name, expected) in nodes {
        let levels: Vec<u32> = expected["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_u64().unwrap() as u32)
            .collect();
        let node = Node::new(levels);
        let profile = PrivacyProfile::measure(
            &adult.dataset,
            &adult.hierarchies,
            &node,
            &ProfileOptions::default(),
        )
        .unwrap();
        let at = format!("node {name} {node}");
        assert_eq!(profile.rows, expected["rows"].as_u64().unwrap(), "{at}");
        assert_eq!(
            profile.classes as u64,
            expected["classes"].as_u64().unwrap(),
            "{at}"
        );
        assert_eq!(profile.k, expected["k"].as_u64().unwrap(), "{at}");
        assert_eq!(
            profile.sample_uniques,
            expected["classes_of_size_1"].as_u64().unwrap(),
            "{at}"
        );
        let s = &profile.sensitive["occupation"];
        assert_eq!(
            s.l_distinct as u64,
            expected["l_distinct"].as_u64().unwrap(),
            "{at}"
        );
        assert!(
            close(s.l_entropy, expected["l_entropy"].as_f64().unwrap(), 1e-12),
            "{at}: {}",
            s.l_entropy
        );
        assert_eq!(
            s.recursive_c_l as u64,
            expected["recursive_c_l"].as_u64().unwrap(),
            "{at}"
        );
        // Both sides round the exact rational once: equal to the last bit.
        assert_eq!(s.t_equal, expected["t_equal"].as_f64().unwrap(), "{at}");
        assert_eq!(
            s.t_hierarchical,
            expected["t_hierarchical"].as_f64(),
            "{at}"
        );
        assert_eq!(s.t_ordered, None, "{at}: occupation is unordered");
        assert!(
            close(
                s.delta_disclosure,
                expected["delta_disclosure"].as_f64().unwrap(),
                1e-12
            ),
            "{at}"
        );
        assert!(
            close(
                s.beta_basic,
                expected["beta_basic"].as_f64().unwrap(),
                1e-12
            ),
            "{at}"
        );
        match (s.beta_enhanced, expected["beta_enhanced"].as_f64()) {
            (None, None) => {}
            (Some(a), Some(b)) => assert!(close(a, b, 1e-12), "{at}: {a} vs {b}"),
            other => panic!("{at}: enhanced β {other:?}"),
        }
        assert!(
            close(s.alpha, expected["alpha"].as_f64().unwrap(), 1e-12),
            "{at}"
        );

        let table =
            FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &node).unwrap();
        let histogram = expected["size_histogram"].as_object().unwrap();
        let sizes = table.size_distribution();
        assert_eq!(sizes.len(), histogram.len(), "{at}");
        for (size, classes) in sizes {
            assert_eq!(
                histogram[&size.to_string()].as_u64(),
                Some(classes),
                "{at}: classes of size {size}"
            );
        }
    }
}

#[test]
fn all_nine_quasi_identifiers_give_arxs_lattice() {
    let adult = load("datasets/adult/adult9.toml");
    let heights: Vec<usize> = adult
        .hierarchies
        .quasi_identifiers(&adult.dataset)
        .iter()
        .map(|h| h.height())
        .collect();
    assert_eq!(heights, [1, 4, 1, 2, 3, 2, 2, 2, 1]);
    assert_eq!(heights.iter().map(|h| h + 1).product::<usize>(), 12_960);
    assert!(adult.dataset.sensitive().is_empty());
    let top = Node::new(heights.iter().map(|&h| h as u32).collect());
    let table = FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &top).unwrap();
    assert_eq!(table.classes(), 1);
    assert_eq!(table.counts(), &[30_162]);
}
