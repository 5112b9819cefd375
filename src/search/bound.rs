//! A lower bound on the optimum over a lattice too large to list
//! ([§6.5](crate::methods#65-best-effort-search)): the least lower bound of
//! the nodes that are not below a node known to fail, found by a best-first
//! branch and bound over the levels each attribute must exceed.

use std::collections::BinaryHeap;
use std::time::Instant;

use rustc_hash::FxHashSet;

use crate::metric::UtilityModel;
use crate::search::lowest::LowestFirst;

/// Nodes known to fail a predicate that is monotone under generalization:
/// every node below one of them fails too. Their levels are kept in one flat
/// array, a byte per attribute.
#[derive(Clone, Debug, Default)]
pub(crate) struct Failures {
    width: usize,
    levels: Vec<u8>,
}

impl Failures {
    /// No failures yet, for nodes of `width` attributes.
    pub(crate) fn new(width: usize) -> Self {
        Failures {
            width,
            levels: Vec::new(),
        }
    }

    /// Records a failing node by its levels (ignored when a level does not
    /// fit a byte: the bound then only gets weaker).
    pub(crate) fn push(&mut self, levels: &[u32]) {
        debug_assert_eq!(levels.len(), self.width);
        if levels.iter().all(|&l| l <= u32::from(u8::MAX)) {
            self.levels.extend(levels.iter().map(|&l| l as u8));
        }
    }

    /// The recorded nodes' levels.
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.levels.chunks_exact(self.width.max(1))
    }
}

/// Whether `node ≤ above` in every attribute (no early exit: a loop the
/// compiler vectorizes).
fn below(node: &[u8], above: &[u8]) -> bool {
    node.iter()
        .zip(above)
        .fold(true, |ok, (a, b)| ok & (a <= b))
}

/// When the bound search stops early.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BoundLimit {
    /// The time it must stop by.
    pub(crate) deadline: Option<Instant>,
    /// The most branches it expands.
    pub(crate) max_expansions: usize,
}

/// A branch: every node at or above the levels (`item`), none of whose
/// lower bounds is below the cost (`key`).
type Branch = LowestFirst<Vec<u8>>;

/// The failing nodes above a branch looked at when choosing where to split
/// it (the first that dominate it, in the order found).
const SPLIT_CANDIDATES: usize = 64;

/// Where a [`Frontier`] stands after [`Frontier::next`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    /// The cheapest branch starts at a node neither checked nor below a
    /// failing node, of these levels; its cost bounds every node left.
    Open { levels: Vec<u8>, cost: f64 },
    /// Every node fails, is checked or costs at least the incumbent.
    Closed,
    /// Stopped by the limit: the cost of the cheapest branch left.
    Stopped(f64),
}

/// A branch's cost from its levels (never decreasing when a level rises).
type Cost<'c> = Box<dyn Fn(&[u8]) -> f64 + 'c>;

/// The nodes of a lattice not yet ruled out, as branches (each the nodes at
/// or above a vector of levels), kept across calls so that a search can
/// ask for the cheapest node left, check it, and ask again.
pub(crate) struct Frontier<'c> {
    heights: Vec<u32>,
    cost: Cost<'c>,
    heap: BinaryHeap<Branch>,
    queued: FxHashSet<Vec<u8>>,
}

impl<'c> Frontier<'c> {
    /// The whole lattice of `heights` (levels of at most 255) as one
    /// branch; `cost` must never decrease when a level rises.
    pub(crate) fn new(heights: &[u32], cost: Cost<'c>) -> Self {
        let start = vec![0u8; heights.len()];
        let mut heap = BinaryHeap::new();
        heap.push(Branch {
            key: cost(&start),
            item: start.clone(),
        });
        let mut queued = FxHashSet::default();
        queued.insert(start);
        Frontier {
            heights: heights.to_vec(),
            cost,
            heap,
            queued,
        }
    }

    /// The frontier for the metric's lower bound: the per-attribute bound
    /// terms made non-decreasing in the level (each the least term at that
    /// level or above) and folded as the node bounds are, so that a
    /// branch's cost bounds every node of the branch. `None` when the
    /// metric has no bound or a hierarchy is taller than 255.
    pub(crate) fn for_metric(utility: &'c UtilityModel, heights: &[u32]) -> Option<Self> {
        let raw = utility.bound_terms()?;
        if heights.iter().any(|&h| h > u32::from(u8::MAX)) {
            return None;
        }
        let rising: Vec<Vec<f64>> = raw
            .iter()
            .zip(heights)
            .map(|(terms, &h)| {
                let mut rising = terms[..=h as usize].to_vec();
                for l in (0..h as usize).rev() {
                    rising[l] = rising[l].min(rising[l + 1]);
                }
                rising
            })
            .collect();
        let cost = move |levels: &[u8]| {
            let acc = levels
                .iter()
                .enumerate()
                .fold(utility.fold_start(), |acc, (j, &l)| {
                    utility.fold_step(acc, j, rising[j][l as usize])
                });
            utility.fold_finish(acc)
        };
        Some(Frontier::new(heights, Box::new(cost)))
    }

    /// Expands the cheapest branches until one starts at a node that is
    /// neither `checked` nor below a node of `failures`, and returns it
    /// (kept in the frontier: once checked, the next call splits it), or
    /// until every branch left costs at least `incumbent`, or `limit`.
    /// A branch below a failing node splits into one branch per attribute
    /// that node leaves room above (that attribute raised just past it;
    /// of the first failing nodes found above the branch, the one that
    /// leaves the fewest branches cheaper than `incumbent`); a branch
    /// starting at a checked node splits likewise around that node alone.
    pub(crate) fn next(
        &mut self,
        failures: &Failures,
        checked: &dyn Fn(&[u8]) -> bool,
        incumbent: f64,
        limit: BoundLimit,
    ) -> Step {
        let mut expansions = 0usize;
        while let Some(branch) = self.heap.pop() {
            if branch.key >= incumbent {
                // (The incumbent never rises: nothing left can beat it.)
                self.heap.clear();
                return Step::Closed;
            }
            if expansions >= limit.max_expansions
                || (expansions.is_multiple_of(16)
                    && limit.deadline.is_some_and(|d| Instant::now() >= d))
            {
                let cost = branch.key;
                self.heap.push(branch);
                return Step::Stopped(cost);
            }
            expansions += 1;
            let heights = &self.heights;
            // What each attribute raised to each level would cost.
            let raised: Vec<Vec<f64>> = (0..heights.len())
                .map(|j| {
                    let mut levels = branch.item.clone();
                    (0..=heights[j] as usize)
                        .map(|l| {
                            if l <= branch.item[j] as usize {
                                return branch.key;
                            }
                            levels[j] = l as u8;
                            (self.cost)(&levels)
                        })
                        .collect()
                })
                .collect();
            // Whether raising attribute j just past `above` leaves a branch
            // worth keeping.
            let child = |above: &[u8], j: usize| {
                u32::from(above[j]) < heights[j] && raised[j][above[j] as usize + 1] < incumbent
            };
            // The failing node above the branch that leaves the fewest branches.
            let mut split: Option<(usize, &[u8])> = None;
            for above in failures
                .iter()
                .filter(|f| below(&branch.item, f))
                .take(SPLIT_CANDIDATES)
            {
                let n = (0..heights.len()).filter(|&j| child(above, j)).count();
                if split.is_none_or(|(m, _)| n < m) {
                    split = Some((n, above));
                    if n == 0 {
                        break;
                    }
                }
            }
            let above = match split {
                Some((_, above)) => above,
                None if checked(&branch.item) => &branch.item,
                None => {
                    let (levels, cost) = (branch.item.clone(), branch.key);
                    self.heap.push(branch);
                    return Step::Open { levels, cost };
                }
            };
            let new: Vec<Branch> = (0..heights.len())
                .filter(|&j| child(above, j))
                .map(|j| {
                    let mut levels = branch.item.clone();
                    levels[j] = above[j] + 1;
                    Branch {
                        key: raised[j][levels[j] as usize],
                        item: levels,
                    }
                })
                .collect();
            for child in new {
                if self.queued.insert(child.item.clone()) {
                    self.heap.push(child);
                }
            }
        }
        Step::Closed
    }
}

/// The least lower bound of the nodes `frontier` holds that are neither
/// `checked` nor below a node of `failures`, or `incumbent` (the best
/// score found) when that is lower: a lower bound on the optimum's score
/// (`f64::INFINITY` when every node fails). Stopped by `limit`, the cost of
/// the cheapest branch left, still a lower bound.
pub(crate) fn least_bound(
    frontier: &mut Frontier<'_>,
    failures: &Failures,
    checked: &dyn Fn(&[u8]) -> bool,
    incumbent: Option<f64>,
    limit: BoundLimit,
) -> f64 {
    let incumbent = incumbent.unwrap_or(f64::INFINITY);
    match frontier.next(failures, checked, incumbent, limit) {
        Step::Open { cost, .. } | Step::Stopped(cost) => cost.min(incumbent),
        Step::Closed => incumbent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Every node of the lattice of `heights`, by its levels.
    fn nodes(heights: &[u32]) -> Vec<Vec<u8>> {
        let mut all = vec![Vec::new()];
        for &h in heights {
            all = all
                .into_iter()
                .flat_map(|n| {
                    (0..=h as u8).map(move |l| {
                        let mut n = n.clone();
                        n.push(l);
                        n
                    })
                })
                .collect();
        }
        all
    }

    /// [`least_bound`] over a new frontier of `cost`.
    fn bound_of(
        heights: &[u32],
        cost: &dyn Fn(&[u8]) -> f64,
        failures: &Failures,
        checked: &dyn Fn(&[u8]) -> bool,
        incumbent: Option<f64>,
        limit: BoundLimit,
    ) -> f64 {
        let mut frontier = Frontier::new(heights, Box::new(cost));
        least_bound(&mut frontier, failures, checked, incumbent, limit)
    }

    const UNLIMITED: BoundLimit = BoundLimit {
        deadline: None,
        max_expansions: usize::MAX,
    };

    /// A random lattice of up to 5 attributes and a rising cost: separable
    /// terms, summed, or (one case in three) their maximum.
    fn random_case(rng: &mut StdRng, case: usize) -> (Vec<u32>, Vec<Vec<f64>>, bool) {
        let width = rng.random_range(1..=5usize);
        let heights: Vec<u32> = (0..width).map(|_| rng.random_range(0..=4)).collect();
        let terms = heights
            .iter()
            .map(|&h| {
                let mut t = 0.0;
                (0..=h)
                    .map(|_| {
                        t += f64::from(rng.random_range(0..4u32)) / 4.0;
                        t
                    })
                    .collect()
            })
            .collect();
        (heights, terms, case.is_multiple_of(3))
    }

    fn cost_of(terms: &[Vec<f64>], max: bool, levels: &[u8]) -> f64 {
        let terms = levels
            .iter()
            .enumerate()
            .map(|(j, &l)| terms[j][l as usize]);
        if max {
            terms.fold(0.0, f64::max)
        } else {
            terms.sum()
        }
    }

    /// On random lattices, costs, failures and checked nodes: without a
    /// limit, the bound is the least cost of a node neither checked nor
    /// below a failure (or the incumbent), found by listing every node;
    /// with a limit of a few expansions, at most that.
    #[test]
    fn least_bound_is_the_least_cost_outside_the_failures() {
        let mut rng = StdRng::seed_from_u64(17);
        let (mut above_bottom, mut short) = (0, 0);
        for case in 0..400 {
            let (heights, terms, max) = random_case(&mut rng, case);
            let width = heights.len();
            let cost = |levels: &[u8]| cost_of(&terms, max, levels);
            let all = nodes(&heights);
            let mut failures = Failures::new(width);
            for _ in 0..rng.random_range(0..=12) {
                let n = &all[rng.random_range(0..all.len())];
                failures.push(&n.iter().map(|&l| u32::from(l)).collect::<Vec<_>>());
            }
            let checked: FxHashSet<Vec<u8>> = (0..rng.random_range(0..=3))
                .map(|_| all[rng.random_range(0..all.len())].clone())
                .collect();
            let is_checked = |l: &[u8]| checked.contains(l);
            let incumbent = (rng.random_range(0..3) > 0)
                .then(|| f64::from(rng.random_range(0..4 * width as u32 + 2)) / 4.0);
            let truth = all
                .iter()
                .filter(|n| !checked.contains(*n) && !failures.iter().any(|f| below(n, f)))
                .map(|n| cost(n))
                .fold(incumbent.unwrap_or(f64::INFINITY), f64::min);
            let found = bound_of(
                &heights,
                &cost,
                &failures,
                &is_checked,
                incumbent,
                UNLIMITED,
            );
            assert_eq!(
                found, truth,
                "case {case}: {heights:?} {failures:?} {checked:?} {incumbent:?}"
            );
            let cut = BoundLimit {
                deadline: None,
                max_expansions: 1,
            };
            let early = bound_of(&heights, &cost, &failures, &is_checked, incumbent, cut);
            assert!(early <= truth, "case {case}");
            above_bottom += usize::from(truth > cost(&vec![0; width]));
            short += usize::from(early < truth);
        }
        // (The cases are not all trivial: the bound is often above the
        // bottom's cost, and a cut search often falls short of it.)
        assert!(above_bottom >= 150 && short >= 40, "{above_bottom} {short}");
    }

    /// Asked again and again, each open node checked in turn (or, every
    /// third, found failing), the frontier gives every node not below a
    /// failure exactly once, in order of cost, and then closes.
    #[test]
    fn frontier_lists_the_open_nodes_in_order_of_cost() {
        let mut rng = StdRng::seed_from_u64(29);
        for case in 0..200 {
            let (heights, terms, max) = random_case(&mut rng, case);
            let all = nodes(&heights);
            let mut frontier =
                Frontier::new(&heights, Box::new(|l: &[u8]| cost_of(&terms, max, l)));
            let mut failures = Failures::new(heights.len());
            let mut checked = FxHashSet::default();
            let mut listed = Vec::new();
            loop {
                let is_checked = |l: &[u8]| checked.contains(l);
                match frontier.next(&failures, &is_checked, f64::INFINITY, UNLIMITED) {
                    Step::Open { levels, cost } => {
                        assert_eq!(cost, cost_of(&terms, max, &levels));
                        assert!(!failures.iter().any(|f| below(&levels, f)));
                        if listed.len() % 3 == 2 {
                            failures
                                .push(&levels.iter().map(|&l| u32::from(l)).collect::<Vec<_>>());
                        }
                        listed.push((cost, levels.clone()));
                        assert!(checked.insert(levels), "case {case}: listed twice");
                    }
                    Step::Closed => break,
                    Step::Stopped(_) => unreachable!("no limit"),
                }
            }
            assert!(listed.windows(2).all(|w| w[0].0 <= w[1].0), "case {case}");
            let open = all
                .iter()
                .filter(|n| !failures.iter().any(|f| below(n, f)) || checked.contains(*n))
                .count();
            assert_eq!(listed.len(), open, "case {case}");
        }
    }

    /// Every node failing: no bound but infinity; no failure: the bottom.
    #[test]
    fn least_bound_extremes() {
        let heights = [2u32, 3];
        let cost = |l: &[u8]| f64::from(l[0]) + 2.0 * f64::from(l[1]) + 0.5;
        let none = |_: &[u8]| false;
        let mut failures = Failures::new(2);
        let bound =
            |f: &Failures, incumbent| bound_of(&heights, &cost, f, &none, incumbent, UNLIMITED);
        assert_eq!(bound(&failures, None), 0.5);
        failures.push(&[2, 3]);
        assert_eq!(failures.iter().count(), 1);
        assert_eq!(bound(&failures, None), f64::INFINITY);
        assert_eq!(bound(&failures, Some(4.0)), 4.0);
        // Below (1, 1) fails: the cheapest escapes are (2, 0) and (0, 2).
        let mut failures = Failures::new(2);
        failures.push(&[1, 1]);
        assert_eq!(bound(&failures, None), 2.5);
        assert_eq!(bound(&failures, Some(1.0)), 1.0);
    }
}
