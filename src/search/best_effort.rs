//! The best-effort search ([§6.5](crate::methods#65-best-effort-search)):
//! a local search for lattices of any size, completed by a bound-ordered
//! check on lattices small enough to keep every node's bound.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::frequency::node::Node;
use crate::search::bound::{BoundLimit, Failures, Frontier, least_bound};
use crate::search::evaluator::{Evaluator, NodeEvaluation};
use crate::search::lattice::{Lattice, MAX_LATTICE_NODES};
use crate::search::projection::{GROUP_NODES, Projections};
use crate::search::strategies::{Outcome, Stopped, lower_bounds, ranking};
use crate::search::subproblem::Subproblems;

/// Where a best-effort search stands, as passed to the progress callback
/// of [`crate::search::search_with_progress`] after each batch of nodes.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Nodes evaluated so far.
    pub nodes_checked: u64,
    /// The best feasible transformation so far, with its score.
    pub best: Option<(Node, f64)>,
    /// Whether `best` changed with this batch.
    pub improved: bool,
    /// Wall time since the search started, in milliseconds.
    pub elapsed_ms: f64,
}

/// The budgets of a best-effort search.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// When the search for nodes stops.
    pub(crate) deadline: Option<Instant>,
    /// When the searches of projections, which run first, stop (see
    /// [`Projections`]).
    pub(crate) projection_deadline: Option<Instant>,
    /// When the lower bound's search stops (the end of the time limit).
    pub(crate) bound_deadline: Option<Instant>,
    pub(crate) max_nodes: Option<u64>,
}

/// The share of a time limit left to the lower bound's search (1/32).
const BOUND_SHARE: u32 = 32;

/// The most of a time limit the searches of projections take, first
/// (a quarter; on creditcard, k = 5 and 2 %, the three projections of at
/// most 2^16 nodes take about 0.5 s on two threads, and the search for
/// nodes has the rest).
const PROJECTION_SHARE: u32 = 4;

/// The most branches the lower bound's search expands.
const MAX_BOUND_EXPANSIONS: usize = 4096;

impl Budget {
    /// The budget of `time_limit_ms` from `started` and `max_nodes`: the
    /// search for nodes stops a 32nd of the time limit before its end, which
    /// is left to the lower bound. Searches of projections, which run
    /// first, stop at a quarter of it.
    pub(crate) fn new(
        started: Instant,
        time_limit_ms: Option<u64>,
        max_nodes: Option<u64>,
    ) -> Self {
        let limit = time_limit_ms.map(Duration::from_millis);
        let before_end = |share: u32| limit.map(|l| started + l - l / share);
        Budget {
            deadline: before_end(BOUND_SHARE),
            projection_deadline: limit.map(|l| started + l / PROJECTION_SHARE),
            bound_deadline: limit.map(|l| started + l),
            max_nodes,
        }
    }
}

/// What the best-effort search returns beyond an [`Outcome`].
pub(crate) struct BestEffortOutcome {
    pub(crate) outcome: Outcome,
    /// Whether the best node is proven optimal.
    pub(crate) proven_optimal: bool,
    /// A lower bound on the optimum's score, when one is known.
    pub(crate) lower_bound: Option<f64>,
}

/// A node already evaluated: its score when feasible.
#[derive(Clone, Copy, Debug)]
enum Seen {
    Feasible(f64),
    Infeasible,
}

/// Calls `f` with every set of `k` items of `items[from..]` (in order),
/// built in `set`.
fn combinations<T: Copy>(
    items: &[T],
    k: usize,
    from: usize,
    set: &mut Vec<T>,
    f: &mut impl FnMut(&[T]),
) {
    if set.len() == k {
        f(set);
        return;
    }
    for i in from..items.len() {
        set.push(items[i]);
        combinations(items, k, i + 1, set, f);
        set.pop();
    }
}

/// The last tier of exchanges around the best node.
const LAST_TIER: usize = 3;

/// The last tier of exchanges around the node a kick leads to.
const KICK_LAST_TIER: usize = 1;

/// The seed of the random kicks.
const KICK_SEED: u64 = 0x5eed;

/// Kicks in a row that find nothing better before the local search ends,
/// when the search has no budget or the lattice is small enough to complete
/// (otherwise kicks go on until the budget is spent).
const MAX_STALE_KICKS: usize = 200;

/// Subproblems in a row that find nothing better before the kicks take over.
const MAX_STALE_SUBPROBLEMS: usize = 8;

/// Nodes evaluated in one parallel batch (the clock is read between batches).
const BATCH: usize = 64;

/// The search state: evaluated nodes, the best so far, the budget.
struct Search<'s, 'e> {
    evaluator: &'s Evaluator<'e>,
    lattice: &'s Lattice,
    budget: Budget,
    started: Instant,
    progress: &'s (dyn Fn(&Progress) + Sync),
    seen: FxHashMap<u64, Seen>,
    checked: u64,
    best: Option<NodeEvaluation>,
    best_index: u64,
    /// Set once a budget is spent.
    stopped: bool,
    /// Whether an infeasible node's specializations are all infeasible.
    monotone_privacy: bool,
    /// The nodes known to fail a monotone predicate (see
    /// [`Evaluator::evaluate`]).
    failures: Failures,
    /// The large neighbourhood, where the search has one.
    subproblems: Option<&'s Subproblems<'s, 'e>>,
}

impl Search<'_, '_> {
    fn best_score(&self) -> Option<f64> {
        self.best
            .as_ref()
            .and_then(|b| b.score.as_ref())
            .map(|s| s.score)
    }

    /// Evaluates the nodes of `indices` not seen yet (in parallel, within
    /// the budget), records them and returns, for every index given in
    /// order, what is known of it (`None`: not evaluated, the budget spent).
    fn evaluate(&mut self, indices: &[u64]) -> Vec<Option<Seen>> {
        let mut fresh: Vec<u64> = indices
            .iter()
            .copied()
            .filter(|i| !self.seen.contains_key(i))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        if let Some(max) = self.budget.max_nodes {
            let left = max.saturating_sub(self.checked) as usize;
            if fresh.len() > left {
                fresh.truncate(left);
                self.stopped = true;
            }
        }
        // In chunks, the clock read between them: a large neighbourhood
        // stops within a chunk's time of the deadline.
        for chunk in fresh.chunks(BATCH) {
            if self.budget.deadline.is_some_and(|d| Instant::now() >= d) {
                self.stopped = true;
                break;
            }
            let (evaluator, lattice) = (self.evaluator, self.lattice);
            let results: Vec<(u64, bool, NodeEvaluation)> = chunk
                .par_iter()
                .map(|&i| {
                    let (fits, e) = evaluator.evaluate(&lattice.node(i));
                    (i, fits, e)
                })
                .collect();
            self.checked += results.len() as u64;
            let mut improved = false;
            for (i, fits, e) in results {
                if !fits || (!e.feasible && self.monotone_privacy) {
                    self.failures.push(e.node.levels());
                }
                let score = e.score.as_ref().filter(|_| e.feasible).map(|s| s.score);
                self.seen
                    .insert(i, score.map_or(Seen::Infeasible, Seen::Feasible));
                let better = score.is_some()
                    && self
                        .best
                        .as_ref()
                        .is_none_or(|b| ranking(&e, b) == Ordering::Less);
                if better {
                    self.best = Some(e);
                    self.best_index = i;
                    improved = true;
                }
            }
            (self.progress)(&Progress {
                nodes_checked: self.checked,
                best: self
                    .best
                    .as_ref()
                    .and_then(|b| Some((b.node.clone(), b.score.as_ref()?.score))),
                improved,
                elapsed_ms: self.started.elapsed().as_secs_f64() * 1e3,
            });
        }
        if self.budget.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped = true;
        }
        indices.iter().map(|i| self.seen.get(i).copied()).collect()
    }

    /// Greedy descent from the feasible node `start`: to the feasible
    /// direct specialization of the lowest score while there is one.
    /// Returns the feasible node of the lowest score it met and that score
    /// (with suppression a specialization can score higher than its
    /// generalization, so that is not always where the descent stops).
    fn descend(&mut self, start: u64, score: f64) -> (u64, f64) {
        let mut current = start;
        let mut lowest = (score, start);
        while !self.stopped {
            let predecessors: Vec<u64> = self.lattice.predecessors(current).collect();
            let seen = self.evaluate(&predecessors);
            let step = predecessors
                .iter()
                .zip(seen)
                .filter_map(|(&i, s)| match s {
                    Some(Seen::Feasible(score)) => Some((score, i)),
                    _ => None,
                })
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            match step {
                Some((score, i)) => {
                    current = i;
                    if (score, i) < lowest {
                        lowest = (score, i);
                    }
                }
                None => break,
            }
        }
        (lowest.1, lowest.0)
    }

    /// The exchanges of tier `tier` around `center`: one attribute up (a
    /// level, or in tier 2 to its top) and one (tier 0), two (tiers 1 and 2)
    /// or three (tier 3) others one level down each. `None` past the last
    /// tier.
    fn exchanges(&self, center: u64, tier: usize) -> Option<Vec<u64>> {
        let (downs_per_move, to_top) = match tier {
            0 => (1, false),
            1 => (2, false),
            2 => (2, true),
            3 => (3, false),
            _ => return None,
        };
        let levels = self.lattice.levels(center);
        let heights = self.lattice.heights();
        let strides = self.lattice.strides();
        let ups: Vec<(usize, u64)> = (0..levels.len())
            .filter(|&j| levels[j] < heights[j])
            .map(|j| {
                let steps = if to_top { heights[j] - levels[j] } else { 1 };
                (j, u64::from(steps) * strides[j])
            })
            .collect();
        let downs: Vec<(usize, u64)> = (0..levels.len())
            .filter(|&j| levels[j] > 0)
            .map(|j| (j, strides[j]))
            .collect();
        let mut nodes = Vec::new();
        let mut lowered = Vec::new();
        combinations(&downs, downs_per_move, 0, &mut lowered, &mut |set| {
            let total: u64 = set.iter().map(|&(_, d)| d).sum();
            for &(j, up) in &ups {
                if set.iter().all(|&(b, _)| b != j) {
                    nodes.push(center + up - total);
                }
            }
        });
        Some(nodes)
    }

    /// The local search: a descent from the top, then rounds of three
    /// moves around the best node: subproblems (where the search has them:
    /// the best node over a random group of attributes, the others held;
    /// see [`Search::subproblem_moves`]), variable neighbourhoods (see
    /// [`Search::neighbourhoods`]), and when neither finds a better node,
    /// random kicks of the best node, each followed by a descent and the
    /// first two tiers of exchanges, until one finds a better node (and the
    /// rounds start again around it), the budget is spent on a lattice too
    /// large to complete, or else [`MAX_STALE_KICKS`] in a row find nothing
    /// (iterated local search).
    fn local_search(&mut self) {
        let top = self.lattice.size() - 1;
        let Some(Seen::Feasible(score)) = self.evaluate(&[top])[0] else {
            return;
        };
        self.descend(top, score);
        // (A fixed seed: the same budget of nodes gives the same result.)
        let mut rng = StdRng::seed_from_u64(KICK_SEED);
        while !self.stopped {
            let improved = self.subproblem_moves(&mut rng);
            let Some(best) = self.best_score() else {
                return;
            };
            self.neighbourhoods(self.best_index, best, LAST_TIER);
            // (Without subproblems, straight to the kicks as before: the
            // exchanges ended where a whole tier found nothing better.)
            let exchanged = self.best_score().is_some_and(|b| b < best);
            if improved || (exchanged && self.subproblems.is_some()) {
                continue;
            }
            if !self.kicks(&mut rng) {
                return;
            }
        }
    }

    /// Tiers of exchanges around a center (see [`Search::exchanges`]),
    /// starting at the best node: every move of a tier checked, then
    /// descents from the feasible ones, best first, until one finds a node
    /// below the center's score, which becomes the center; the first tier
    /// again after every improvement. Returns the last center and its score
    /// when a whole tier up to `last_tier` finds nothing better.
    fn neighbourhoods(&mut self, start: u64, score: f64, last_tier: usize) -> (u64, f64) {
        let (mut center, mut center_score) = (start, score);
        let mut tier = 0;
        while !self.stopped && tier <= last_tier {
            let Some(exchanges) = self.exchanges(center, tier) else {
                break;
            };
            let seen = self.evaluate(&exchanges);
            let mut starts: Vec<(f64, u64)> = exchanges
                .iter()
                .zip(seen)
                .filter_map(|(&i, s)| match s {
                    Some(Seen::Feasible(score)) => Some((score, i)),
                    _ => None,
                })
                .collect();
            starts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            starts.dedup_by_key(|s| s.1);
            let mut improved = false;
            for (score, start) in starts {
                if self.stopped {
                    break;
                }
                let (found, found_score) = self.descend(start, score);
                if found_score < center_score {
                    (center, center_score, improved) = (found, found_score, true);
                    break;
                }
            }
            tier = if improved { 0 } else { tier + 1 };
        }
        (center, center_score)
    }

    /// Subproblems around the best node ([`Subproblems`]), each over a
    /// random group of quasi-identifiers whose lattice has at most
    /// [`GROUP_NODES`] nodes, until [`MAX_STALE_SUBPROBLEMS`] in a row find
    /// nothing better or the budget is spent (each subproblem's nodes count
    /// against it: one starts only while the node budget has room for all
    /// its nodes and the check of the node it finds). Returns whether one
    /// found a better node.
    fn subproblem_moves(&mut self, rng: &mut StdRng) -> bool {
        let Some(subproblems) = self.subproblems else {
            return false;
        };
        let (mut improved, mut stale) = (false, 0);
        while stale < MAX_STALE_SUBPROBLEMS {
            let Some(best) = self.best_score() else {
                return improved;
            };
            let room = self
                .budget
                .max_nodes
                .map(|m| m.saturating_sub(self.checked));
            if self.stopped || room.is_some_and(|r| r <= GROUP_NODES) {
                return improved;
            }
            let columns = self.random_group(rng);
            let center = self.lattice.levels(self.best_index);
            match subproblems.solve(&center, &columns, self.budget.deadline) {
                Err(Stopped) => {
                    self.stopped = true;
                    return improved;
                }
                Ok(solved) => {
                    self.checked += solved.nodes_checked;
                    if let Some(levels) = solved.levels {
                        self.evaluate(&[self.lattice.index(&levels)]);
                    }
                }
            }
            if self.best_score().is_some_and(|b| b < best) {
                (improved, stale) = (true, 0);
            } else {
                stale += 1;
            }
        }
        improved
    }

    /// A random group of quasi-identifiers (in column order) whose lattice
    /// has at most [`GROUP_NODES`] nodes: in a random order, each that
    /// still fits.
    fn random_group(&self, rng: &mut StdRng) -> Vec<usize> {
        let heights = self.lattice.heights();
        let mut order: Vec<usize> = (0..heights.len()).collect();
        order.shuffle(rng);
        let mut nodes = 1u64;
        let mut group: Vec<usize> = Vec::new();
        for j in order {
            let grown = nodes.saturating_mul(u64::from(heights[j]) + 1);
            if grown <= GROUP_NODES {
                nodes = grown;
                group.push(j);
            }
        }
        group.sort_unstable();
        group
    }

    /// Random kicks of the best node, each followed by a descent and the
    /// first two tiers of exchanges when the kicked node is feasible: one or
    /// two attributes raised (by a random number of levels), two to four
    /// others lowered by one or two. Returns whether one found a better node.
    fn kicks(&mut self, rng: &mut StdRng) -> bool {
        let heights = self.lattice.heights().to_vec();
        // (On a lattice the completion can hold, the kicks leave it the budget.)
        let endless = self.lattice.size() > MAX_LATTICE_NODES
            && (self.budget.deadline.is_some() || self.budget.max_nodes.is_some());
        let mut stale = 0;
        while endless || stale < MAX_STALE_KICKS {
            stale += 1;
            let Some(best) = self.best_score() else {
                return false;
            };
            if self.stopped {
                return false;
            }
            let mut levels = self.lattice.levels(self.best_index);
            let mut ups: Vec<usize> = (0..levels.len())
                .filter(|&j| levels[j] < heights[j])
                .collect();
            let mut downs: Vec<usize> = (0..levels.len()).filter(|&j| levels[j] > 0).collect();
            for _ in 0..rng.random_range(1..=2usize) {
                if ups.is_empty() {
                    break;
                }
                let j = ups.swap_remove(rng.random_range(0..ups.len()));
                levels[j] += rng.random_range(1..=heights[j] - levels[j]);
                downs.retain(|&d| d != j);
            }
            for _ in 0..rng.random_range(2..=4usize) {
                if downs.is_empty() {
                    break;
                }
                let j = downs.swap_remove(rng.random_range(0..downs.len()));
                levels[j] -= rng.random_range(1..=levels[j].min(2));
            }
            let kicked = self.lattice.index(&levels);
            if let Some(Seen::Feasible(score)) = self.evaluate(&[kicked])[0] {
                let (local, score) = self.descend(kicked, score);
                self.neighbourhoods(local, score, KICK_LAST_TIER);
            }
            if self.best_score().is_some_and(|b| b < best) {
                return true;
            }
        }
        false
    }

    /// The index of a node given by byte levels.
    fn index_of(&self, levels: &[u8]) -> u64 {
        levels
            .iter()
            .zip(self.lattice.strides())
            .map(|(&l, &s)| u64::from(l) * s)
            .sum()
    }

    /// On a lattice of at most [`MAX_LATTICE_NODES`] nodes: evaluates the
    /// nodes in increasing order of their lower bound until the next bound
    /// exceeds the best score (the best is then optimal). Returns whether it
    /// completed, and the lowest bound of the nodes left when it did not.
    fn complete(&mut self) -> Option<(bool, Option<f64>)> {
        if self.lattice.size() > MAX_LATTICE_NODES {
            return None;
        }
        // (A metric without bounds: every node is checked, in index order.)
        let bounds = lower_bounds(&self.evaluator.utility, self.lattice.heights())
            .unwrap_or_else(|| vec![f64::NEG_INFINITY; self.lattice.size() as usize]);
        let mut order: Vec<u64> = (0..self.lattice.size()).collect();
        order.sort_unstable_by(|&a, &b| {
            bounds[a as usize]
                .total_cmp(&bounds[b as usize])
                .then(a.cmp(&b))
        });
        let mut at = 0;
        loop {
            while at < order.len() && self.seen.contains_key(&order[at]) {
                at += 1;
            }
            let Some(&next) = order.get(at) else {
                return Some((true, None));
            };
            let bound = bounds[next as usize];
            if self.best_score().is_some_and(|b| bound > b) {
                return Some((true, None));
            }
            if self.stopped {
                return Some((false, Some(bound).filter(|b| b.is_finite())));
            }
            let batch: Vec<u64> = order[at..]
                .iter()
                .copied()
                .filter(|i| !self.seen.contains_key(i))
                .take(BATCH)
                .collect();
            self.evaluate(&batch);
        }
    }
}

/// What the best-effort search has on a lattice too large to complete,
/// where the models and the metric allow them.
#[derive(Clone, Copy, Default)]
pub(crate) struct LargeLattice<'p, 's, 'a> {
    /// Searched first, for a lower bound.
    pub(crate) projections: Option<&'p Projections<'s, 'a>>,
    /// The local search's large neighbourhood.
    pub(crate) subproblems: Option<&'p Subproblems<'s, 'a>>,
}

/// The best-effort search over `lattice` within `budget`; `progress` is
/// called after every batch of evaluations. On a lattice it cannot
/// complete, `large` has the projections (searched first, for a lower
/// bound) and the subproblems (a move of the local search).
pub(crate) fn best_effort(
    evaluator: &Evaluator<'_>,
    lattice: &Lattice,
    budget: Budget,
    started: Instant,
    progress: &(dyn Fn(&Progress) + Sync),
    large: LargeLattice<'_, '_, '_>,
) -> BestEffortOutcome {
    let LargeLattice {
        projections,
        subproblems,
    } = large;
    let mut search = Search {
        evaluator,
        lattice,
        budget,
        started,
        progress,
        seen: FxHashMap::default(),
        checked: 0,
        best: None,
        best_index: 0,
        stopped: false,
        monotone_privacy: evaluator.monotone_privacy(),
        failures: Failures::new(lattice.heights().len()),
        subproblems,
    };
    // (Searched first: the search for nodes has whatever time they leave.)
    let projected = projections.and_then(|p| p.bound(&p.optima(budget.projection_deadline)));
    search.local_search();
    let completion = search.complete();
    let best_score = search.best_score();
    let (proven_optimal, lower_bound) = match completion {
        Some((true, _)) => (true, best_score),
        incomplete => {
            // (Unchecked nodes score at least their bound, checked ones at
            // least the best score.)
            let left = incomplete
                .and_then(|(_, bound)| bound)
                .map(|b| best_score.map_or(b, |s| b.min(s)));
            // (The projections' bound.)
            let projected = projected.map(|b| best_score.map_or(b, |s| b.min(s)));
            // (The nodes below none found failing.)
            let frontier = Frontier::for_metric(&evaluator.utility, lattice.heights())
                .map(|mut frontier| {
                    let checked =
                        |levels: &[u8]| search.seen.contains_key(&search.index_of(levels));
                    least_bound(
                        &mut frontier,
                        &search.failures,
                        &checked,
                        best_score,
                        BoundLimit {
                            deadline: budget.bound_deadline,
                            max_expansions: MAX_BOUND_EXPANSIONS,
                        },
                    )
                })
                .filter(|b| b.is_finite());
            // (Each bounds the optimum: the largest is the best. The
            // frontier's reaches the best score only when no node left can
            // score lower: the best score is then optimal.)
            let bound = [left, frontier, projected]
                .into_iter()
                .flatten()
                .reduce(f64::max);
            (best_score.is_some() && frontier == best_score, bound)
        }
    };
    BestEffortOutcome {
        outcome: Outcome {
            best: search.best,
            nodes_checked: search.checked,
        },
        proven_optimal,
        lower_bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::{MetricKind, MetricSpec};
    use crate::model::ModelSpec;
    use crate::ruleset::Ruleset;
    use crate::search::{AnonymizationConfig, Strategy, search};

    /// The completion alone (no local search first) proves the optimal
    /// search's optimum on adult9 for metrics with and without bounds,
    /// checking fewer nodes than the lattice has when there is a bound; the
    /// whole best-effort search finds it too; stopped early, it reports a
    /// bound at most the optimum's score.
    #[test]
    fn completion_proves_the_optimum() {
        let data = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())
            .and_then(|r| r.load())
            .expect("adult9 loads");
        let orders = std::collections::BTreeMap::new();
        for (k, limit, metric) in [
            (5, 0.02, MetricKind::Loss),
            (5, 0.0, MetricKind::Loss),
            (10, 0.04, MetricKind::Discernibility),
            (3, 0.01, MetricKind::Entropy),
        ] {
            let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k }], limit)
                .with_metric(MetricSpec::new(metric));
            let case = format!("k {k} limit {limit} {metric:?}");
            let optimal = search(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
            let optimum = optimal.optimum.expect("feasible");
            let score = optimum.score.as_ref().map(|s| s.score);
            let evaluator =
                Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
            let heights = evaluator
                .hierarchies
                .iter()
                .map(|h| h.height() as u32)
                .collect();
            let lattice = Lattice::new(heights).unwrap();
            let run = |max_nodes: Option<u64>| {
                let started = Instant::now();
                let mut search = Search {
                    evaluator: &evaluator,
                    lattice: &lattice,
                    budget: Budget::new(started, None, max_nodes),
                    started,
                    progress: &|_| {},
                    seen: FxHashMap::default(),
                    checked: 0,
                    best: None,
                    best_index: 0,
                    stopped: false,
                    monotone_privacy: evaluator.monotone_privacy(),
                    failures: Failures::new(lattice.heights().len()),
                    subproblems: None,
                };
                let completed = search.complete().expect("a lattice it can hold");
                (completed, search.best, search.checked)
            };
            let ((proven, _), best, checked) = run(None);
            assert!(proven, "{case}");
            let best = best.expect("found");
            assert_eq!(best.node, optimum.node, "{case}");
            assert_eq!(best.score.map(|s| s.score), score, "{case}");
            // Every node whose bound is below the optimum's score checked
            // (none could be ruled out), and, with a bound, not every node.
            if let Some(bounds) = lower_bounds(&evaluator.utility, lattice.heights()) {
                let below = bounds.iter().filter(|&&b| Some(b) < score).count() as u64;
                assert!(
                    below <= checked && checked < lattice.size(),
                    "{case}: {checked}"
                );
                assert!(below > BATCH as u64, "{case}: {below}");
            }
            let ((proven, bound), _, checked) = run(Some(3));
            assert!(!proven && checked == 3, "{case}");
            assert!(bound.is_none_or(|b| Some(b) <= score), "{case}: {bound:?}");
            let config = config.with_strategy(Strategy::BestEffort {
                time_limit_ms: None,
                max_nodes: None,
            });
            let found = search(&data.dataset, &data.hierarchies, &config, &orders).unwrap();
            assert_eq!(found.optimum.map(|o| o.node), Some(optimum.node), "{case}");
            assert!(found.proven_optimal, "{case}");
            assert_eq!(found.lower_bound, score, "{case}");
        }
    }
}
