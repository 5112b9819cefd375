//! Top-down partitioning ([§6.6](crate::methods#66-local-recoding)): local
//! generalization along the hierarchies, and Mondrian's median splits of
//! ordered attributes released as ranges.
//!
//! All records start in one part at the top of every hierarchy (and the
//! full range of every ordered attribute). A part is split on the attribute
//! whose split lowers the information loss (each cell's share of its
//! domain, normalized per attribute) the most, as long as every part it
//! leaves satisfies the models; a part no attribute can split is released.
//!
//! - Along a hierarchy, a part at label g of level l splits into g's
//!   children at level l − 1. Children that satisfy the models become
//!   parts of their own; the others stay together at g (the *rest*, which
//!   must satisfy the models too: if it does not, the smallest passing
//!   children join it until it does). The rest can no longer split on that
//!   attribute.
//! - Along a range (Mondrian), a part splits at the median: strict, every
//!   value on one side (the cut below or above the median value, whichever
//!   both sides pass and balances better); relaxed, the sorted records
//!   halved, so records of the median value may fall on both sides.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::check::ClassCheck;
use crate::hierarchy::compiled::CompiledHierarchy;

/// How an attribute splits.
pub(crate) enum Axis<'a> {
    /// Along its hierarchy: `codes` are the rows' dictionary codes.
    Tree {
        hierarchy: &'a CompiledHierarchy,
        codes: &'a [u32],
    },
    /// At the median of its order: `ranks` are the rows' ranks among the
    /// distinct values (equal values share a rank), `distinct` their
    /// number, `texts` the text each rank is released as.
    Range {
        ranks: Vec<u32>,
        distinct: u32,
        relaxed: bool,
        texts: Vec<String>,
    },
}

impl Axis<'_> {
    /// The weight that turns a difference of shares into normalized loss:
    /// 1/(1 − 1/D) for a domain of D values (0 for a single value).
    fn weight(&self) -> f64 {
        let domain = match self {
            Axis::Tree { hierarchy, .. } => hierarchy.domain_size() as f64,
            Axis::Range { distinct, .. } => f64::from(*distinct),
        };
        if domain <= 1.0 {
            0.0
        } else {
            1.0 / (1.0 - 1.0 / domain)
        }
    }

    /// The normalized loss of `cell`: (share − 1/D)/(1 − 1/D).
    pub(crate) fn loss(&self, cell: Cell) -> f64 {
        let weight = self.weight();
        if weight == 0.0 {
            return 0.0;
        }
        let floor = 1.0 - 1.0 / weight;
        ((self.share(cell) - floor) * weight).max(0.0)
    }

    /// The share of the domain that `cell` covers.
    fn share(&self, cell: Cell) -> f64 {
        match (self, cell) {
            (Axis::Tree { hierarchy, .. }, Cell::Tree { level, label, .. }) => {
                hierarchy.levels()[level as usize].leaves()[label as usize] as f64
                    / hierarchy.domain_size() as f64
            }
            (Axis::Range { distinct, .. }, Cell::Range { low, high, .. }) => {
                f64::from(high - low + 1) / f64::from(*distinct)
            }
            _ => unreachable!("cells match their axes"),
        }
    }
}

/// What a part releases for one attribute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell {
    /// A hierarchy label; `open` while the part may still split on it.
    Tree { level: u32, label: u32, open: bool },
    /// The ranks from `low` to `high`.
    Range { low: u32, high: u32, open: bool },
}

impl Cell {
    fn is_open(self) -> bool {
        match self {
            Cell::Tree { open, .. } | Cell::Range { open, .. } => open,
        }
    }

    fn closed(self) -> Cell {
        match self {
            Cell::Tree { level, label, .. } => Cell::Tree {
                level,
                label,
                open: false,
            },
            Cell::Range { low, high, .. } => Cell::Range {
                low,
                high,
                open: false,
            },
        }
    }
}

/// A set of records released alike.
#[derive(Clone, Debug)]
pub(crate) struct Part {
    pub rows: Vec<u32>,
    pub cells: Vec<Cell>,
}

/// A split of a part: the parts it leaves and the loss it saves.
struct Split {
    parts: Vec<Part>,
    gain: f64,
}

/// Partitions `rows` (which pass `check`) top-down along `axes`; returns
/// the released parts. Parts are split in parallel, one round per depth.
pub(crate) fn partition(axes: &[Axis<'_>], check: &ClassCheck<'_>, rows: Vec<u32>) -> Vec<Part> {
    let cells = axes.iter().map(|axis| top_cell(axis, &rows)).collect();
    let mut done = Vec::new();
    let mut round = vec![Part { rows, cells }];
    while !round.is_empty() {
        let results: Vec<Result<Vec<Part>, Part>> = round
            .into_par_iter()
            .map(|part| match best_split(axes, check, &part) {
                Some(split) => Ok(split.parts),
                None => Err(part),
            })
            .collect();
        round = Vec::new();
        for result in results {
            match result {
                Ok(parts) => round.extend(parts),
                Err(part) => done.push(part),
            }
        }
    }
    done
}

/// The cell of all `rows` at the top: the top label of a hierarchy
/// (which must be one label for all rows, as the caller arranges), the full
/// range of an ordered attribute.
fn top_cell(axis: &Axis<'_>, rows: &[u32]) -> Cell {
    match axis {
        Axis::Tree { hierarchy, codes } => {
            let level = hierarchy.height();
            let label = rows.first().map_or(0, |&r| {
                hierarchy.levels()[level].map()[codes[r as usize] as usize]
            });
            Cell::Tree {
                level: level as u32,
                label,
                open: level > 0,
            }
        }
        Axis::Range { ranks, .. } => {
            let (low, high) = rows.iter().fold((u32::MAX, 0), |(lo, hi), &r| {
                (lo.min(ranks[r as usize]), hi.max(ranks[r as usize]))
            });
            Cell::Range {
                low,
                high,
                open: low < high,
            }
        }
    }
}

/// The split of `part` that saves the most loss, if any attribute splits.
/// Attributes that cannot split are closed in the parts of the chosen
/// split (and, when none splits, the part is final).
fn best_split(axes: &[Axis<'_>], check: &ClassCheck<'_>, part: &Part) -> Option<Split> {
    let mut best: Option<Split> = None;
    let mut stuck = Vec::new();
    for (j, axis) in axes.iter().enumerate() {
        if !part.cells[j].is_open() {
            continue;
        }
        let split = match axis {
            Axis::Tree { hierarchy, codes } => split_tree(hierarchy, codes, check, part, j),
            Axis::Range { ranks, relaxed, .. } => split_range(ranks, *relaxed, check, part, j),
        };
        match split {
            None => stuck.push(j),
            Some(mut split) => {
                split.gain = split
                    .parts
                    .iter()
                    .map(|p| {
                        (axis.share(part.cells[j]) - axis.share(p.cells[j])) * p.rows.len() as f64
                    })
                    .sum::<f64>()
                    * axis.weight();
                if best.as_ref().is_none_or(|b| split.gain > b.gain) {
                    best = Some(split);
                }
            }
        }
    }
    let mut best = best?;
    for part in &mut best.parts {
        for &j in &stuck {
            part.cells[j] = part.cells[j].closed();
        }
    }
    Some(best)
}

/// Splits `part` on hierarchy attribute `j` into the children of its label
/// (see the module documentation); `None` when no child can stand alone.
fn split_tree(
    hierarchy: &CompiledHierarchy,
    codes: &[u32],
    check: &ClassCheck<'_>,
    part: &Part,
    j: usize,
) -> Option<Split> {
    let Cell::Tree { level, .. } = part.cells[j] else {
        unreachable!("a tree axis has tree cells")
    };
    let child_level = level as usize - 1;
    let map = hierarchy.levels()[child_level].map();
    let mut index: FxHashMap<u32, usize> = FxHashMap::default();
    let mut children: Vec<(u32, Vec<u32>)> = Vec::new();
    for &row in &part.rows {
        let label = map[codes[row as usize] as usize];
        let at = *index.entry(label).or_insert_with(|| {
            children.push((label, Vec::new()));
            children.len() - 1
        });
        children[at].1.push(row);
    }
    let (mut good, bad): (Vec<_>, Vec<_>) = children
        .into_iter()
        .partition(|(_, rows)| check.passes(rows));
    let mut rest: Vec<u32> = bad.into_iter().flat_map(|(_, rows)| rows).collect();
    if !rest.is_empty() && !check.passes(&rest) {
        // The smallest passing children join the rest until it passes.
        good.sort_by_key(|(label, rows)| (std::cmp::Reverse(rows.len()), *label));
        loop {
            let (_, rows) = good.pop()?;
            rest.extend(rows);
            if check.passes(&rest) {
                break;
            }
        }
    }
    if good.is_empty() {
        return None;
    }
    let mut parts: Vec<Part> = good
        .into_iter()
        .map(|(label, rows)| {
            let mut cells = part.cells.clone();
            cells[j] = Cell::Tree {
                level: child_level as u32,
                label,
                open: child_level > 0,
            };
            Part { rows, cells }
        })
        .collect();
    if !rest.is_empty() {
        let mut cells = part.cells.clone();
        cells[j] = cells[j].closed();
        rest.sort_unstable();
        parts.push(Part { rows: rest, cells });
    }
    Some(Split { parts, gain: 0.0 })
}

/// Splits `part` at the median of ordered attribute `j`; `None` when no
/// cut leaves two passing sides.
fn split_range(
    ranks: &[u32],
    relaxed: bool,
    check: &ClassCheck<'_>,
    part: &Part,
    j: usize,
) -> Option<Split> {
    let mut rows = part.rows.clone();
    rows.sort_unstable_by_key(|&r| (ranks[r as usize], r));
    let n = rows.len();
    let median = n / 2;
    let cuts: Vec<usize> = if relaxed {
        vec![median]
    } else {
        // The first position of the median value, and the first past it.
        let value = ranks[rows[median] as usize];
        let below = rows.partition_point(|&r| ranks[r as usize] < value);
        let above = rows.partition_point(|&r| ranks[r as usize] <= value);
        let mut cuts = vec![below, above];
        cuts.sort_by_key(|&c| c.abs_diff(median));
        cuts
    };
    let cut = cuts
        .into_iter()
        .filter(|&c| c > 0 && c < n)
        .find(|&c| check.passes(&rows[..c]) && check.passes(&rows[c..]))?;
    let side = |rows: Vec<u32>| {
        let low = ranks[rows[0] as usize];
        let high = ranks[rows[rows.len() - 1] as usize];
        let mut cells = part.cells.clone();
        cells[j] = Cell::Range {
            low,
            high,
            open: low < high,
        };
        let mut rows = rows;
        rows.sort_unstable();
        Part { rows, cells }
    };
    let right = rows.split_off(cut);
    Some(Split {
        parts: vec![side(rows), side(right)],
        gain: 0.0,
    })
}
