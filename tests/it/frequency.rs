//! Frequency tables on adult: partitions merge to the whole, roll-up equals
//! direct counting.

use deidentify::{CountingInput, FrequencyTable, Node};

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
        assert_eq!(merged.canonical(), whole.canonical());
    }
    // Merged out of order: the same table up to class order.
    let mut reversed = FrequencyTable::count_rows(&input, &node, 15_000..30_162).unwrap();
    reversed
        .merge(&FrequencyTable::count_rows(&input, &node, 0..15_000).unwrap())
        .unwrap();
    assert_eq!(reversed.canonical(), whole.canonical());
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
        assert_eq!(rolled.canonical(), direct.canonical(), "{node}");
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
