//! The best-effort search's large neighbourhood: the optimum over the levels
//! of a group of quasi-identifiers with every other one held where a node
//! has it ([§6.5](crate::methods#65-best-effort-search), step 2).
//!
//! Holding the other quasi-identifiers at their levels, the nodes that
//! differ from a center only in the group's levels form a lattice of their
//! own: the group's levels, over the table counted at the center with the
//! group at its bottom levels, each held attribute a hierarchy of height 0
//! over its labels at its level ([`CompiledHierarchy::fixed_at`]). Its
//! classes are the whole's at the same node, so where class sizes alone
//! decide the models and the metric depends on a level only through its
//! labels, a node scores there as on the whole, and the optimal search
//! finds the best of the neighbourhood exactly.

use std::time::Instant;

use crate::frequency::node::Node;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::model::{KAnonymity, PrivacyModel};
use crate::search::config::AnonymizationConfig;
use crate::search::crew::with_crew;
use crate::search::evaluator::Evaluator;
#[cfg(test)]
use crate::search::evaluator::NodeEvaluation;
use crate::search::lattice::Lattice;
use crate::search::strategies::{Stopped, optimal};

/// The subproblems of a search: those of groups of its quasi-identifiers.
pub(crate) struct Subproblems<'s, 'a> {
    evaluator: &'s Evaluator<'a>,
    config: &'s AnonymizationConfig,
}

/// What a subproblem's search found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Solved {
    /// The levels of the whole's best node of the neighbourhood, `None`
    /// when none of its nodes is feasible.
    pub(crate) levels: Option<Vec<u32>>,
    /// The nodes the subproblem's search evaluated.
    pub(crate) nodes_checked: u64,
}

impl<'s, 'a> Subproblems<'s, 'a> {
    /// The subproblems of `evaluator`'s search, when they score as the
    /// whole does (see the module's documentation), and its bottom table
    /// was counted at the bottom node (a streamed table counted at minimum
    /// levels above 0 has no subproblems: their free attributes start at
    /// level 0).
    pub(crate) fn new(
        evaluator: &'s Evaluator<'a>,
        config: &'s AnonymizationConfig,
    ) -> Option<Subproblems<'s, 'a>> {
        let at_bottom = evaluator.bottom.node().levels().iter().all(|&l| l == 0);
        (at_bottom && evaluator.classes_decide_alone() && evaluator.utility.conditions())
            .then_some(Subproblems { evaluator, config })
    }

    /// The best node (ties as the optimal search breaks them) among those
    /// with every quasi-identifier outside `columns` at its level in
    /// `center`, searched until `deadline`.
    ///
    /// # Errors
    ///
    /// [`Stopped`] at the deadline.
    ///
    /// # Panics
    ///
    /// Panics if `center` is not a node of the whole's lattice or a column
    /// is out of range.
    pub(crate) fn solve(
        &self,
        center: &[u32],
        columns: &[usize],
        deadline: Option<Instant>,
    ) -> Result<Solved, Stopped> {
        self.with_subproblem(center, columns, |evaluator, lattice| {
            let outcome = with_crew(rayon::current_num_threads(), |crew| {
                optimal(evaluator, lattice, crew, deadline)
            })?;
            let levels = outcome
                .best
                .map(|best| put_in(center, columns, best.node.levels()));
            Ok(Solved {
                levels,
                nodes_checked: outcome.nodes_checked,
            })
        })
    }

    /// Calls `f` with the evaluator and the lattice of the subproblem of
    /// `columns` around `center` (see the module's documentation): a node
    /// of it has every quasi-identifier's level, those held at 0.
    fn with_subproblem<R>(
        &self,
        center: &[u32],
        columns: &[usize],
        f: impl FnOnce(&Evaluator<'_>, &Lattice) -> R,
    ) -> R {
        let whole = self.evaluator;
        let width = center.len();
        let mut free = vec![false; width];
        for &j in columns {
            free[j] = true;
        }
        let start: Vec<u32> = (0..width)
            .map(|j| if free[j] { 0 } else { center[j] })
            .collect();
        let (counted, _) = whole
            .bottom
            .roll_up_counts(&whole.hierarchies, &Node::new(start))
            .expect("a node of the lattice is above the bottom");
        let held: Vec<Option<CompiledHierarchy>> = (0..width)
            .map(|j| (!free[j]).then(|| whole.hierarchies[j].fixed_at(center[j] as usize)))
            .collect();
        let hierarchies: Vec<&CompiledHierarchy> = (0..width)
            .map(|j| held[j].as_ref().unwrap_or(whole.hierarchies[j]))
            .collect();
        let fixed: Vec<Option<u32>> = (0..width)
            .map(|j| (!free[j]).then_some(center[j]))
            .collect();
        let heights = hierarchies.iter().map(|h| h.height() as u32).collect();
        let model: Box<dyn PrivacyModel> = Box::new(
            KAnonymity::new(whole.min_class_size).expect("a minimal class size is at least 1"),
        );
        let utility = whole.utility.conditioned(&fixed);
        let evaluator = Evaluator::from_parts(
            counted.held(),
            hierarchies,
            vec![model],
            utility,
            self.config,
        );
        let lattice = Lattice::new(heights).expect("a group's lattice");
        f(&evaluator, &lattice)
    }
}

/// The whole's levels of a subproblem's node: `found` at `columns`,
/// `center` elsewhere.
fn put_in(center: &[u32], columns: &[usize], found: &[u32]) -> Vec<u32> {
    let mut levels = center.to_vec();
    for &j in columns {
        levels[j] = found[j];
    }
    levels
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;
    use std::collections::BTreeMap;

    use super::*;
    use crate::metric::{MetricKind, MetricSpec};
    use crate::model::ModelSpec;
    use crate::ruleset::bundled_adult as adult;
    use crate::search::strategies::ranking;

    /// The metrics whose subproblems score as the whole.
    fn metrics() -> Vec<MetricSpec> {
        let mut weighted = MetricSpec::new(MetricKind::Loss);
        weighted.weights = [("age".to_string(), 1.0), ("sex".to_string(), 0.1)]
            .into_iter()
            .collect();
        weighted.gs_factor = 0.3;
        let mut metrics = vec![weighted];
        for kind in [
            MetricKind::Loss,
            MetricKind::Entropy,
            MetricKind::EntropyNm,
            MetricKind::Discernibility,
            MetricKind::DiscernibilityNm,
            MetricKind::Aecs,
        ] {
            metrics.push(MetricSpec::new(kind));
        }
        metrics
    }

    /// Centers and groups of adult9's nine quasi-identifiers (of heights
    /// 1, 4, 1, 2, 3, 2, 2, 2, 1).
    const AROUND: [(&[u32], &[usize]); 4] = [
        (&[1, 2, 1, 1, 2, 1, 1, 1, 0], &[0, 2, 5]),
        (&[1, 3, 1, 2, 2, 1, 2, 2, 1], &[1, 3, 4, 8]),
        (&[0, 0, 0, 0, 0, 0, 0, 0, 0], &[6, 7]),
        (&[1, 4, 1, 2, 3, 2, 2, 2, 1], &[1, 4, 6, 7]),
    ];

    /// Every node of a subproblem evaluates as the whole's node with the
    /// held levels put in: the same feasibility, suppressed records,
    /// classes and score (each attribute's value), for the metrics that
    /// condition, k-anonymity with and without suppression.
    #[test]
    fn a_subproblem_evaluates_as_the_whole_with_the_others_held() {
        let data = adult("adult9.toml");
        let orders = BTreeMap::new();
        for metric in metrics() {
            for (k, limit) in [(5, 0.02), (10, 0.0), (3, 0.1)] {
                let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k }], limit)
                    .with_metric(metric.clone());
                let whole =
                    Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
                let subproblems = Subproblems::new(&whole, &config).expect("conditions");
                for (center, columns) in AROUND {
                    subproblems.with_subproblem(center, columns, |part, lattice| {
                        for i in 0..lattice.size() {
                            let node = lattice.node(i);
                            let levels = put_in(center, columns, node.levels());
                            let (fits, e) = part.evaluate(&node);
                            let (whole_fits, w) = whole.evaluate(&Node::new(levels));
                            let case = format!("{metric:?} k {k} limit {limit} {node}");
                            assert_eq!(fits, whole_fits, "{case}");
                            assert_eq!(e.feasible, w.feasible, "{case}");
                            if e.feasible {
                                assert_eq!(
                                    (e.suppressed, e.classes, e.suppressed_classes),
                                    (w.suppressed, w.classes, w.suppressed_classes),
                                    "{case}"
                                );
                                assert_eq!(e.score, w.score, "{case}");
                            }
                        }
                    });
                }
            }
        }
    }

    /// A subproblem's search finds the best node of its neighbourhood, as
    /// checking each of them on the whole does (the least by the search's
    /// ranking, ties as it breaks them), and reports the nodes it checked,
    /// the same each time (the node also on one thread).
    #[test]
    fn a_subproblem_finds_the_best_node_of_its_neighbourhood() {
        let data = adult("adult9.toml");
        let orders = BTreeMap::new();
        for metric in metrics() {
            for (k, limit) in [(5, 0.02), (10, 0.0)] {
                let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k }], limit)
                    .with_metric(metric.clone());
                let whole =
                    Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
                let subproblems = Subproblems::new(&whole, &config).expect("conditions");
                let mut found = 0;
                let heights: Vec<u32> = whole
                    .hierarchies
                    .iter()
                    .map(|h| h.height() as u32)
                    .collect();
                for (center, columns) in AROUND {
                    let case = format!("{metric:?} k {k} limit {limit} {columns:?}");
                    let group: Vec<u32> = columns.iter().map(|&j| heights[j]).collect();
                    let neighbourhood = Lattice::new(group).unwrap();
                    let mut best: Option<NodeEvaluation> = None;
                    for i in 0..neighbourhood.size() {
                        let mut levels = center.to_vec();
                        for (&j, &l) in columns.iter().zip(&neighbourhood.levels(i)) {
                            levels[j] = l;
                        }
                        let (_, e) = whole.evaluate(&Node::new(levels));
                        if e.feasible
                            && best
                                .as_ref()
                                .is_none_or(|b| ranking(&e, b) == Ordering::Less)
                        {
                            best = Some(e);
                        }
                    }
                    let solved = subproblems.solve(center, columns, None).unwrap();
                    assert!(solved.nodes_checked > 0, "{case}");
                    // (Again the same, nodes checked too: a node budget
                    // spent on subproblems gives the same result. On one
                    // thread the same node, in rounds of other sizes.)
                    let again = subproblems.solve(center, columns, None).unwrap();
                    assert_eq!(again, solved, "{case}");
                    let alone = rayon::ThreadPoolBuilder::new()
                        .num_threads(1)
                        .build()
                        .unwrap()
                        .install(|| subproblems.solve(center, columns, None).unwrap());
                    assert_eq!(alone.levels, solved.levels, "{case}");
                    let expected = best.map(|b| b.node.levels().to_vec());
                    assert_eq!(solved.levels, expected, "{case}");
                    found += usize::from(expected.is_some());
                }
                assert!(found >= 2, "{metric:?} k {k} limit {limit}: {found}");
            }
        }
    }

    /// Past its deadline a subproblem's search gives up.
    #[test]
    fn a_passed_deadline_stops_a_subproblem() {
        let data = adult("adult9.toml");
        let orders = BTreeMap::new();
        let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02);
        let whole = Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
        let subproblems = Subproblems::new(&whole, &config).expect("conditions");
        let (center, columns) = AROUND[0];
        let solved = subproblems.solve(center, columns, Some(Instant::now()));
        assert_eq!(solved, Err(Stopped));
    }

    /// Models that class sizes do not decide or that judge the release as
    /// a whole, metrics that count levels, and a bottom table counted
    /// above the bottom node make no subproblems; k-anonymity and k-map
    /// with the label metrics do.
    #[test]
    fn only_models_of_class_sizes_and_metrics_of_labels() {
        let data = adult("adult.toml");
        let orders = BTreeMap::new();
        let diverse = ModelSpec::DistinctLDiversity {
            attribute: "occupation".to_string(),
            l: 2.0,
        };
        let k5 = || vec![ModelSpec::KAnonymity { k: 5 }];
        let kmap = ModelSpec::KMap {
            k: 3,
            population: 100_000,
            significance: 0.05,
            estimator: Default::default(),
        };
        let risk = ModelSpec::AverageRisk {
            threshold: 0.05,
            highest_risk: None,
            records_at_risk: None,
        };
        for (models, kind, conditions) in [
            (k5(), MetricKind::Loss, true),
            (k5(), MetricKind::Discernibility, true),
            (
                vec![ModelSpec::KAnonymity { k: 5 }, kmap],
                MetricKind::Loss,
                true,
            ),
            (
                vec![ModelSpec::KAnonymity { k: 5 }, diverse],
                MetricKind::Loss,
                false,
            ),
            (
                vec![ModelSpec::KAnonymity { k: 5 }, risk],
                MetricKind::Loss,
                false,
            ),
            (k5(), MetricKind::Height, false),
            (k5(), MetricKind::Precision, false),
        ] {
            let config = AnonymizationConfig::new(models, 0.02).with_metric(MetricSpec::new(kind));
            let whole = Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
            assert_eq!(
                Subproblems::new(&whole, &config).is_some(),
                conditions,
                "{kind:?}"
            );
        }
        // A bottom table counted above the bottom node (as a streamed
        // table at minimum levels): none either.
        let config = AnonymizationConfig::new(k5(), 0.02);
        let whole = Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
        let mut levels = vec![0; whole.hierarchies.len()];
        levels[1] = 1;
        let (counted, _) = whole
            .bottom
            .roll_up_counts(&whole.hierarchies, &Node::new(levels))
            .unwrap();
        let model: Box<dyn PrivacyModel> = Box::new(KAnonymity::new(5).unwrap());
        let raised = Evaluator::from_parts(
            counted,
            whole.hierarchies.clone(),
            vec![model],
            whole.utility.clone(),
            &config,
        );
        assert!(Subproblems::new(&raised, &config).is_none());
        assert!(Subproblems::new(&whole, &config).is_some());
    }
}
