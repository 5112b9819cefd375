//! Frequency tables on adult: partitions merge to the whole, roll-up equals
//! direct counting.

use deidentify::{
    Node,
    frequency::{CountingInput, FrequencyTable},
};

use crate::load;

#[test]
fn partitions_merge_to_the_whole_table() {
    let adult = load("datasets/adult/adult.toml");
    let input = CountingInput::new(&adult.dataset, &adult.hierarchies).unwrap();
    let node = Node::new(vec![0, 1, 0, 1, 1, 0, 1, 0]);
    let whole = FrequencyTable::count(&input, &node).unwrap();
    for cuts in [[0, 1, 30_162], [0, 10_000, 30_162], [0, 30_161, 30_162]] {
        let mut merged = FrequencyTable::count_rows(&input, &node, cuts[0]..cuts[1]).unwrap();
        let second = FrequencyTable::count_rows(&input, &node, cuts[1]..cuts[2]).unwrap();
        merged.merge(&second).unwrap();
        // Merged in row order: the same classes in the same order.
        assert_eq!(merged.counts(), whole.counts());
        assert_eq!(merged, whole);
    }
    // Merged out of order: the same table up to class order.
    let mut reversed = FrequencyTable::count_rows(&input, &node, 15_000..30_162).unwrap();
    reversed
        .merge(&FrequencyTable::count_rows(&input, &node, 0..15_000).unwrap())
        .unwrap();
    assert_eq!(reversed, whole);
}

#[test]
fn roll_up_equals_counting() {
    let adult = load("datasets/adult/adult.toml");
    let hierarchies = adult.hierarchies.quasi_identifiers(&adult.dataset);
    let bottom =
        FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &Node::bottom(8)).unwrap();
    for levels in [
        vec![1, 2, 0, 1, 2, 1, 1, 0],
        vec![1, 4, 1, 2, 3, 2, 2, 1],
        vec![0, 1, 0, 0, 0, 0, 0, 0],
    ] {
        let node = Node::new(levels);
        let direct =
            FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &node).unwrap();
        let rolled = bottom.roll_up(&hierarchies, &node).unwrap();
        assert_eq!(rolled, direct, "{node}");
    }
    let mid = FrequencyTable::from_dataset(
        &adult.dataset,
        &adult.hierarchies,
        &Node::new(vec![1, 1, 0, 1, 1, 1, 1, 0]),
    )
    .unwrap();
    assert!(mid.roll_up(&hierarchies, &Node::bottom(8)).is_err());
}

#[test]
fn different_nodes_do_not_merge() {
    let adult = load("datasets/adult/adult.toml");
    let mut a =
        FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &Node::bottom(8)).unwrap();
    let b = FrequencyTable::from_dataset(
        &adult.dataset,
        &adult.hierarchies,
        &Node::new(vec![1, 0, 0, 0, 0, 0, 0, 0]),
    )
    .unwrap();
    assert!(a.merge(&b).is_err());
}

/// A synthetic table of `columns` quasi-identifiers with values `0..domain`
/// (drawn by a fixed linear congruential sequence) and decimal hierarchies:
/// level l of value v is v / 10^l, the top is `*`.
fn synthetic(columns: usize, domain: u32, rows: usize) -> Synthetic {
    synthetic_with(columns, domain, rows, None)
}

/// A synthetic dataset, its hierarchies, its rows' values and the heights.
type Synthetic = (
    deidentify::Dataset,
    deidentify::Hierarchies,
    Vec<Vec<u32>>,
    Vec<u32>,
);

/// [`synthetic`], with a sensitive attribute of `sensitive` codes when given.
fn synthetic_with(columns: usize, domain: u32, rows: usize, sensitive: Option<u32>) -> Synthetic {
    use deidentify::{
        data::{AttributeRole, AttributeType, EncodedColumn},
        hierarchy::Hierarchy,
    };
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let values: Vec<Vec<u32>> = (0..rows)
        .map(|_| {
            (0..columns)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    // Skewed, so classes of many sizes appear.
                    let u = (state >> 33) as u32 % domain;
                    u * u / domain
                })
                .collect()
        })
        .collect();
    let mut height = 1;
    while 10u32.pow(height) < domain {
        height += 1;
    }
    let mut encoded = Vec::new();
    let mut hierarchies = Vec::new();
    for j in 0..columns {
        let name = format!("q{j}");
        let column: Vec<String> = values.iter().map(|r| r[j].to_string()).collect();
        encoded.push((
            EncodedColumn::from_values(&name, column.iter().map(String::as_str)),
            AttributeRole::QuasiIdentifier,
            AttributeType::Integer,
        ));
        let rows = (0..domain)
            .map(|v| {
                let mut row = vec![v.to_string()];
                row.extend((1..height).map(|l| format!("{}", v / 10u32.pow(l))));
                row.push("*".into());
                row
            })
            .collect();
        hierarchies.push(Hierarchy::from_rows(&name, rows).unwrap());
    }
    if let Some(codes) = sensitive {
        let column: Vec<String> = values
            .iter()
            .map(|r| ((r[0] * 7 + r[columns - 1]) % codes).to_string())
            .collect();
        encoded.push((
            EncodedColumn::from_values("s", column.iter().map(String::as_str)),
            AttributeRole::Sensitive,
            AttributeType::Integer,
        ));
    }
    let dataset = deidentify::Dataset::from_encoded(encoded).unwrap();
    let compiled = deidentify::Hierarchies::compile(&dataset, &hierarchies).unwrap();
    (dataset, compiled, values, vec![height; columns])
}

/// Checks `table` against the rows' generalized values computed directly:
/// rows with equal values share a class, rows with different values do
/// not, and every class's count is its number of rows.
fn assert_partition(
    table: &FrequencyTable,
    dataset: &deidentify::Dataset,
    hierarchies: &deidentify::Hierarchies,
    values: &[Vec<u32>],
    heights: &[u32],
) {
    let generalize = |v: u32, level: u32, height: u32| {
        if level == height {
            u32::MAX
        } else {
            v / 10u32.pow(level)
        }
    };
    let node = table.node().levels().to_vec();
    let classes = table.row_classes(dataset, hierarchies).unwrap();
    let mut class_of_key: std::collections::HashMap<Vec<u32>, usize> = Default::default();
    let mut key_of_class: std::collections::HashMap<usize, Vec<u32>> = Default::default();
    let mut sizes = vec![0u64; table.classes()];
    for (row, &class) in values.iter().zip(&classes) {
        let key: Vec<u32> = row
            .iter()
            .zip(node.iter().zip(heights))
            .map(|(&v, (&l, &h))| generalize(v, l, h))
            .collect();
        assert_eq!(*class_of_key.entry(key.clone()).or_insert(class), class);
        assert_eq!(*key_of_class.entry(class).or_insert(key.clone()), key);
        sizes[class] += 1;
    }
    assert_eq!(sizes, table.counts(), "{}", table.node());
    for c in 0..table.classes() {
        assert_eq!(table.class_of(table.key(c)), Some(c));
    }
}

#[test]
fn counting_and_roll_up_agree_with_the_rows_for_narrow_and_wide_keys() {
    use deidentify::hierarchy::CompiledHierarchy;
    // 3 × 10 bits fit in one packed u64; 9 × 10 bits do not.
    for (columns, rows) in [(3, 70_000), (9, 3_000)] {
        let (dataset, hierarchies, values, heights) = synthetic(columns, 1000, rows);
        let compiled: Vec<&CompiledHierarchy> = hierarchies.quasi_identifiers(&dataset);
        let bottom =
            FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(columns)).unwrap();
        assert_partition(&bottom, &dataset, &hierarchies, &values, &heights);
        // A chain of roll-ups changing one, two, then several levels at a time.
        let mut table = bottom;
        let mut levels = vec![0u32; columns];
        for step in [vec![0], vec![1, 2], (0..columns).collect::<Vec<_>>()] {
            for &j in &step {
                levels[j % columns] = (levels[j % columns] + 1).min(heights[j % columns]);
            }
            let node = Node::new(levels.clone());
            table = table.roll_up(&compiled, &node).unwrap();
            assert_partition(&table, &dataset, &hierarchies, &values, &heights);
            let direct = FrequencyTable::from_dataset(&dataset, &hierarchies, &node).unwrap();
            assert_eq!(direct, table, "{node}");
            // Keeping a subset keeps those classes' keys.
            let keep: Vec<bool> = (0..table.classes()).map(|c| c % 3 != 1).collect();
            let kept = table.retain(&keep).unwrap();
            let expected: Vec<&[u32]> = (0..table.classes())
                .filter(|&c| keep[c])
                .map(|c| table.key(c))
                .collect();
            let got: Vec<&[u32]> = (0..kept.classes()).map(|c| kept.key(c)).collect();
            assert_eq!(got, expected);
        }
    }
}

#[test]
fn rolled_up_histograms_equal_counted_ones_for_small_and_large_sensitive_domains() {
    // A large domain (300 codes, summed by a sparse merge) and a small one
    // (12 codes, summed in a dense matrix).
    for domain in [300u32, 12] {
        let (dataset, hierarchies, _, heights) = synthetic_with(3, 1000, 5_000, Some(domain));
        let compiled = hierarchies.quasi_identifiers(&dataset);
        let bottom =
            FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(3)).unwrap();
        for levels in [vec![1, 0, 0], vec![2, 1, 0], vec![heights[0], 2, 1]] {
            let node = Node::new(levels);
            let direct = FrequencyTable::from_dataset(&dataset, &hierarchies, &node).unwrap();
            let rolled = bottom.roll_up(&compiled, &node).unwrap();
            assert_eq!(rolled, direct, "{node}, domain {domain}");
        }
    }
}

/// 64 one-bit quasi-identifiers fill a packed key exactly; a constant one
/// after them (a field of width 0) must not shift past the 64 bits.
#[test]
fn a_constant_attribute_after_a_full_64_bit_key_counts() {
    let columns = 64;
    let mut header: Vec<String> = (0..columns).map(|j| format!("b{j}")).collect();
    header.push("constant".into());
    let mut csv = header.join(",") + "\n";
    for row in 0..6u64 {
        let bits: Vec<String> = (0..columns)
            .map(|j| (((row * 0x9E37_79B9) >> (j % 32)) & 1).to_string())
            .collect();
        csv += &(bits.join(",") + ",x\n");
    }
    let mut toml = String::from("[data]\npath = \"data.csv\"\n");
    for name in &header {
        toml += &format!(
            "\n[[attribute]]\nname = \"{name}\"\nrole = \"quasi-identifier\"\nhierarchy = {{ type = \"redaction\" }}\n"
        );
    }
    let dir = crate::scratch("full-key", &[("data.csv", &csv), ("rules.toml", &toml)]);
    let data = deidentify::Ruleset::from_file(&dir.join("rules.toml"))
        .unwrap()
        .load()
        .unwrap();
    let qis = data.dataset.quasi_identifiers().len();
    assert_eq!(qis, 65);
    for node in [Node::bottom(qis), Node::new(vec![1; qis])] {
        let table = FrequencyTable::from_dataset(&data.dataset, &data.hierarchies, &node).unwrap();
        assert_eq!(table.counts().iter().sum::<u64>(), 6, "{node}");
    }
    let rolled = FrequencyTable::from_dataset(&data.dataset, &data.hierarchies, &Node::bottom(qis))
        .unwrap()
        .roll_up(
            &data.hierarchies.quasi_identifiers(&data.dataset),
            &Node::new((0..qis).map(|j| (j % 2) as u32).collect()),
        )
        .unwrap();
    assert_eq!(rolled.counts().iter().sum::<u64>(), 6);
}
