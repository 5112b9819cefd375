//! Property tests on random small tables: classes partition the rows,
//! counting commutes with merging and roll-up, generalization never lowers
//! k, every model that claims monotonicity under generalization keeps it;
//! the optimal search returns the exhaustive scan's optimum, and its output
//! is valid (released classes meet the models, suppression within the limit,
//! every output value an ancestor of its input).

use std::collections::BTreeMap;

use deidentify::{
    AnonymizationConfig, AttributeRole, AttributeType, CountingInput, Dataset, EncodedColumn,
    FrequencyTable, GroundDistance, Hierarchies, Hierarchy, MetricKind, MetricSpec, ModelSpec,
    Node, Release, Strategy as SearchStrategy, apply, evaluate_node, search,
};
use proptest::prelude::*;

/// A random table: quasi-identifier values in `0..domain[j]` with a
/// hierarchy that groups by powers of `branching[j]`, and one sensitive
/// integer attribute with a hierarchy of the same kind.
#[derive(Clone, Debug)]
struct Table {
    domains: Vec<u32>,
    branching: Vec<u32>,
    rows: Vec<(Vec<u32>, u32)>,
    sensitive_domain: u32,
}

fn table() -> impl Strategy<Value = Table> {
    (1usize..=4, 1u32..=6)
        .prop_flat_map(|(width, sensitive_domain)| {
            (
                prop::collection::vec(1u32..=7, width),
                prop::collection::vec(2u32..=3, width),
                Just(sensitive_domain),
            )
        })
        .prop_flat_map(|(domains, branching, sensitive_domain)| {
            let row = (
                domains.iter().map(|&d| 0..d).collect::<Vec<_>>(),
                0..sensitive_domain,
            );
            (
                Just(domains),
                Just(branching),
                prop::collection::vec(row, 1..120),
                Just(sensitive_domain),
            )
        })
        .prop_map(|(domains, branching, rows, sensitive_domain)| Table {
            domains,
            branching,
            rows,
            sensitive_domain,
        })
}

/// Height-`h` hierarchy over `0..domain` grouping by powers of `b`, then `*`.
fn hierarchy(name: &str, domain: u32, b: u32) -> Hierarchy {
    let mut height = 0;
    while b.pow(height) < domain {
        height += 1;
    }
    let rows = (0..domain)
        .map(|v| {
            let mut row = vec![v.to_string()];
            for level in 1..=height {
                row.push(format!("L{level}:{}", v / b.pow(level)));
            }
            row.push("*".into());
            row
        })
        .collect();
    Hierarchy::from_rows(name, rows).unwrap()
}

fn build(t: &Table) -> (Dataset, Hierarchies) {
    let mut columns = Vec::new();
    let mut hierarchies = Vec::new();
    for (j, (&d, &b)) in t.domains.iter().zip(&t.branching).enumerate() {
        let name = format!("q{j}");
        let values: Vec<String> = t.rows.iter().map(|r| r.0[j].to_string()).collect();
        columns.push((
            EncodedColumn::from_values(&name, values.iter().map(String::as_str)),
            AttributeRole::QuasiIdentifier,
            AttributeType::Integer,
        ));
        hierarchies.push(hierarchy(&name, d, b));
    }
    let values: Vec<String> = t.rows.iter().map(|r| r.1.to_string()).collect();
    columns.push((
        EncodedColumn::from_values("s", values.iter().map(String::as_str)),
        AttributeRole::Sensitive,
        AttributeType::Integer,
    ));
    hierarchies.push(hierarchy("s", t.sensitive_domain, 2));
    let dataset = Dataset::from_encoded(columns).unwrap();
    let compiled = Hierarchies::compile(&dataset, &hierarchies).unwrap();
    (dataset, compiled)
}

fn heights(dataset: &Dataset, hierarchies: &Hierarchies) -> Vec<u32> {
    hierarchies
        .quasi_identifiers(dataset)
        .iter()
        .map(|h| h.height() as u32)
        .collect()
}

/// Two nodes a ≤ b inside the lattice, chosen from seeds.
fn nodes(heights: &[u32], seeds: &[(u32, u32)]) -> (Node, Node) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (j, &h) in heights.iter().enumerate() {
        let (x, y) = seeds[j % seeds.len()];
        let lo = x % (h + 1);
        let hi = lo + y % (h + 1 - lo);
        a.push(lo);
        b.push(hi);
    }
    (Node::new(a), Node::new(b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn classes_partition_the_rows(t in table(), seeds in prop::collection::vec((0u32..9, 0u32..9), 3)) {
        let (dataset, hierarchies) = build(&t);
        let (node, _) = nodes(&heights(&dataset, &hierarchies), &seeds);
        let table = FrequencyTable::from_dataset(&dataset, &hierarchies, &node).unwrap();
        prop_assert_eq!(table.rows(), t.rows.len() as u64);
        // Every row lands in the one class whose key is its generalized tuple.
        let qis = hierarchies.quasi_identifiers(&dataset);
        let columns = dataset.quasi_identifiers();
        let mut seen = vec![0u64; table.classes()];
        for row in 0..dataset.rows() {
            let key: Vec<u32> = columns
                .iter()
                .zip(&qis)
                .zip(node.levels())
                .map(|((c, h), &l)| h.levels()[l as usize].map()[c.codes()[row] as usize])
                .collect();
            let matches: Vec<usize> = (0..table.classes()).filter(|&c| table.key(c) == key.as_slice()).collect();
            prop_assert_eq!(matches.len(), 1);
            seen[matches[0]] += 1;
        }
        prop_assert_eq!(seen.as_slice(), table.counts());
        for (class, h) in table.histograms(0).enumerate() {
            prop_assert_eq!(h.total(), table.counts()[class]);
        }
    }

    #[test]
    fn union_equals_merge_of_parts(t in table(), cut in 0usize..80, seeds in prop::collection::vec((0u32..9, 0u32..9), 3)) {
        let (dataset, hierarchies) = build(&t);
        let (node, _) = nodes(&heights(&dataset, &hierarchies), &seeds);
        let input = CountingInput::new(&dataset, &hierarchies).unwrap();
        let cut = cut.min(dataset.rows());
        let whole = FrequencyTable::count(&input, &node).unwrap();
        let mut merged = FrequencyTable::count_rows(&input, &node, 0..cut).unwrap();
        merged.merge(&FrequencyTable::count_rows(&input, &node, cut..dataset.rows()).unwrap()).unwrap();
        prop_assert_eq!(merged.counts(), whole.counts());
        prop_assert_eq!(merged.canonical(), whole.canonical());
    }

    #[test]
    fn roll_up_equals_counting_and_k_never_decreases(t in table(), seeds in prop::collection::vec((0u32..9, 0u32..9), 3)) {
        let (dataset, hierarchies) = build(&t);
        let (a, b) = nodes(&heights(&dataset, &hierarchies), &seeds);
        let at_a = FrequencyTable::from_dataset(&dataset, &hierarchies, &a).unwrap();
        let at_b = FrequencyTable::from_dataset(&dataset, &hierarchies, &b).unwrap();
        let rolled = at_a.roll_up(&hierarchies.quasi_identifiers(&dataset), &b).unwrap();
        prop_assert_eq!(rolled.canonical(), at_b.canonical());
        let k = |t: &FrequencyTable| t.counts().iter().copied().min().unwrap();
        prop_assert!(k(&at_b) >= k(&at_a));
        prop_assert!(at_b.classes() <= at_a.classes());
    }

    #[test]
    fn models_monotone_under_generalization_stay_satisfied(t in table(), seeds in prop::collection::vec((0u32..9, 0u32..9), 3)) {
        let (dataset, hierarchies) = build(&t);
        let (a, b) = nodes(&heights(&dataset, &hierarchies), &seeds);
        let at_a = FrequencyTable::from_dataset(&dataset, &hierarchies, &a).unwrap();
        let at_b = FrequencyTable::from_dataset(&dataset, &hierarchies, &b).unwrap();
        for spec in model_pool() {
            let model = match spec.build(&dataset, &hierarchies, &BTreeMap::new()) {
                Ok(m) => m,
                Err(_) => continue, // e.g. k larger than the table
            };
            if !model.monotonicity().generalization {
                continue;
            }
            if at_a.iter().all(|c| model.is_satisfied_by(&c)) {
                prop_assert!(at_b.iter().all(|c| model.is_satisfied_by(&c)), "{} holds at {} but not at {}", model.name(), a, b);
            }
            // A model of the whole release that holds at `a` holds at `b`.
            if model.judges_release() {
                let (sa, sb) = (sorted_sizes(&at_a), sorted_sizes(&at_b));
                let (pa, pb) = (Release::running_sums(&sa), Release::running_sums(&sb));
                if model.is_satisfied_by_release(&Release::new(&sa, &pa)) {
                    prop_assert!(model.is_satisfied_by_release(&Release::new(&sb, &pb)), "{} holds at {} but not at {}", model.name(), a, b);
                }
            }
            // No class smaller than the minimal size can satisfy the model.
            for c in at_a.iter().filter(|c| c.size() < model.minimal_class_size()) {
                prop_assert!(!model.is_satisfied_by(&c), "{}", model.name());
            }
        }
    }
}

/// The class sizes of `table`, smallest first.
fn sorted_sizes(table: &FrequencyTable) -> Vec<u64> {
    let mut sizes = table.counts().to_vec();
    sizes.sort_unstable();
    sizes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A node judged by a model of the whole release suppresses exactly
    /// the fewest smallest classes (ties by first appearance) that make the
    /// release pass, found here by a linear scan instead of bisection.
    #[test]
    fn release_suppression_is_the_fewest_smallest_classes(
        t in table(),
        pick in 0usize..1000,
        limit in prop::sample::select(vec![0.0, 0.1, 0.25, 0.5, 1.0]),
        seeds in prop::collection::vec((0u32..9, 0u32..9), 3),
    ) {
        let (dataset, hierarchies) = build(&t);
        let (node, _) = nodes(&heights(&dataset, &hierarchies), &seeds);
        // The models of the whole release whose answer never turns to
        // false as more of the smallest classes go (the bisection's fewest
        // is then exact): all but population uniqueness.
        let pool: Vec<(ModelSpec, Box<dyn deidentify::PrivacyModel>)> = model_pool()
            .into_iter()
            .filter_map(|spec| {
                let model = spec.build(&dataset, &hierarchies, &BTreeMap::new()).ok()?;
                (model.judges_release() && !matches!(spec, ModelSpec::PopulationUniqueness { .. }))
                    .then_some((spec, model))
            })
            .collect();
        prop_assert_eq!(pool.len(), 3);
        let (spec, model) = &pool[pick % pool.len()];
        let spec = spec.clone();
        let config = AnonymizationConfig {
            models: vec![spec],
            suppression_limit: limit,
            metric: MetricSpec::new(MetricKind::Loss),
            strategy: SearchStrategy::Optimal,
        };
        let evaluation = evaluate_node(&dataset, &hierarchies, &config, &BTreeMap::new(), &node).unwrap();
        let table = FrequencyTable::from_dataset(&dataset, &hierarchies, &node).unwrap();
        let sizes = sorted_sizes(&table);
        let prefix = Release::running_sums(&sizes);
        let budget = (limit * dataset.rows() as f64).floor() as u64;
        let fewest = (0..=sizes.len())
            .take_while(|&p| prefix[p] <= budget)
            .find(|&p| model.is_satisfied_by_release(&Release::new(&sizes, &prefix).without_smallest(p)));
        match fewest {
            Some(p) => {
                prop_assert!(evaluation.feasible);
                prop_assert_eq!(evaluation.suppressed, prefix[p]);
                prop_assert_eq!(evaluation.suppressed_classes, p);
                prop_assert_eq!(evaluation.classes, sizes.len() - p);
            }
            None => prop_assert!(!evaluation.feasible),
        }
        // The output suppresses the first-appearing of equally small classes.
        if let Some(p) = fewest.filter(|&p| p > 0) {
            let out = apply(&dataset, &hierarchies, &config, &BTreeMap::new(), &node).unwrap();
            let flags = out.suppressed_classes(&table, &dataset, &hierarchies).unwrap();
            let cut = sizes[p - 1];
            let mut expected = vec![false; table.classes()];
            let mut left = p;
            for size in 1..=cut {
                for (c, &count) in table.counts().iter().enumerate() {
                    if count == size && left > 0 {
                        expected[c] = true;
                        left -= 1;
                    }
                }
            }
            prop_assert_eq!(flags, expected);
        }
    }
}

/// Models of every kind with parameters that bite on small random tables.
fn model_pool() -> Vec<ModelSpec> {
    let s = || "s".to_string();
    vec![
        ModelSpec::KAnonymity { k: 2 },
        ModelSpec::KAnonymity { k: 4 },
        ModelSpec::EntropyLDiversity {
            attribute: s(),
            l: 2.0,
        },
        ModelSpec::RecursiveClDiversity {
            attribute: s(),
            c: 1.0,
            l: 1,
        },
        ModelSpec::EnhancedBetaLikeness {
            attribute: s(),
            beta: 1.0,
        },
        ModelSpec::DistinctLDiversity {
            attribute: s(),
            l: 2.0,
        },
        ModelSpec::EntropyLDiversity {
            attribute: s(),
            l: 1.5,
        },
        ModelSpec::RecursiveClDiversity {
            attribute: s(),
            c: 3.0,
            l: 2,
        },
        ModelSpec::TCloseness {
            attribute: s(),
            t: 0.35,
            distance: GroundDistance::Equal,
        },
        ModelSpec::TCloseness {
            attribute: s(),
            t: 0.3,
            distance: GroundDistance::Ordered,
        },
        ModelSpec::TCloseness {
            attribute: s(),
            t: 0.3,
            distance: GroundDistance::Hierarchical,
        },
        ModelSpec::BasicBetaLikeness {
            attribute: s(),
            beta: 1.5,
        },
        ModelSpec::DeltaDisclosure {
            attribute: s(),
            delta: 1.2,
            absent: deidentify::AbsentValuePolicy::Ignore,
        },
        ModelSpec::AlphaKAnonymity {
            attribute: s(),
            alpha: 0.7,
            k: 2,
            value: None,
        },
        ModelSpec::AverageRisk {
            threshold: 0.3,
            highest_risk: None,
            records_at_risk: None,
        },
        ModelSpec::AverageRisk {
            threshold: 0.6,
            highest_risk: Some(0.5),
            records_at_risk: Some(0.2),
        },
        ModelSpec::SampleUniqueness { threshold: 0.1 },
        ModelSpec::KMap {
            k: 6,
            population: 150,
            significance: 0.1,
            estimator: deidentify::CellSizeEstimator::ZeroTruncatedPoisson,
        },
        ModelSpec::PopulationUniqueness {
            threshold: 0.05,
            population: None,
            sampling_fraction: Some(0.5),
            estimator: deidentify::UniquenessEstimator::Zayatz,
        },
        ModelSpec::PopulationUniqueness {
            threshold: 0.02,
            population: Some(400),
            sampling_fraction: None,
            estimator: deidentify::UniquenessEstimator::Dankar,
        },
    ]
}

fn search_config(
    picks: &[usize],
    limit: f64,
    metric: usize,
    strategy: SearchStrategy,
) -> AnonymizationConfig {
    let pool = model_pool();
    let mut models: Vec<ModelSpec> = picks
        .iter()
        .map(|&p| pool[p % pool.len()].clone())
        .collect();
    models.dedup();
    AnonymizationConfig {
        models,
        suppression_limit: limit,
        metric: MetricSpec::new(MetricKind::ALL[metric % MetricKind::ALL.len()]),
        strategy,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn optimal_equals_exhaustive_and_output_is_valid(
        t in table(),
        picks in prop::collection::vec(0usize..20, 1..3),
        limit in prop::sample::select(vec![0.0, 0.05, 0.1, 0.3]),
        metric in 0usize..8,
    ) {
        let (dataset, hierarchies) = build(&t);
        let orders = BTreeMap::new();
        let optimal = search_config(&picks, limit, metric, SearchStrategy::Optimal);
        let Ok(found) = search(&dataset, &hierarchies, &optimal, &orders) else {
            // k larger than the table: rejected up front.
            return Ok(());
        };
        let exhaustive = search_config(&picks, limit, metric, SearchStrategy::Exhaustive);
        let reference = search(&dataset, &hierarchies, &exhaustive, &orders).unwrap();
        prop_assert_eq!(
            found.optimum.as_ref().map(|o| (o.node.clone(), o.score.clone())),
            reference.optimum.as_ref().map(|o| (o.node.clone(), o.score.clone())),
            "models {:?} limit {} metric {}", optimal.models, limit, optimal.metric.kind
        );
        prop_assert!(found.nodes_checked <= reference.nodes_checked);

        let heuristic = search_config(&picks, limit, metric, SearchStrategy::Heuristic { max_nodes: 5 });
        let h = search(&dataset, &hierarchies, &heuristic, &orders).unwrap();
        prop_assert!(h.nodes_checked <= 5);
        if let (Some(h), Some(o)) = (&h.optimum, &found.optimum) {
            prop_assert!(h.feasible && h.score.as_ref().unwrap().score >= o.score.as_ref().unwrap().score);
        }

        let Some(optimum) = found.optimum else { return Ok(()) };
        let out = apply(&dataset, &hierarchies, &optimal, &orders, &optimum.node).unwrap();
        let n = dataset.rows();
        let suppressed = out.suppressed_rows.iter().filter(|&&s| s).count() as u64;
        prop_assert_eq!(suppressed, optimum.suppressed);
        prop_assert!(suppressed <= (limit * n as f64).floor() as u64);
        // Every output value is its input's label at the node, or `*`.
        let qis = dataset.quasi_identifiers();
        let compiled = hierarchies.quasi_identifiers(&dataset);
        let mut groups: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
        for row in 0..n {
            let mut key = Vec::new();
            for (j, column) in qis.iter().enumerate() {
                let released = out.frame.column(column.name()).unwrap().str().unwrap().get(row).unwrap().to_string();
                let level = &compiled[j].levels()[optimum.node.levels()[j] as usize];
                let label = &level.labels()[level.map()[column.codes()[row] as usize] as usize];
                if out.suppressed_rows[row] {
                    prop_assert_eq!(released.as_str(), "*");
                } else {
                    prop_assert_eq!(&released, label);
                }
                key.push(released);
            }
            let sensitive = out.frame.column("s").unwrap().str().unwrap().get(row).unwrap().to_string();
            prop_assert_eq!(sensitive.as_str(), dataset.encoded("s").unwrap().value(row));
            if !out.suppressed_rows[row] {
                groups.entry(key).or_default().push(sensitive);
            }
        }
        // Released classes, recounted from the output, meet k-anonymity,
        // distinct l-diversity, average risk and sample uniqueness when
        // configured.
        let released: u64 = groups.values().map(|v| v.len() as u64).sum();
        let fraction = |records: u64| if released == 0 { 0.0 } else { records as f64 / released as f64 };
        for model in &optimal.models {
            match model {
                ModelSpec::AverageRisk { threshold, highest_risk, records_at_risk } => {
                    prop_assert!(fraction(groups.len() as u64) <= *threshold);
                    if let (Some(h), Some(r)) = (highest_risk, records_at_risk) {
                        let at_risk = groups.values().map(|v| v.len() as u64).filter(|&f| 1.0 / f as f64 > *h).sum();
                        prop_assert!(fraction(at_risk) <= *r);
                    }
                }
                ModelSpec::SampleUniqueness { threshold } => {
                    let uniques = groups.values().filter(|v| v.len() == 1).count() as u64;
                    prop_assert!(fraction(uniques) <= *threshold);
                }
                ModelSpec::PopulationUniqueness { threshold, population, sampling_fraction, estimator } => {
                    let big_n = population.map_or_else(|| n as f64 / sampling_fraction.unwrap(), |p| p as f64);
                    let mut histogram: BTreeMap<u64, u64> = BTreeMap::new();
                    for v in groups.values() {
                        *histogram.entry(v.len() as u64).or_default() += 1;
                    }
                    let histogram: Vec<(u64, u64)> = histogram.into_iter().collect();
                    let uniques = match estimator {
                        deidentify::UniquenessEstimator::Zayatz => deidentify::zayatz(&histogram, released, big_n),
                        _ => deidentify::dankar(&histogram, released, big_n).0,
                    };
                    let has_uniques = histogram.first().is_some_and(|e| e.0 == 1);
                    prop_assert!(
                        (uniques > 0.0 && uniques / big_n <= *threshold) || (uniques == 0.0 && !has_uniques),
                        "{} uniques of {} with sample uniques {}", uniques, big_n, has_uniques
                    );
                }
                _ => {}
            }

            for values in groups.values() {
                match model {
                    ModelSpec::KAnonymity { k } => prop_assert!(values.len() as u64 >= *k),
                    ModelSpec::DistinctLDiversity { l, .. } => {
                        let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
                        prop_assert!(distinct.len() as f64 >= l.ceil());
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn search_is_deterministic(t in table(), picks in prop::collection::vec(0usize..20, 1..3), metric in 0usize..8) {
        let (dataset, hierarchies) = build(&t);
        let config = search_config(&picks, 0.1, metric, SearchStrategy::Optimal);
        let Ok(first) = search(&dataset, &hierarchies, &config, &BTreeMap::new()) else { return Ok(()) };
        let second = search(&dataset, &hierarchies, &config, &BTreeMap::new()).unwrap();
        prop_assert_eq!(first.optimum, second.optimum);
        prop_assert_eq!(first.nodes_checked, second.nodes_checked);
    }
}

/// MSUs by brute force: for each record and each variable subset, scan all
/// records; minimal = unique with no unique proper subset (all of them checked).
fn brute_force_msus(columns: &[Vec<u32>], max_size: usize) -> Vec<Vec<usize>> {
    let (m, n) = (columns.len(), columns[0].len());
    let unique = |mask: u32, r: usize| {
        (0..n)
            .filter(|&o| {
                (0..m)
                    .filter(|&v| mask & (1 << v) != 0)
                    .all(|v| columns[v][o] == columns[v][r])
            })
            .count()
            == 1
    };
    (0..n)
        .map(|r| {
            let mut sizes = Vec::new();
            for mask in 1u32..(1 << m) {
                let k = mask.count_ones() as usize;
                if k > max_size || !unique(mask, r) {
                    continue;
                }
                // Every proper non-empty subset of `mask`.
                let mut sub = (mask - 1) & mask;
                let mut minimal = true;
                while sub != 0 {
                    if unique(sub, r) {
                        minimal = false;
                        break;
                    }
                    sub = (sub - 1) & mask;
                }
                if minimal {
                    sizes.push(k);
                }
            }
            sizes.sort_unstable();
            sizes
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn suda_msus_equal_brute_force(
        columns in (1usize..=5, 1usize..40).prop_flat_map(|(m, n)| {
            prop::collection::vec(prop::collection::vec(0u32..3, n), m)
        }),
        max_size in 1usize..=5,
    ) {
        let views: Vec<&[u32]> = columns.iter().map(Vec::as_slice).collect();
        let mut found = deidentify::minimal_sample_uniques(&views, max_size).unwrap();
        for sizes in &mut found {
            sizes.sort_unstable();
        }
        prop_assert_eq!(found, brute_force_msus(&columns, max_size));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Safe Harbor building blocks: no 5-digit ZIP, no restricted prefix, no
    /// date finer than a year, no age over 89 in their output.
    #[test]
    fn safe_harbor_outputs(zip in 0u32..100_000, plus4 in prop::option::of(0u32..10_000),
                           year in 1900i32..2100, month in 1u32..=12, day in 1u32..=28, age in 0u32..130) {
        let list = deidentify::RestrictedZipPrefixes::hhs_2000();
        let text = match plus4 {
            Some(p) => format!("{zip:05}-{p:04}"),
            None => format!("{zip:05}"),
        };
        let out = list.generalize(&text).unwrap();
        prop_assert_eq!(out.len(), 3);
        prop_assert!(out == "000" || !list.prefixes().contains(&out));
        prop_assert!(out == "000" || text.starts_with(&out));
        let date = format!("{year:04}-{month:02}-{day:02}");
        prop_assert_eq!(deidentify::date_to_year(&date).unwrap(), format!("{year:04}"));
        let coded = deidentify::top_code_age(&age.to_string()).unwrap();
        prop_assert!(coded == "90+" || coded.parse::<u32>().unwrap() <= 89);
        prop_assert_eq!(coded == "90+", age > 89);
    }
}
