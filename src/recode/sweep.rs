//! The bottom-up sweep of local generalization
//! ([§6.6](crate::methods#66-local-recoding)): the nodes of the lattice in
//! order of their loss; at each, the classes of the records not yet
//! released that satisfy the models are released at that node.
//!
//! This is ARX's iterative local recoding (`optimizeIterativeFast`: the
//! best transformation for the records still suppressed, again and again)
//! without a search per step: the order is fixed, and every passing class
//! of a node is taken as the sweep passes it.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::check::ClassCheck;
use crate::hierarchy::compiled::CompiledHierarchy;

/// The largest lattice swept (every node is visited until the records run
/// out).
pub(crate) const MAX_SWEPT_NODES: u64 = 1 << 16;

/// A class released by the sweep: its node (levels per attribute) and rows.
pub(crate) struct SweptClass {
    pub levels: Vec<u32>,
    pub rows: Vec<u32>,
}

/// Sweeps the lattice of `hierarchies` (`codes[j]`: the rows' dictionary
/// codes of attribute j) over `rows`; returns the released classes and the
/// rows no node could release. `None` when the lattice has more than
/// [`MAX_SWEPT_NODES`] nodes.
pub(crate) fn sweep(
    hierarchies: &[&CompiledHierarchy],
    codes: &[&[u32]],
    check: &ClassCheck<'_>,
    rows: Vec<u32>,
    lookahead: usize,
) -> Option<(Vec<SweptClass>, Vec<u32>)> {
    let heights: Vec<u32> = hierarchies.iter().map(|h| h.height() as u32).collect();
    let size = heights
        .iter()
        .try_fold(1u64, |size, &h| size.checked_mul(u64::from(h) + 1))
        .filter(|&size| size <= MAX_SWEPT_NODES)?;
    let index_levels = |index: u64| -> Vec<u32> {
        let mut rest = index;
        heights
            .iter()
            .map(|&h| {
                let level = (rest % (u64::from(h) + 1)) as u32;
                rest /= u64::from(h) + 1;
                level
            })
            .collect()
    };
    let all: Vec<Vec<u32>> = (0..size).map(index_levels).collect();
    let min_size = check.min_size() as usize;
    let mut remaining = rows;
    let mut released = Vec::new();
    // The nodes not yet visited, in order of their loss over the records
    // still to release (computed again after every release: the rare
    // records left weigh the attributes differently).
    let mut unvisited: Vec<usize> = (0..all.len()).collect();
    let height: Vec<u32> = all.iter().map(|levels| levels.iter().sum()).collect();
    let mut loss = vec![0.0f64; all.len()];
    let mut order_stale = true;
    while !unvisited.is_empty() && remaining.len() >= min_size.max(1) {
        if order_stale {
            let cost: Vec<Vec<f64>> = hierarchies
                .iter()
                .zip(codes)
                .map(|(h, codes)| level_costs(h, codes, &remaining))
                .collect();
            for &node in &unvisited {
                loss[node] = all[node]
                    .iter()
                    .enumerate()
                    .map(|(j, &l)| cost[j][l as usize])
                    .sum::<f64>();
            }
            // Visited from the end: the cheapest last.
            unvisited.sort_unstable_by(|&a, &b| {
                loss[b]
                    .total_cmp(&loss[a])
                    .then(height[b].cmp(&height[a]))
                    .then(b.cmp(&a))
            });
            order_stale = false;
        }
        // Of the next `lookahead` nodes, the one whose passing classes lose
        // least per record released.
        let look = lookahead.min(unvisited.len());
        let mut best: Option<(f64, usize, Vec<Vec<u32>>)> = None;
        let mut empty = Vec::new();
        for at in (unvisited.len() - look..unvisited.len()).rev() {
            let node = unvisited[at];
            let classes =
                passing_classes(hierarchies, codes, check, min_size, &all[node], &remaining);
            if classes.is_empty() {
                empty.push(at);
                continue;
            }
            let records: usize = classes.iter().map(Vec::len).sum();
            let lost: f64 = classes
                .iter()
                .map(|rows| {
                    record_loss(hierarchies, codes, &all[node], rows[0]) * rows.len() as f64
                })
                .sum();
            let per = lost / records as f64;
            if best.as_ref().is_none_or(|b| per < b.0) {
                best = Some((per, at, classes));
            }
        }
        let before = released.len();
        let mut drop = empty;
        if let Some((_, at, classes)) = best {
            let levels = all[unvisited[at]].clone();
            released.extend(classes.into_iter().map(|rows| SweptClass {
                levels: levels.clone(),
                rows,
            }));
            drop.push(at);
        }
        drop.sort_unstable();
        for at in drop.into_iter().rev() {
            unvisited.remove(at);
        }
        if released.len() > before {
            let mut taken: Vec<u32> = released[before..]
                .iter()
                .flat_map(|c| c.rows.iter().copied())
                .collect();
            taken.sort_unstable();
            remaining.retain(|r| taken.binary_search(r).is_err());
            order_stale = true;
        }
    }
    if !remaining.is_empty() && absorb(hierarchies, codes, check, &mut released, &remaining) {
        remaining.clear();
    }
    Some((released, remaining))
}

/// The sweep with each look-ahead of [`LOOKAHEADS`] (in parallel), the one
/// that loses least (records left over counted as suppressed).
pub(crate) fn best_sweep(
    hierarchies: &[&CompiledHierarchy],
    codes: &[&[u32]],
    check: &ClassCheck<'_>,
    rows: Vec<u32>,
) -> Option<(Vec<SweptClass>, Vec<u32>)> {
    let runs: Vec<Option<(Vec<SweptClass>, Vec<u32>)>> = LOOKAHEADS
        .par_iter()
        .map(|&lookahead| sweep(hierarchies, codes, check, rows.clone(), lookahead))
        .collect();
    let loss = |(classes, left): &(Vec<SweptClass>, Vec<u32>)| -> f64 {
        classes
            .iter()
            .map(|c| record_loss(hierarchies, codes, &c.levels, c.rows[0]) * c.rows.len() as f64)
            .sum::<f64>()
            + (left.len() * hierarchies.len()) as f64
    };
    runs.into_iter()
        .flatten()
        .min_by(|a, b| loss(a).total_cmp(&loss(b)))
}

/// The look-aheads [`best_sweep`] tries (1: the cheapest node over the
/// records left, as ARX's iterative local recoding chooses).
const LOOKAHEADS: [usize; 4] = [1, 2, 4, 8];

/// Releases `left` (too few, or failing, to form a class) with the released
/// class where that adds the least loss: the class's records and `left` at
/// the lowest levels above the class's where they all agree. False when no
/// class can take them and still pass.
fn absorb(
    hierarchies: &[&CompiledHierarchy],
    codes: &[&[u32]],
    check: &ClassCheck<'_>,
    released: &mut [SweptClass],
    left: &[u32],
) -> bool {
    // The lowest levels from `levels` up at which `rows` and `extra` agree,
    // if the hierarchies' tops do.
    let lifted = |levels: &[u32], rows: &[u32], extra: &[u32]| -> Option<Vec<u32>> {
        hierarchies
            .iter()
            .zip(codes)
            .zip(levels)
            .map(|((h, codes), &from)| {
                let label =
                    |l: u32, r: u32| h.levels()[l as usize].map()[codes[r as usize] as usize];
                (from..=h.height() as u32).find(|&level| {
                    rows.iter()
                        .chain(extra)
                        .all(|&r| label(level, r) == label(level, rows[0]))
                })
            })
            .collect()
    };
    let mut best: Option<(f64, usize, Vec<u32>)> = None;
    for (c, class) in released.iter().enumerate() {
        let Some(levels) = lifted(&class.levels, &class.rows, left) else {
            continue;
        };
        let before =
            record_loss(hierarchies, codes, &class.levels, class.rows[0]) * class.rows.len() as f64;
        let after = record_loss(hierarchies, codes, &levels, class.rows[0])
            * (class.rows.len() + left.len()) as f64;
        if best.as_ref().is_none_or(|b| after - before < b.0) {
            best = Some((after - before, c, levels));
        }
    }
    let Some((_, c, levels)) = best else {
        return false;
    };
    let mut rows = released[c].rows.clone();
    rows.extend(left);
    if !check.passes(&rows) {
        return false;
    }
    rows.sort_unstable();
    released[c] = SweptClass { levels, rows };
    true
}

/// The classes of `remaining` at node `levels` that pass `check`.
fn passing_classes(
    hierarchies: &[&CompiledHierarchy],
    codes: &[&[u32]],
    check: &ClassCheck<'_>,
    min_size: usize,
    levels: &[u32],
    remaining: &[u32],
) -> Vec<Vec<u32>> {
    let maps: Vec<&[u32]> = hierarchies
        .iter()
        .zip(levels)
        .map(|(h, &l)| h.levels()[l as usize].map())
        .collect();
    // Keys packed in one u64 (mixed radix of the labels at the node) when
    // they fit, else as vectors.
    let radix: Option<Vec<u64>> = hierarchies
        .iter()
        .zip(levels)
        .map(|(h, &l)| h.levels()[l as usize].cardinality().max(1) as u64)
        .try_fold((1u64, Vec::new()), |(product, mut radix), card| {
            radix.push(product);
            Some((product.checked_mul(card)?, radix))
        })
        .map(|(_, radix)| radix);
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let place = |at: &mut Option<usize>, row: u32, groups: &mut Vec<Vec<u32>>| {
        let at = *at.get_or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(row);
    };
    match radix {
        Some(radix) => {
            let mut index: FxHashMap<u64, Option<usize>> = FxHashMap::default();
            for &row in remaining {
                let key: u64 = maps
                    .iter()
                    .zip(codes)
                    .zip(&radix)
                    .map(|((map, codes), &r)| u64::from(map[codes[row as usize] as usize]) * r)
                    .sum();
                place(index.entry(key).or_default(), row, &mut groups);
            }
        }
        None => {
            let mut index: FxHashMap<Vec<u32>, Option<usize>> = FxHashMap::default();
            for &row in remaining {
                let key: Vec<u32> = maps
                    .iter()
                    .zip(codes)
                    .map(|(map, codes)| map[codes[row as usize] as usize])
                    .collect();
                place(index.entry(key).or_default(), row, &mut groups);
            }
        }
    }
    groups
        .into_iter()
        .filter(|g| g.len() >= min_size && check.passes(g))
        .collect()
}

/// The normalized loss of record `row` at node `levels`, summed over the
/// attributes.
fn record_loss(
    hierarchies: &[&CompiledHierarchy],
    codes: &[&[u32]],
    levels: &[u32],
    row: u32,
) -> f64 {
    hierarchies
        .iter()
        .zip(codes)
        .zip(levels)
        .map(|((h, codes), &l)| {
            let domain = h.domain_size() as f64;
            if domain <= 1.0 {
                return 0.0;
            }
            let level = &h.levels()[l as usize];
            let share =
                level.leaves()[level.map()[codes[row as usize] as usize] as usize] as f64 / domain;
            ((share - 1.0 / domain) / (1.0 - 1.0 / domain)).max(0.0)
        })
        .sum()
}

/// For each level of `hierarchy`, the mean over `rows` of the normalized
/// share of the domain their labels cover.
fn level_costs(hierarchy: &CompiledHierarchy, codes: &[u32], rows: &[u32]) -> Vec<f64> {
    let domain = hierarchy.domain_size() as f64;
    hierarchy
        .levels()
        .iter()
        .map(|level| {
            if domain <= 1.0 || rows.is_empty() {
                return 0.0;
            }
            let sum: f64 = rows
                .iter()
                .map(|&r| level.leaves()[level.map()[codes[r as usize] as usize] as usize] as f64)
                .sum();
            ((sum / rows.len() as f64 / domain - 1.0 / domain) / (1.0 - 1.0 / domain)).max(0.0)
        })
        .collect()
}
