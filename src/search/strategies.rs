//! The search strategies: optimal (pruned), exhaustive, heuristic.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::metric::UtilityModel;
use crate::search::crew::{Crew, Spare};
use crate::search::evaluator::{Evaluator, NodeEvaluation};
use crate::search::lattice::Lattice;
use crate::search::lowest::LowestFirst;

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
/// is monotone and the tagging goes bottom-up (each extra path costs checks
/// the pruned search would not make: on cup, k = 5 without suppression, 42
/// nodes with one path against 92 with twelve, 14 ms against 32 ms on one
/// thread); four when it goes bound first (on two threads, adult9 k = 5
/// without suppression 3.1 -> 2.6 ms with three against one, FARS 12.2 ->
/// 9.0 ms; on one thread the same; then, on two threads, FARS 5.73 -> 5.03
/// ms with four against three, adult9 2.25 -> 2.28 ms, one thread within
/// 1.5 % either way: means of four medians of a few hundred searches each.
/// Rounds of more nodes leave the other thread less idle while one counts
/// a table capped at level 1; but which tables get counted, and so the
/// time, moves unevenly with the number of paths: seven in all took adult9
/// to 2.02 ms and FARS to 6.26); six when the search prunes by the metric's lower
/// bound (each round then has more work to share, and the number of checks
/// hardly depends on the paths: on FARS, k = 5 with 2 %, 105 ms with twelve
/// paths against 133 ms with two, on two threads). The optimum does not
/// depend on it; the number of nodes checked does.
const PATHS_PER_THREAD: [usize; 3] = [1, 4, 6];

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;

/// Tags `start` with `value` and every still untagged node above it
/// (`UP`) or below it, using `stack` as scratch.
///
/// Tags stay closed (a node tagged yes has every node above it tagged yes,
/// one tagged no every node below it), so the walk need not reach a node
/// through every neighbour: it goes through a spanning tree of the box
/// above (or below) `start`, changing attributes in increasing order (a
/// node reached by moving attribute b moves only attributes b and after),
/// and stops at tagged nodes, below (or above) which all is tagged
/// already. Each node is reached once instead of from each of its
/// neighbours (FARS, k = 5 without suppression, on two threads: the
/// tagging took 264 of the search's 4,521 µs, 12 to 14 ns for each node it
/// tagged, checking all of a node's neighbours; this way 103 µs).
fn tag_closure<const UP: bool>(
    lattice: &Lattice,
    tags: &mut [u8],
    stack: &mut Vec<(u64, u32)>,
    start: u64,
    value: u8,
) {
    let steps = lattice.steps();
    tags[start as usize] = value;
    stack.clear();
    stack.push((start, 0));
    while let Some((i, from)) = stack.pop() {
        let mut moves = lattice.movable(i, UP) >> from << from;
        while moves != 0 {
            let b = moves.trailing_zeros();
            moves &= moves - 1;
            let j = if UP {
                i + steps[b as usize]
            } else {
                i - steps[b as usize]
            };
            if tags[j as usize] == UNKNOWN {
                tags[j as usize] = value;
                stack.push((j, b));
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
/// With a metric that never decreases under generalization and has a lower
/// bound (Loss, precision, entropy and height without suppression; their
/// bound is the score but for rounding), phase 1 goes *bound first*: paths
/// start from the untagged node of lowest bound and climb through the
/// successor of lowest bound while it is not pruned, and each path's top is
/// checked before it is bisected (a failing top fails the whole path). The
/// first feasible nodes found are then nearly optimal and prune the rest:
/// on adult9, k = 5 without suppression, 100 checks against 214, on FARS 82
/// against 152 (four paths on one thread). Not on data of nearly unique records (cup), where the
/// checks high in the lattice this makes each cost nearly a pass over the
/// bottom table, while the checks low in the lattice that bottom-up
/// tagging makes first become the small sources of the later ones.
///
/// Phase 2 scores the candidates: in order of the metric's lower bound,
/// stopping once the bound exceeds the best score, when phase 1 pruned;
/// otherwise with a metric whose score does not depend on suppression and
/// never decreases under generalization (entropy, DM*, height; or any
/// metric without suppression), level by level, skipping every
/// generalization of a node found feasible; or, for metrics without a
/// bound, all of them.
///
/// With a `deadline`, the search gives up when it passes it (read once per
/// round of nodes): `Err(Stopped)`.
pub(crate) fn optimal<'env>(
    evaluator: &'env Evaluator<'_>,
    lattice: &'env Lattice,
    crew: &Crew<'_, 'env>,
    deadline: Option<Instant>,
) -> Result<Outcome, Stopped> {
    let no_suppression = evaluator.max_suppressed == 0;
    let monotone_privacy = evaluator.monotone_privacy();
    let metric = evaluator.utility.spec().kind;
    let monotone_metric = no_suppression || metric.is_monotone_with_suppression();

    // Phase 1: predictive tagging, bisecting several paths at a time.
    let heights = lattice.max_height() as usize + 1;
    let mut checked = 0u64;
    // Prune by the metric's lower bound while tagging (as ARX's Flash does)
    // when phase 2 orders by it; bound first when the metric is monotone.
    let nearly_unique = evaluator.nearly_unique();
    let bound_first =
        monotone_metric && evaluator.utility.bound_terms().is_some() && !nearly_unique;
    // On data of nearly unique records the bottom-up tagging checks mostly
    // nodes with too many classes, whose grouping stops after ⌊n/k⌋ + S
    // keys from the bottom table as from any table below them: a capped
    // table (a whole pass over the bottom table) does not pay there. On
    // cup, k = 5 without suppression, the two capped tables the search made
    // kept 99.7 per cent of the bottom's classes; without them it takes
    // 3.90 -> 3.39 ms on two threads, 4.30 -> 3.80 ms on one (the best of
    // three interleaved rounds; with 2 % suppression within the noise).
    // Letting through only those a sample of the bottom estimated to merge
    // a tenth of its classes did worse (4.1 -> 5.8 ms: the four it let
    // through kept 60 to 92 per cent and did not pay either). The
    // best-effort search on wide data, whose nodes sit near the feasibility
    // frontier, keeps them (creditcard: 207 -> 505 ms without).
    if nearly_unique {
        evaluator.stop_capping();
    }
    // (Computed ahead, beside the bottom table's count, when there were
    // threads to spare.)
    let (bounds_ahead, order_ahead) = evaluator.take_ahead().unzip();
    let mut pruning = Pruning::new(
        evaluator,
        lattice,
        bound_first || !monotone_metric,
        bounds_ahead,
    );
    let order: Vec<u64> = if bound_first {
        order_ahead.unwrap_or_else(|| by_bound(lattice.heights(), &pruning.bounds))
    } else {
        lattice.by_height().into_iter().flatten().collect()
    };
    let paths = PATHS_PER_THREAD[if bound_first {
        1
    } else if monotone_metric {
        0
    } else {
        2
    }] * crew.threads();
    let (candidates, evaluated) = predictive_tagging(
        evaluator,
        lattice,
        crew,
        (&order, paths, bound_first),
        monotone_privacy,
        &mut pruning,
        (&mut checked, deadline),
    )?;

    // Phase 2: utility.
    let best = if monotone_metric && !pruning.enabled() {
        best_by_level(
            evaluator,
            lattice,
            crew,
            heights,
            &candidates,
            &evaluated,
            (&mut checked, deadline),
        )?
    } else {
        best_by_bound(
            evaluator,
            lattice,
            crew,
            candidates,
            &evaluated,
            pruning,
            (&mut checked, deadline),
        )?
    };
    Ok(Outcome {
        best,
        nodes_checked: checked,
    })
}

/// A search given up at its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stopped;

/// `Err(Stopped)` once `deadline` has passed.
fn before(deadline: Option<Instant>) -> Result<(), Stopped> {
    match deadline {
        Some(d) if Instant::now() >= d => Err(Stopped),
        _ => Ok(()),
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
    (order, paths, bound_first): (&[u64], usize, bool),
    monotone_privacy: bool,
    pruning: &mut Pruning,
    (checked, deadline): (&mut u64, Option<Instant>),
) -> Result<(Vec<u64>, FxHashMap<u64, NodeEvaluation>), Stopped> {
    let mut tags = vec![UNKNOWN; lattice.size() as usize];
    let mut stack = Vec::new();
    let mut evaluated: FxHashMap<u64, NodeEvaluation> = FxHashMap::default();
    let mut cursor = 0;
    // Active bisections, each looking for the first satisfying node of its path.
    let mut active: Vec<Bisection> = Vec::new();
    loop {
        before(deadline)?;
        start_paths(
            lattice,
            (order, paths, bound_first),
            &tags,
            pruning,
            &mut cursor,
            &mut active,
        );
        let mut midpoints = bisection_midpoints(&mut active, &tags, pruning);
        active.retain(|a| a.lo < a.hi);
        if bound_first && !midpoints.is_empty() && midpoints.len() < crew.threads() {
            guess_next(&active, &tags, pruning, crew.threads(), &mut midpoints);
        }
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
        // A helper left without a node prepares the capped table of a node
        // the paths may check next (FARS, k = 5 without suppression, on two
        // threads, three batches of interleaved rounds: 6.38–6.83 ->
        // 5.99–6.38 ms, mean 6.97 -> 6.89, mean 7.79 -> 7.53; adult9 within
        // 2.5 % either way, cup untouched as it makes no capped tables).
        let ahead = (crew.threads() > 1 && evaluator.capping_pays())
            .then(|| next_midpoints(&active, &tags, pruning, &midpoints))
            .filter(|ahead| !ahead.is_empty());
        let spare = ahead.map(|ahead| -> Spare<'env> {
            std::sync::Arc::new(move || {
                for &index in &ahead {
                    if evaluator.prefetch(&lattice.node(index)) {
                        return;
                    }
                }
            })
        });
        // Several nodes needing capped tables of their own: the table at
        // their meet first (see `Evaluator::round_meet`), while a helper
        // does the spare work. On two threads, interleaved rounds: adult9
        // 1.86–1.95 -> 1.73–1.77 ms against the meet counted with the
        // helper idle; FARS 4.26–4.41 -> 4.51–4.57 ms (its capped tables
        // are three times adult9's, and a spare one the search does not
        // need costs more); the other benchmarks within the noise.
        let nodes = midpoints.iter().map(|&i| lattice.node(i));
        if let Some(meet) = evaluator.round_meet(nodes, crew.threads()) {
            crew.map_with_spare(&[meet], |meet| evaluator.count_capped(meet), spare.clone());
        }
        let results: Vec<(u64, bool, NodeEvaluation)> = crew.map_with_spare(
            &midpoints,
            |&index| {
                let (minimal, e) = evaluator.evaluate(&lattice.node(index));
                (index, minimal, e)
            },
            spare,
        );
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
                tag_closure::<true>(lattice, &mut tags, &mut stack, index, YES);
            } else {
                tag_closure::<false>(lattice, &mut tags, &mut stack, index, NO);
            }
        }
    }
    let candidates: Vec<u64> = (0..lattice.size())
        .filter(|&i| tags[i as usize] == YES)
        .collect();
    Ok((candidates, evaluated))
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
/// feasibility nor its score is needed.
pub(crate) struct Pruning {
    /// Each node's lower bound (empty: no pruning).
    bounds: Vec<f64>,
    best: Option<NodeEvaluation>,
    limit: Option<f64>,
}

/// Every node's lower bound under `utility`, in index order (`None` for a
/// metric without one). The bound folds each attribute's term in column
/// order, and the last attribute varies fastest along the index: the folds
/// over the first j + 1 attributes are those over the first j, each
/// extended by every level of attribute j (one step per node and prefix,
/// in tight loops: on adult9's 12,960 nodes 0.06 ms, against 0.16 ms
/// refolding from the first changed attribute node by node).
pub(crate) fn lower_bounds(utility: &UtilityModel, heights: &[u32]) -> Option<Vec<f64>> {
    let terms = utility.bound_terms()?;
    // The folds over every prefix of the attributes, each prefix's nodes in
    // index order (the last attribute fastest): each fold extends one of
    // the previous prefix by each level of the next attribute.
    let size = heights.iter().map(|&h| h as usize + 1).product();
    let mut folds = Vec::with_capacity(size);
    folds.push(utility.fold_start());
    let mut next = Vec::with_capacity(size);
    for (j, &height) in heights.iter().enumerate() {
        let terms = &terms[j][..=height as usize];
        next.clear();
        for &fold in &folds {
            next.extend(terms.iter().map(|&t| utility.fold_step(fold, j, t)));
        }
        std::mem::swap(&mut folds, &mut next);
    }
    for fold in &mut folds {
        *fold = utility.fold_finish(*fold);
    }
    Some(folds)
}

impl Pruning {
    /// Pruning when `enabled` (and the metric has a lower bound), else none;
    /// by the `bounds` given (computed ahead) when there are some.
    fn new(
        evaluator: &Evaluator<'_>,
        lattice: &Lattice,
        enabled: bool,
        bounds: Option<Vec<f64>>,
    ) -> Pruning {
        let bounds = enabled
            .then(|| bounds.or_else(|| lower_bounds(&evaluator.utility, lattice.heights())))
            .flatten()
            .unwrap_or_default();
        Pruning {
            bounds,
            best: None,
            limit: None,
        }
    }

    /// Whether the search prunes by a lower bound.
    fn enabled(&self) -> bool {
        !self.bounds.is_empty()
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
    fn pruned(&self, index: u64) -> bool {
        self.limit
            .is_some_and(|limit| self.bounds[index as usize] > limit)
    }

    /// Node `index`'s lower bound (when pruning).
    fn bound(&self, index: u64) -> f64 {
        self.bounds[index as usize]
    }
}

/// A greedy path being bisected for its first satisfying node, which lies
/// in `path[lo..=hi]` (`hi` = the path's length: none).
struct Bisection {
    path: Vec<u64>,
    lo: usize,
    hi: usize,
    /// Whether the path's top is checked first (when it fails, so does the
    /// whole path, at the cost of one check).
    top_first: bool,
}

impl Bisection {
    /// The index on the path of the node checked next: the top while it is
    /// checked first, else the middle of what is left.
    fn mid(&self) -> usize {
        if self.top_first {
            self.hi - 1
        } else {
            (self.lo + self.hi) / 2
        }
    }
}

/// How many ranges of bounds [`by_bound`] sorts nodes into.
const BOUND_BUCKETS: usize = 1024;

/// Every node of the lattice of `heights` sorted by `bounds` (one per
/// node, in index order), lowest
/// first, as far as one of [`BOUND_BUCKETS`] equal ranges between the
/// lowest and the highest bound tells; within a range, by height, then by
/// index (lower nodes first: on adult9, k = 5 without suppression, 99 checks
/// against 187 with ties in index order). A counting sort: the order only
/// steers which paths phase 1 takes (on adult9, FARS and cup, 64 to 4,096
/// ranges give the checks of an exact sort within a tenth), and sorting cup's
/// 45,000 nodes exactly cost a tenth of its search.
pub(crate) fn by_bound(heights: &[u32], bounds: &[f64]) -> Vec<u64> {
    let (lo, hi) = bounds
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &b| {
            (lo.min(b), hi.max(b))
        });
    let scale = if hi > lo {
        (BOUND_BUCKETS - 1) as f64 / (hi - lo)
    } else {
        0.0
    };
    // Each node's height (level sum), in index order: the heights of every
    // prefix of the attributes, each extended by the next one's levels.
    let mut sums: Vec<u32> = vec![0];
    for &top in heights {
        let mut next = Vec::with_capacity(sums.len() * (top as usize + 1));
        next.extend(sums.iter().flat_map(|&h| (0..=top).map(move |l| h + l)));
        sums = next;
    }
    let tiers = sums.iter().max().map_or(1, |&h| h as usize + 1);
    // The sort key: the range of the bound (in range for every finite
    // bound; `as` saturates otherwise), then the height.
    let key = |i: usize| {
        let range = (((bounds[i] - lo) * scale) as usize).min(BOUND_BUCKETS - 1);
        range * tiers + sums[i] as usize
    };
    let mut starts = vec![0usize; BOUND_BUCKETS * tiers + 1];
    for i in 0..bounds.len() {
        starts[key(i) + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    let mut sorted = vec![0u64; bounds.len()];
    for i in 0..bounds.len() {
        let slot = &mut starts[key(i)];
        sorted[*slot] = i as u64;
        *slot += 1;
    }
    sorted
}

/// Starts new paths, up to `paths` active, from the first untagged and
/// unpruned nodes of `order` at or after `cursor`: each a greedy path to
/// the top through untagged, unpruned successors (the first one, or with
/// `bound_first` the one of lowest bound).
fn start_paths(
    lattice: &Lattice,
    (order, paths, bound_first): (&[u64], usize, bool),
    tags: &[u8],
    pruning: &Pruning,
    cursor: &mut usize,
    active: &mut Vec<Bisection>,
) {
    while active.len() < paths {
        while *cursor < order.len()
            && (tags[order[*cursor] as usize] != UNKNOWN
                || pruning.pruned(order[*cursor])
                || active.iter().any(|a| a.path[0] == order[*cursor]))
        {
            *cursor += 1;
        }
        let Some(&start) = order.get(*cursor) else {
            break;
        };
        *cursor += 1;
        // (At its longest from the start: growing it reallocates, which
        // takes the allocator's lock the other thread may hold.)
        let mut path = Vec::with_capacity(lattice.max_height() as usize + 1);
        path.push(start);
        let mut current = start;
        loop {
            let mut open = lattice
                .successors(current)
                .filter(|&s| tags[s as usize] == UNKNOWN && !pruning.pruned(s));
            let next = if bound_first {
                open.min_by(|&a, &b| pruning.bound(a).total_cmp(&pruning.bound(b)))
            } else {
                open.next()
            };
            let Some(next) = next else {
                break;
            };
            path.push(next);
            current = next;
        }
        let hi = path.len();
        active.push(Bisection {
            path,
            lo: 0,
            hi,
            top_first: bound_first,
        });
    }
}

/// Advances each bisection past nodes tagged or pruned meanwhile (a pruned
/// node counts as satisfying: the nodes above it on the path are left for
/// paths of their own, if they are not pruned too); returns the distinct
/// untagged midpoints to evaluate next.
fn bisection_midpoints(active: &mut [Bisection], tags: &[u8], pruning: &Pruning) -> Vec<u64> {
    let mut midpoints: Vec<u64> = Vec::with_capacity(active.len());
    for b in active.iter_mut() {
        while b.lo < b.hi {
            let mid = b.mid();
            let node = b.path[mid];
            let tag = if pruning.pruned(node) {
                YES
            } else {
                tags[node as usize]
            };
            match tag {
                YES => b.hi = mid,
                NO => b.lo = mid + 1,
                _ => {
                    if !midpoints.contains(&node) {
                        midpoints.push(node);
                    }
                    break;
                }
            }
            b.top_first = false;
        }
    }
    midpoints
}

/// Adds to a round of fewer `midpoints` than `threads` the midpoint each
/// bisection in `active` checks next should its current one satisfy (a
/// path's top, which the bound-first tagging checks first, mostly does),
/// while there are threads left over: a thread that would wait for the
/// round's only node checks that one now rather than in a round of its
/// own. Every check tags soundly, so the optimum is the same; the search
/// checks a few more nodes in fewer rounds (on two threads FARS, k = 5
/// without suppression, 81 -> 82 nodes, 3.51–3.83 -> 3.40–3.92 ms, four of
/// five interleaved rounds faster; adult9 102 -> 104 nodes, 1.39–1.43 ->
/// 1.37–1.39 ms). Not in the bottom-up tagging, whose midpoints satisfy or
/// fail alike: on cup, 48 -> 51 nodes and slower.
/// On one thread a round never has fewer nodes than threads.
fn guess_next(
    active: &[Bisection],
    tags: &[u8],
    pruning: &Pruning,
    threads: usize,
    midpoints: &mut Vec<u64>,
) {
    for b in active {
        if midpoints.len() >= threads {
            return;
        }
        let mid = b.mid();
        if b.lo < mid {
            let node = b.path[(b.lo + mid) / 2];
            if tags[node as usize] == UNKNOWN && !pruning.pruned(node) && !midpoints.contains(&node)
            {
                midpoints.push(node);
            }
        }
    }
}

/// The nodes each bisection in `active` checks after its current midpoint,
/// whether that satisfies or not, in order of the bisections; without the
/// round's `midpoints` and nodes already tagged or pruned.
fn next_midpoints(
    active: &[Bisection],
    tags: &[u8],
    pruning: &Pruning,
    midpoints: &[u64],
) -> Vec<u64> {
    let mut next = Vec::with_capacity(2 * active.len());
    for b in active {
        let mid = b.mid();
        let satisfies = (b.lo < mid).then(|| (b.lo + mid) / 2);
        let fails = (!b.top_first && mid + 1 < b.hi).then(|| (mid + 1 + b.hi) / 2);
        for at in satisfies.into_iter().chain(fails) {
            let node = b.path[at];
            if tags[node as usize] == UNKNOWN
                && !pruning.pruned(node)
                && !midpoints.contains(&node)
                && !next.contains(&node)
            {
                next.push(node);
            }
        }
    }
    next
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
    (checked, deadline): (&mut u64, Option<Instant>),
) -> Result<Option<NodeEvaluation>, Stopped> {
    let mut best: Option<NodeEvaluation> = None;
    let mut dominated = vec![false; lattice.size() as usize];
    let mut by_level: Vec<Vec<u64>> = vec![Vec::new(); heights];
    for &i in candidates {
        by_level[lattice.height_of(i) as usize].push(i);
    }
    for group in by_level {
        before(deadline)?;
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
    Ok(best)
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
    pruning: Pruning,
    (checked, deadline): (&mut u64, Option<Instant>),
) -> Result<Option<NodeEvaluation>, Stopped> {
    // The best node phase 1 found (pruning's, when it pruned).
    let mut best = pruning.best;
    let bounds: Vec<Option<f64>> = candidates
        .iter()
        .map(|&i| pruning.bounds.get(i as usize).copied())
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
        before(deadline)?;
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
    Ok(best)
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
    // (Infeasible nodes, best score first.)
    queue.push(LowestFirst { key: 0.0, item: 0 });
    while let Some(LowestFirst { item: index, .. }) = queue.pop() {
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
                queue.push(LowestFirst {
                    key: score,
                    item: s,
                });
            }
        }
    }
    Outcome {
        best,
        nodes_checked: checked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::{Aggregate, MetricKind, MetricSpec};
    use crate::ruleset::Ruleset;
    use crate::search::AnonymizationConfig;

    /// With threads to spare, the evaluator computes every node's bound and
    /// the bound-first order beside the bottom table's count: the same as
    /// the search computes without them; on one thread, none.
    #[test]
    fn bounds_computed_ahead_equal_the_search_own() {
        let data = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())
            .and_then(|r| r.load())
            .expect("adult9 loads");
        let config =
            AnonymizationConfig::new(vec![crate::model::ModelSpec::KAnonymity { k: 5 }], 0.0)
                .with_metric(MetricSpec::new(MetricKind::Loss));
        let orders = std::collections::BTreeMap::new();
        let evaluator = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| Evaluator::new(&data.dataset, &data.hierarchies, &config, &orders))
                .expect("evaluator")
        };
        let two = evaluator(2);
        let heights: Vec<u32> = two.hierarchies.iter().map(|h| h.height() as u32).collect();
        let bounds = lower_bounds(&two.utility, &heights).expect("Loss has a bound");
        let order = by_bound(&heights, &bounds);
        let (ahead_bounds, ahead_order) = two.take_ahead().expect("computed ahead");
        assert_eq!(
            ahead_bounds.iter().map(|b| b.to_bits()).collect::<Vec<_>>(),
            bounds.iter().map(|b| b.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(ahead_order, order);
        assert!(two.take_ahead().is_none(), "taken once");
        assert!(evaluator(1).take_ahead().is_none());
    }

    /// Every node's bound from the incremental folds equals the bound
    /// computed at the node, to the bit, for every metric with one and
    /// every aggregate (on adult9's 12,960 nodes, with unequal weights).
    #[test]
    fn all_bounds_equal_each_node_bound() {
        let data = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())
            .and_then(|r| r.load())
            .expect("adult9 loads");
        let qis = data.hierarchies.quasi_identifiers(&data.dataset);
        let lattice = Lattice::new(qis.iter().map(|h| h.height() as u32).collect()).unwrap();
        let aggregates = [
            Aggregate::Sum,
            Aggregate::Max,
            Aggregate::ArithmeticMean,
            Aggregate::GeometricMean,
        ];
        for kind in MetricKind::ALL {
            for aggregate in aggregates {
                let mut spec = MetricSpec::new(kind);
                spec.aggregate = Some(aggregate);
                spec.weights.insert("age".into(), 0.9);
                spec.weights.insert("sex".into(), 0.1);
                let utility = UtilityModel::new(&data.dataset, &data.hierarchies, &spec).unwrap();
                let Some(bounds) = lower_bounds(&utility, lattice.heights()) else {
                    assert!(utility.lower_bound_unchecked(&lattice.node(0)).is_none());
                    continue;
                };
                assert_eq!(bounds.len() as u64, lattice.size());
                for (i, &b) in bounds.iter().enumerate() {
                    let at_node = utility.lower_bound_unchecked(&lattice.node(i as u64));
                    assert_eq!(
                        Some(b.to_bits()),
                        at_node.map(f64::to_bits),
                        "{kind:?} {aggregate:?} node {i}"
                    );
                }
            }
        }
    }

    /// The counting sort by bound keeps every node once, its ranges in
    /// increasing order, by height then index within a range.
    #[test]
    fn nodes_sort_by_bound_ranges_then_height() {
        // Heights 1 and 3: node i has levels (i / 4, i % 4), height
        // i / 4 + i % 4.
        let lattice = Lattice::new(vec![1, 3]).expect("lattice");
        let bounds = [0.5, 0.0, 1.0, 0.5, 0.25, 0.0, 1.0, 0.5000001];
        // Ranges: 0.0 (1, 5), 0.25 (4), 0.5 (0 at height 0, 3 at 3, 7 at 4),
        // 1.0 (2 at height 2, 6 at 3).
        assert_eq!(
            by_bound(lattice.heights(), &bounds),
            vec![1, 5, 4, 0, 3, 7, 2, 6]
        );
        // Equal bounds: one range, by height then index (the order of
        // `by_height`).
        let flat: Vec<u64> = lattice.by_height().into_iter().flatten().collect();
        assert_eq!(by_bound(lattice.heights(), &[0.3; 8]), flat);
        assert_eq!(flat, vec![0, 1, 4, 2, 5, 3, 6, 7]);
    }

    /// Closures through the spanning tree tag exactly what tagging every
    /// node reachable through untagged neighbours does, whatever nodes a
    /// monotone predicate (here: a weighted level sum at a threshold) is
    /// checked at, and in whatever order.
    #[test]
    fn spanning_tree_closures_tag_as_a_walk_through_every_neighbour() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(17);
        for case in 0..200 {
            let dims = rng.random_range(1..=6);
            let heights: Vec<u32> = (0..dims).map(|_| rng.random_range(0..=4)).collect();
            let lattice = Lattice::new(heights.clone()).expect("lattice");
            let weights: Vec<u32> = (0..dims).map(|_| rng.random_range(1..=3)).collect();
            let top: u32 = heights.iter().zip(&weights).map(|(h, w)| h * w).sum();
            let threshold = rng.random_range(0..=top);
            let size = lattice.size() as usize;
            let (mut fast, mut slow) = (vec![UNKNOWN; size], vec![UNKNOWN; size]);
            let mut stack = Vec::new();
            for _ in 0..rng.random_range(1..=12) {
                let index = rng.random_range(0..lattice.size());
                if fast[index as usize] != UNKNOWN {
                    continue;
                }
                let weight: u32 = lattice
                    .levels(index)
                    .iter()
                    .zip(&weights)
                    .map(|(l, w)| l * w)
                    .sum();
                let (value, up) = if weight >= threshold {
                    (YES, true)
                } else {
                    (NO, false)
                };
                if up {
                    tag_closure::<true>(&lattice, &mut fast, &mut stack, index, value);
                } else {
                    tag_closure::<false>(&lattice, &mut fast, &mut stack, index, value);
                }
                // Every node reachable through untagged neighbours.
                let mut todo = vec![index];
                slow[index as usize] = value;
                while let Some(i) = todo.pop() {
                    let next: Vec<u64> = if up {
                        lattice.successors(i).collect()
                    } else {
                        lattice.predecessors(i).collect()
                    };
                    for j in next {
                        if slow[j as usize] == UNKNOWN {
                            slow[j as usize] = value;
                            todo.push(j);
                        }
                    }
                }
                assert_eq!(fast, slow, "case {case}, heights {heights:?}");
            }
            assert!(fast.iter().any(|&t| t != UNKNOWN));
        }
    }
}
