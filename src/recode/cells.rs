//! Local suppression of cells ([§6.6](crate::methods#66-local-recoding)):
//! every record's released quasi-identifiers, with some cells blanked,
//! match at least k − 1 other records exactly (a blank matches only a
//! blank), or are blanked entirely (a suppressed record, which matches
//! everyone). The fewest cells are blanked: exactly on small tables, by a
//! greedy search on larger ones.

use rustc_hash::FxHashMap;

/// The most records for which the minimum is found exactly (by dynamic
/// programming over subsets, 3^n steps).
pub(crate) const EXACT_ROWS: usize = 12;

/// The most quasi-identifiers for which the greedy search tries every set
/// of blanked attributes; beyond, sets of up to [`MAX_BLANKED`] attributes
/// and then the whole record.
const ALL_MASKS_WIDTH: usize = 12;

/// The largest set of blanked attributes tried on wide data.
const MAX_BLANKED: u32 = 3;

/// For each record, the set of its blanked quasi-identifiers as a bit mask
/// (bit j for quasi-identifier j; all bits: the record is suppressed).
///
/// `keys[r]` holds record r's codes, `rank[j]` the blanking rank of
/// quasi-identifier j (lower: blanked earlier).
pub(crate) fn suppress_cells(keys: &[Vec<u32>], k: usize, rank: &[usize]) -> Vec<u64> {
    let width = rank.len();
    if keys.len() <= EXACT_ROWS {
        exact(keys, k, width)
    } else {
        greedy(keys, k, rank)
    }
}

/// The number of cells the masks blank.
#[cfg(test)]
fn blanked_cells(masks: &[u64]) -> u64 {
    masks.iter().map(|m| u64::from(m.count_ones())).sum()
}

/// The mask of every attribute.
fn full(width: usize) -> u64 {
    if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// The minimum by dynamic programming over subsets of the records: a
/// release is a partition of the records into groups, each blanking the
/// attributes on which its records differ and holding at least k records,
/// or blanked entirely (any size); merging groups that release the same
/// tuple keeps it valid, so the cheapest partition is the minimum.
fn exact(keys: &[Vec<u32>], k: usize, width: usize) -> Vec<u64> {
    let n = keys.len();
    let all = full(width);
    let subsets = 1usize << n;
    // agree[T]: the attributes on which the records of T agree.
    let mut agree = vec![all; subsets];
    for set in 1..subsets {
        let first = set.trailing_zeros() as usize;
        let rest = set & (set - 1);
        if rest != 0 {
            let other = rest.trailing_zeros() as usize;
            let same = (0..width)
                .filter(|&j| keys[first][j] == keys[other][j])
                .fold(0u64, |m, j| m | 1 << j);
            agree[set] = agree[rest] & same;
        }
    }
    let group_cost = |set: usize| -> (u64, u64) {
        let size = set.count_ones() as u64;
        if size as usize >= k {
            let mask = all & !agree[set];
            (u64::from(mask.count_ones()) * size, mask)
        } else {
            (width as u64 * size, all)
        }
    };
    // best[S]: the fewest cells for the records of S; choice[S]: the group
    // holding S's lowest record.
    let mut best = vec![u64::MAX; subsets];
    let mut choice = vec![0usize; subsets];
    best[0] = 0;
    for set in 1..subsets {
        let low = set & set.wrapping_neg();
        let rest = set ^ low;
        // Every subset of `rest`, with `low` added.
        let mut sub = rest;
        loop {
            let group = sub | low;
            let cost = group_cost(group).0 + best[set ^ group];
            if cost < best[set] {
                best[set] = cost;
                choice[set] = group;
            }
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & rest;
        }
    }
    let mut masks = vec![0u64; n];
    let mut set = subsets - 1;
    while set != 0 {
        let group = choice[set];
        let mask = group_cost(group).1;
        for (r, m) in masks.iter_mut().enumerate() {
            if group >> r & 1 == 1 {
                *m = mask;
            }
        }
        set ^= group;
    }
    masks
}

/// The greedy search: records in classes of at least k keep every cell;
/// the others try sets of blanked attributes in order (fewest cells first,
/// then the least important), and a set is taken by the records it gathers
/// into a released tuple of at least k (with records already released
/// under it, or borrowed from full classes larger than k when that blanks
/// fewer cells than suppressing the gathered records). What no set
/// gathers is suppressed.
fn greedy(keys: &[Vec<u32>], k: usize, rank: &[usize]) -> Vec<u64> {
    let width = rank.len();
    let all = full(width);
    let mut masks = vec![0u64; keys.len()];
    let mut classes: FxHashMap<&[u32], Vec<u32>> = FxHashMap::default();
    for (r, key) in keys.iter().enumerate() {
        classes.entry(key.as_slice()).or_default().push(r as u32);
    }
    let mut unsafe_rows: Vec<u32> = Vec::new();
    // Full classes with records to spare (beyond k), by their rows.
    let mut spare: Vec<Vec<u32>> = Vec::new();
    let mut sorted: Vec<(&[u32], Vec<u32>)> = classes.into_iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (_, rows) in sorted {
        if rows.len() < k {
            unsafe_rows.extend(rows);
        } else if rows.len() > k {
            spare.push(rows);
        }
    }
    unsafe_rows.sort_unstable();
    for mask in mask_order(width, rank) {
        if unsafe_rows.is_empty() {
            break;
        }
        let project = |r: u32| -> Vec<u32> {
            (0..width)
                .map(|j| {
                    if mask >> j & 1 == 1 {
                        u32::MAX
                    } else {
                        keys[r as usize][j]
                    }
                })
                .collect()
        };
        let mut groups: FxHashMap<Vec<u32>, Vec<u32>> = FxHashMap::default();
        for &r in &unsafe_rows {
            groups.entry(project(r)).or_default().push(r);
        }
        // Records this mask can borrow, per released tuple.
        let mut lenders: FxHashMap<Vec<u32>, Vec<usize>> = FxHashMap::default();
        for (c, rows) in spare.iter().enumerate() {
            if rows.len() > k {
                lenders.entry(project(rows[0])).or_default().push(c);
            }
        }
        let blanked = u64::from(mask.count_ones());
        let mut placed = Vec::new();
        let mut groups: Vec<(Vec<u32>, Vec<u32>)> = groups.into_iter().collect();
        groups.sort_unstable();
        for (tuple, rows) in groups {
            let mut members = rows.len();
            let mut borrowed = Vec::new();
            if members < k {
                let needed = k - members;
                let available: usize = lenders
                    .get(&tuple)
                    .map_or(0, |cs| cs.iter().map(|&c| spare[c].len() - k).sum());
                // Borrowing blanks `needed · blanked` cells; the records
                // would otherwise cost at least `blanked` more each, and at
                // most the whole width.
                let cheaper =
                    (needed as u64) * blanked < rows.len() as u64 * (width as u64 - blanked);
                if available < needed || !cheaper {
                    continue;
                }
                let mut still = needed;
                for &c in lenders.get(&tuple).into_iter().flatten() {
                    while still > 0 && spare[c].len() > k {
                        borrowed.push(spare[c].pop().expect("spare rows"));
                        still -= 1;
                    }
                }
                members = k;
            }
            debug_assert!(members >= k);
            for &r in rows.iter().chain(&borrowed) {
                masks[r as usize] = mask;
            }
            placed.extend(rows);
        }
        if !placed.is_empty() {
            placed.sort_unstable();
            unsafe_rows.retain(|r| placed.binary_search(r).is_err());
        }
    }
    for r in unsafe_rows {
        masks[r as usize] = all;
    }
    masks
}

/// The sets of blanked attributes the greedy search tries, in order: fewer
/// attributes first, then the lowest sum of ranks; all of them up to
/// [`ALL_MASKS_WIDTH`] attributes, else up to [`MAX_BLANKED`] blanked. The
/// empty and the full set are not tried.
fn mask_order(width: usize, rank: &[usize]) -> Vec<u64> {
    let all = full(width);
    let mut masks: Vec<u64> = if width <= ALL_MASKS_WIDTH {
        (1..all).collect()
    } else {
        let mut masks = Vec::new();
        for a in 0..width {
            masks.push(1u64 << a);
            for b in a + 1..width {
                masks.push(1 << a | 1 << b);
                if MAX_BLANKED >= 3 {
                    for c in b + 1..width {
                        masks.push(1 << a | 1 << b | 1 << c);
                    }
                }
            }
        }
        masks
    };
    let cost = |m: u64| -> (u32, usize, u64) {
        let ranks = (0..width)
            .filter(|&j| m >> j & 1 == 1)
            .map(|j| rank[j])
            .sum();
        (m.count_ones(), ranks, m)
    };
    masks.sort_unstable_by_key(|&m| cost(m));
    masks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The release is k-anonymous with blanks as values, suppressed records
    /// exempt.
    fn valid(keys: &[Vec<u32>], masks: &[u64], k: usize) -> bool {
        let width = keys[0].len();
        let mut counts: FxHashMap<Vec<Option<u32>>, usize> = FxHashMap::default();
        let released: Vec<Vec<Option<u32>>> = keys
            .iter()
            .zip(masks)
            .map(|(key, m)| {
                (0..width)
                    .map(|j| (m >> j & 1 == 0).then_some(key[j]))
                    .collect()
            })
            .collect();
        for r in &released {
            *counts.entry(r.clone()).or_default() += 1;
        }
        released
            .iter()
            .all(|r| r.iter().all(Option::is_none) || counts[r] >= k)
    }

    /// Every assignment of masks to records: the true minimum.
    fn brute_force(keys: &[Vec<u32>], k: usize) -> u64 {
        let width = keys[0].len();
        let per = 1u64 << width;
        let n = keys.len() as u32;
        let mut best = u64::MAX;
        for code in 0..per.pow(n) {
            let masks: Vec<u64> = (0..n).map(|r| code / per.pow(r) % per).collect();
            if valid(keys, &masks, k) {
                best = best.min(blanked_cells(&masks));
            }
        }
        best
    }

    fn tables(seed: u64, count: usize) -> Vec<(Vec<Vec<u32>>, usize)> {
        let mut state = seed;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        (0..count)
            .map(|_| {
                let rows = 1 + next(6) as usize;
                let width = 1 + next(3) as usize;
                let values = 1 + next(3) as u32;
                let keys = (0..rows)
                    .map(|_| (0..width).map(|_| next(u64::from(values)) as u32).collect())
                    .collect();
                (keys, 2 + next(2) as usize)
            })
            .collect()
    }

    #[test]
    fn exact_matches_brute_force() {
        for (keys, k) in tables(0x9e37_79b9, 150) {
            let masks = suppress_cells(&keys, k, &(0..keys[0].len()).collect::<Vec<_>>());
            assert!(valid(&keys, &masks, k), "{keys:?} k={k}: {masks:?}");
            assert_eq!(
                blanked_cells(&masks),
                brute_force(&keys, k),
                "{keys:?} k={k}"
            );
        }
    }

    #[test]
    fn greedy_is_valid_and_never_below_the_minimum() {
        for (keys, k) in tables(0x5eed, 150) {
            let rank: Vec<usize> = (0..keys[0].len()).collect();
            let masks = greedy(&keys, k, &rank);
            assert!(valid(&keys, &masks, k), "{keys:?} k={k}: {masks:?}");
            assert!(blanked_cells(&masks) >= blanked_cells(&exact(&keys, k, rank.len())));
        }
    }

    #[test]
    fn borrowing_from_a_large_class_beats_suppression() {
        // Four (a, b) and two (a, c), k = 3: blanking the second cell of the
        // two (a, c) and of one (a, b) costs 3 cells; suppressing the two
        // (a, c) would cost 4.
        let mut keys = vec![vec![0, 0]; 4];
        keys.extend([vec![0, 1], vec![0, 1]]);
        let rank = [1, 0];
        assert_eq!(blanked_cells(&exact(&keys, 3, 2)), 3);
        let mut many = keys.clone();
        many.extend(vec![vec![5, 5]; 10]);
        let masks = greedy(&many, 3, &rank);
        assert!(valid(&many, &masks, 3));
        assert_eq!(blanked_cells(&masks), 3, "{masks:?}");
    }
}
