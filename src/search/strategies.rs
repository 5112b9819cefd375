//! The search strategies: optimal (pruned), exhaustive, heuristic.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::search::crew::Crew;
use crate::search::evaluator::{Evaluator, NodeEvaluation};
use crate::search::lattice::Lattice;

/// The documented tie-breaking rule: lower score, then lower level sum, then
/// the lexicographically smaller level vector. Infeasible or unscored nodes
/// rank last.
pub(crate) fn ranking(a: &NodeEvaluation, b: &NodeEvaluation) -> Ordering {
    let score = |e: &NodeEvaluation| e.score.as_ref().filter(|_| e.feasible).map(|s| s.score);
    match (score(a), score(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x
            .total_cmp(&y)
            .then(a.node.height().cmp(&b.node.height()))
            .then_with(|| a.node.levels().cmp(b.node.levels())),
    }
}

fn keep_best(best: &mut Option<NodeEvaluation>, candidate: NodeEvaluation) {
    let better = match best {
        None => candidate.feasible && candidate.score.is_some(),
        Some(b) => ranking(&candidate, b) == Ordering::Less,
    };
    if better {
        *best = Some(candidate);
    }
}

/// What a search returns: the best node, and how many nodes it evaluated.
pub(crate) struct Outcome {
    pub(crate) best: Option<NodeEvaluation>,
    pub(crate) nodes_checked: u64,
}

/// Evaluates every node.
pub(crate) fn exhaustive(evaluator: &Evaluator<'_>, lattice: &Lattice) -> Outcome {
    let best = (0..lattice.size())
        .into_par_iter()
        .map(|i| evaluator.evaluate(&lattice.node(i)).1)
        .filter(|e| e.feasible)
        .min_by(ranking);
    Outcome {
        best,
        nodes_checked: lattice.size(),
    }
}

/// How many paths phase 1 bisects at once, per thread: one when the metric
/// is monotone (each extra path costs checks the pruned search would not
/// make: on cup, k = 5 without suppression, 42 nodes with one path against
/// 92 with twelve, 14 ms against 32 ms on one thread), six when the search
/// prunes by the metric's lower bound (each round then has more work to
/// share, and the number of checks hardly depends on the paths: on FARS,
/// k = 5 with 2 %, 105 ms with twelve paths against 133 ms with two, on two
/// threads). The optimum does not depend on it; the number of nodes checked does.
const PATHS_PER_THREAD: [usize; 2] = [1, 6];

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;

/// Tags `start` and, transitively, every node reachable through `next`
/// that is still untagged.
fn tag_closure<I: Iterator<Item = u64>>(
    tags: &mut [u8],
    start: u64,
    value: u8,
    next: impl Fn(u64) -> I,
) {
    let mut stack = vec![start];
    tags[start as usize] = value;
    while let Some(i) = stack.pop() {
        for j in next(i) {
            if tags[j as usize] == UNKNOWN {
                tags[j as usize] = value;
                stack.push(j);
            }
        }
    }
}

/// Optimal search with pruning.
///
/// Phase 1 tags every node feasible or not with a predicate that is
/// monotone under generalization, checking few nodes: bottom-up over the
/// levels, from each untagged node a greedy path to the top through
/// untagged successors is bisected; a satisfying node tags all its
/// generalizations, a failing one all its specializations (Flash;
/// [§6.3](crate::methods#63-pruned-optimal-search)). The midpoints of up to [`PATHS_PER_THREAD`] such paths per thread
/// are evaluated in parallel. The predicate is full feasibility when every model is monotone for
/// the configured suppression ([§3.10](crate::methods#310-monotonicity-and-suppression)), otherwise "the records in classes
/// smaller than the minimal class size fit in the suppression budget",
/// which every feasible node meets. When phase 2 will order the candidates
/// by a lower bound, phase 1 already skips every node whose bound exceeds
/// the best score found so far (ARX's pruning by insufficient utility):
/// neither its feasibility nor its score is needed.
///
/// Phase 2 scores the candidates: with a metric whose score does not depend
/// on suppression and never decreases under generalization (entropy, DM*,
/// height; or any metric without suppression), level by level, skipping
/// every generalization of a node found feasible; otherwise in order of the
/// metric's lower bound, stopping once the bound exceeds the best score; or,
/// for metrics without a bound, all of them.
pub(crate) fn optimal<'env>(
    evaluator: &'env Evaluator<'_>,
    lattice: &'env Lattice,
    crew: &Crew<'_, 'env>,
) -> Outcome {
    let no_suppression = evaluator.max_suppressed == 0;
    let monotone_privacy = evaluator.models.iter().all(|m| {
        let flags = m.monotonicity();
        if no_suppression {
            flags.generalization
        } else {
            flags.suppression
        }
    });
    let metric = evaluator.utility.spec().kind;
    let monotone_metric = no_suppression || metric.is_monotone_with_suppression();

    // Phase 1: predictive tagging, bisecting several paths at a time.
    let levels = lattice.by_height();
    let order: Vec<u64> = levels.iter().flatten().copied().collect();
    let mut checked = 0u64;
    // Without a monotone metric every feasible node is a candidate: prune
    // by the metric's lower bound while tagging (as ARX's Flash does).
    let mut pruning = Pruning::new(evaluator, lattice, !monotone_metric);
    let paths = PATHS_PER_THREAD[usize::from(!monotone_metric)] * crew.threads();
    let (candidates, evaluated) = predictive_tagging(
        evaluator,
        lattice,
        crew,
        (&order, paths),
        monotone_privacy,
        &mut pruning,
        &mut checked,
    );

    // Phase 2: utility.
    let best = if monotone_metric {
        best_by_level(
            evaluator,
            lattice,
            crew,
            levels.len(),
            &candidates,
            &evaluated,
            &mut checked,
        )
    } else {
        best_by_bound(
            evaluator,
            lattice,
            crew,
            candidates,
            &evaluated,
            &mut checked,
        )
    };
    Outcome {
        best,
        nodes_checked: checked,
    }
}

/// Phase 1 of [`optimal`]: tags every node not pruned by `pruning` by
/// bisecting greedy paths taken from the nodes in `order`, `paths` at a
/// time; returns the
/// nodes tagged feasible (in index order) and the evaluations of the
/// midpoints found minimal, counting the evaluations in `checked`.
fn predictive_tagging<'env>(
    evaluator: &'env Evaluator<'_>,
    lattice: &'env Lattice,
    crew: &Crew<'_, 'env>,
    (order, paths): (&[u64], usize),
    monotone_privacy: bool,
    pruning: &mut Pruning<'_>,
    checked: &mut u64,
) -> (Vec<u64>, FxHashMap<u64, NodeEvaluation>) {
    let mut tags = vec![UNKNOWN; lattice.size() as usize];
    let mut evaluated: FxHashMap<u64, NodeEvaluation> = FxHashMap::default();
    let mut cursor = 0;
    // Active bisections: (path, lo, hi), looking for the first satisfying node in path[lo..hi].
    let mut active: Vec<(Vec<u64>, usize, usize)> = Vec::new();
    loop {
        start_paths(
            lattice,
            (order, paths),
            &tags,
            pruning,
            &mut cursor,
            &mut active,
        );
        let mut midpoints = bisection_midpoints(&mut active, &tags, pruning);
        active.retain(|a| a.1 < a.2);
        if midpoints.is_empty() {
            if active.is_empty() && cursor >= order.len() {
                break;
            }
            continue;
        }
        // Nodes with more attributes at level 0 first: the tables capped
        // at level 1 that they need (see `Evaluator::source`) sit below
        // those of nodes with fewer, which can then roll up from them. (The
        // tags do not depend on the order of a round's results.)
        midpoints.sort_by_key(|&i| Reverse(lattice.zero_levels(i)));
        let results: Vec<(u64, bool, NodeEvaluation)> = crew.map(&midpoints, |&index| {
            let (minimal, e) = evaluator.evaluate(&lattice.node(index));
            (index, minimal, e)
        });
        *checked += results.len() as u64;
        for (index, minimal, e) in results {
            let feasible = if monotone_privacy {
                e.feasible
            } else {
                minimal
            };
            if e.feasible {
                pruning.offer(&e);
            }
            if minimal {
                evaluated.insert(index, e);
            }
            if feasible {
                tag_closure(&mut tags, index, YES, |i| lattice.successors(i));
            } else {
                tag_closure(&mut tags, index, NO, |i| lattice.predecessors(i));
            }
        }
    }
    let candidates: Vec<u64> = (0..lattice.size())
        .filter(|&i| tags[i as usize] == YES)
        .collect();
    (candidates, evaluated)
}

/// The lower bound above which a node cannot rank before `best`: its score
/// with a margin, as lower bounds are ARX-floored per attribute and summed
/// in another order than the score (a node whose bound equals the best
/// score may still tie it and win on the tie-break).
fn prune_limit(best: &NodeEvaluation) -> Option<f64> {
    best.score
        .as_ref()
        .map(|s| s.score + 1e-9 * (1.0 + s.score.abs()))
}

/// Pruning by the metric's lower bound during phase 1 of [`optimal`]: once
/// a feasible node is known, a node whose lower bound exceeds its score
/// (see [`prune_limit`]) cannot be the optimum, and neither its
/// feasibility nor its score is needed. Bounds are computed on first use.
pub(crate) struct Pruning<'a> {
    evaluator: &'a Evaluator<'a>,
    lattice: &'a Lattice,
    /// Each node's lower bound (`NaN`: not computed yet), when pruning.
    bounds: Vec<f64>,
    best: Option<NodeEvaluation>,
    limit: Option<f64>,
}

impl<'a> Pruning<'a> {
    /// Pruning when `enabled` (and the metric has a lower bound), else none.
    fn new(evaluator: &'a Evaluator<'a>, lattice: &'a Lattice, enabled: bool) -> Pruning<'a> {
        let enabled = enabled
            && evaluator
                .utility
                .lower_bound_unchecked(&lattice.node(0))
                .is_some();
        Pruning {
            evaluator,
            lattice,
            bounds: if enabled {
                vec![f64::NAN; lattice.size() as usize]
            } else {
                Vec::new()
            },
            best: None,
            limit: None,
        }
    }

    /// Takes a feasible evaluation into account.
    fn offer(&mut self, evaluation: &NodeEvaluation) {
        if self.bounds.is_empty() {
            return;
        }
        let better = self
            .best
            .as_ref()
            .is_none_or(|b| ranking(evaluation, b) == Ordering::Less);
        if better {
            self.best = Some(evaluation.clone());
            self.limit = self.best.as_ref().and_then(prune_limit);
        }
    }

    /// Whether node `index` is pruned.
    fn pruned(&mut self, index: u64) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        let bound = &mut self.bounds[index as usize];
        if bound.is_nan() {
            *bound = self
                .evaluator
                .utility
                .lower_bound_unchecked(&self.lattice.node(index))
                .unwrap_or(f64::NEG_INFINITY);
        }
        *bound > limit
    }
}

/// Starts new paths, up to `paths` active, from the first untagged and
/// unpruned nodes of `order` at or after `cursor` (in (level sum,
/// lexicographic) order): each a greedy path to the top through untagged,
/// unpruned successors.
fn start_paths(
    lattice: &Lattice,
    (order, paths): (&[u64], usize),
    tags: &[u8],
    pruning: &mut Pruning<'_>,
    cursor: &mut usize,
    active: &mut Vec<(Vec<u64>, usize, usize)>,
) {
    while active.len() < paths {
        while *cursor < order.len()
            && (tags[order[*cursor] as usize] != UNKNOWN
                || pruning.pruned(order[*cursor])
                || active.iter().any(|a| a.0[0] == order[*cursor]))
        {
            *cursor += 1;
        }
        let Some(&start) = order.get(*cursor) else {
            break;
        };
        *cursor += 1;
        let mut path = vec![start];
        let mut current = start;
        while let Some(next) = lattice
            .successors(current)
            .find(|&s| tags[s as usize] == UNKNOWN && !pruning.pruned(s))
        {
            path.push(next);
            current = next;
        }
        let len = path.len();
        active.push((path, 0, len));
    }
}

/// Advances each bisection past nodes tagged or pruned meanwhile (a pruned
/// node counts as satisfying: the nodes above it on the path are left for
/// paths of their own, if they are not pruned too); returns the distinct
/// untagged midpoints to evaluate next.
fn bisection_midpoints(
    active: &mut [(Vec<u64>, usize, usize)],
    tags: &[u8],
    pruning: &mut Pruning<'_>,
) -> Vec<u64> {
    let mut midpoints: Vec<u64> = Vec::with_capacity(active.len());
    for (path, lo, hi) in active.iter_mut() {
        while *lo < *hi {
            let mid = (*lo + *hi) / 2;
            if pruning.pruned(path[mid]) {
                *hi = mid;
                continue;
            }
            match tags[path[mid] as usize] {
                YES => *hi = mid,
                NO => *lo = mid + 1,
                _ => {
                    if !midpoints.contains(&path[mid]) {
                        midpoints.push(path[mid]);
                    }
                    break;
                }
            }
        }
    }
    midpoints
}

/// The evaluations of the nodes `indices`, in order: those in `evaluated`
/// reused, the others evaluated (and counted in `checked`).
fn evaluate_nodes<'env>(
    evaluator: &'env Evaluator<'_>,
    lattice: &'env Lattice,
    crew: &Crew<'_, 'env>,
    indices: &[u64],
    evaluated: &FxHashMap<u64, NodeEvaluation>,
    checked: &mut u64,
) -> Vec<(u64, NodeEvaluation)> {
    let fresh: Vec<u64> = indices
        .iter()
        .copied()
        .filter(|i| !evaluated.contains_key(i))
        .collect();
    *checked += fresh.len() as u64;
    let mut fresh = crew
        .map(&fresh, |&i| evaluator.evaluate(&lattice.node(i)).1)
        .into_iter();
    indices
        .iter()
        .map(|&i| match evaluated.get(&i) {
            Some(e) => (i, e.clone()),
            None => (i, fresh.next().expect("one evaluation per fresh node")),
        })
        .collect::<Vec<_>>()
}

/// Phase 2 of [`optimal`] for a monotone metric: the `candidates` scored
/// level by level (of `heights` levels), skipping every generalization of
/// a node found feasible; the best feasible one.
fn best_by_level<'env>(
    evaluator: &'env Evaluator<'_>,
    lattice: &'env Lattice,
    crew: &Crew<'_, 'env>,
    heights: usize,
    candidates: &[u64],
    evaluated: &FxHashMap<u64, NodeEvaluation>,
    checked: &mut u64,
) -> Option<NodeEvaluation> {
    let mut best: Option<NodeEvaluation> = None;
    let mut dominated = vec![false; lattice.size() as usize];
    let mut by_level: Vec<Vec<u64>> = vec![Vec::new(); heights];
    for &i in candidates {
        by_level[lattice.height_of(i) as usize].push(i);
    }
    for group in by_level {
        let open: Vec<u64> = group
            .into_iter()
            .filter(|&i| !dominated[i as usize])
            .collect();
        for (index, e) in evaluate_nodes(evaluator, lattice, crew, &open, evaluated, checked) {
            if e.feasible {
                let mut stack = vec![index];
                while let Some(i) = stack.pop() {
                    for s in lattice.successors(i) {
                        if !dominated[s as usize] {
                            dominated[s as usize] = true;
                            stack.push(s);
                        }
                    }
                }
                keep_best(&mut best, e);
            }
        }
    }
    best
}

/// Phase 2 of [`optimal`] otherwise: the `candidates` scored in order of
/// the metric's lower bound, in batches, stopping once the bound exceeds
/// the best score (all of them for metrics without a bound); the best
/// feasible one.
fn best_by_bound<'env>(
    evaluator: &'env Evaluator<'_>,
    lattice: &'env Lattice,
    crew: &Crew<'_, 'env>,
    mut candidates: Vec<u64>,
    evaluated: &FxHashMap<u64, NodeEvaluation>,
    checked: &mut u64,
) -> Option<NodeEvaluation> {
    let mut best: Option<NodeEvaluation> = None;
    let bounds: Vec<Option<f64>> = candidates
        .iter()
        .map(|&i| evaluator.utility.lower_bound_unchecked(&lattice.node(i)))
        .collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (
            bounds[a].unwrap_or(f64::NEG_INFINITY),
            bounds[b].unwrap_or(f64::NEG_INFINITY),
        );
        x.total_cmp(&y).then(candidates[a].cmp(&candidates[b]))
    });
    candidates = order.iter().map(|&k| candidates[k]).collect();
    let batch = crew.threads() * 8;
    let sorted_bounds: Vec<Option<f64>> = order.iter().map(|&k| bounds[k]).collect();
    let mut start = 0;
    while start < candidates.len() {
        let end = (start + batch).min(candidates.len());
        let limit = best.as_ref().and_then(prune_limit);
        let open: Vec<u64> = (start..end)
            .take_while(|&k| match (sorted_bounds[k], limit) {
                (Some(lb), Some(limit)) => lb <= limit,
                _ => true,
            })
            .map(|k| candidates[k])
            .collect();
        let stop = open.len() < end - start;
        for (_, e) in evaluate_nodes(evaluator, lattice, crew, &open, evaluated, checked) {
            if e.feasible {
                keep_best(&mut best, e);
            }
        }
        if stop {
            break;
        }
        start = end;
    }
    best
}

/// An infeasible node waiting in the heuristic's queue, best score first.
struct Queued {
    score: f64,
    index: u64,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: invert so the lowest score pops first.
        other
            .score
            .total_cmp(&self.score)
            .then(other.index.cmp(&self.index))
    }
}

/// Best-first search bounded by `max_nodes` evaluations (after ARX's
/// Lightning): first a greedy descent from the bottom, each step to the
/// successor with the lowest score, until a feasible node is found; then
/// best-first expansion of the infeasible nodes with the lowest scores.
/// Deterministic; not guaranteed optimal.
pub(crate) fn heuristic(evaluator: &Evaluator<'_>, lattice: &Lattice, max_nodes: u64) -> Outcome {
    let mut seen: FxHashMap<u64, ()> = FxHashMap::default();
    let mut checked = 0u64;
    let mut best: Option<NodeEvaluation> = None;
    let score_of =
        |index: u64, checked: &mut u64, best: &mut Option<NodeEvaluation>| -> (bool, f64) {
            let node = lattice.node(index);
            let e = evaluator.evaluate(&node).1;
            *checked += 1;
            let feasible = e.feasible;
            // Infeasible nodes are ranked by their generalization-only bound (or height).
            let score = match &e.score {
                Some(s) => s.score,
                None => evaluator
                    .utility
                    .lower_bound_unchecked(&node)
                    .unwrap_or(node.height() as f64),
            };
            if feasible {
                keep_best(best, e);
            }
            (feasible, score)
        };
    // Greedy descent.
    let mut current = 0u64;
    seen.insert(current, ());
    let (mut feasible, _) = score_of(current, &mut checked, &mut best);
    while !feasible && checked < max_nodes {
        let successors: Vec<u64> = lattice.successors(current).collect();
        if successors.is_empty() {
            break;
        }
        let mut step: Option<(f64, u64, bool)> = None;
        for s in successors {
            if checked >= max_nodes {
                break;
            }
            if seen.insert(s, ()).is_some() {
                continue;
            }
            let (f, score) = score_of(s, &mut checked, &mut best);
            if step.is_none_or(|(b, _, _)| score < b) {
                step = Some((score, s, f));
            }
        }
        match step {
            Some((_, s, f)) => {
                current = s;
                feasible = f;
            }
            None => break,
        }
    }
    // Best-first expansion.
    let mut queue = BinaryHeap::new();
    queue.push(Queued {
        score: 0.0,
        index: 0,
    });
    while let Some(Queued { index, .. }) = queue.pop() {
        if checked >= max_nodes {
            break;
        }
        for s in lattice.successors(index).collect::<Vec<_>>() {
            if checked >= max_nodes {
                break;
            }
            if seen.insert(s, ()).is_some() {
                continue;
            }
            let (f, score) = score_of(s, &mut checked, &mut best);
            let promising = best
                .as_ref()
                .and_then(|b| b.score.as_ref())
                .is_none_or(|b| score < b.score);
            if !f && promising {
                queue.push(Queued { score, index: s });
            }
        }
    }
    Outcome {
        best,
        nodes_checked: checked,
    }
}
