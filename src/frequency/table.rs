//! The frequency table: distinct generalized quasi-identifier tuples with
//! their counts and sensitive histograms.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::data::dataset::Dataset;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::histogram::{Histogram, HistogramColumn, HistogramRef};
use crate::frequency::node::Node;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::hierarchy::set::Hierarchies;

mod direct;
mod held;
mod parts;
mod project;

use direct::DirectPlan;

/// Rows per partition when counting in parallel: one partition per thread,
/// of at least this many rows. (Partitions are counted apart and their
/// classes grouped once more: on one thread that is pure overhead, 5 % of
/// FARS's search without suppression when its 100,937 rows made two
/// partitions; on two threads cup's 63,441 nearly unique rows count faster
/// in one partition, 8.1 ms against 8.8 ms for the search, and so do
/// FARS's, while the other thread computes the metric's bounds: 1.2 ms
/// against 0.93 ms for the count, 3.99 -> 3.75 ms for the search. Counting
/// by shares of the key space instead, each thread grouping its share's
/// keys over all the rows, took 1.5 ms.)
const CHUNK_ROWS: usize = 1 << 17;

/// The input of counting: quasi-identifier code columns with their
/// hierarchies, and sensitive code columns, all borrowed from a [`Dataset`].
#[derive(Clone, Debug)]
pub struct CountingInput<'a> {
    quasi_identifiers: Vec<(&'a [u32], &'a CompiledHierarchy)>,
    sensitive: Vec<(&'a [u32], u32)>,
    rows: usize,
}

impl<'a> CountingInput<'a> {
    /// Collects the quasi-identifiers (column order) and sensitive attributes
    /// of `dataset` with their hierarchies.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when a quasi-identifier has no
    /// compiled hierarchy (use [`Hierarchies::compile`], which supplies one),
    /// and [`ErrorKind::InvalidHierarchy`] for one compiled against another
    /// dataset's dictionary.
    pub fn new(dataset: &'a Dataset, hierarchies: &'a Hierarchies) -> Result<CountingInput<'a>> {
        let quasi_identifiers = dataset
            .quasi_identifiers()
            .into_iter()
            .map(|c| c.codes())
            .zip(hierarchies.checked_quasi_identifiers(dataset)?)
            .collect();
        let sensitive = dataset
            .sensitive()
            .into_iter()
            .map(|c| (c.codes(), c.cardinality() as u32))
            .collect();
        Ok(CountingInput {
            quasi_identifiers,
            sensitive,
            rows: dataset.rows(),
        })
    }

    /// Number of quasi-identifiers.
    pub fn width(&self) -> usize {
        self.quasi_identifiers.len()
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The level maps of `node`, one per quasi-identifier.
    fn level_maps(&self, node: &Node) -> Result<Vec<&'a [u32]>> {
        if node.levels().len() != self.width() {
            return Err(Error::parameter(
                "node",
                format!(
                    "{} has {} levels but there are {} quasi-identifiers",
                    node,
                    node.levels().len(),
                    self.width()
                ),
            ));
        }
        self.quasi_identifiers
            .iter()
            .zip(node.levels())
            .map(|((_, h), &l)| h.level(l as usize).map(|level| level.map()))
            .collect()
    }
}

/// How class keys are looked up: a dense array over the mixed-radix key
/// space when it is small (no hashing), else packed into one `u64` when the
/// bit widths of the label codes fit, else as a boxed slice.
#[derive(Clone, Debug)]
enum KeyIndex {
    Dense {
        strides: Vec<u64>,
        slots: Vec<u32>,
    },
    Packed {
        shifts: Vec<u32>,
        map: FxHashMap<u64, u32>,
    },
    Wide(FxHashMap<Box<[u32]>, u32>),
}

/// Lifts a table's packed keys one level up in every attribute that has a
/// level above (see [`FrequencyTable::stepper`]).
pub(crate) struct Stepper<'t> {
    layout: &'t Layout,
    keys: &'t [u64],
    /// Each lifted attribute and its lift table (see [`Layout::shifted`]).
    up: Vec<(usize, Vec<u64>)>,
}

impl Stepper<'_> {
    /// Appends the lifted keys of the classes `classes` to `stepped`.
    pub(crate) fn lift(&self, classes: std::ops::Range<usize>, stepped: &mut Vec<u64>) {
        self.layout
            .lift_keys(&self.keys[classes], &self.up, stepped);
    }
}

/// The largest sensitive domain gathered through a dense matrix.
const DENSE_GATHER_DOMAIN: usize = 256;

/// The most cells (target classes × sensitive codes) of that matrix (2 MiB).
const DENSE_GATHER_CELLS: usize = 1 << 18;

/// The largest dense key space.
const DENSE_SLOTS: u64 = 1 << 22;

/// The largest key space a roll-up addresses through the reused dense slot
/// array (256 KiB: it stays in cache).
const DENSE_FAST_SLOTS: u64 = 1 << 16;

/// The grouping's slots, target keys, and classes' keys and counts (see
/// `PACKED_SCRATCH`).
type PackedScratch = (Vec<u32>, Vec<u64>, Vec<[u64; 2]>);

thread_local! {
    /// Reused slot arrays of dense roll-ups (all entries `u32::MAX` between uses).
    static DENSE_SCRATCH: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// Reused open-addressing slots of packed roll-ups (all [`FREE`]
    /// between uses), the source classes' target keys, and the classes'
    /// keys and counts while grouping.
    static PACKED_SCRATCH: RefCell<PackedScratch> =
        const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
    /// Reused group offsets and source lists of the histogram gathering.
    static GATHER_SCRATCH: RefCell<(Vec<u32>, Vec<u32>)> =
        const { RefCell::new((Vec::new(), Vec::new())) };
    /// Reused target × code matrix of the dense gathering (all 0 between uses).
    static DENSE_GATHER_SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

impl KeyIndex {
    /// An index for keys over the given cardinalities, expecting about
    /// `expected` classes (a dense array is used when the key space is at
    /// most a few times that, so clearing it costs no more than the work).
    fn new(cardinalities: &[u32], expected: usize) -> KeyIndex {
        let space = cardinalities
            .iter()
            .try_fold(1u64, |acc, &c| acc.checked_mul(u64::from(c.max(1))));
        if let Some(space) = space
            && space <= DENSE_SLOTS
            && space <= (4 * expected as u64).max(4096)
        {
            let mut strides = vec![0u64; cardinalities.len()];
            let mut stride = 1u64;
            for j in (0..cardinalities.len()).rev() {
                strides[j] = stride;
                stride *= u64::from(cardinalities[j].max(1));
            }
            return KeyIndex::Dense {
                strides,
                slots: vec![u32::MAX; space as usize],
            };
        }
        let mut shifts = Vec::with_capacity(cardinalities.len());
        let mut bits = 0u32;
        for &c in cardinalities {
            let width = u32::BITS - c.saturating_sub(1).leading_zeros();
            // (A field of width 0 is always 0: shifting it by 0 keeps a
            // shift of 64, past the last field, from overflowing.)
            shifts.push(if width == 0 { 0 } else { bits });
            bits += width;
        }
        let capacity = expected.min(1 << 16);
        if bits <= 64 {
            KeyIndex::Packed {
                shifts,
                map: FxHashMap::with_capacity_and_hasher(capacity, Default::default()),
            }
        } else {
            KeyIndex::Wide(FxHashMap::with_capacity_and_hasher(
                capacity,
                Default::default(),
            ))
        }
    }

    /// The class of `key`, inserting `next` when the key is new.
    fn get_or_insert(&mut self, key: &[u32], next: u32) -> (u32, bool) {
        match self {
            KeyIndex::Dense { strides, slots } => {
                let slot = &mut slots[dense_slot(key, strides)];
                if *slot == u32::MAX {
                    *slot = next;
                    (next, true)
                } else {
                    (*slot, false)
                }
            }
            KeyIndex::Packed { shifts, map } => {
                let packed = key
                    .iter()
                    .zip(shifts.iter())
                    .fold(0u64, |acc, (&k, &s)| acc | (u64::from(k) << s));
                let slot = map.entry(packed).or_insert(next);
                (*slot, *slot == next)
            }
            KeyIndex::Wide(map) => {
                if let Some(&c) = map.get(key) {
                    (c, false)
                } else {
                    map.insert(key.into(), next);
                    (next, true)
                }
            }
        }
    }

    fn get(&self, key: &[u32]) -> Option<u32> {
        match self {
            KeyIndex::Dense { strides, slots } => {
                Some(slots[dense_slot(key, strides)]).filter(|&c| c != u32::MAX)
            }
            KeyIndex::Packed { shifts, map } => {
                let packed = key
                    .iter()
                    .zip(shifts.iter())
                    .fold(0u64, |acc, (&k, &s)| acc | (u64::from(k) << s));
                map.get(&packed).copied()
            }
            KeyIndex::Wide(map) => map.get(key).copied(),
        }
    }

    fn reserve(&mut self, additional: usize) {
        match self {
            KeyIndex::Dense { .. } => {}
            KeyIndex::Packed { map, .. } => map.reserve(additional),
            KeyIndex::Wide(map) => map.reserve(additional),
        }
    }
}

/// Where each quasi-identifier's code sits in a key packed into one `u64`:
/// bits `shifts[j]..shifts[j] + width_j`, wide enough for its codes at every
/// level of its hierarchy. The same hierarchies always give the same layout.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Layout {
    shifts: Vec<u32>,
    masks: Vec<u64>,
}

impl Layout {
    /// The layout for keys over `hierarchies`, when they fit in 64 bits.
    fn new(hierarchies: &[&CompiledHierarchy]) -> Option<Layout> {
        Layout::at(hierarchies, &Node::bottom(hierarchies.len()))
    }

    /// The layout for keys at `node` and every node above it, when they
    /// fit in 64 bits: each field wide enough for the attribute's codes at
    /// its level at `node` and every level above (for keys too wide to pack
    /// at every level, as at 24 quasi-identifiers, where the nodes the
    /// search checks mostly fit). Tables rolled up from one with this layout
    /// keep it.
    fn at(hierarchies: &[&CompiledHierarchy], node: &Node) -> Option<Layout> {
        let mut shifts = Vec::with_capacity(hierarchies.len());
        let mut masks = Vec::with_capacity(hierarchies.len());
        let mut bits = 0u32;
        for (h, &level) in hierarchies.iter().zip(node.levels()) {
            let largest = h
                .levels()
                .iter()
                .skip(level as usize)
                .map(|l| l.cardinality().saturating_sub(1) as u64)
                .max()
                .unwrap_or(0);
            let width = u64::BITS - largest.leading_zeros();
            // (As in `KeyIndex::new`: a field of width 0 is shifted by 0.)
            shifts.push(if width == 0 { 0 } else { bits });
            masks.push((1u64 << width) - 1);
            bits += width;
            if bits > 64 {
                return None;
            }
        }
        Some(Layout { shifts, masks })
    }

    /// Quasi-identifier `j`'s code in `key`.
    fn code(&self, key: u64, j: usize) -> u32 {
        ((key >> self.shifts[j]) & self.masks[j]) as u32
    }

    /// Every code of every key, `width` per key.
    fn unpack(&self, keys: &[u64]) -> Vec<u32> {
        let width = self.shifts.len();
        let mut codes = Vec::with_capacity(keys.len() * width);
        for &key in keys {
            codes.extend((0..width).map(|j| self.code(key, j)));
        }
        codes
    }

    /// `lift` with each result shifted into quasi-identifier `j`'s bits,
    /// padded to the field's size (so every masked code indexes it).
    fn shifted(&self, j: usize, lift: &[u32]) -> Vec<u64> {
        // (Allocated at its final length: a `realloc` takes the allocator's
        // lock, which the other thread of a search holds when it frees
        // tables this one made.)
        let mut shifted = Vec::with_capacity((self.masks[j] as usize + 1).max(lift.len()));
        shifted.extend(lift.iter().map(|&c| u64::from(c) << self.shifts[j]));
        shifted.resize(shifted.capacity(), 0);
        shifted
    }

    /// Appends to `targets` each of `source`'s keys with the field of every
    /// attribute `j` in `lifts` replaced through its [`Layout::shifted`]
    /// lift table, the other fields kept. One pass per lifted attribute:
    /// short loops of independent table reads.
    fn lift_keys(&self, source: &[u64], lifts: &[(usize, Vec<u64>)], targets: &mut Vec<u64>) {
        match self.lift_chunks(lifts, source.len()) {
            Some(chunks) => chunks.apply(source, targets),
            None => self.lift_fields(source, lifts, targets),
        }
    }

    /// [`Layout::lift_keys`] by a pass per lifted field.
    fn lift_fields(&self, source: &[u64], lifts: &[(usize, Vec<u64>)], targets: &mut Vec<u64>) {
        let keep = !lifts
            .iter()
            .fold(0u64, |acc, &(j, _)| acc | (self.masks[j] << self.shifts[j]));
        let start = targets.len();
        let Some(((first, first_lift), rest)) = lifts.split_first() else {
            targets.extend(source.iter().map(|&k| k & keep));
            return;
        };
        // The first lift joins the pass that keeps the other fields.
        let (shift, mask) = (self.shifts[*first], self.masks[*first]);
        // (Padded to the field's size: no bounds checks.)
        let lift = &first_lift[..=mask as usize];
        targets.extend(
            source
                .iter()
                .map(|&k| (k & keep) | lift[((k >> shift) & mask) as usize]),
        );
        for (j, lift) in rest {
            let (shift, mask) = (self.shifts[*j], self.masks[*j]);
            let lift = &lift[..=mask as usize];
            for (t, &k) in targets[start..].iter_mut().zip(source) {
                *t |= lift[((k >> shift) & mask) as usize];
            }
        }
    }
}

/// Widest run of consecutive fields lifted by one table of [`LiftChunks`].
const CHUNK_BITS: u32 = 8;

/// Lifts of many fields at once: each run of consecutive fields (at most
/// [`CHUNK_BITS`] bits) holding a changed field is replaced through one
/// table indexed by the run's bits, giving all its fields lifted (the
/// changed) or kept (the others); fields outside such runs are kept by a
/// mask. Wide keys of many attributes, each a few bits (24
/// quasi-identifiers), are then lifted in a few reads per key instead of a
/// pass per changed attribute.
struct LiftChunks {
    keep: u64,
    /// (shift, mask, table) of each run.
    runs: Vec<(u32, u64, Vec<u64>)>,
}

impl LiftChunks {
    /// As [`Layout::lift_keys`]: a pass per run (short loops of
    /// independent table reads).
    fn apply(&self, source: &[u64], targets: &mut Vec<u64>) {
        let keep = self.keep;
        let start = targets.len();
        let Some(((shift, mask, table), rest)) = self.runs.split_first() else {
            targets.extend(source.iter().map(|&k| k & keep));
            return;
        };
        let table = &table[..=*mask as usize];
        targets.extend(
            source
                .iter()
                .map(|&k| (k & keep) | table[((k >> shift) & mask) as usize]),
        );
        for (shift, mask, table) in rest {
            let table = &table[..=*mask as usize];
            for (t, &k) in targets[start..].iter_mut().zip(source) {
                *t |= table[((k >> shift) & mask) as usize];
            }
        }
    }
}

impl Layout {
    /// The [`LiftChunks`] of `lifts` (see [`Layout::lift_keys`]) for
    /// `keys` source keys, when building their tables and reading them
    /// takes fewer reads than a pass per lift.
    fn lift_chunks(&self, lifts: &[(usize, Vec<u64>)], keys: usize) -> Option<LiftChunks> {
        if lifts.len() < 3 {
            return None;
        }
        let mut changed: Vec<Option<&[u64]>> = vec![None; self.shifts.len()];
        for (j, lift) in lifts {
            changed[*j] = Some(lift);
        }
        let width = |j: usize| u64::BITS - self.masks[j].leading_zeros();
        let mut fields: Vec<usize> = Vec::with_capacity(self.shifts.len());
        fields.extend((0..self.shifts.len()).filter(|&j| width(j) > 0));
        fields.sort_by_key(|&j| self.shifts[j]);
        // Runs of consecutive fields of at most CHUNK_BITS bits in all.
        let mut runs: Vec<Vec<usize>> = Vec::with_capacity(fields.len());
        let mut bits = 0;
        for &j in &fields {
            if width(j) > CHUNK_BITS {
                // (A lone wide field: lifted by a run only when unchanged,
                // which needs no table.)
                if changed[j].is_some() {
                    return None;
                }
                bits = CHUNK_BITS + 1;
                continue;
            }
            match runs.last_mut() {
                Some(run) if bits + width(j) <= CHUNK_BITS => run.push(j),
                _ => {
                    let mut run = Vec::with_capacity(fields.len());
                    run.push(j);
                    runs.push(run);
                    bits = 0;
                }
            }
            bits += width(j);
        }
        runs.retain(|run| run.iter().any(|&j| changed[j].is_some()));
        let entries: usize = runs
            .iter()
            .map(|run| 1usize << run.iter().map(|&j| width(j)).sum::<u32>())
            .sum();
        // (Reads: a table entry costs about two key reads to build.)
        if 8 * entries + keys * runs.len() >= keys * lifts.len() {
            return None;
        }
        let mut keep = u64::MAX;
        let runs = runs
            .iter()
            .map(|run| {
                let shift = self.shifts[run[0]];
                let run_bits: u32 = run.iter().map(|&j| width(j)).sum();
                let mask = (1u64 << run_bits) - 1;
                keep &= !(mask << shift);
                let table = (0..=mask)
                    .map(|v| {
                        let key = v << shift;
                        run.iter().fold(0u64, |acc, &j| {
                            let field = (key >> self.shifts[j]) & self.masks[j];
                            acc | match changed[j] {
                                Some(lift) => lift[field as usize],
                                None => field << self.shifts[j],
                            }
                        })
                    })
                    .collect();
                (shift, mask, table)
            })
            .collect();
        Some(LiftChunks { keep, runs })
    }
}

/// The class keys of a table: label codes, one per quasi-identifier per
/// class; or (for tables rolled up in the search) one packed `u64` per
/// class, unpacked to codes only when they are asked for.
#[derive(Clone, Debug)]
enum Keys {
    Codes(Vec<u32>),
    Packed {
        layout: Arc<Layout>,
        keys: Vec<u64>,
        codes: OnceLock<Vec<u32>>,
    },
}

/// Writes each source class's target key into the buffer it is given.
type FillTargets<'a> = dyn FnOnce(&mut Vec<u64>) + 'a;

/// The strides of a mixed-radix key over `cardinalities` (the last varies
/// fastest) and the number of keys, when that fits in a `u128`.
fn mixed_radix_strides(cardinalities: &[u32]) -> Option<(Vec<u128>, u128)> {
    let mut strides = vec![0u128; cardinalities.len()];
    let mut stride = 1u128;
    for (s, &c) in strides.iter_mut().zip(cardinalities).rev() {
        *s = stride;
        stride = stride.checked_mul(u128::from(c.max(1)))?;
    }
    Some((strides, stride))
}

/// Multiplier of the packed-key hash (Fibonacci hashing).
const HASH_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// The first slot probed for `key` in a table of `2^(64 - shift)` slots.
fn home_slot(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(HASH_MULTIPLIER) >> shift) as usize
}

/// Groups packed keys. `fill` writes each source class's key at the
/// target into the (cleared) buffer it is given; `sizes[i]` is source class
/// i's size (1 for rows, when `None`). Each key is added to its target class,
/// new keys numbered in order of first appearance; with `track`, each source
/// class's target class is pushed to `assignment`. `expected` bounds the
/// number of distinct keys. Returns `false`, the output incomplete, when
/// more than `max_classes` distinct keys turn up.
#[allow(clippy::too_many_arguments)]
fn group_packed(
    expected: usize,
    max_classes: usize,
    sizes: Option<&[u64]>,
    keys: &mut Vec<u64>,
    counts: &mut Vec<u64>,
    assignment: &mut Vec<u32>,
    track: bool,
    fill: impl FnOnce(&mut Vec<u64>),
) -> bool {
    PACKED_SCRATCH.with_borrow_mut(|(slots, targets, classes)| {
        targets.clear();
        fill(targets);
        let output = (keys, counts, assignment);
        let limits = (expected, max_classes);
        let scratch = (slots, classes);
        match (track, sizes) {
            (true, Some(sizes)) => group::<true>(limits, targets, |i| sizes[i], output, scratch),
            (false, Some(sizes)) => group::<false>(limits, targets, |i| sizes[i], output, scratch),
            (true, None) => group::<true>(limits, targets, |_| 1, output, scratch),
            (false, None) => group::<false>(limits, targets, |_| 1, output, scratch),
        }
    })
}

/// The fewest slots per class of the grouping's open-addressing table
/// (it is kept at most a quarter full). Probes then rarely pass another
/// key, each of which costs a mispredicted branch. Against a table at most
/// half full with the keys and counts in arrays apart (one thread, two
/// interleaved criterion rounds): adult9 k = 5 without suppression
/// 2.62–2.76 -> 2.43–2.53 ms, with 2 % 34.6–34.8 -> 28.5–29.9, FARS k = 5
/// without 7.06–7.19 -> 6.28–6.50. A table of nearly unique keys grows at
/// most to what its limit on classes needs (cup k = 5 with 2 % otherwise
/// took 80 -> 91 ms).
const SPARSITY: usize = 4;

/// A free slot of the grouping's open-addressing table.
const FREE: u32 = u32::MAX;

/// The grouping loop of [`group_packed`] over an open-addressing table of
/// class numbers (`slots`, all [`FREE`] between uses), with at least
/// [`SPARSITY`] slots per class: starting small and doubling keeps the
/// slots of a table with few classes in cache. `keys` and `counts` start
/// empty; they are filled at the end from `pairs` (reused scratch), which
/// holds each class's key beside its count while grouping, so that finding
/// a known key and counting it read one cache line, not two.
///
/// The loop has almost no branches to mispredict: the key is first written
/// where a new class would go, and a free slot reads as that class, so one
/// comparison ends the probe for a new key and for a known one alike;
/// counting and numbering then take the same path for both.
///
/// Stops (returning `false`) once more than `max_classes` keys are seen.
fn group<const TRACK: bool>(
    (expected, max_classes): (usize, usize),
    targets: &[u64],
    size: impl Fn(usize) -> u64,
    (keys, counts, assignment): (&mut Vec<u64>, &mut Vec<u64>, &mut Vec<u32>),
    (slots, pairs): (&mut Vec<u32>, &mut Vec<[u64; 2]>),
) -> bool {
    let mut capacity = (SPARSITY * expected.clamp(1, 1 << 11))
        .next_power_of_two()
        .max(64);
    if slots.len() < capacity {
        slots.resize(capacity, FREE);
    }
    let mut shift = 64 - capacity.trailing_zeros();
    let mut mask = capacity - 1;
    // Room for the classes so far and the next one (the sentinel).
    if pairs.len() <= expected.clamp(1, 1 << 8) {
        pairs.resize(expected.clamp(1, 1 << 8) + 1, [0, 0]);
    }
    let mut room = pairs.len();
    // The class count at which the arrays or the slots must grow, or the
    // grouping stop.
    let stop = max_classes.saturating_add(1);
    let mut limit = room.min(capacity / SPARSITY + 1).min(stop);
    let mut classes = 0usize;
    let mut complete = true;
    for (i, &key) in targets.iter().enumerate() {
        pairs[classes] = [key, 0];
        let mut slot = home_slot(key, shift);
        let class = loop {
            let entry = slots[slot];
            let class = if entry == FREE {
                classes
            } else {
                entry as usize
            };
            if pairs[class][0] == key {
                break class;
            }
            slot = (slot + 1) & mask;
        };
        pairs[class][1] += size(i);
        slots[slot] = class as u32;
        if TRACK {
            assignment.push(class as u32);
        }
        classes += usize::from(class == classes);
        if classes < limit {
            continue;
        }
        if classes == stop {
            complete = false;
            break;
        }
        if classes == room {
            room *= 2;
            pairs.resize(room, [0, 0]);
        }
        if SPARSITY * classes > capacity {
            // Grow to SPARSITY times the classes projected from the rate
            // of new keys so far (at least double; at most what `expected`
            // and the limit on classes need), and re-insert the keys so far.
            slots[..capacity].fill(FREE);
            let projected = classes * targets.len() / (i + 1);
            capacity = (SPARSITY * projected.min(expected).min(stop))
                .next_power_of_two()
                .max(2 * capacity);
            shift = 64 - capacity.trailing_zeros();
            mask = capacity - 1;
            if slots.len() < capacity {
                slots.resize(capacity, FREE);
            }
            for (class, &[key, _]) in pairs[..classes].iter().enumerate() {
                let mut slot = home_slot(key, shift);
                while slots[slot] != FREE {
                    slot = (slot + 1) & mask;
                }
                slots[slot] = class as u32;
            }
        }
        limit = room.min(capacity / SPARSITY + 1).min(stop);
    }
    let pairs = &pairs[..classes];
    keys.extend(pairs.iter().map(|p| p[0]));
    counts.extend(pairs.iter().map(|p| p[1]));
    // Free the slots used: all of them when they are few per class, else
    // each class's (found again by probing past slots already freed).
    if 16 * classes >= capacity {
        slots[..capacity].fill(FREE);
    } else {
        for (class, &key) in keys.iter().enumerate() {
            let mut slot = home_slot(key, shift);
            while slots[slot] != class as u32 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = FREE;
        }
    }
    complete
}

/// Gathers a dense histogram column: target class `assignment[c]`'s row
/// is the sum of the rows of the source classes `c` assigned to it.
fn gather_rows(
    width: usize,
    counts: &[u32],
    assignment: &[u32],
    targets: usize,
) -> HistogramColumn {
    /// Adds each source row into its target row (rows of `W` counts).
    ///
    /// Kept out of line: inlined, the rows were added one count at a
    /// time, with no vector instructions (adult8 with 0.2-closeness and 2 %
    /// suppression, one thread, three interleaved criterion rounds:
    /// 57.3–60.8 -> 50.0–53.7 ms).
    #[inline(never)]
    fn add<const W: usize>(gathered: &mut [u32], counts: &[u32], assignment: &[u32]) {
        let targets = gathered.as_chunks_mut::<W>().0;
        for (row, &t) in counts.as_chunks::<W>().0.iter().zip(assignment) {
            let target = &mut targets[t as usize];
            for (sum, &n) in target.iter_mut().zip(row) {
                *sum += n;
            }
        }
    }
    let mut gathered = vec![0u32; targets * width];
    match width {
        8 => add::<8>(&mut gathered, counts, assignment),
        16 => add::<16>(&mut gathered, counts, assignment),
        24 => add::<24>(&mut gathered, counts, assignment),
        32 => add::<32>(&mut gathered, counts, assignment),
        _ => {
            for (row, &t) in counts.chunks_exact(width).zip(assignment) {
                let target = &mut gathered[t as usize * width..][..width];
                for (sum, &n) in target.iter_mut().zip(row) {
                    *sum += n;
                }
            }
        }
    }
    HistogramColumn::Dense {
        width,
        counts: gathered,
    }
}

/// Gathers a sparse histogram column over a small domain: a lone source's
/// histogram is copied; the others are added into one dense target × code
/// matrix in a single pass over the sources, and each target's row read
/// back in code order.
fn gather_matrix(
    offsets: &[usize],
    entries: &[(u32, u64)],
    domain: usize,
    assignment: &[u32],
    targets: usize,
) -> HistogramColumn {
    GATHER_SCRATCH.with_borrow_mut(|(group, first)| {
        // Group sizes and each group's first source.
        group.clear();
        group.resize(targets, 0);
        first.clear();
        first.resize(targets, u32::MAX);
        for (from, &class) in assignment.iter().enumerate() {
            let class = class as usize;
            group[class] += 1;
            if first[class] == u32::MAX {
                first[class] = from as u32;
            }
        }
        DENSE_GATHER_SCRATCH.with_borrow_mut(|matrix| {
            if matrix.len() < targets * domain {
                matrix.resize(targets * domain, 0);
            }
            for (range, &class) in offsets.windows(2).zip(assignment) {
                if group[class as usize] > 1 {
                    let base = class as usize * domain;
                    for &(code, n) in &entries[range[0]..range[1]] {
                        matrix[base + code as usize] += n;
                    }
                }
            }
            let mut column = HistogramColumn::with_capacity(targets, entries.len());
            for t in 0..targets {
                if group[t] == 1 {
                    let from = first[t] as usize;
                    column.push_entries(entries[offsets[from]..offsets[from + 1]].iter().copied());
                    continue;
                }
                let row = &mut matrix[t * domain..][..domain];
                column.push_entries(
                    row.iter_mut()
                        .enumerate()
                        .filter(|(_, n)| **n > 0)
                        .map(|(code, n)| (code as u32, std::mem::take(n))),
                );
            }
            column
        })
    })
}

/// Gathers a sparse histogram column over any domain: the sources are
/// ordered by target (counting sort); then a lone source's histogram is
/// copied, two sorted ones merged, and a larger group's entries added into
/// a dense scratch over the codes.
fn gather_sparse(theirs: &HistogramColumn, assignment: &[u32], targets: usize) -> HistogramColumn {
    GATHER_SCRATCH.with_borrow_mut(|(start, sources)| {
        start.clear();
        start.resize(targets + 1, 0);
        for &class in assignment {
            start[class as usize + 1] += 1;
        }
        for t in 0..targets {
            start[t + 1] += start[t];
        }
        sources.clear();
        sources.resize(assignment.len(), 0);
        // Fill from the back so each group keeps source order.
        for (from, &class) in assignment.iter().enumerate().rev() {
            let slot = &mut start[class as usize + 1];
            *slot -= 1;
            sources[*slot as usize] = from as u32;
        }
        // `start[t + 1]` is now where group t begins; restore ends.
        start.rotate_left(1);
        start[targets] = assignment.len() as u32;
        let mut dense: Vec<u64> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        let group = |t: usize| &sources[start[t] as usize..start[t + 1] as usize];
        let mut column = HistogramColumn::with_capacity(targets, theirs.entry_count());
        for t in 0..targets {
            match *group(t) {
                [one] => column.push_ref(theirs.get(one as usize)),
                [a, b] => column.push_sum(theirs.get(a as usize), theirs.get(b as usize)),
                ref many => {
                    for &from in many {
                        for (code, n) in theirs.get(from as usize).iter() {
                            let code = code as usize;
                            if code >= dense.len() {
                                dense.resize(code + 1, 0);
                            }
                            if dense[code] == 0 {
                                touched.push(code as u32);
                            }
                            dense[code] += n;
                        }
                    }
                    touched.sort_unstable();
                    column.push_entries(
                        touched
                            .drain(..)
                            .map(|code| (code, std::mem::take(&mut dense[code as usize]))),
                    );
                }
            }
        }
        column
    })
}

fn dense_slot(key: &[u32], strides: &[u64]) -> usize {
    key.iter()
        .zip(strides)
        .map(|(&k, &s)| u64::from(k) * s)
        .sum::<u64>() as usize
}

/// The distinct generalized quasi-identifier tuples of a table at one
/// [`Node`], each with its count and, per sensitive attribute, the
/// histogram of sensitive codes: the equivalence classes ([§0.1](crate::methods#01-notation)).
///
/// Classes are numbered in order of first appearance in the rows. Tables
/// are *mergeable*: counting two partitions of the rows separately and
/// [merging](FrequencyTable::merge) them gives the table of the whole
/// (classes in the same order when the partitions are merged in row order).
/// This is how counting runs in parallel here, and the boundary at which an
/// external engine can do the counting; codes must come from the same
/// dictionaries (one encoded [`Dataset`]).
#[derive(Clone, Debug)]
pub struct FrequencyTable {
    node: Node,
    cardinalities: Vec<u32>,
    sensitive_cardinalities: Vec<u32>,
    keys: Keys,
    counts: Vec<u64>,
    histograms: Vec<HistogramColumn>,
    index: OnceLock<KeyIndex>,
    /// Each class's packed key with every attribute one level up (where
    /// its hierarchy has one); empty unless asked for (see
    /// [`FrequencyTable::with_stepped_keys`]).
    stepped: Vec<u64>,
}

/// Two tables are equal when they are at the same node and hold the same
/// classes (keys, counts and sensitive histograms), in whatever order: a
/// table merged from partitions equals the table counted in one pass, and a
/// table rolled up to a node equals the table counted at that node.
impl PartialEq for FrequencyTable {
    fn eq(&self, other: &FrequencyTable) -> bool {
        self.node == other.node && self.canonical() == other.canonical()
    }
}

impl FrequencyTable {
    /// Counts `dataset` generalized to `node`, in parallel over row chunks.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when `node` has the wrong number of
    /// levels, [`ErrorKind::LevelOutOfRange`] when a level exceeds its
    /// hierarchy's height.
    pub fn from_dataset(
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        node: &Node,
    ) -> Result<FrequencyTable> {
        FrequencyTable::count(&CountingInput::new(dataset, hierarchies)?, node)
    }

    /// Counts the input generalized to `node`; see [`FrequencyTable::from_dataset`].
    ///
    /// # Errors
    ///
    /// As [`FrequencyTable::from_dataset`].
    pub fn count(input: &CountingInput<'_>, node: &Node) -> Result<FrequencyTable> {
        FrequencyTable::count_rows(input, node, 0..input.rows())
    }

    /// Counts only the rows in `rows` (a partition) generalized to `node`.
    ///
    /// # Errors
    ///
    /// As [`FrequencyTable::from_dataset`]; also [`ErrorKind::InvalidParameter`]
    /// when the range exceeds the rows.
    pub fn count_rows(
        input: &CountingInput<'_>,
        node: &Node,
        rows: std::ops::Range<usize>,
    ) -> Result<FrequencyTable> {
        if rows.end > input.rows() || rows.start > rows.end {
            return Err(Error::parameter(
                "rows",
                format!("{rows:?} is outside 0..{}", input.rows()),
            ));
        }
        let maps = input.level_maps(node)?;
        let hierarchies: Vec<&CompiledHierarchy> =
            input.quasi_identifiers.iter().map(|(_, h)| *h).collect();
        let layout = Layout::new(&hierarchies).map(Arc::new);
        let empty = FrequencyTable::empty(input, node, &maps, layout);
        let size = rows
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(CHUNK_ROWS);
        let chunks: Vec<std::ops::Range<usize>> = (rows.start..rows.end)
            .step_by(size)
            .map(|s| s..(s + size).min(rows.end))
            .collect();
        let parts: Vec<FrequencyTable> = chunks
            .into_par_iter()
            .map(|chunk| {
                let mut part = empty.clone();
                part.add_rows(input, &maps, chunk);
                part
            })
            .collect();
        if let Some(table) = FrequencyTable::concatenated(&parts) {
            return Ok(table);
        }
        // The first partition is the base (rows in order); the others merge into it.
        let mut parts = parts.into_iter();
        let mut table = parts.next().unwrap_or(empty);
        for part in parts {
            table.merge(&part)?;
        }
        Ok(table)
    }

    /// An empty table at `node`; its keys packed with `layout` when given.
    fn empty(
        input: &CountingInput<'_>,
        node: &Node,
        maps: &[&[u32]],
        layout: Option<Arc<Layout>>,
    ) -> FrequencyTable {
        let cardinalities: Vec<u32> = maps
            .iter()
            .map(|m| m.iter().copied().max().map_or(0, |x| x + 1))
            .collect();
        let (index, keys) = match layout {
            Some(layout) => (
                OnceLock::new(),
                Keys::Packed {
                    layout,
                    keys: Vec::new(),
                    codes: OnceLock::new(),
                },
            ),
            None => (
                OnceLock::from(KeyIndex::new(&cardinalities, input.rows().min(CHUNK_ROWS))),
                Keys::Codes(Vec::new()),
            ),
        };
        FrequencyTable {
            node: node.clone(),
            index,
            cardinalities,
            sensitive_cardinalities: input.sensitive.iter().map(|s| s.1).collect(),
            keys,
            counts: Vec::new(),
            histograms: vec![HistogramColumn::default(); input.sensitive.len()],
            stepped: Vec::new(),
        }
    }

    /// The tables of consecutive row ranges at one node as one table, in
    /// one grouping of all their packed keys (classes in order of first
    /// appearance, as [`FrequencyTable::merge`] appends them); `None` unless
    /// there are several, all with packed keys and without histograms.
    fn concatenated(parts: &[FrequencyTable]) -> Option<FrequencyTable> {
        fn packed(t: &FrequencyTable) -> Option<(&Arc<Layout>, &[u64])> {
            match &t.keys {
                Keys::Packed { layout, keys, .. } if t.histograms.is_empty() => {
                    Some((layout, keys))
                }
                _ => None,
            }
        }
        let (first, (layout, _)) = parts.first().and_then(|t| Some((t, packed(t)?)))?;
        if parts.len() < 2
            || parts.iter().any(|t| {
                packed(t).is_none_or(|(l, _)| l != layout) || t.cardinalities != first.cardinalities
            })
        {
            return None;
        }
        let sizes: Vec<u64> = parts
            .iter()
            .flat_map(|t| t.counts.iter().copied())
            .collect();
        let (mut keys, mut counts) = (Vec::new(), Vec::new());
        let complete = group_packed(
            sizes.len(),
            usize::MAX,
            Some(&sizes),
            &mut keys,
            &mut counts,
            &mut Vec::new(),
            false,
            |targets| {
                for part in parts {
                    targets.extend_from_slice(packed(part).map_or(&[], |(_, k)| k));
                }
            },
        );
        debug_assert!(complete, "no limit on the classes");
        Some(FrequencyTable {
            node: first.node.clone(),
            index: OnceLock::new(),
            cardinalities: first.cardinalities.clone(),
            sensitive_cardinalities: first.sensitive_cardinalities.clone(),
            keys: Keys::Packed {
                layout: Arc::clone(layout),
                keys,
                codes: OnceLock::new(),
            },
            counts,
            histograms: Vec::new(),
            stepped: Vec::new(),
        })
    }

    /// Counts the rows of `range` into this (empty) table.
    fn add_rows(
        &mut self,
        input: &CountingInput<'_>,
        maps: &[&[u32]],
        range: std::ops::Range<usize>,
    ) {
        let width = maps.len();
        let mut key = vec![0u32; width];
        let mut row_class = Vec::with_capacity(range.len());
        if let Keys::Packed { layout, keys, .. } = &mut self.keys {
            // Each row's key packed from shifted level maps, then grouped.
            let shifted: Vec<(&[u32], Vec<u64>)> = input
                .quasi_identifiers
                .iter()
                .zip(maps)
                .enumerate()
                .map(|(j, ((codes, _), map))| (*codes, layout.shifted(j, map)))
                .collect();
            let complete = group_packed(
                range.len(),
                usize::MAX,
                None,
                keys,
                &mut self.counts,
                &mut row_class,
                // (Each row's class is needed only for the histograms.)
                !input.sensitive.is_empty(),
                |targets| {
                    targets.resize(range.len(), 0);
                    for (codes, map) in &shifted {
                        let (codes, map): (&[u32], &[u64]) = (&codes[range.clone()], map);
                        for (t, &code) in targets.iter_mut().zip(codes) {
                            *t |= map[code as usize];
                        }
                    }
                },
            );
            debug_assert!(complete, "no limit on the classes");
        }
        let coded = matches!(self.keys, Keys::Codes(_));
        for row in range.clone().filter(|_| coded) {
            for (j, ((codes, _), map)) in input.quasi_identifiers.iter().zip(maps).enumerate() {
                key[j] = map[codes[row] as usize];
            }
            let next = self.counts.len() as u32;
            let (class, new) = self
                .index
                .get_mut()
                .expect("a counting table has its index")
                .get_or_insert(&key, next);
            if new {
                self.codes_mut().extend_from_slice(&key);
                self.counts.push(0);
            }
            self.counts[class as usize] += 1;
            row_class.push(class);
        }
        let classes = self.counts.len();
        for (s, (codes, _)) in input.sensitive.iter().enumerate() {
            let mut pairs: Vec<u64> = row_class
                .iter()
                .zip(&codes[range.clone()])
                .map(|(&c, &v)| (u64::from(c) << 32) | u64::from(v))
                .collect();
            pairs.sort_unstable();
            // Every class has rows, so the sorted pairs visit classes 0, 1, … in turn.
            let mut offsets = Vec::with_capacity(classes + 1);
            offsets.push(0);
            let mut entries = Vec::with_capacity(pairs.len().min(1 << 16));
            let mut current = 0u32;
            let mut i = 0;
            while i < pairs.len() {
                let (class, value) = ((pairs[i] >> 32) as u32, pairs[i] as u32);
                let mut j = i;
                while j < pairs.len() && pairs[j] == pairs[i] {
                    j += 1;
                }
                if class != current {
                    offsets.push(entries.len());
                    current = class;
                }
                entries.push((value, (j - i) as u64));
                i = j;
            }
            if !pairs.is_empty() {
                offsets.push(entries.len());
            }
            self.histograms[s] = HistogramColumn::Sparse { offsets, entries };
        }
    }

    /// Adds the classes of `other` (a table of other rows at the same node)
    /// into `self`: counts and histograms of equal tuples are summed, new
    /// tuples are appended in `other`'s order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::IncompatibleTables`] when the tables were counted at
    /// different nodes or over different attributes.
    pub fn merge(&mut self, other: &FrequencyTable) -> Result<()> {
        if self.node != other.node
            || self.cardinalities.len() != other.cardinalities.len()
            || self.sensitive_cardinalities != other.sensitive_cardinalities
        {
            return Err(ErrorKind::IncompatibleTables {
                reason: format!(
                    "counted at {} with {} sensitive attributes vs {} with {}",
                    self.node,
                    self.histograms.len(),
                    other.node,
                    other.histograms.len()
                ),
            }
            .into());
        }
        self.stepped.clear();
        if self.cardinalities != other.cardinalities {
            // Partitions may use fewer labels; re-key over the larger domain.
            let cardinalities: Vec<u32> = self
                .cardinalities
                .iter()
                .zip(&other.cardinalities)
                .map(|(a, b)| *a.max(b))
                .collect();
            if cardinalities != self.cardinalities {
                self.rebuild_index(cardinalities);
            }
        }
        self.index_mut().reserve(other.classes());
        // Keys and counts first, noting which class of `self` each of
        // `other`'s classes joins (at most one each: keys are distinct).
        let old = self.classes();
        let mut partner = vec![u32::MAX; old];
        let mut appended = Vec::new();
        for c in 0..other.classes() {
            let next = self.counts.len() as u32;
            let (class, new) = self.index_mut().get_or_insert(other.key(c), next);
            if new {
                self.push_key(other.key(c));
                self.counts.push(other.counts[c]);
                appended.push(c);
            } else {
                self.counts[class as usize] += other.counts[c];
                partner[class as usize] = c as u32;
            }
        }
        // Then each histogram column rebuilt once: sums, then new classes.
        for (mine, theirs) in self.histograms.iter_mut().zip(&other.histograms) {
            let mut merged = HistogramColumn::with_capacity(old + appended.len(), 0);
            for (c, &p) in partner.iter().enumerate() {
                if p == u32::MAX {
                    merged.push_ref(mine.get(c));
                } else {
                    merged.push_sum(mine.get(c), theirs.get(p as usize));
                }
            }
            for &c in &appended {
                merged.push_ref(theirs.get(c));
            }
            *mine = merged;
        }
        Ok(())
    }

    /// Adds one class (key, count, histograms) into the table.
    fn insert<'h>(
        &mut self,
        key: &[u32],
        count: u64,
        histograms: impl Iterator<Item = HistogramRef<'h>>,
    ) {
        let next = self.counts.len() as u32;
        let (class, new) = self.index_mut().get_or_insert(key, next);
        if new {
            self.push_key(key);
            self.counts.push(count);
            for (mine, theirs) in self.histograms.iter_mut().zip(histograms) {
                mine.push_ref(theirs);
            }
        } else {
            self.counts[class as usize] += count;
            for (mine, theirs) in self.histograms.iter_mut().zip(histograms) {
                mine.add_to(class as usize, theirs);
            }
        }
    }

    fn rebuild_index(&mut self, cardinalities: Vec<u32>) {
        self.cardinalities = cardinalities;
        self.index = OnceLock::from(self.build_index());
    }

    /// The index of the current keys.
    fn build_index(&self) -> KeyIndex {
        if let Keys::Packed { layout, keys, .. } = &self.keys
            && self
                .cardinalities
                .iter()
                .zip(&layout.masks)
                .all(|(&c, &m)| u64::from(c) <= m + 1)
        {
            // Keyed by the packed keys themselves (every code fits its field).
            let mut map = FxHashMap::with_capacity_and_hasher(keys.len(), Default::default());
            map.extend(keys.iter().enumerate().map(|(c, &k)| (k, c as u32)));
            return KeyIndex::Packed {
                shifts: layout.shifts.clone(),
                map,
            };
        }
        let mut index = KeyIndex::new(&self.cardinalities, self.classes());
        index.reserve(self.classes());
        for c in 0..self.classes() {
            index.get_or_insert(self.key(c), c as u32);
        }
        index
    }

    /// The key index, built first if the table was made without one.
    fn index_mut(&mut self) -> &mut KeyIndex {
        if self.index.get().is_none() {
            let index = self.build_index();
            let _ = self.index.set(index);
        }
        self.index.get_mut().expect("just set")
    }

    /// The table at a more general node, computed from this one without
    /// touching the rows (roll-up): each class key is mapped to its ancestors
    /// and classes that meet are merged. Gives the same table as counting the
    /// rows at `target` directly.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when `target` is not above this
    /// table's node, and level errors as for counting.
    pub fn roll_up(
        &self,
        hierarchies: &[&CompiledHierarchy],
        target: &Node,
    ) -> Result<FrequencyTable> {
        let (mut table, assignment) = self.roll_up_counts(hierarchies, target)?;
        if let Some(assignment) = assignment {
            table.gather_histograms(self, &assignment);
        }
        Ok(table)
    }

    /// The first half of [`FrequencyTable::roll_up`]: the classes and their
    /// counts at `target`, and, when this table has sensitive attributes,
    /// the target class of each of its classes, from which
    /// [`FrequencyTable::gather_histograms`] completes the table. Until then
    /// the returned table has no histograms (the search skips them for
    /// nodes that fail on class sizes alone). `None`: already complete.
    pub(crate) fn roll_up_counts(
        &self,
        hierarchies: &[&CompiledHierarchy],
        target: &Node,
    ) -> Result<(FrequencyTable, Option<Vec<u32>>)> {
        Ok(self
            .roll_up_counts_within(hierarchies, target, usize::MAX)?
            .expect("no limit on the classes"))
    }

    /// [`FrequencyTable::roll_up_counts`], or `None` when the table at
    /// `target` has more than `max_classes` classes (found as soon as that
    /// many distinct keys are seen, for keys that pack into 64 bits).
    pub(crate) fn roll_up_counts_within(
        &self,
        hierarchies: &[&CompiledHierarchy],
        target: &Node,
        max_classes: usize,
    ) -> Result<Option<(FrequencyTable, Option<Vec<u32>>)>> {
        let lifts = self.roll_up_lifts(hierarchies, target)?;
        let cardinalities: Vec<u32> = hierarchies
            .iter()
            .zip(target.levels())
            .map(|(h, &l)| h.levels()[l as usize].cardinality() as u32)
            .collect();
        let width = lifts.len();
        let space = cardinalities
            .iter()
            .try_fold(1u64, |acc, &c| acc.checked_mul(u64::from(c.max(1))))
            .filter(|&space| space <= DENSE_SLOTS);
        let mut table = FrequencyTable {
            node: target.clone(),
            index: OnceLock::new(),
            cardinalities,
            sensitive_cardinalities: self.sensitive_cardinalities.clone(),
            keys: Keys::Codes(Vec::new()),
            counts: Vec::new(),
            histograms: vec![HistogramColumn::default(); self.histograms.len()],
            stepped: Vec::new(),
        };
        let layout = match &self.keys {
            Keys::Packed { layout, .. } => Some(Arc::clone(layout)),
            Keys::Codes(_) => Layout::new(hierarchies)
                .or_else(|| Layout::at(hierarchies, target))
                .map(Arc::new),
        };
        if width > 0
            && let Some(layout) = layout
        {
            return Ok(self.roll_up_packed(target, &lifts, layout, (space, max_classes), table));
        }
        if width > 0 {
            return Ok(self.roll_up_codes(&lifts, (space, max_classes), table));
        }
        let mut key = vec![0u32; width];
        let mut index = KeyIndex::new(&table.cardinalities, self.classes());
        index.reserve(self.classes());
        table.index = OnceLock::from(index);
        for c in 0..self.classes() {
            for (j, (&k, lift)) in self.key(c).iter().zip(&lifts).enumerate() {
                key[j] = lift[k as usize];
            }
            table.insert(
                &key,
                self.counts[c],
                self.histograms.iter().map(|h| h.get(c)),
            );
        }
        Ok((table.classes() <= max_classes).then_some((table, None)))
    }

    /// Checks that `target` is above this table's node and returns, per
    /// attribute, the lift from this table's level to the target's.
    fn roll_up_lifts<'h>(
        &self,
        hierarchies: &[&'h CompiledHierarchy],
        target: &Node,
    ) -> Result<Vec<&'h [u32]>> {
        if !self.node.is_below(target) || hierarchies.len() != self.node.levels().len() {
            return Err(Error::parameter(
                "node",
                format!("cannot roll {} up to {}", self.node, target),
            ));
        }
        let mut lifts = Vec::with_capacity(hierarchies.len());
        for (h, (&from, &to)) in hierarchies
            .iter()
            .zip(self.node.levels().iter().zip(target.levels()))
        {
            h.level(to as usize)?;
            lifts.push(h.lift(from as usize, to as usize));
        }
        Ok(lifts)
    }

    /// Roll-up with the target keys packed into one `u64` each by `layout`;
    /// `table` is the empty target table, returned filled (histograms
    /// excepted) with the source-to-target class assignment when tracked;
    /// `None` when it has more than `max_classes` classes.
    fn roll_up_packed<'s>(
        &'s self,
        target: &Node,
        lifts: &[&'s [u32]],
        layout: Arc<Layout>,
        (space, max_classes): (Option<u64>, usize),
        mut table: FrequencyTable,
    ) -> Option<(FrequencyTable, Option<Vec<u32>>)> {
        // The hot path of the search. Keys packed into one u64 each:
        // from a packed source only the attributes whose level changes
        // are lifted (one table read each, the result already shifted
        // into place), the others kept by a mask; then grouped in a
        // reused open-addressing table. Histograms are gathered
        // afterwards, the codes unpacked only if asked for.
        let expected = self.classes().min(space.unwrap_or(u64::MAX) as usize);
        let track = !self.histograms.is_empty();
        let mut keys: Vec<u64> = Vec::with_capacity(expected);
        let mut assignment: Vec<u32> = Vec::with_capacity(if track { self.classes() } else { 0 });
        table.counts.reserve(expected);
        let complete = match self.direct_plan(&layout, lifts, &table.cardinalities, space) {
            Some((plan, source)) => {
                let mut firsts: Vec<u32> = Vec::with_capacity(expected);
                let output = (&mut table.counts, &mut firsts, &mut assignment);
                let complete = plan.group(source, &self.counts, max_classes, output, track);
                if complete {
                    // Each class's key lifted from its first source class's.
                    let representatives: Vec<u64> =
                        firsts.iter().map(|&f| source[f as usize]).collect();
                    let changed = self.changed_lifts(target, lifts, &layout);
                    layout.lift_keys(&representatives, &changed, &mut keys);
                }
                complete
            }
            None => group_packed(
                expected,
                max_classes,
                Some(&self.counts),
                &mut keys,
                &mut table.counts,
                &mut assignment,
                track,
                self.packed_fill(target, lifts, &layout),
            ),
        };
        if !complete {
            return None;
        }
        table.keys = Keys::Packed {
            layout,
            keys,
            codes: OnceLock::new(),
        };
        Some((table, track.then_some(assignment)))
    }

    /// The plan of a roll-up by direct index into a target key space of
    /// `space` keys (at target cardinalities `cardinalities`), with this
    /// table's packed keys, when it pays (see [`direct::pays`]).
    fn direct_plan<'s>(
        &'s self,
        layout: &Layout,
        lifts: &[&'s [u32]],
        cardinalities: &[u32],
        space: Option<u64>,
    ) -> Option<(DirectPlan<'s>, &'s [u64])> {
        let Keys::Packed { keys, .. } = &self.keys else {
            return None;
        };
        if !direct::pays(space?, self.classes()) {
            return None;
        }
        // (Lookup tables of up to half the source's size.)
        let plan = DirectPlan::new(layout, lifts, cardinalities, self.classes() / 2 + 256)?;
        Some((plan, keys))
    }

    /// For each attribute whose level differs at `target`, its lift shifted
    /// into its field of `layout` (see [`Layout::shifted`]).
    fn changed_lifts(
        &self,
        target: &Node,
        lifts: &[&[u32]],
        layout: &Layout,
    ) -> Vec<(usize, Vec<u64>)> {
        let mut changed = Vec::with_capacity(lifts.len());
        changed.extend(
            (0..lifts.len())
                .filter(|&j| self.node.levels()[j] != target.levels()[j])
                .map(|j| (j, layout.shifted(j, lifts[j]))),
        );
        changed
    }

    /// How each source class's packed target key is computed: from the
    /// stepped keys when every changed attribute goes one level up, else by
    /// lifting the changed fields of packed keys, else by packing lifted codes.
    fn packed_fill<'s>(
        &'s self,
        target: &Node,
        lifts: &[&'s [u32]],
        layout: &'s Arc<Layout>,
    ) -> Box<FillTargets<'s>> {
        let width = lifts.len();
        match &self.keys {
            Keys::Packed { keys: source, .. }
                if !self.stepped.is_empty()
                    && (0..width).all(|j| {
                        let (from, to) = (self.node.levels()[j], target.levels()[j]);
                        to == from || to == from + 1
                    }) =>
            {
                // Every changed attribute one level up: its field is
                // taken from the stepped key, the others kept.
                let keep = (0..width)
                    .filter(|&j| self.node.levels()[j] == target.levels()[j])
                    .fold(0u64, |acc, j| acc | (layout.masks[j] << layout.shifts[j]));
                let stepped = &self.stepped;
                Box::new(move |targets: &mut Vec<u64>| {
                    targets.extend(
                        source
                            .iter()
                            .zip(stepped)
                            .map(|(&k, &s)| (k & keep) | (s & !keep)),
                    );
                })
            }
            Keys::Packed { keys: source, .. } => {
                let changed = self.changed_lifts(target, lifts, layout);
                Box::new(move |targets: &mut Vec<u64>| layout.lift_keys(source, &changed, targets))
            }
            Keys::Codes(codes) => {
                // Only the attributes whose field at the target has bits
                // (at its top an attribute's code is always 0), each code
                // lifted and shifted as it is read: wide tables roll up to
                // nodes with most attributes at their top.
                let active: Vec<(usize, &[u32], u32)> = (0..width)
                    .filter(|&j| layout.masks[j] != 0)
                    .map(|j| (j, lifts[j], layout.shifts[j]))
                    .collect();
                Box::new(move |targets: &mut Vec<u64>| {
                    targets.extend(codes.chunks_exact(width).map(|key| {
                        active.iter().fold(0u64, |acc, &(j, lift, shift)| {
                            acc | (u64::from(lift[key[j] as usize]) << shift)
                        })
                    }));
                })
            }
        }
    }

    /// Roll-up keeping the target keys as code vectors (keys too wide to
    /// pack); `table` is the empty target table, returned filled (histograms
    /// excepted) with the source-to-target class assignment when tracked;
    /// `None` once it has more than `max_classes` classes.
    fn roll_up_codes(
        &self,
        lifts: &[&[u32]],
        (space, max_classes): (Option<u64>, usize),
        mut table: FrequencyTable,
    ) -> Option<(FrequencyTable, Option<Vec<u32>>)> {
        let width = lifts.len();
        let mut out: Vec<u32> = Vec::new();
        // The hot path of the search: a tight loop assigning each source
        // class its target class, the table's own index built only if it
        // is ever needed, histograms gathered afterwards. Small key spaces
        // use a reused dense slot array (it stays in cache), larger ones a
        // hash map of the mixed-radix slot (a unique u64 or u128 key).
        let strides = mixed_radix_strides(&table.cardinalities);
        let expected = self.classes().min(space.unwrap_or(u64::MAX) as usize);
        let reserve = expected.min(max_classes.saturating_add(1));
        table.counts.reserve(reserve);
        out.reserve(reserve * width);
        let track = !self.histograms.is_empty();
        let mut assignment: Vec<u32> = Vec::with_capacity(if track { self.classes() } else { 0 });
        let counts = &mut table.counts;
        let complete = match (space.filter(|&space| space <= DENSE_FAST_SLOTS), strides) {
            (Some(space), Some((strides, _))) => DENSE_SCRATCH.with_borrow_mut(|slots| {
                if slots.len() < space as usize {
                    slots.resize(space as usize, u32::MAX);
                }
                let strides: Vec<u64> = strides.iter().map(|&s| s as u64).collect();
                let complete = self.roll_codes(
                    lifts,
                    &strides,
                    max_classes,
                    (&mut out, counts, &mut assignment),
                    |slot, next| {
                        let class = &mut slots[slot as usize];
                        if *class == u32::MAX {
                            *class = next;
                        }
                        *class
                    },
                );
                for target in out.chunks_exact(width) {
                    slots[dense_slot(target, &strides)] = u32::MAX;
                }
                complete
            }),
            (_, Some((strides, keys))) if keys <= 1 << 64 => {
                let strides: Vec<u64> = strides.iter().map(|&s| s as u64).collect();
                let output = (&mut out, counts, &mut assignment);
                self.roll_codes_mapped(lifts, &strides, max_classes, output, reserve)
            }
            (_, Some((strides, _))) => {
                let output = (&mut out, counts, &mut assignment);
                self.roll_codes_mapped(lifts, &strides, max_classes, output, reserve)
            }
            (_, None) => {
                self.roll_codes_boxed(lifts, max_classes, (&mut out, counts, &mut assignment))
            }
        };
        if !complete {
            return None;
        }
        table.keys = Keys::Codes(out);
        Some((table, track.then_some(assignment)))
    }

    /// [`FrequencyTable::roll_codes`] finding target classes in a hash map
    /// of their mixed-radix slots (of `S`, a `u64` or a `u128`), reserved
    /// for `reserve` classes.
    fn roll_codes_mapped<S>(
        &self,
        lifts: &[&[u32]],
        strides: &[S],
        max_classes: usize,
        output: (&mut Vec<u32>, &mut Vec<u64>, &mut Vec<u32>),
        reserve: usize,
    ) -> bool
    where
        S: Copy
            + From<u32>
            + std::ops::Add<Output = S>
            + std::ops::Mul<Output = S>
            + std::hash::Hash
            + Eq,
    {
        let mut map: FxHashMap<S, u32> = FxHashMap::default();
        map.reserve(reserve.min(1 << 16));
        self.roll_codes(lifts, strides, max_classes, output, |slot, next| {
            *map.entry(slot).or_insert(next)
        })
    }

    /// The code-key hot loop: lifts each source class's key, finds its
    /// target class by mixed-radix slot through `slot_of(slot, next)`
    /// (`next` when new), and adds its count there. Returns `false` once
    /// there are more than `max_classes` target classes.
    fn roll_codes<S>(
        &self,
        lifts: &[&[u32]],
        strides: &[S],
        max_classes: usize,
        (keys, counts, assignment): (&mut Vec<u32>, &mut Vec<u64>, &mut Vec<u32>),
        mut slot_of: impl FnMut(S, u32) -> u32,
    ) -> bool
    where
        S: Copy + From<u32> + std::ops::Add<Output = S> + std::ops::Mul<Output = S>,
    {
        let width = lifts.len();
        let track = !self.histograms.is_empty();
        let mut key = vec![0u32; width];
        for (source, &count) in self.codes().chunks_exact(width).zip(&self.counts) {
            // (Exact: the strides are those of a key space that fits in S.)
            let mut slot = S::from(0);
            for ((k, &code), (lift, &stride)) in
                key.iter_mut().zip(source).zip(lifts.iter().zip(strides))
            {
                *k = lift[code as usize];
                slot = slot + S::from(*k) * stride;
            }
            let next = counts.len() as u32;
            let class = slot_of(slot, next);
            if class == next {
                if counts.len() == max_classes {
                    return false;
                }
                keys.extend_from_slice(&key);
                counts.push(count);
            } else {
                counts[class as usize] += count;
            }
            if track {
                assignment.push(class);
            }
        }
        true
    }

    /// The code-key loop for key spaces beyond `u128` slots: target classes
    /// found in an open-addressing table of class numbers over the keys
    /// written so far (no allocation per class). Returns `false` once there
    /// are more than `max_classes`.
    fn roll_codes_boxed(
        &self,
        lifts: &[&[u32]],
        max_classes: usize,
        (keys, counts, assignment): (&mut Vec<u32>, &mut Vec<u64>, &mut Vec<u32>),
    ) -> bool {
        fn hash(key: &[u32]) -> u64 {
            key.iter().fold(0u64, |h, &k| {
                (h.rotate_left(5) ^ u64::from(k)).wrapping_mul(0x517c_c1b7_2722_0a95)
            })
        }
        let width = lifts.len();
        let track = !self.histograms.is_empty();
        let mut key = vec![0u32; width];
        let mut slots = vec![FREE; 1 << 10];
        for (source, &count) in self.codes().chunks_exact(width).zip(&self.counts) {
            for ((k, &code), lift) in key.iter_mut().zip(source).zip(lifts) {
                *k = lift[code as usize];
            }
            let mask = slots.len() - 1;
            let mut slot = home_slot(hash(&key), 64 - slots.len().trailing_zeros());
            let class = loop {
                match slots[slot] {
                    FREE => break None,
                    c if keys[c as usize * width..][..width] == key[..] => break Some(c),
                    _ => slot = (slot + 1) & mask,
                }
            };
            let class = match class {
                Some(class) => {
                    counts[class as usize] += count;
                    class
                }
                None => {
                    if counts.len() == max_classes {
                        return false;
                    }
                    let class = counts.len() as u32;
                    slots[slot] = class;
                    keys.extend_from_slice(&key);
                    counts.push(count);
                    if 2 * counts.len() > slots.len() {
                        // Doubled, every class placed again.
                        slots = vec![FREE; 2 * slots.len()];
                        let (mask, shift) = (slots.len() - 1, 64 - slots.len().trailing_zeros());
                        for (c, k) in keys.chunks_exact(width).enumerate() {
                            let mut slot = home_slot(hash(k), shift);
                            while slots[slot] != FREE {
                                slot = (slot + 1) & mask;
                            }
                            slots[slot] = c as u32;
                        }
                    }
                    class
                }
            };
            if track {
                assignment.push(class);
            }
        }
        true
    }

    /// This table with its keys packed into one `u64` per class when they
    /// fit (the form roll-ups produce, which lifts only the attributes whose
    /// level changes); otherwise unchanged. Classes keep their order.
    pub(crate) fn packed(self, hierarchies: &[&CompiledHierarchy]) -> FrequencyTable {
        if matches!(self.keys, Keys::Packed { .. }) {
            return self;
        }
        let node = self.node.clone();
        self.roll_up(hierarchies, &node).unwrap_or(self)
    }

    /// This table with each class's key one level up in every attribute
    /// stored beside it, so that roll-ups lifting each changed attribute by
    /// one level (such as the search's, from its bottom table to nodes
    /// capped at level 1) merge two keys instead of reading a table per
    /// attribute. Unchanged when the keys are not packed.
    pub(crate) fn with_stepped_keys(self, hierarchies: &[&CompiledHierarchy]) -> FrequencyTable {
        let Some(stepper) = self.stepper(hierarchies) else {
            return self;
        };
        let mut stepped = Vec::with_capacity(self.classes());
        stepper.lift(0..self.classes(), &mut stepped);
        self.with_stepped(stepped)
    }

    /// What lifts this table's keys one level up in every attribute (see
    /// [`FrequencyTable::with_stepped_keys`]), for lifting them a part at
    /// a time; `None` when the keys are not packed.
    pub(crate) fn stepper(&self, hierarchies: &[&CompiledHierarchy]) -> Option<Stepper<'_>> {
        let Keys::Packed { layout, keys, .. } = &self.keys else {
            return None;
        };
        if hierarchies.len() != self.node.levels().len() {
            return None;
        }
        let up = hierarchies
            .iter()
            .zip(self.node.levels())
            .enumerate()
            .filter(|&(_, (h, &from))| (from as usize) + 1 < h.levels().len())
            .map(|(j, (h, &from))| {
                (
                    j,
                    layout.shifted(j, h.lift(from as usize, from as usize + 1)),
                )
            })
            .collect();
        Some(Stepper { layout, keys, up })
    }

    /// The stepped keys (see [`FrequencyTable::with_stepped_keys`]); empty
    /// when the table has none.
    #[cfg(test)]
    pub(crate) fn stepped_keys(&self) -> &[u64] {
        &self.stepped
    }

    /// This table with `stepped` (every class's key lifted by its
    /// [`FrequencyTable::stepper`], in class order) stored beside its keys.
    pub(crate) fn with_stepped(mut self, stepped: Vec<u64>) -> FrequencyTable {
        debug_assert_eq!(stepped.len(), self.classes());
        self.stepped = stepped;
        self
    }

    /// Completes a table from [`FrequencyTable::roll_up_counts`]: each
    /// class's histograms are the sums of its source classes' histograms,
    /// stored like the source's (dense columns stay dense).
    pub(crate) fn gather_histograms(&mut self, source: &FrequencyTable, assignment: &[u32]) {
        let targets = self.counts.len();
        for (mine, (theirs, &domain)) in self.histograms.iter_mut().zip(
            source
                .histograms
                .iter()
                .zip(&source.sensitive_cardinalities),
        ) {
            *mine = match theirs {
                HistogramColumn::Dense { width, counts } => {
                    gather_rows(*width, counts, assignment, targets)
                }
                HistogramColumn::Sparse { offsets, entries }
                    if domain as usize <= DENSE_GATHER_DOMAIN
                        && targets * domain as usize <= DENSE_GATHER_CELLS =>
                {
                    gather_matrix(offsets, entries, domain as usize, assignment, targets)
                }
                HistogramColumn::Sparse { .. } => gather_sparse(theirs, assignment, targets),
            };
        }
    }

    /// This table with each histogram column stored densely where that pays
    /// (small sensitive domains, see [`HistogramColumn::dense`]), so that
    /// roll-ups from it add rows instead of merging entries.
    pub(crate) fn with_dense_histograms(mut self) -> FrequencyTable {
        let rows = self.rows();
        for (column, &domain) in self
            .histograms
            .iter_mut()
            .zip(&self.sensitive_cardinalities)
        {
            *column = std::mem::take(column).into_dense(domain, rows);
        }
        self
    }

    /// The classes of this table for which `keep` is true, in order (for
    /// example, the released classes of a node, without the suppressed ones).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when `keep` does not have one flag per class.
    pub fn retain(&self, keep: &[bool]) -> Result<FrequencyTable> {
        if keep.len() != self.classes() {
            return Err(crate::error::Error::parameter(
                "keep",
                format!("{} flags for {} classes", keep.len(), self.classes()),
            ));
        }
        let kept = |c: &usize| keep[*c];
        let classes: Vec<usize> = (0..self.classes()).filter(kept).collect();
        let keys = match &self.keys {
            Keys::Packed { layout, keys, .. } => Keys::Packed {
                layout: Arc::clone(layout),
                keys: classes.iter().map(|&c| keys[c]).collect(),
                codes: OnceLock::new(),
            },
            Keys::Codes(_) => Keys::Codes(
                classes
                    .iter()
                    .flat_map(|&c| self.key(c).iter().copied())
                    .collect(),
            ),
        };
        Ok(FrequencyTable {
            node: self.node.clone(),
            cardinalities: self.cardinalities.clone(),
            sensitive_cardinalities: self.sensitive_cardinalities.clone(),
            keys,
            counts: classes.iter().map(|&c| self.counts[c]).collect(),
            histograms: self
                .histograms
                .iter()
                .map(|h| {
                    let mut column = h.like(classes.len(), 0);
                    for &c in &classes {
                        column.push_ref(h.get(c));
                    }
                    column
                })
                .collect(),
            index: OnceLock::new(),
            stepped: Vec::new(),
        })
    }

    /// The node this table was counted at.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Number of equivalence classes.
    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    /// Number of rows counted.
    pub fn rows(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Number of sensitive attributes.
    pub fn sensitive_attributes(&self) -> usize {
        self.histograms.len()
    }

    /// The generalized tuple (label codes at this node) of class `class`.
    pub fn key(&self, class: usize) -> &[u32] {
        let w = self.cardinalities.len();
        &self.codes()[class * w..(class + 1) * w]
    }

    /// Quasi-identifier `j`'s label code in class `class` (without unpacking
    /// every key of a packed table).
    pub(crate) fn code(&self, class: usize, j: usize) -> u32 {
        match &self.keys {
            Keys::Codes(codes) => codes[class * self.cardinalities.len() + j],
            Keys::Packed { layout, keys, .. } => layout.code(keys[class], j),
        }
    }

    /// Calls `f` with each class's index and label codes (one per
    /// quasi-identifier), in class order; packed keys are unpacked one at a
    /// time into a reused buffer.
    pub(crate) fn for_each_key(&self, mut f: impl FnMut(usize, &[u32])) {
        let width = self.cardinalities.len();
        match &self.keys {
            Keys::Codes(codes) => {
                for (c, key) in codes.chunks_exact(width.max(1)).enumerate() {
                    f(c, &key[..width]);
                }
            }
            Keys::Packed { layout, keys, .. } => {
                let fields: Vec<(u32, u64)> = layout
                    .shifts
                    .iter()
                    .zip(&layout.masks)
                    .map(|(&shift, &mask)| (shift, mask))
                    .collect();
                let mut key = vec![0u32; width];
                for (c, &packed) in keys.iter().enumerate() {
                    for (code, &(shift, mask)) in key.iter_mut().zip(&fields) {
                        *code = ((packed >> shift) & mask) as u32;
                    }
                    f(c, &key);
                }
            }
        }
    }

    /// Every class's codes, one per quasi-identifier per class.
    fn codes(&self) -> &[u32] {
        match &self.keys {
            Keys::Codes(codes) => codes,
            Keys::Packed {
                layout,
                keys,
                codes,
            } => codes.get_or_init(|| layout.unpack(keys)),
        }
    }

    /// Appends a class's key (to a packed table packed, when its codes fit).
    fn push_key(&mut self, key: &[u32]) {
        if let Keys::Packed {
            layout,
            keys,
            codes,
        } = &mut self.keys
            && key
                .iter()
                .zip(&layout.masks)
                .all(|(&k, &m)| u64::from(k) <= m)
        {
            let packed = key
                .iter()
                .zip(&layout.shifts)
                .fold(0u64, |acc, (&k, &s)| acc | (u64::from(k) << s));
            keys.push(packed);
            codes.take();
            return;
        }
        self.codes_mut().extend_from_slice(key);
    }

    /// The codes, for adding classes (a packed table is unpacked first).
    fn codes_mut(&mut self) -> &mut Vec<u32> {
        if let Keys::Packed {
            layout,
            keys,
            codes,
        } = &mut self.keys
        {
            let codes = codes.take().unwrap_or_else(|| layout.unpack(keys));
            self.keys = Keys::Codes(codes);
        }
        match &mut self.keys {
            Keys::Codes(codes) => codes,
            Keys::Packed { .. } => unreachable!("unpacked above"),
        }
    }

    /// The class whose generalized tuple is `key`, if any.
    pub fn class_of(&self, key: &[u32]) -> Option<usize> {
        if key.len() != self.cardinalities.len()
            || key.iter().zip(&self.cardinalities).any(|(&k, &c)| k >= c)
        {
            return None;
        }
        self.index
            .get_or_init(|| self.build_index())
            .get(key)
            .map(|c| c as usize)
    }

    /// For every row of `dataset`, the class it falls in at this table's node.
    ///
    /// # Errors
    ///
    /// As [`FrequencyTable::from_dataset`]; and
    /// [`ErrorKind::IncompatibleTables`] when a row's tuple is not a class of
    /// this table (it was counted from other data).
    pub fn row_classes(&self, dataset: &Dataset, hierarchies: &Hierarchies) -> Result<Vec<usize>> {
        let input = CountingInput::new(dataset, hierarchies)?;
        let maps = input.level_maps(&self.node)?;
        let mut key = vec![0u32; maps.len()];
        (0..input.rows())
            .map(|row| {
                for (j, ((codes, _), map)) in input.quasi_identifiers.iter().zip(&maps).enumerate()
                {
                    key[j] = map[codes[row] as usize];
                }
                self.class_of(&key).ok_or_else(|| {
                    ErrorKind::IncompatibleTables {
                        reason: format!("row {} is in no class of the table", row + 1),
                    }
                    .into()
                })
            })
            .collect()
    }

    /// The size of every class.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The histograms of sensitive attribute `sensitive` (index in column
    /// order among the sensitive attributes), one per class.
    pub fn histograms(
        &self,
        sensitive: usize,
    ) -> impl ExactSizeIterator<Item = HistogramRef<'_>> + '_ {
        self.histograms[sensitive].iter()
    }

    /// The histogram of sensitive attribute `sensitive` in class `class`.
    pub fn histogram(&self, sensitive: usize, class: usize) -> HistogramRef<'_> {
        self.histograms[sensitive].get(class)
    }

    /// The distribution of sensitive attribute `sensitive` over all rows
    /// (the reference distribution P of t-closeness and β-likeness).
    pub fn overall(&self, sensitive: usize) -> Histogram {
        let mut counts = vec![0u64; self.sensitive_cardinalities[sensitive] as usize];
        for h in self.histograms[sensitive].iter() {
            for (c, n) in h.iter() {
                counts[c as usize] += n;
            }
        }
        Histogram::from_sorted(
            counts
                .into_iter()
                .enumerate()
                .filter(|e| e.1 > 0)
                .map(|(c, n)| (c as u32, n))
                .collect(),
        )
    }

    /// The classes as views.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EquivalenceClass<'_>> {
        (0..self.classes()).map(move |index| EquivalenceClass { table: self, index })
    }

    /// The number of classes of each size: `(size, classes)` sorted by size.
    pub fn size_distribution(&self) -> Vec<(u64, u64)> {
        let mut sizes: FxHashMap<u64, u64> = FxHashMap::default();
        for &c in &self.counts {
            *sizes.entry(c).or_default() += 1;
        }
        let mut sizes: Vec<(u64, u64)> = sizes.into_iter().collect();
        sizes.sort_unstable();
        sizes
    }

    /// The classes as `(key, count, histograms)` sorted by key: a canonical
    /// form for comparing tables regardless of class order.
    pub(crate) fn canonical(&self) -> Vec<(Vec<u32>, u64, Vec<Histogram>)> {
        let mut rows: Vec<_> = (0..self.classes())
            .map(|c| {
                (
                    self.key(c).to_vec(),
                    self.counts[c],
                    self.histograms
                        .iter()
                        .map(|h| h.get(c).to_histogram())
                        .collect(),
                )
            })
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        rows
    }
}

/// A view of one equivalence class of a [`FrequencyTable`].
#[derive(Clone, Copy, Debug)]
pub struct EquivalenceClass<'a> {
    table: &'a FrequencyTable,
    index: usize,
}

impl<'a> EquivalenceClass<'a> {
    /// The class number in its table.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of records in the class, |E|.
    pub fn size(&self) -> u64 {
        self.table.counts[self.index]
    }

    /// The generalized quasi-identifier tuple (label codes).
    pub fn key(&self) -> &'a [u32] {
        self.table.key(self.index)
    }

    /// The histogram of sensitive attribute `sensitive` in this class.
    pub fn histogram(&self, sensitive: usize) -> HistogramRef<'a> {
        self.table.histograms[sensitive].get(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::attribute::{AttributeRole, AttributeType};
    use crate::data::column::EncodedColumn;
    use crate::hierarchy::table::Hierarchy;
    use std::collections::BTreeMap;

    /// Three attributes of 40, 7 and 2 values with decimal hierarchies of
    /// heights 2, 1 and 1 (level l of v is v / 10^l, the top is `*`).
    fn data() -> (Dataset, Hierarchies) {
        data_with(&[])
    }

    /// [`data`] with sensitive attributes of the given domains.
    fn data_with(sensitive: &[u32]) -> (Dataset, Hierarchies) {
        data_rows(500, sensitive)
    }

    fn data_rows(rows: u64, sensitive: &[u32]) -> (Dataset, Hierarchies) {
        data_domains(rows, &[40, 7, 2], sensitive)
    }

    /// `rows` rows of quasi-identifiers of the given domains, with decimal
    /// hierarchies as in [`data`], and sensitive attributes as in
    /// [`data_with`].
    fn data_domains(rows: u64, domains: &[u32], sensitive: &[u32]) -> (Dataset, Hierarchies) {
        data_values(rows, domains, sensitive, |r, j| {
            r * r + 3 * r * (j as u64 + 1)
        })
    }

    /// [`data_domains`] with quasi-identifier `j` of row `r` taken from
    /// `value(r, j)` (modulo its domain).
    fn data_values(
        rows: u64,
        domains: &[u32],
        sensitive: &[u32],
        value: impl Fn(u64, usize) -> u64,
    ) -> (Dataset, Hierarchies) {
        let mut encoded = Vec::new();
        let mut hierarchies = Vec::new();
        for (j, &domain) in domains.iter().enumerate() {
            let name = format!("q{j}");
            let values: Vec<String> = (0..rows)
                .map(|r| (value(r, j) % u64::from(domain)).to_string())
                .collect();
            encoded.push((
                EncodedColumn::from_values(&name, values.iter().map(String::as_str)),
                AttributeRole::QuasiIdentifier,
                AttributeType::Integer,
            ));
            let height = if domain > 10 { 2 } else { 1 };
            let table = (0..domain)
                .map(|v| {
                    let mut row = vec![v.to_string()];
                    row.extend((1..height).map(|l| (v / 10u32.pow(l)).to_string()));
                    row.push("*".into());
                    row
                })
                .collect();
            hierarchies.push(Hierarchy::from_rows(&name, table).expect("hierarchy"));
        }
        for (s, &domain) in sensitive.iter().enumerate() {
            let name = format!("s{s}");
            let values: Vec<String> = (0..rows)
                .map(|r| ((r * 7 + r * r * (s as u64 + 2)) % u64::from(domain)).to_string())
                .collect();
            encoded.push((
                EncodedColumn::from_values(&name, values.iter().map(String::as_str)),
                AttributeRole::Sensitive,
                AttributeType::Integer,
            ));
        }
        let dataset = Dataset::from_encoded(encoded).expect("dataset");
        let compiled = Hierarchies::compile(&dataset, &hierarchies).expect("compiles");
        (dataset, compiled)
    }

    /// Counting more rows than a chunk holds gives the table of the chunks'
    /// tables merged in row order: the same classes in the same order.
    #[test]
    fn chunked_counts_equal_merged_chunks() {
        let rows = 2 * CHUNK_ROWS + 1_234;
        let keys = |t: &FrequencyTable| {
            let mut keys = Vec::new();
            t.for_each_key(|_, k| keys.push(k.to_vec()));
            keys
        };
        for sensitive in [&[][..], &[3][..]] {
            let (dataset, hierarchies) = data_rows(rows as u64, sensitive);
            let input = CountingInput::new(&dataset, &hierarchies).expect("input");
            for node in [Node::bottom(3), Node::new(vec![1, 0, 1])] {
                let table = FrequencyTable::count(&input, &node).expect("counts");
                let part = |range| FrequencyTable::count_rows(&input, &node, range).expect("part");
                let mut merged = part(0..CHUNK_ROWS);
                merged
                    .merge(&part(CHUNK_ROWS..2 * CHUNK_ROWS))
                    .expect("merges");
                merged.merge(&part(2 * CHUNK_ROWS..rows)).expect("merges");
                assert_eq!(keys(&table), keys(&merged), "{node}");
                assert_eq!(table.counts(), merged.counts(), "{node}");
                assert_eq!(table, merged, "{node}");
                assert_eq!(table.rows(), rows as u64);
            }
        }
    }

    #[test]
    fn each_key_is_visited_in_class_order_packed_or_not() {
        let (dataset, hierarchies) = data();
        let packed =
            FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::new(vec![1, 0, 0]))
                .unwrap();
        assert!(matches!(packed.keys, Keys::Packed { .. }));
        let mut coded = packed.clone();
        coded.keys = Keys::Codes(packed.codes().to_vec());
        for table in [&packed, &coded] {
            let mut seen = Vec::new();
            table.for_each_key(|c, key| seen.push((c, key.to_vec())));
            let expected: Vec<(usize, Vec<u32>)> = (0..packed.classes())
                .map(|c| (c, packed.key(c).to_vec()))
                .collect();
            assert_eq!(seen, expected);
        }
    }

    #[test]
    fn grouping_numbers_classes_by_first_appearance() {
        // Keys from a few to many distinct values (so the slots and the
        // class arrays grow, from any `expected`), with 0 and the largest
        // 63-bit key among them; with and without sizes and tracking.
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        for distinct in [1u64, 3, 200, 5_000] {
            let keys: Vec<u64> = (0..20_000)
                .map(|i| match i % 97 {
                    0 => 0,
                    1 => u64::MAX >> 1,
                    _ => (next() % distinct).wrapping_mul(0x1234_5678_9ABC) >> 1,
                })
                .collect();
            let sizes: Vec<u64> = (0..keys.len() as u64).map(|i| i % 5 + 1).collect();
            for expected in [1, 64, 3_000, keys.len()] {
                for (sized, track) in [(true, true), (false, false), (true, false)] {
                    let group = |max_classes| {
                        let (mut out, mut counts, mut assignment) =
                            (Vec::new(), Vec::new(), Vec::new());
                        let complete = group_packed(
                            expected,
                            max_classes,
                            sized.then_some(&sizes[..]),
                            &mut out,
                            &mut counts,
                            &mut assignment,
                            track,
                            |targets| targets.extend_from_slice(&keys),
                        );
                        (complete, out, counts, assignment)
                    };
                    let (complete, out, counts, assignment) = group(usize::MAX);
                    assert!(complete);
                    let mut order: Vec<u64> = Vec::new();
                    let mut reference: BTreeMap<u64, (usize, u64)> = BTreeMap::new();
                    let mut classes = Vec::new();
                    for (i, &key) in keys.iter().enumerate() {
                        let n = reference.len();
                        let entry = reference.entry(key).or_insert_with(|| {
                            order.push(key);
                            (n, 0)
                        });
                        entry.1 += if sized { sizes[i] } else { 1 };
                        classes.push(entry.0 as u32);
                    }
                    assert_eq!(out, order, "{distinct} keys, expected {expected}");
                    let expected_counts: Vec<u64> = order.iter().map(|k| reference[k].1).collect();
                    assert_eq!(counts, expected_counts);
                    assert_eq!(assignment, if track { classes } else { Vec::new() });
                    // With a limit on the classes: complete exactly when the
                    // keys stay within it.
                    for max_classes in [order.len().saturating_sub(1), order.len()] {
                        let (complete, out, ..) = group(max_classes);
                        assert_eq!(complete, max_classes == order.len());
                        if complete {
                            assert_eq!(out, order);
                        }
                    }
                }
            }
        }
        // The slots are left free for the next grouping.
        PACKED_SCRATCH.with_borrow(|(slots, ..)| assert!(slots.iter().all(|&s| s == FREE)));
    }

    #[test]
    fn roll_ups_through_stepped_keys_equal_plain_roll_ups() {
        let (dataset, hierarchies) = data();
        let compiled = hierarchies.quasi_identifiers(&dataset);
        for from in [vec![0, 0, 0], vec![1, 0, 1]] {
            let from = Node::new(from);
            let plain = FrequencyTable::from_dataset(&dataset, &hierarchies, &from)
                .expect("counts")
                .packed(&compiled);
            assert!(matches!(plain.keys, Keys::Packed { .. }));
            let stepped = plain.clone().with_stepped_keys(&compiled);
            assert_eq!(stepped.stepped.len(), stepped.classes());
            // One level up in some attributes (through the stepped keys),
            // and two levels up in one (the table reads).
            for to in [
                [0, 1, 0],
                [1, 1, 1],
                [1, 0, 1],
                [2, 1, 1],
                [2, 0, 0],
                [1, 0, 0],
            ] {
                let to = Node::new(to.to_vec());
                if !from.is_below(&to) {
                    continue;
                }
                let a = plain.roll_up(&compiled, &to).expect("rolls up");
                let b = stepped.roll_up(&compiled, &to).expect("rolls up");
                let direct = FrequencyTable::from_dataset(&dataset, &hierarchies, &to).unwrap();
                assert_eq!(a.counts(), b.counts(), "{from} → {to}");
                assert_eq!(
                    (0..a.classes()).map(|c| a.key(c)).collect::<Vec<_>>(),
                    (0..b.classes()).map(|c| b.key(c)).collect::<Vec<_>>(),
                    "{from} → {to}"
                );
                assert_eq!(b.canonical(), direct.canonical(), "{from} → {to}");
                // Stepped keys are not carried over.
                assert!(b.stepped.is_empty());
            }
        }
    }

    /// Stepped keys lifted a part at a time equal those lifted at once, and
    /// each is its class's key one level up in every attribute.
    #[test]
    fn stepped_keys_alike_in_parts_and_at_once() {
        let (dataset, hierarchies) =
            data_values(3_000, &[97, 89, 50], &[], |r, j| r * (j as u64 + 3) + r / 7);
        let compiled = hierarchies.quasi_identifiers(&dataset);
        let bottom = FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(3))
            .expect("counts")
            .packed(&compiled);
        let n = bottom.classes();
        let mut parts = Vec::new();
        let stepper = bottom.stepper(&compiled).expect("packed keys");
        for range in [0..n / 3, n / 3..n / 2, n / 2..n] {
            stepper.lift(range, &mut parts);
        }
        let one = bottom.clone().with_stepped_keys(&compiled);
        let two = bottom.clone().with_stepped(parts);
        assert!(one.classes() > 1_000, "{}", one.classes());
        assert_eq!(one.stepped.len(), one.classes());
        assert_eq!(one.stepped, two.stepped);
        // Each stepped key is its class's key one level up in every
        // attribute: in order of first appearance, they are the keys of the
        // roll-up to level 1.
        let up = one
            .roll_up(&compiled, &Node::new(vec![1, 1, 1]))
            .expect("rolls up");
        let Keys::Packed { keys, .. } = &up.keys else {
            panic!("roll-ups keep packed keys");
        };
        let mut seen = std::collections::HashSet::new();
        let firsts: Vec<u64> = two
            .stepped
            .iter()
            .copied()
            .filter(|&k| seen.insert(k))
            .collect();
        assert_eq!(&firsts, keys);
    }

    /// Roll-ups by direct index (with one or several lookups per key) give
    /// a count from the rows: the same classes in the same order, counts and
    /// histograms; and stop past the same number of classes as the hash path.
    #[test]
    fn direct_roll_ups_equal_counts_from_rows() {
        let domains = [40, 30, 25, 12, 7];
        for sensitive in [&[][..], &[5][..]] {
            let (dataset, hierarchies) = data_domains(20_000, &domains, sensitive);
            let compiled = hierarchies.quasi_identifiers(&dataset);
            let bottom = Node::bottom(domains.len());
            let mut lookups = std::collections::BTreeSet::new();
            for from in [bottom.clone(), Node::new(vec![1, 0, 0, 1, 0])] {
                let source = FrequencyTable::from_dataset(&dataset, &hierarchies, &from)
                    .expect("counts")
                    .packed(&compiled);
                let Keys::Packed { layout, .. } = &source.keys else {
                    panic!("the keys pack");
                };
                // Every node: levels up to 2, 2, 2, 2 and 1.
                for index in 0..3 * 3 * 3 * 3 * 2 {
                    let to = Node::new(vec![
                        index % 3,
                        index / 3 % 3,
                        index / 9 % 3,
                        index / 27 % 3,
                        index / 81,
                    ]);
                    if !from.is_below(&to) {
                        continue;
                    }
                    let lifts = source.roll_up_lifts(&compiled, &to).expect("lifts");
                    let counted =
                        FrequencyTable::from_dataset(&dataset, &hierarchies, &to).unwrap();
                    let space = counted
                        .cardinalities
                        .iter()
                        .map(|&c| u64::from(c))
                        .product();
                    if let Some((plan, _)) =
                        source.direct_plan(layout, &lifts, &counted.cardinalities, Some(space))
                    {
                        lookups.insert(plan.lookups());
                    }
                    let rolled = source.roll_up(&compiled, &to).expect("rolls up");
                    assert_eq!(rolled.counts(), counted.counts(), "{from} → {to}");
                    for c in 0..rolled.classes() {
                        assert_eq!(rolled.key(c), counted.key(c), "{from} → {to}");
                    }
                    assert_eq!(rolled.canonical(), counted.canonical(), "{from} → {to}");
                    let n = rolled.classes();
                    let within = |limit| {
                        source
                            .roll_up_counts_within(&compiled, &to, limit)
                            .expect("rolls up")
                            .is_some()
                    };
                    assert!(within(n), "{from} → {to}");
                    assert!(!within(n - 1), "{from} → {to}");
                }
            }
            // Roll-ups by one lookup per key, and by two.
            assert!(lookups.contains(&1) && lookups.contains(&2), "{lookups:?}");
        }
        // The slots are left free for the next grouping.
        direct::assert_slots_free();
    }

    /// Keys too wide for one `u64` at the bottom (fifteen attributes of
    /// 800 values, about 80 labels at level 1): roll-ups to nodes that pack
    /// at their own levels (a layout per node, kept by the roll-ups above
    /// it), to nodes whose mixed-radix keys fit a `u64` or a `u128` but do
    /// not pack, and to nodes beyond both (a flat hash table), give the
    /// classes counted from the rows, in the same order, and stop exactly
    /// past a class limit.
    #[test]
    fn wide_roll_ups_equal_counts_from_rows() {
        let width = 15;
        for sensitive in [&[][..], &[4][..]] {
            // Level-1 labels repeat every 80 rows, values every 560 (the
            // last attribute's every 2,800): at every node but the bottom,
            // classes of several rows.
            let (dataset, hierarchies) = data_values(3_000, &[800; 15], sensitive, |r, j| {
                // (Multipliers prime to 80: every label turns up.)
                let m = [1, 3, 7, 9, 11, 13, 17, 19, 21, 23, 27, 29, 31, 33, 37][j];
                10 * ((r * m + j as u64) % 80) + if j < 14 { r % 7 } else { r / 100 % 7 }
            });
            let compiled = hierarchies.quasi_identifiers(&dataset);
            let node = |ones: usize, zeros: usize| {
                Node::new(
                    (0..width)
                        .map(|j| {
                            if j < zeros {
                                0
                            } else if j < zeros + ones {
                                1
                            } else {
                                2
                            }
                        })
                        .collect(),
                )
            };
            let bottom = FrequencyTable::from_dataset(&dataset, &hierarchies, &node(0, 15))
                .expect("counts")
                .packed(&compiled);
            assert!(
                matches!(bottom.keys, Keys::Codes(_)),
                "the bottom does not pack"
            );
            let packed = bottom.roll_up(&compiled, &node(6, 0)).expect("rolls up");
            assert!(
                matches!(packed.keys, Keys::Packed { .. }),
                "6 × 7 bits pack"
            );
            // (ones, zeros): 10 × 7 bits do not pack, but 80^10 < 2^64;
            // 80^15 < 2^128; fifteen or twelve attributes at level 0 exceed it.
            let mut paths = std::collections::BTreeSet::new();
            for (ones, zeros) in [(6, 0), (3, 0), (10, 0), (15, 0), (9, 3), (0, 15), (3, 12)] {
                let to = node(ones, zeros);
                let counted = FrequencyTable::from_dataset(&dataset, &hierarchies, &to).unwrap();
                let bits = Layout::at(&compiled, &to).is_some();
                let space = mixed_radix_strides(&counted.cardinalities).map(|(_, n)| n);
                paths.insert(match space {
                    _ if bits => "packed",
                    Some(n) if n <= 1 << 64 => "u64",
                    Some(_) => "u128",
                    None => "flat",
                });
                for source in [&bottom, &packed]
                    .into_iter()
                    .filter(|s| s.node.is_below(&to))
                {
                    let from = source.node();
                    let rolled = source.roll_up(&compiled, &to).expect("rolls up");
                    assert_eq!(rolled.counts(), counted.counts(), "{from} → {to}");
                    for c in 0..rolled.classes() {
                        assert_eq!(rolled.key(c), counted.key(c), "{from} → {to}");
                    }
                    assert_eq!(rolled.canonical(), counted.canonical(), "{from} → {to}");
                    let n = rolled.classes();
                    assert!(n > 1 && (to == *bottom.node() || n <= 560), "{to}");
                    let within = |limit| {
                        source
                            .roll_up_counts_within(&compiled, &to, limit)
                            .expect("rolls up")
                            .is_some()
                    };
                    assert!(within(n), "{from} → {to}");
                    assert!(!within(n - 1), "{from} → {to}");
                }
            }
            assert_eq!(paths.len(), 4, "{paths:?}");
            // A packed table rolled up to a coarser node keeps its layout.
            let coarser = packed.roll_up(&compiled, &node(3, 0)).expect("rolls up");
            match (&packed.keys, &coarser.keys) {
                (Keys::Packed { layout: a, .. }, Keys::Packed { layout: b, .. }) => {
                    assert!(Arc::ptr_eq(a, b));
                }
                _ => panic!("both packed"),
            }
        }
    }

    /// Lifting many narrow fields through tables of runs of fields gives
    /// the keys of a pass per field: 20 fields of 1 to 4 bits (and fields
    /// of width 0), lifts of 3 to 12 of them, one wide unchanged field.
    #[test]
    fn lifts_by_runs_equal_lifts_by_fields() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let widths: Vec<u32> = (0..20)
            .map(|j| [1, 2, 3, 4, 0, 2, 3][j % 7])
            .chain([12])
            .collect();
        let (mut shifts, mut masks, mut bits) = (Vec::new(), Vec::new(), 0);
        for &w in &widths {
            shifts.push(if w == 0 { 0 } else { bits });
            masks.push((1u64 << w) - 1);
            bits += w;
        }
        let layout = Layout { shifts, masks };
        let source: Vec<u64> = (0..5_000)
            .map(|_| {
                (0..widths.len()).fold(0, |key, j| {
                    key | ((next() & layout.masks[j]) << layout.shifts[j])
                })
            })
            .collect();
        let mut used = 0;
        for changed in [3, 5, 8, 12] {
            let lifts: Vec<(usize, Vec<u64>)> = (0..20)
                .filter(|&j| widths[j] > 0)
                .take(changed)
                .map(|j| {
                    let size = layout.masks[j] as usize + 1;
                    // Onto codes of at most the field's width.
                    let lift: Vec<u32> = (0..size)
                        .map(|c| (c as u32 * 7 + 3) % size as u32)
                        .collect();
                    (j, layout.shifted(j, &lift))
                })
                .collect();
            let (mut by_runs, mut by_fields) = (vec![1], vec![1]);
            if let Some(chunks) = layout.lift_chunks(&lifts, source.len()) {
                chunks.apply(&source, &mut by_runs);
                used += 1;
            } else {
                continue;
            }
            layout.lift_fields(&source, &lifts, &mut by_fields);
            assert_eq!(by_runs, by_fields, "{changed} lifted");
            let mut auto = vec![1];
            layout.lift_keys(&source, &lifts, &mut auto);
            assert_eq!(auto, by_fields);
        }
        assert!(used >= 2, "{used}");
        // Few keys: a pass per field.
        let lifts: Vec<(usize, Vec<u64>)> = (0..3)
            .map(|j| (j, layout.shifted(j, &[0, 0, 0, 0])))
            .collect();
        assert!(layout.lift_chunks(&lifts, 10).is_none());
    }

    #[test]
    fn histograms_gather_alike_dense_and_sparse() {
        // A domain of 12 (dense rows), and one of 300 (sparse columns,
        // gathered through the matrix up to 256 codes, else merged).
        for domains in [vec![12, 300], vec![5]] {
            let (dataset, hierarchies) = data_with(&domains);
            let compiled = hierarchies.quasi_identifiers(&dataset);
            let bottom = Node::new(vec![0, 0, 0]);
            let sparse = FrequencyTable::from_dataset(&dataset, &hierarchies, &bottom)
                .expect("counts")
                .packed(&compiled);
            let dense = sparse.clone().with_dense_histograms();
            assert!(matches!(dense.histograms[0], HistogramColumn::Dense { .. }));
            if domains.len() > 1 {
                assert!(matches!(
                    dense.histograms[1],
                    HistogramColumn::Sparse { .. }
                ));
            }
            for to in [[0, 0, 1], [1, 1, 0], [2, 0, 1], [2, 1, 1]] {
                let to = Node::new(to.to_vec());
                let direct = FrequencyTable::from_dataset(&dataset, &hierarchies, &to).unwrap();
                let from_sparse = sparse.roll_up(&compiled, &to).expect("rolls up");
                let from_dense = dense.roll_up(&compiled, &to).expect("rolls up");
                assert!(matches!(
                    from_dense.histograms[0],
                    HistogramColumn::Dense { .. }
                ));
                assert_eq!(from_sparse.canonical(), direct.canonical(), "{to}");
                assert_eq!(from_dense.canonical(), direct.canonical(), "{to}");
                // And again from the rolled-up dense table.
                let top = Node::new(vec![2, 1, 1]);
                let twice = from_dense.roll_up(&compiled, &top).expect("rolls up");
                let direct = FrequencyTable::from_dataset(&dataset, &hierarchies, &top).unwrap();
                assert_eq!(twice.canonical(), direct.canonical(), "{to} → {top}");
            }
            for s in 0..domains.len() {
                assert_eq!(dense.overall(s), sparse.overall(s));
            }
        }
    }
}
