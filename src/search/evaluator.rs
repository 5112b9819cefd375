//! Evaluating one node: classes, outliers, feasibility and score.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error::Result;
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::hierarchy::set::Hierarchies;
use crate::metric::{NodeScore, UtilityModel};
use crate::model::{PrivacyModel, Release};
use crate::search::cache::{Cached, RollUpCache};
use crate::search::config::{AnonymizationConfig, Strategy};
use crate::search::crew;
use crate::search::lattice::MAX_LATTICE_NODES;
use crate::search::strategies::{by_bound, lower_bounds};

/// The outcome of evaluating one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeEvaluation {
    /// The node.
    pub node: Node,
    /// Whether the suppressed records stay within the limit.
    pub feasible: bool,
    /// Records in classes that fail a model, or that a model of the whole
    /// release takes away (suppressed when feasible). When the count
    /// stopped early at the limit, a lower bound.
    pub suppressed: u64,
    /// Classes kept (not suppressed).
    pub classes: usize,
    /// Classes suppressed.
    pub suppressed_classes: usize,
    /// The score, for feasible nodes.
    pub score: Option<NodeScore>,
}

/// Everything needed to evaluate nodes: the bottom frequency table, the
/// models, the limit and the metric.
pub(crate) struct Evaluator<'a> {
    pub(crate) bottom: FrequencyTable,
    pub(crate) hierarchies: Vec<&'a CompiledHierarchy>,
    pub(crate) models: Vec<Box<dyn PrivacyModel>>,
    pub(crate) min_class_size: u64,
    /// Whether class sizes alone decide every model (k-anonymity, k-map
    /// and the models of the whole release): then classes of the minimal
    /// size are never checked further.
    sizes_decide: bool,
    /// The models that judge the release as a whole (indices into `models`).
    release_models: Vec<usize>,
    pub(crate) max_suppressed: u64,
    pub(crate) utility: UtilityModel,
    /// Tables of evaluated nodes, reused as roll-up sources, sorted by
    /// increasing number of classes.
    cache: RollUpCache,
    /// The bottom table's classes once per table capped at level 1 so far,
    /// and the classes of those tables (see [`Evaluator::source`]).
    capped: [AtomicU64; 2],
    /// Whether nodes without a cached source go through capped tables (see
    /// [`Evaluator::source`]; the optimal search turns them off on data
    /// of nearly unique records).
    capping: AtomicBool,
    /// The capped tables counted or being counted, by node.
    caps: Mutex<FxHashMap<Node, Arc<OnceLock<Arc<Cached>>>>>,
    /// Every node's lower bound and the nodes in bound-first order,
    /// computed beside the count of the bottom table (see [`bounds_ahead`]).
    ahead: Mutex<Option<(Vec<f64>, Vec<u64>)>>,
    /// The records of the bottom table (summed once: its counts are
    /// summed on each call of [`FrequencyTable::rows`]).
    rows: u64,
}

/// The classes not marked in `outlier`, by increasing size, equal sizes in
/// order of first appearance (class index): a counting sort when the sizes
/// are small against the number of classes, else a stable sort.
fn kept_by_size(counts: &[u64], outlier: &[bool]) -> Vec<usize> {
    let kept = (0..counts.len()).filter(|&c| !outlier[c]);
    let largest = counts.iter().copied().max().unwrap_or(0);
    if largest > 4 * counts.len() as u64 + 1024 {
        let mut kept: Vec<usize> = kept.collect();
        kept.sort_by_key(|&c| counts[c]);
        return kept;
    }
    // starts[s] = where the classes of size s begin.
    let mut starts = vec![0usize; largest as usize + 2];
    for c in kept.clone() {
        starts[counts[c] as usize + 1] += 1;
    }
    for s in 1..starts.len() {
        starts[s] += starts[s - 1];
    }
    let mut sorted = vec![0usize; starts[starts.len() - 1]];
    for c in kept {
        let slot = &mut starts[counts[c] as usize];
        sorted[*slot] = c;
        *slot += 1;
    }
    sorted
}

/// Every node's lower bound and the nodes in bound-first order, for the
/// lattice of `heights` when the metric has a bound and the optimal search
/// takes the lattice: work the optimal search would do first, done on a
/// thread that would otherwise wait for the bottom table's count (on two
/// threads, FARS k = 5 without suppression 5.94 -> 5.67 ms, adult9 2.20 -> 1.97
/// ms, the best of interleaved rounds).
fn bounds_ahead(utility: &UtilityModel, heights: &[u32]) -> Option<(Vec<f64>, Vec<u64>)> {
    let size = heights
        .iter()
        .try_fold(1u64, |size, &h| size.checked_mul(u64::from(h) + 1))
        .filter(|&size| size <= MAX_LATTICE_NODES)?;
    let bounds = lower_bounds(utility, heights)?;
    debug_assert_eq!(bounds.len() as u64, size);
    let order = by_bound(heights, &bounds);
    Some((bounds, order))
}

/// Nodes of at most this many keys (such as the top of a lattice whose
/// hierarchies end in one value) roll up from the bottom table, in one
/// lookup per class, rather than from a table capped at level 1 made for
/// them (see [`Evaluator::source`]): the bound-first search checks the top
/// first, on its own, and the capped table then cost FARS's search without
/// suppression a pass over the bottom table while the other thread waited
/// (3.94 -> 3.73 ms on two threads, 5.81 -> 5.15 ms on one; interleaved
/// rounds, each faster. 1,024 keys did worse on FARS.)
const TINY_SPACE: u64 = 1;

/// The most classes kept in the roll-up cache (over all cached tables).
const CACHE_CLASSES: usize = 8_000_000;

impl<'a> Evaluator<'a> {
    /// Prepares the evaluation of `config` on `dataset`.
    pub(crate) fn new(
        dataset: &'a Dataset,
        hierarchies: &'a Hierarchies,
        config: &AnonymizationConfig,
        orders: &BTreeMap<String, Vec<String>>,
    ) -> Result<Evaluator<'a>> {
        config.check()?;
        let models = config
            .models
            .iter()
            .map(|m| m.build(dataset, hierarchies, orders))
            .collect::<Result<Vec<_>>>()?;
        let width = dataset.quasi_identifiers().len();
        let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
        let heights: Vec<u32> = compiled.iter().map(|h| h.height() as u32).collect();
        // (Two independent passes over the rows; beside the count, with
        // threads to spare, the optimal search's lower bounds too, and then
        // half the bottom table's stepped keys.)
        let beside = Beside::default();
        let (bottom, utility) = rayon::join(
            || beside.count(dataset, hierarchies, &compiled, width),
            || {
                let utility = UtilityModel::new(dataset, hierarchies, &config.metric);
                let ahead = (rayon::current_num_threads() > 1
                    && config.strategy == Strategy::Optimal)
                    .then(|| {
                        utility
                            .as_ref()
                            .ok()
                            .and_then(|u| bounds_ahead(u, &heights))
                    })
                    .flatten();
                beside.help(&compiled);
                Ok::<_, crate::Error>((utility?, ahead))
            },
        );
        let (counted, (utility, ahead)) = (bottom?, utility?);
        let bottom = beside.into_bottom(counted);
        let evaluator = Evaluator::assemble(bottom, compiled, models, utility, config);
        *evaluator.ahead.lock().expect("ahead lock") = ahead;
        Ok(evaluator)
    }

    /// The lower bounds and the bound-first order computed ahead (see
    /// [`bounds_ahead`]), once.
    pub(crate) fn take_ahead(&self) -> Option<(Vec<f64>, Vec<u64>)> {
        self.ahead.lock().expect("ahead lock").take()
    }

    /// Prepares the evaluation from an already counted bottom table (at the
    /// node with every level 0), the quasi-identifiers' hierarchies (column
    /// order), the built models and the metric (for a table counted without
    /// an encoded [`Dataset`], such as a streamed one).
    pub(crate) fn from_parts(
        bottom: FrequencyTable,
        hierarchies: Vec<&'a CompiledHierarchy>,
        models: Vec<Box<dyn PrivacyModel>>,
        utility: UtilityModel,
        config: &AnonymizationConfig,
    ) -> Evaluator<'a> {
        let bottom = bottom.packed(&hierarchies).with_stepped_keys(&hierarchies);
        Evaluator::assemble(bottom, hierarchies, models, utility, config)
    }

    /// [`Evaluator::from_parts`] once the bottom table is packed and has
    /// its stepped keys.
    fn assemble(
        bottom: FrequencyTable,
        hierarchies: Vec<&'a CompiledHierarchy>,
        models: Vec<Box<dyn PrivacyModel>>,
        utility: UtilityModel,
        config: &AnonymizationConfig,
    ) -> Evaluator<'a> {
        let rows = bottom.rows();
        let bottom = bottom.with_dense_histograms();
        Evaluator {
            bottom,
            hierarchies,
            min_class_size: models
                .iter()
                .map(|m| m.minimal_class_size())
                .max()
                .unwrap_or(1),
            sizes_decide: models.iter().all(|m| m.decided_by_size()),
            release_models: (0..models.len())
                .filter(|&m| models[m].judges_release())
                .collect(),
            max_suppressed: (config.suppression_limit * rows as f64).floor() as u64,
            models,
            utility,
            cache: RollUpCache::new(CACHE_CLASSES),
            capped: [AtomicU64::new(0), AtomicU64::new(0)],
            capping: AtomicBool::new(true),
            caps: Mutex::new(FxHashMap::default()),
            ahead: Mutex::new(None),
            rows,
        }
    }

    /// The table at `node` rolled up from `source`, a cached table below
    /// it (`None`: the bottom table), cached with its histograms owed (see
    /// [`Cached`]): a table capped at level 1 is a
    /// source for the counts of many nodes, some of which fail on class
    /// sizes alone, and the nodes that need histograms gather them through
    /// it then (adult8 with 0.2-closeness and 2 % suppression makes about
    /// 50 capped tables of 12,458 bottom classes each: 42.2–43.1 -> 39.4–41.6
    /// ms on one thread, five interleaved rounds; distinct-2 9.1–9.8 -> 8.2–8.9).
    fn counted_from(&self, source: Option<Arc<Cached>>, node: &Node) -> Arc<Cached> {
        let from = source.as_deref().map_or(&self.bottom, Cached::counts);
        let (table, assignment) = from
            .roll_up_counts(&self.hierarchies, node)
            .expect("nodes of the lattice are above the bottom");
        let table = match assignment {
            Some(assignment) => Cached::owing(table, source, assignment),
            None => Cached::complete(Arc::new(table)),
        };
        self.cache.insert(node, &table);
        table
    }

    /// Whether every model is decided by class sizes alone and none judges
    /// the release as a whole: a class then satisfies the models exactly
    /// when it has at least `min_class_size` records, and so
    /// does any union of classes with one such class among them.
    pub(crate) fn classes_decide_alone(&self) -> bool {
        self.sizes_decide && self.release_models.is_empty()
    }

    /// The best table to roll `node` up from: the smallest cached table of a
    /// node below it, else the table at `node` capped at level 1 (computed
    /// and cached) while such tables pay, else none (the bottom table).
    fn source(&self, node: &Node) -> Option<Arc<Cached>> {
        let source = self.cache.smallest_below(node);
        // Capped tables are not worth their pass when those so far kept
        // nine tenths of the bottom's classes (on data of nearly unique
        // rows they keep all but a few), nor once a search has stopped
        // them (the optimal search on such data, before its first table:
        // see `strategies::optimal`).
        if source.is_some() || !self.capping_pays() {
            return source;
        }
        // Without a cached source, go through the node capped at level 1 in
        // every attribute: far smaller than the bottom and below many nodes.
        self.capped_node(node).map(|capped| self.cap(&capped))
    }

    /// `node` capped at level 1 in every attribute, when a table there is
    /// worth counting for it: not `node` itself, nor the bottom table's node
    /// (never below it: a table counted at minimum levels sits above the
    /// lattice's bottom), nor for a node of at most [`TINY_SPACE`] keys.
    fn capped_node(&self, node: &Node) -> Option<Node> {
        if self.key_space(node) <= TINY_SPACE {
            return None;
        }
        let capped = Node::new(
            node.levels()
                .iter()
                .zip(self.bottom.node().levels())
                .map(|(&l, &m)| l.min(1).max(m))
                .collect(),
        );
        (&capped != node && &capped != self.bottom.node()).then_some(capped)
    }

    /// The capped table at `capped`, counted once from the smallest cached
    /// table below it (else the bottom table).
    fn cap(&self, capped: &Node) -> Arc<Cached> {
        // Counted once: a thread asking for a capped table that another
        // is counting waits for it rather than counting it too (FARS
        // without suppression on two threads counted one of its seven
        // twice; 6.30 -> 6.13 ms, the best of 8 interleaved rounds).
        let cell = Arc::clone(
            self.caps
                .lock()
                .expect("caps lock")
                .entry(capped.clone())
                .or_default(),
        );
        Arc::clone(cell.get_or_init(|| {
            let source = self.cache.smallest_below(capped);
            let from = source
                .as_ref()
                .map_or(self.bottom.classes(), |s| s.counts().classes());
            let table = self.counted_from(source, capped);
            self.capped[0].fetch_add(from as u64, Ordering::Relaxed);
            self.capped[1].fetch_add(table.counts().classes() as u64, Ordering::Relaxed);
            table
        }))
    }

    /// The node whose capped table a round checking `nodes` counts first:
    /// when more of them than there are `threads` would each need a capped
    /// table of their own (see [`Evaluator::source`]), the meet of those
    /// capped nodes, counted once (see [`Evaluator::count_capped`]); the
    /// nodes then roll up from it. On adult9, k = 5 without suppression,
    /// one round needs six capped tables, each a pass over the 19,502
    /// bottom classes; their meet keeps 7,399. On one thread (interleaved
    /// criterion rounds): adult9 2.66–2.72 -> 2.36–2.45 ms, FARS 7.0–8.2 ->
    /// 6.5–6.7 ms (on two, see `strategies::predictive_tagging`). Only
    /// when the models are decided by class sizes: with histograms, every
    /// table rolled up from the meet owes them through it, and
    /// 0.2-closeness got slower (54.1–55.9 -> 57.7–59.8 ms on one thread).
    pub(crate) fn round_meet(
        &self,
        nodes: impl IntoIterator<Item = Node>,
        threads: usize,
    ) -> Option<Node> {
        if !self.capping_pays() || !self.sizes_decide {
            return None;
        }
        let mut meet: Option<Vec<u32>> = None;
        let mut needing = 0;
        for node in nodes {
            let Some(capped) = self.needs_cap(&node) else {
                continue;
            };
            needing += 1;
            meet = Some(match meet {
                None => capped.levels().to_vec(),
                Some(m) => m
                    .iter()
                    .zip(capped.levels())
                    .map(|(&a, &b)| a.min(b))
                    .collect(),
            });
        }
        meet.filter(|_| needing > threads)
            .map(Node::new)
            .filter(|meet| meet != self.bottom.node())
    }

    /// The capped node `node` would need a table of (see
    /// [`Evaluator::source`]), when it has no cached table below it.
    fn needs_cap(&self, node: &Node) -> Option<Node> {
        if !self.bottom.node().is_below(node) || self.cache.smallest_below(node).is_some() {
            return None;
        }
        self.capped_node(node)
    }

    /// Counts (once) the capped table at `capped`, a node capped at level
    /// 1 such as a round's meet (see [`Evaluator::round_meet`]).
    pub(crate) fn count_capped(&self, capped: &Node) {
        drop(self.cap(capped));
    }

    /// Makes the table capped at level 1 that `node` would roll up from
    /// when it has no cached table below it (see [`Evaluator::source`]),
    /// ahead of its check; whether a table was counted.
    pub(crate) fn prefetch(&self, node: &Node) -> bool {
        if !self.capping_pays() {
            return false;
        }
        if !self.bottom.node().is_below(node) {
            return false;
        }
        let before = self.capped[0].load(Ordering::Relaxed);
        drop(self.source(node));
        self.capped[0].load(Ordering::Relaxed) != before
    }

    /// Whether capped tables are still made (see [`Evaluator::source`]).
    pub(crate) fn capping_pays(&self) -> bool {
        let [from, kept] = self.capped.each_ref().map(|c| c.load(Ordering::Relaxed));
        10 * kept <= 9 * from && self.capping.load(Ordering::Relaxed)
    }

    /// Stops making capped tables (see [`Evaluator::source`]): nodes
    /// without a cached table below them roll up from the bottom table.
    pub(crate) fn stop_capping(&self) {
        self.capping.store(false, Ordering::Relaxed);
    }

    /// The number of distinct keys `node` can have (saturating).
    fn key_space(&self, node: &Node) -> u64 {
        self.hierarchies
            .iter()
            .zip(node.levels())
            .map(|(h, &l)| h.levels()[l as usize].cardinality() as u64)
            .fold(1u64, u64::saturating_mul)
    }

    /// Whether the bottom table has more than nine classes for every ten
    /// records (nearly every record unique in its quasi-identifiers).
    pub(crate) fn nearly_unique(&self) -> bool {
        10 * self.bottom.classes() as u64 > 9 * self.rows
    }

    /// Whether the records in classes smaller than the minimal class size
    /// fit in the suppression limit (stopping at the first block of classes
    /// past it). Summed without a branch per class, whose outcome follows
    /// the data (adult8 with 0.2-closeness and 2 % suppression spent 3.5 %
    /// of its search in the branching loop).
    fn small_classes_fit(&self, table: &FrequencyTable) -> bool {
        let (k, limit) = (self.min_class_size, self.max_suppressed);
        let mut small = 0u64;
        for block in table.counts().chunks(1024) {
            small += block
                .iter()
                .map(|&size| if size < k { size } else { 0 })
                .sum::<u64>();
            if small > limit {
                return false;
            }
        }
        true
    }

    /// Whether failing is monotone for the models as configured: every
    /// specialization of an infeasible node is infeasible too (each model
    /// monotone under generalization without suppression, under suppression
    /// with a limit; [§3.10](crate::methods#310-monotonicity-and-suppression)).
    pub(crate) fn monotone_privacy(&self) -> bool {
        self.models.iter().all(|m| {
            let flags = m.monotonicity();
            if self.max_suppressed == 0 {
                flags.generalization
            } else {
                flags.suppression
            }
        })
    }

    /// Evaluates `node` against every model. The first value says whether
    /// the records in classes smaller than the minimal class size fit in the
    /// budget: a weaker condition than feasibility, but monotone under
    /// generalization for every model (it is k-anonymity with suppression).
    pub(crate) fn evaluate(&self, node: &Node) -> (bool, NodeEvaluation) {
        if !self.bottom.node().is_below(node) {
            // Below a table counted at minimum levels: not reachable, and
            // (like every node below it) reported as failing.
            return (false, self.infeasible(node));
        }
        // Class sizes first: a node whose small classes exceed the budget
        // fails whatever the models say, and needs no histograms.
        let source = self.source(node);
        let from = source.as_deref().map_or(&self.bottom, Cached::counts);
        // More classes than the records allow when the small classes fit
        // (at most rows / minimal size large ones, and one per record
        // suppressed): the grouping stops there.
        let max_classes = self.rows / self.min_class_size + self.max_suppressed;
        let Some((mut table, assignment)) = from
            .roll_up_counts_within(&self.hierarchies, node, max_classes as usize)
            .expect("nodes of the lattice are above the bottom")
        else {
            return (false, self.infeasible(node));
        };
        if let Some(assignment) = assignment {
            if !self.small_classes_fit(&table) {
                // Cached owing its histograms: a source for the counts of
                // the nodes above (see [`Cached`]).
                self.cache
                    .insert(node, &Cached::owing(table, source, assignment));
                return (false, self.infeasible(node));
            }
            let from = source
                .as_deref()
                .map_or(&self.bottom, |s| s.with_histograms(&self.bottom));
            table.gather_histograms(from, &assignment);
        }
        let table = Arc::new(table);
        self.cache
            .insert(node, &Cached::complete(Arc::clone(&table)));
        let (minimal, evaluation, _) = self.judge(&table);
        (minimal, evaluation)
    }

    /// Suppresses the fewest of the smallest released classes (ties in order
    /// of first appearance, as ARX's `HashGroupifyDistribution`) that make
    /// the release satisfy the models of the whole release, marking them in
    /// `outlier`. Returns the records suppressed in all, or `None` when even
    /// the most classes the limit allows do not suffice.
    fn suppress_for_release(
        &self,
        table: &FrequencyTable,
        outlier: &mut [bool],
        suppressed: u64,
    ) -> Option<u64> {
        let kept = kept_by_size(table.counts(), outlier);
        let sizes: Vec<u64> = kept.iter().map(|&c| table.counts()[c]).collect();
        let prefix = Release::running_sums(&sizes);
        let release = Release::new(&sizes, &prefix);
        let passes = |removed: usize| {
            let rest = release.without_smallest(removed);
            self.release_models
                .iter()
                .all(|&m| self.models[m].is_satisfied_by_release(&rest))
        };
        if passes(0) {
            return Some(suppressed);
        }
        // The most classes the limit lets go (prefix[0] = 0 always fits).
        let most = prefix.partition_point(|&s| suppressed + s <= self.max_suppressed) - 1;
        if !passes(most) {
            return None;
        }
        // Bisection: `low` fails, `high` passes.
        let (mut low, mut high) = (0, most);
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if passes(middle) {
                high = middle;
            } else {
                low = middle;
            }
        }
        for &c in &kept[..high] {
            outlier[c] = true;
        }
        Some(suppressed + prefix[high])
    }

    /// The evaluation of a node that exceeds the suppression limit.
    fn infeasible(&self, node: &Node) -> NodeEvaluation {
        NodeEvaluation {
            node: node.clone(),
            feasible: false,
            suppressed: self.max_suppressed + 1,
            classes: 0,
            suppressed_classes: 0,
            score: None,
        }
    }

    /// Judges a node's table: (minimal class size met within the budget,
    /// the evaluation, the outlier flag of each class when feasible).
    pub(crate) fn judge(
        &self,
        table: &FrequencyTable,
    ) -> (bool, NodeEvaluation, Option<Vec<bool>>) {
        let infeasible = || self.infeasible(table.node());
        // One pass: a class fails when it is smaller than the minimal class
        // size or fails a model. Once the failing records exceed the
        // limit, the node is infeasible, and only the small classes are
        // still counted (for the first value).
        let mut outlier = vec![false; table.classes()];
        let (mut small, mut suppressed) = (0u64, 0u64);
        for class in table.iter() {
            let size = class.size();
            let fails = if size < self.min_class_size {
                small += size;
                if small > self.max_suppressed {
                    return (false, infeasible(), None);
                }
                true
            } else {
                suppressed <= self.max_suppressed
                    && !self.sizes_decide
                    && self.models.iter().any(|m| !m.is_satisfied_by(&class))
            };
            if fails {
                outlier[class.index()] = true;
                suppressed += size;
            }
        }
        if suppressed > self.max_suppressed {
            return (true, infeasible(), None);
        }
        if !self.release_models.is_empty() {
            match self.suppress_for_release(table, &mut outlier, suppressed) {
                Some(total) => suppressed = total,
                None => return (true, infeasible(), None),
            }
        }
        let suppressed_classes = outlier.iter().filter(|&&o| o).count();
        let evaluation = NodeEvaluation {
            node: table.node().clone(),
            feasible: true,
            suppressed,
            classes: table.classes() - suppressed_classes,
            suppressed_classes,
            score: Some(self.utility.score_unchecked(table, &outlier, suppressed)),
        };
        (true, evaluation, Some(outlier))
    }
}

/// Bottom tables of at least this many classes have their stepped keys
/// lifted in two halves when a second thread is free for one.
const SPLIT_STEPPED_KEYS: usize = 1 << 13;

/// Where the bottom table's count hands the second half of its stepped keys
/// (see [`FrequencyTable::with_stepped_keys`]) to the thread beside it,
/// which takes it once done with the utility model, if the count has not
/// taken it back by then. A thread of rayon's pool left idle meanwhile
/// takes long to wake: on two threads, lifting the halves through
/// `rayon::join` made the preparation of adult9's bottom table (k = 5
/// without suppression) take 127 µs against 67 µs on one thread (medians
/// of a few hundred searches).
///
/// Aligned to cache lines of its own, as a precaution (not measured): the
/// thread beside polls it while the count's frames lie next to it on the
/// stack.
#[derive(Default)]
#[repr(align(128))]
struct Beside {
    /// The packed bottom table, or `None` when there is no half to hand
    /// (a failed count, a small table, one thread).
    table: OnceLock<Option<FrequencyTable>>,
    /// Whether a thread has taken the second half.
    taken: AtomicBool,
    /// The second half, lifted beside the count (`None` when the thread
    /// that took it panicked: the count lifts it then).
    half: OnceLock<Option<Vec<u64>>>,
}

/// What [`Beside::count`] returns.
enum Counted {
    /// The bottom table with its stepped keys.
    Whole(Box<FrequencyTable>),
    /// The stepped keys of the table left in [`Beside::table`].
    Split(Vec<u64>),
}

impl Beside {
    /// Counts the packed bottom table and lifts its stepped keys, the
    /// second half by whichever thread takes it first.
    fn count(
        &self,
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        compiled: &[&CompiledHierarchy],
        width: usize,
    ) -> Result<Counted> {
        // However this ends, the thread beside stops waiting for a table.
        struct Publish<'a>(&'a Beside);
        impl Drop for Publish<'_> {
            fn drop(&mut self) {
                let _ = self.0.table.set(None);
            }
        }
        let _publish = Publish(self);
        let bottom = FrequencyTable::from_dataset(dataset, hierarchies, &Node::bottom(width))?
            .packed(compiled);
        let classes = bottom.classes();
        if classes < SPLIT_STEPPED_KEYS
            || rayon::current_num_threads() < 2
            || bottom.stepper(compiled).is_none()
        {
            return Ok(Counted::Whole(Box::new(bottom.with_stepped_keys(compiled))));
        }
        let table = self.table.get_or_init(|| Some(bottom));
        let stepper = table
            .as_ref()
            .and_then(|t| t.stepper(compiled))
            .expect("a table with packed keys was published");
        let middle = classes / 2;
        let mut stepped = Vec::with_capacity(classes);
        stepper.lift(0..middle, &mut stepped);
        let lifted = self.taken.swap(true, Ordering::SeqCst).then(|| {
            crew::wait(|| self.half.get().is_some());
            self.half.get().and_then(Option::as_ref)
        });
        match lifted.flatten() {
            Some(half) => stepped.extend_from_slice(half),
            None => stepper.lift(middle..classes, &mut stepped),
        }
        Ok(Counted::Split(stepped))
    }

    /// Lifts the second half of the stepped keys once the count has
    /// published its table, unless the count has taken the half back.
    fn help(&self, compiled: &[&CompiledHierarchy]) {
        crew::wait(|| self.table.get().is_some());
        let Some(Some(table)) = self.table.get() else {
            return;
        };
        if self.taken.swap(true, Ordering::SeqCst) {
            return;
        }
        // However this ends, the count stops waiting for the half.
        struct Hand<'a>(&'a Beside);
        impl Drop for Hand<'_> {
            fn drop(&mut self) {
                let _ = self.0.half.set(None);
            }
        }
        let _hand = Hand(self);
        let stepper = table.stepper(compiled).expect("packed keys");
        let classes = table.classes();
        let mut half = Vec::with_capacity(classes - classes / 2);
        stepper.lift(classes / 2..classes, &mut half);
        let _ = self.half.set(Some(half));
    }

    /// The bottom table with its stepped keys, from what [`Beside::count`]
    /// returned.
    fn into_bottom(self, counted: Counted) -> FrequencyTable {
        match counted {
            Counted::Whole(table) => *table,
            Counted::Split(stepped) => self
                .table
                .into_inner()
                .flatten()
                .expect("the split table was published")
                .with_stepped(stepped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelSpec;
    use crate::ruleset::bundled_adult;
    use crate::search::lattice::Lattice;

    /// Nodes evaluated in a scrambled order, so that many roll up from
    /// tables cached owing their histograms (and those from others that
    /// owe theirs): every evaluation equals the judgement of the node's
    /// table rolled up directly from the bottom, and every cached table's
    /// histograms, once gathered, equal that table's.
    #[test]
    fn tables_owing_histograms_complete_to_the_direct_roll_ups() {
        let data = bundled_adult("adult.toml");
        let config = AnonymizationConfig::new(
            vec![
                ModelSpec::KAnonymity { k: 5 },
                ModelSpec::DistinctLDiversity {
                    attribute: "occupation".into(),
                    l: 3.0,
                },
            ],
            0.02,
        );
        let evaluator = Evaluator::new(&data.dataset, &data.hierarchies, &config, &BTreeMap::new())
            .expect("evaluator");
        let heights: Vec<u32> = evaluator
            .hierarchies
            .iter()
            .map(|h| h.height() as u32)
            .collect();
        let lattice = Lattice::new(heights).expect("lattice");
        // Every 7th node of a scrambled order (a multiplicative step).
        let size = lattice.size();
        let order: Vec<u64> = (0..size)
            .map(|i| (i * 2_654_435_761) % size)
            .step_by(7)
            .collect();
        let (mut owing, mut from_owing) = (0usize, 0usize);
        let mut cached = Vec::new();
        for &index in &order {
            let node = lattice.node(index);
            let source = evaluator.cache.smallest_below(&node);
            from_owing += usize::from(source.as_deref().is_some_and(Cached::owes));
            let (_, evaluation) = evaluator.evaluate(&node);
            let direct = evaluator
                .bottom
                .roll_up(&evaluator.hierarchies, &node)
                .expect("rolls up");
            let (_, expected, _) = evaluator.judge(&direct);
            assert_eq!(format!("{evaluation:?}"), format!("{expected:?}"), "{node}");
            if let Some(entry) = evaluator.cache.smallest_below(&node)
                && entry.counts().node() == &node
            {
                owing += usize::from(entry.owes());
                cached.push((entry, direct));
            }
        }
        // Completed last (in evaluation order), so that the search above
        // met them owing.
        for (entry, direct) in cached {
            let complete = entry.with_histograms(&evaluator.bottom);
            assert_eq!(
                complete.canonical(),
                direct.canonical(),
                "{}",
                direct.node()
            );
        }
        // The case is not vacuous: tables were cached owing, and nodes
        // rolled up from them.
        assert!(owing > 50 && from_owing > 50, "{owing} {from_owing}");
    }

    /// A round of three nodes that would each need a capped table of its
    /// own counts their meet once, on one thread, and the nodes roll up
    /// from it to the evaluations of their direct roll-ups; with as many
    /// threads as nodes, or with a model that needs histograms, the round
    /// counts nothing ahead.
    #[test]
    fn a_round_needing_capped_tables_counts_their_meet_once() {
        let data = bundled_adult("adult.toml");
        let k5 = ModelSpec::KAnonymity { k: 5 };
        let evaluator_of = |models: Vec<ModelSpec>| {
            let config = AnonymizationConfig::new(models, 0.0);
            Evaluator::new(&data.dataset, &data.hierarchies, &config, &BTreeMap::new())
                .expect("evaluator")
        };
        let evaluator = evaluator_of(vec![k5.clone()]);
        let heights: Vec<u32> = evaluator
            .hierarchies
            .iter()
            .map(|h| h.height() as u32)
            .collect();
        // Each node: every attribute at its top but one (of three with
        // two levels or more) at level 0; its capped node is every
        // attribute at level 1 but that one.
        let chosen: Vec<usize> = (0..heights.len())
            .filter(|&j| heights[j] >= 2)
            .take(3)
            .collect();
        assert_eq!(chosen.len(), 3, "{heights:?}");
        let nodes: Vec<Node> = chosen
            .iter()
            .map(|&i| {
                let mut levels = heights.clone();
                levels[i] = 0;
                Node::new(levels)
            })
            .collect();
        let meet = Node::new(
            heights
                .iter()
                .enumerate()
                .map(|(j, &h)| if chosen.contains(&j) { 0 } else { h.min(1) })
                .collect(),
        );
        let caps = |e: &Evaluator<'_>| e.caps.lock().expect("caps lock").len();
        let counted = evaluator.round_meet(nodes.clone(), 1).expect("a meet");
        assert_eq!(counted, meet);
        evaluator.count_capped(&meet);
        assert_eq!(caps(&evaluator), 1);
        let counted = evaluator.cache.smallest_below(&meet).expect("the meet");
        assert_eq!(counted.counts().node(), &meet);
        let direct = evaluator
            .bottom
            .roll_up(&evaluator.hierarchies, &meet)
            .expect("rolls up");
        assert_eq!(
            counted.with_histograms(&evaluator.bottom).canonical(),
            direct.canonical()
        );
        for node in &nodes {
            let (_, evaluation) = evaluator.evaluate(node);
            let direct = evaluator
                .bottom
                .roll_up(&evaluator.hierarchies, node)
                .expect("rolls up");
            let (_, expected, _) = evaluator.judge(&direct);
            assert_eq!(format!("{evaluation:?}"), format!("{expected:?}"), "{node}");
        }
        // (No capped table of their own: they rolled up from the meet.)
        assert_eq!(caps(&evaluator), 1);

        let evaluator = evaluator_of(vec![k5.clone()]);
        assert_eq!(evaluator.round_meet(nodes.clone(), 3), None);
        let evaluator = evaluator_of(vec![
            k5,
            ModelSpec::DistinctLDiversity {
                attribute: "occupation".into(),
                l: 2.0,
            },
        ]);
        assert_eq!(evaluator.round_meet(nodes, 1), None);
    }

    /// On two threads the bottom table's stepped keys, their second half
    /// lifted by whichever thread takes it, equal those lifted on one.
    #[test]
    fn stepped_keys_of_the_bottom_alike_on_one_thread_and_two() {
        let data = bundled_adult("adult.toml");
        let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.0);
        let bottom_on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| {
                    Evaluator::new(&data.dataset, &data.hierarchies, &config, &BTreeMap::new())
                        .expect("evaluator")
                        .bottom
                })
        };
        let one = bottom_on(1);
        assert!(one.classes() >= SPLIT_STEPPED_KEYS, "{}", one.classes());
        assert_eq!(one.stepped_keys().len(), one.classes());
        for _ in 0..8 {
            let two = bottom_on(2);
            assert_eq!(two.stepped_keys(), one.stepped_keys());
            assert_eq!(two.counts(), one.counts());
        }
    }

    /// The counting sort and the stable sort give a stable sort's order.
    #[test]
    fn kept_classes_sort_by_size_then_index() {
        let mut state = 7u64;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for round in 0..200 {
            let classes = 1 + next(60) as usize;
            // Small sizes (counting sort) and, every fourth round, sizes far
            // above the number of classes (stable sort).
            let bound = if round % 4 == 0 { 1 << 40 } else { 12 };
            let counts: Vec<u64> = (0..classes).map(|_| 1 + next(bound)).collect();
            let outlier: Vec<bool> = (0..classes).map(|_| next(3) == 0).collect();
            let mut expected: Vec<usize> = (0..classes).filter(|&c| !outlier[c]).collect();
            expected.sort_by_key(|&c| counts[c]);
            assert_eq!(kept_by_size(&counts, &outlier), expected, "{counts:?}");
        }
    }
}
