//! Dense tables over sets of attributes (log-potentials, marginals) and
//! the maps between a table and its projections: the arithmetic of the
//! graphical model AIM fits ([`super::junction`], [`super::mirror`]).
//!
//! A table over attributes `a₁ < a₂ < … < a_k` (indices into the
//! synthesized attributes) stores its cells row-major, the last attribute
//! varying fastest. Projections go through a precomputed map from every
//! cell of the larger table to the cell of the smaller one it falls in,
//! so that summing out, log-sum-exp and broadcasting are single passes.

/// The number of cells of a table over `attrs`.
pub(crate) fn cells(attrs: &[usize], sizes: &[usize]) -> usize {
    attrs
        .iter()
        .fold(1usize, |n, &a| n.saturating_mul(sizes[a]))
}

/// Whether every attribute of `small` is in `big` (both sorted).
pub(crate) fn contains(big: &[usize], small: &[usize]) -> bool {
    small.iter().all(|a| big.binary_search(a).is_ok())
}

/// For every cell of a table over `big`, the cell of its projection onto
/// `small` (a subset of `big`; both sorted).
pub(crate) fn projection_map(big: &[usize], small: &[usize], sizes: &[usize]) -> Vec<u32> {
    debug_assert!(contains(big, small));
    let k = big.len();
    let dims: Vec<usize> = big.iter().map(|&a| sizes[a]).collect();
    // The stride in the small table of every dimension of the big one.
    let mut strides = vec![0usize; k];
    let mut stride = 1usize;
    for &a in small.iter().rev() {
        let j = big.iter().position(|&b| b == a).expect("subset");
        strides[j] = stride;
        stride *= sizes[a];
    }
    let n: usize = dims.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut counter = vec![0usize; k];
    let mut index = 0usize;
    for _ in 0..n {
        out.push(index as u32);
        let mut j = k;
        while j > 0 {
            j -= 1;
            counter[j] += 1;
            index += strides[j];
            if counter[j] < dims[j] {
                break;
            }
            index -= strides[j] * dims[j];
            counter[j] = 0;
        }
    }
    out
}

/// The projection of a table over `big` onto `small` ⊆ `big`, in runs:
/// the trailing attributes of `big` that share the last one's membership
/// of `small` make runs of cells that either all fall into one cell of
/// the projection (not in `small`: summed first) or into consecutive ones
/// (in `small`: added cell by cell). Only each run's first cell is
/// mapped, so the map is shorter by the run's length and the inner loops
/// are contiguous: the hot path of mirror descent.
#[derive(Clone, Debug)]
pub(crate) struct Projection {
    run: usize,
    contiguous: bool,
    starts: Vec<u32>,
    len: usize,
}

impl Projection {
    pub(crate) fn new(big: &[usize], small: &[usize], sizes: &[usize]) -> Projection {
        debug_assert!(contains(big, small));
        let len = cells(small, sizes);
        let Some(&last) = big.last() else {
            return Projection {
                run: 1,
                contiguous: false,
                starts: vec![0],
                len,
            };
        };
        let contiguous = small.contains(&last);
        let k = big
            .iter()
            .rev()
            .take_while(|a| small.contains(a) == contiguous)
            .count();
        let prefix = &big[..big.len() - k];
        let run = cells(&big[big.len() - k..], sizes);
        let (small_prefix, scale) = if contiguous {
            (&small[..small.len() - k], run as u32)
        } else {
            (small, 1)
        };
        let starts = projection_map(prefix, small_prefix, sizes)
            .into_iter()
            .map(|s| s * scale)
            .collect();
        Projection {
            run,
            contiguous,
            starts,
            len,
        }
    }

    /// The number of cells of the projection.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The sums of `big` over the cells every cell of the projection
    /// gathers.
    pub(crate) fn sum(&self, big: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.len];
        for (chunk, &start) in big.chunks_exact(self.run).zip(&self.starts) {
            let start = start as usize;
            if self.contiguous {
                for (o, &b) in out[start..start + self.run].iter_mut().zip(chunk) {
                    *o += b;
                }
            } else {
                out[start] += chunk.iter().sum::<f64>();
            }
        }
        out
    }

    /// `big[i] += small[cell of i]` (broadcasting).
    pub(crate) fn add(&self, big: &mut [f64], small: &[f64]) {
        self.broadcast(big, small, |b, v| *b += v);
    }

    /// `big[i] *= small[cell of i]` (broadcasting).
    pub(crate) fn mul(&self, big: &mut [f64], small: &[f64]) {
        self.broadcast(big, small, |b, v| *b *= v);
    }

    /// `op(big[i], small[cell of i])` for every cell, run by run.
    fn broadcast(&self, big: &mut [f64], small: &[f64], op: impl Fn(&mut f64, f64)) {
        for (chunk, &start) in big.chunks_exact_mut(self.run).zip(&self.starts) {
            let start = start as usize;
            if self.contiguous {
                for (b, &v) in chunk.iter_mut().zip(&small[start..start + self.run]) {
                    op(b, v);
                }
            } else {
                let v = small[start];
                for b in chunk {
                    op(b, v);
                }
            }
        }
    }
}

/// `big[i] += small[map[i]]` for every cell (broadcasting a table over a
/// subset onto the larger one).
pub(crate) fn broadcast_add(big: &mut [f64], map: &[u32], small: &[f64]) {
    for (b, &m) in big.iter_mut().zip(map) {
        *b += small[m as usize];
    }
}

/// The sums of `big` over the cells every cell of the projection gathers.
pub(crate) fn project_sum(big: &[f64], map: &[u32], len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len];
    for (&b, &m) in big.iter().zip(map) {
        out[m as usize] += b;
    }
    out
}

/// log Σ exp over the cells every cell of the projection gathers (the
/// projection of a log-table), computed stably (each cell's maximum
/// factored out).
pub(crate) fn project_logsumexp(big: &[f64], map: &[u32], len: usize) -> Vec<f64> {
    let mut max = vec![f64::NEG_INFINITY; len];
    for (&b, &m) in big.iter().zip(map) {
        let slot = &mut max[m as usize];
        if b > *slot {
            *slot = b;
        }
    }
    let mut sum = vec![0.0; len];
    for (&b, &m) in big.iter().zip(map) {
        let top = max[m as usize];
        if top > f64::NEG_INFINITY {
            sum[m as usize] += (b - top).exp();
        }
    }
    max.iter()
        .zip(&sum)
        .map(|(&top, &s)| if s > 0.0 { top + s.ln() } else { top })
        .collect()
}

/// log Σ exp of every cell.
pub(crate) fn logsumexp(values: &[f64]) -> f64 {
    let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + values.iter().map(|&v| (v - top).exp()).sum::<f64>().ln()
}

/// The sets no other set of `sets` contains, each once, in order of first
/// appearance.
pub(crate) fn maximal_sets<'a>(sets: impl Iterator<Item = &'a Vec<usize>>) -> Vec<Vec<usize>> {
    let all: Vec<&Vec<usize>> = sets.collect();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, s) in all.iter().enumerate() {
        let covered = all
            .iter()
            .enumerate()
            .any(|(j, t)| j != i && contains(t, s) && (t.len() > s.len() || j < i));
        if !covered {
            out.push((*s).clone());
        }
    }
    out
}

/// The union of two sorted attribute sets, sorted.
pub(crate) fn union(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = a.iter().chain(b).copied().collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projection_map_follows_row_major_order() {
        // Attributes 0 (2 values), 1 (3 values), 2 (2 values).
        let sizes = [2, 3, 2];
        let map = projection_map(&[0, 1, 2], &[0, 2], &sizes);
        // Cell (i, j, k) at 6i + 2j + k goes to 2i + k.
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..2 {
                    assert_eq!(map[6 * i + 2 * j + k] as usize, 2 * i + k);
                }
            }
        }
        let table: Vec<f64> = (0..12).map(f64::from).collect();
        let summed = project_sum(&table, &map, 4);
        // (0, ·, 0): 0 + 2 + 4.
        assert_eq!(summed, vec![6.0, 9.0, 24.0, 27.0]);
        let logs: Vec<f64> = table.iter().map(|v| v.ln()).collect();
        let lse = project_logsumexp(&logs, &map, 4);
        for (l, s) in lse.iter().zip(&summed) {
            assert!((l.exp() - s).abs() < 1e-9);
        }
        let mut big = vec![0.0; 12];
        broadcast_add(&mut big, &map, &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(big[6 + 2 + 1], 4.0);
        assert_eq!(projection_map(&[0, 1], &[], &sizes), vec![0; 6]);
    }

    #[test]
    fn projections_in_runs_agree_with_the_cell_map() {
        let sizes = [2, 3, 2, 4];
        let all = [0, 1, 2, 3];
        let table: Vec<f64> = (0..48).map(|v| f64::from(v) * 0.5 + 1.0).collect();
        for small in [
            vec![],
            vec![0],
            vec![3],
            vec![0, 3],
            vec![2, 3],
            vec![1, 2],
            vec![0, 1, 3],
            vec![0, 1, 2, 3],
        ] {
            let map = projection_map(&all, &small, &sizes);
            let len = cells(&small, &sizes);
            let runs = Projection::new(&all, &small, &sizes);
            assert_eq!(runs.len(), len);
            assert_eq!(
                runs.sum(&table),
                project_sum(&table, &map, len),
                "{small:?}"
            );
            let values: Vec<f64> = (0..len).map(|v| v as f64 + 2.0).collect();
            let (mut a, mut b) = (table.clone(), table.clone());
            broadcast_add(&mut a, &map, &values);
            runs.add(&mut b, &values);
            assert_eq!(a, b, "{small:?}");
            runs.mul(&mut b, &values);
            for ((x, y), &m) in b.iter().zip(&a).zip(&map) {
                assert_eq!(*x, y * values[m as usize]);
            }
        }
        let empty = Projection::new(&[], &[], &sizes);
        assert_eq!(empty.sum(&[4.0]), vec![4.0]);
    }
}
