//! A lower bound on the optimum of a lattice too large to complete, from
//! searches of its projections
//! ([§6.5](crate::methods#65-best-effort-search), step 7).
//!
//! Split the quasi-identifiers into groups. A node that satisfies the
//! models within the suppression limit on the whole table does so on the
//! table of each group's attributes alone (the projection): its classes
//! there are unions of its classes on the whole, so when class sizes alone
//! decide the models, a projected class fails only if all its records were
//! suppressed on the whole, and the projection suppresses no more records.
//! Where the metric's value for an attribute depends only on that
//! attribute's level and the records suppressed, and never falls when more
//! are suppressed ([`UtilityModel::projects`]), the node's values on a
//! group's attributes are at least those of its projection, and so at
//! least the projection's optimum. The groups' optima (or lower bounds of
//! them, for searches stopped by the clock) then bound the optimum of the
//! whole ([`UtilityModel::combine_projections`]).

use std::time::Instant;

use crate::metric::UtilityModel;
use crate::model::{KAnonymity, PrivacyModel};
use crate::search::config::AnonymizationConfig;
use crate::search::crew::with_crew;
use crate::search::evaluator::Evaluator;
use crate::search::lattice::Lattice;
use crate::search::strategies::{Stopped, optimal};

/// The most nodes of a projection's lattice: consecutive quasi-identifiers
/// are grouped while their lattice stays within it.
pub(crate) const GROUP_NODES: u64 = 1 << 16;

/// The relative margin taken off the combined bound, for the rounding of
/// adding the groups' values in another order than the whole's score.
const ROUNDING_MARGIN: f64 = 1e-12;

/// The quasi-identifiers (indices) in consecutive groups, each as long as
/// its lattice (the product of its heights plus one) stays within
/// `max_nodes`; an attribute whose own lattice exceeds it is a group alone.
pub(crate) fn groups(heights: &[u32], max_nodes: u64) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut nodes = u64::MAX;
    for (j, &h) in heights.iter().enumerate() {
        let levels = u64::from(h) + 1;
        match nodes.checked_mul(levels).filter(|&n| n <= max_nodes) {
            Some(n) if !groups.is_empty() => {
                nodes = n;
                groups.last_mut().expect("a group").push(j);
            }
            _ => {
                nodes = levels;
                groups.push(vec![j]);
            }
        }
    }
    groups
}

/// The projections of a search, when they bound its optimum: every model
/// decided by class sizes alone (k-anonymity, k-map), none judging the
/// release as a whole, and a metric that projects.
pub(crate) struct Projections<'s, 'a> {
    evaluator: &'s Evaluator<'a>,
    config: &'s AnonymizationConfig,
    groups: Vec<Vec<usize>>,
}

impl<'s, 'a> Projections<'s, 'a> {
    /// The projections of `evaluator`'s search onto groups of at most
    /// `max_nodes` nodes (see [`groups`]); `None` when they would not bound
    /// its optimum, or when there would be a single group.
    pub(crate) fn new(
        evaluator: &'s Evaluator<'a>,
        config: &'s AnonymizationConfig,
        max_nodes: u64,
    ) -> Option<Projections<'s, 'a>> {
        let heights: Vec<u32> = evaluator
            .hierarchies
            .iter()
            .map(|h| h.height() as u32)
            .collect();
        let groups = groups(&heights, max_nodes);
        (evaluator.classes_decide_alone() && evaluator.utility.projects() && groups.len() > 1)
            .then_some(Projections {
                evaluator,
                config,
                groups,
            })
    }

    /// The groups of quasi-identifiers.
    #[cfg(test)]
    pub(crate) fn groups(&self) -> &[Vec<usize>] {
        &self.groups
    }

    /// The evaluator of the projection onto `columns`.
    fn evaluator(&self, columns: &[usize]) -> Evaluator<'a> {
        let whole = self.evaluator;
        let bottom = whole
            .bottom
            .projected(columns)
            .expect("the groups partition the quasi-identifiers");
        let hierarchies = columns.iter().map(|&j| whole.hierarchies[j]).collect();
        let model: Box<dyn PrivacyModel> = Box::new(
            KAnonymity::new(whole.min_class_size).expect("a minimal class size is at least 1"),
        );
        let utility: UtilityModel = whole.utility.projected(columns);
        Evaluator::from_parts(bottom, hierarchies, vec![model], utility, self.config)
    }

    /// Each group's projection searched for its optimum (the optimal
    /// search, on both threads), one after another until `deadline`: a
    /// lower bound of each projection's optimum, its optimum's score when
    /// the search finished, else 0 (every value of a metric that projects
    /// is at least 0). `None` for a group means its projection has no
    /// feasible node at all: then neither has the whole.
    pub(crate) fn optima(&self, deadline: Option<Instant>) -> Vec<Option<f64>> {
        self.groups
            .iter()
            .map(|columns| {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Some(0.0);
                }
                let evaluator = self.evaluator(columns);
                let heights = columns
                    .iter()
                    .map(|&j| self.evaluator.hierarchies[j].height() as u32)
                    .collect();
                let lattice = Lattice::new(heights).expect("a group's lattice is small");
                let found = with_crew(rayon::current_num_threads(), |crew| {
                    optimal(&evaluator, &lattice, crew, deadline)
                });
                match found {
                    Err(Stopped) => Some(0.0),
                    Ok(outcome) => Some(outcome.best.and_then(|b| b.score)?.score),
                }
            })
            .collect()
    }

    /// A lower bound of the optimum's score from the groups' optima (see
    /// [`Projections::optima`]); `None` when a group has no feasible node.
    pub(crate) fn bound(&self, optima: &[Option<f64>]) -> Option<f64> {
        let parts = self
            .groups
            .iter()
            .zip(optima)
            .map(|(g, o)| o.map(|o| (g.len(), o)))
            .collect::<Option<Vec<_>>>()?;
        let bound = self.evaluator.utility.combine_projections(&parts);
        Some(bound - ROUNDING_MARGIN * bound.abs().max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::frequency::node::Node;
    use crate::metric::{Aggregate, MetricKind, MetricSpec};
    use crate::model::ModelSpec;
    use crate::ruleset::bundled_adult as adult;
    use crate::search::search;

    #[test]
    fn groups_are_consecutive_and_within_the_limit() {
        assert_eq!(groups(&[3, 3, 3], 16), vec![vec![0, 1], vec![2]]);
        assert_eq!(groups(&[3, 3, 3], 15), vec![vec![0], vec![1], vec![2]]);
        assert_eq!(groups(&[3, 1, 1, 3], 16), vec![vec![0, 1, 2], vec![3]]);
        assert_eq!(groups(&[20, 1], 4), vec![vec![0], vec![1]]);
        assert_eq!(groups(&[], 4), Vec::<Vec<usize>>::new());
    }

    /// A projection's evaluation of a node equals the whole's at the node
    /// with every other attribute at its top (whose one value merges the
    /// classes as leaving the attribute out does): the same feasibility,
    /// suppressed records and values of the group's attributes, over every
    /// node of the group's lattice, for k-anonymity with and without
    /// suppression.
    #[test]
    fn a_projection_evaluates_as_the_whole_with_the_others_at_their_tops() {
        let data = adult("adult9.toml");
        let orders = BTreeMap::new();
        for (k, limit) in [(5, 0.02), (10, 0.0), (3, 0.1)] {
            let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k }], limit);
            let whole = Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
            let heights: Vec<u32> = whole
                .hierarchies
                .iter()
                .map(|h| h.height() as u32)
                .collect();
            for h in &whole.hierarchies {
                assert_eq!(
                    h.levels()[h.height()].cardinality(),
                    1,
                    "a top of one value"
                );
            }
            let projections = Projections::new(&whole, &config, 200).expect("projects");
            assert!(projections.groups().len() >= 3);
            for columns in projections.groups() {
                let part = projections.evaluator(columns);
                let lattice = Lattice::new(columns.iter().map(|&j| heights[j]).collect()).unwrap();
                for i in 0..lattice.size() {
                    let node = lattice.node(i);
                    let mut levels = heights.clone();
                    for (&j, &l) in columns.iter().zip(node.levels()) {
                        levels[j] = l;
                    }
                    let (fits, e) = part.evaluate(&node);
                    let (whole_fits, w) = whole.evaluate(&Node::new(levels));
                    let case = format!("k {k} limit {limit} {columns:?} {node}");
                    assert_eq!(fits, whole_fits, "{case}");
                    assert_eq!(e.feasible, w.feasible, "{case}");
                    if !e.feasible {
                        continue;
                    }
                    assert_eq!(e.suppressed, w.suppressed, "{case}");
                    let values = e.score.expect("scored").per_attribute;
                    let whole_values = w.score.expect("scored").per_attribute;
                    let picked: Vec<f64> = columns.iter().map(|&j| whole_values[j]).collect();
                    assert_eq!(values, picked, "{case}");
                }
            }
        }
    }

    /// The projections' bound is at most the optimum's score for every
    /// metric and aggregate that projects (weights too), and above 0 where
    /// the optimum must generalize: over adult9 in groups of lattices of
    /// at most 200 nodes, and in two groups.
    #[test]
    fn the_projections_bound_the_optimum() {
        let data = adult("adult9.toml");
        let orders = BTreeMap::new();
        let weighted = {
            let mut spec = MetricSpec::new(MetricKind::Loss);
            spec.weights = [("age".to_string(), 1.0), ("sex".to_string(), 0.1)]
                .into_iter()
                .collect();
            spec
        };
        let mut precision = MetricSpec::new(MetricKind::Precision);
        precision.gs_factor = 0.7;
        let mut metrics = vec![weighted, precision];
        for kind in [MetricKind::Loss, MetricKind::Height, MetricKind::Entropy] {
            for aggregate in [
                Aggregate::ArithmeticMean,
                Aggregate::Sum,
                Aggregate::Max,
                Aggregate::GeometricMean,
            ] {
                let mut spec = MetricSpec::new(kind);
                spec.aggregate = Some(aggregate);
                metrics.push(spec);
            }
        }
        for metric in metrics {
            for (k, limit) in [(5, 0.02), (10, 0.0), (20, 0.05)] {
                let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k }], limit)
                    .with_metric(metric.clone());
                let optimum = search(&data.dataset, &data.hierarchies, &config, &orders)
                    .unwrap()
                    .optimum
                    .and_then(|o| o.score)
                    .expect("feasible")
                    .score;
                let whole =
                    Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
                for max_nodes in [200, 2_000] {
                    let projections =
                        Projections::new(&whole, &config, max_nodes).expect("projects");
                    let optima = projections.optima(None);
                    let bound = projections.bound(&optima).expect("feasible");
                    let case = format!("{metric:?} k {k} limit {limit} groups {max_nodes}");
                    assert!(bound <= optimum, "{case}: {bound} > {optimum}");
                    if metric.kind == MetricKind::Loss {
                        assert!(bound > 0.0, "{case}");
                    }
                }
            }
        }
    }

    /// Past its deadline a projection's search gives up: its bound is 0,
    /// and the combined bound too.
    #[test]
    fn a_passed_deadline_stops_the_projections() {
        let data = adult("adult9.toml");
        let orders = BTreeMap::new();
        let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02);
        let whole = Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
        let projections = Projections::new(&whole, &config, 200).expect("projects");
        let optima = projections.optima(Some(Instant::now()));
        assert!(optima.iter().all(|&o| o == Some(0.0)), "{optima:?}");
        assert!(projections.bound(&optima).unwrap() <= 0.0);
    }

    /// Models that class sizes do not decide, and metrics whose values
    /// can fall as more records are suppressed, make no projections.
    #[test]
    fn only_models_of_class_sizes_and_metrics_that_project() {
        let data = adult("adult.toml");
        let orders = BTreeMap::new();
        let diverse = ModelSpec::DistinctLDiversity {
            attribute: "occupation".to_string(),
            l: 2.0,
        };
        let mut cheap_suppression = MetricSpec::new(MetricKind::Precision);
        cheap_suppression.gs_factor = 0.3;
        for (models, metric, projects) in [
            (
                vec![ModelSpec::KAnonymity { k: 5 }],
                MetricSpec::new(MetricKind::Loss),
                true,
            ),
            (
                vec![ModelSpec::KAnonymity { k: 5 }, diverse],
                MetricSpec::new(MetricKind::Loss),
                false,
            ),
            (
                vec![ModelSpec::KAnonymity { k: 5 }],
                cheap_suppression,
                false,
            ),
            (
                vec![ModelSpec::KAnonymity { k: 5 }],
                MetricSpec::new(MetricKind::EntropyNm),
                false,
            ),
            (
                vec![ModelSpec::KAnonymity { k: 5 }],
                MetricSpec::new(MetricKind::Discernibility),
                false,
            ),
        ] {
            let config = AnonymizationConfig::new(models, 0.02).with_metric(metric);
            let whole = Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
            assert_eq!(Projections::new(&whole, &config, 200).is_some(), projects);
        }
    }
}
