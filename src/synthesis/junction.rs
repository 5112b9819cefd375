//! The junction tree of a graphical model over the synthesized attributes,
//! and exact inference on it (Koller and Friedman 2009, ch. 10): the
//! cliques of the measured marginals are triangulated by a greedy
//! elimination order (at each step the attribute whose neighbourhood spans
//! the fewest cells, as Private-PGM orders it), the maximal cliques of the
//! triangulated graph are joined by a maximum spanning tree on the sizes
//! of their intersections, and sum-product message passing in log space
//! calibrates every maximal clique's marginal.

use super::factor::{
    Projection, broadcast_add, cells, contains, logsumexp, maximal_sets, project_logsumexp,
    project_sum, projection_map, union,
};

/// A junction tree: maximal cliques, each but the root with a parent
/// listed before it, and the maps to each clique's separator with its
/// parent.
#[derive(Clone, Debug)]
pub(crate) struct JunctionTree {
    /// The domain size of every attribute.
    pub sizes: Vec<usize>,
    /// The maximal cliques (sorted attribute sets).
    pub cliques: Vec<Vec<usize>>,
    /// The elimination order that triangulated the graph.
    pub elimination: Vec<usize>,
    /// Cliques in breadth-first order from the root (parents first).
    order: Vec<usize>,
    /// Every clique's parent (None for the root).
    parent: Vec<Option<usize>>,
    /// Every clique's separator with its parent.
    separator: Vec<Vec<usize>>,
    /// Clique cells → separator cells.
    to_separator: Vec<Projection>,
    /// Parent's cells → separator cells (the root: its own, unused).
    parent_to_separator: Vec<Projection>,
}

/// A greedy elimination order of the attributes of the hypergraph
/// `cliques`: at each step the attribute whose cliques' union has the
/// fewest cells (the first such in attribute order), its cliques then
/// replaced by that union less the attribute. Returns the order and the
/// cliques each elimination formed (the attribute and its neighbours).
fn greedy_order(sizes: &[usize], cliques: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut hyper: Vec<Vec<usize>> = cliques.to_vec();
    let mut left: Vec<usize> = (0..sizes.len()).collect();
    let mut order = Vec::with_capacity(sizes.len());
    let mut formed = Vec::with_capacity(sizes.len());
    while !left.is_empty() {
        let neighbourhood = |a: usize, hyper: &[Vec<usize>]| -> Vec<usize> {
            hyper
                .iter()
                .filter(|c| c.contains(&a))
                .fold(vec![a], |acc, c| union(&acc, c))
        };
        let (pos, _) = left
            .iter()
            .enumerate()
            .map(|(i, &a)| (i, cells(&neighbourhood(a, &hyper), sizes)))
            .min_by_key(|&(i, cost)| (cost, i))
            .expect("attributes left");
        let a = left.remove(pos);
        let clique = neighbourhood(a, &hyper);
        hyper.retain(|c| !c.contains(&a));
        let rest: Vec<usize> = clique.iter().copied().filter(|&b| b != a).collect();
        if !rest.is_empty() {
            hyper.push(rest);
        }
        order.push(a);
        formed.push(clique);
    }
    (order, formed)
}

/// The elimination order and the maximal cliques of the triangulated
/// graph of `cliques` (with every attribute a clique of its own too): the
/// cliques the eliminations formed that no other contains, sorted.
fn maximal_cliques(sizes: &[usize], cliques: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut hyper: Vec<Vec<usize>> = cliques.to_vec();
    hyper.extend((0..sizes.len()).map(|a| vec![a]));
    let (elimination, formed) = greedy_order(sizes, &hyper);
    let mut maximal = maximal_sets(formed.iter());
    maximal.sort();
    (elimination, maximal)
}

/// The cells of the junction tree of `cliques` (what AIM bounds), without
/// building its maps.
pub(crate) fn model_cells(sizes: &[usize], cliques: &[Vec<usize>]) -> usize {
    maximal_cliques(sizes, cliques)
        .1
        .iter()
        .fold(0usize, |sum, c| sum.saturating_add(cells(c, sizes)))
}

impl JunctionTree {
    /// The junction tree of a model whose factors span `cliques` (sorted
    /// attribute sets) over attributes of `sizes`; every attribute is in
    /// some clique of the tree.
    pub(crate) fn build(sizes: &[usize], cliques: &[Vec<usize>]) -> JunctionTree {
        let (elimination, maximal) = maximal_cliques(sizes, cliques);
        // Maximum spanning tree on the intersections' sizes (Kruskal; an
        // empty intersection joins components, its separator is empty).
        let m = maximal.len();
        let mut edges: Vec<(usize, usize, usize)> = Vec::new();
        for i in 0..m {
            for j in i + 1..m {
                let shared = maximal[i]
                    .iter()
                    .filter(|a| maximal[j].binary_search(a).is_ok())
                    .count();
                edges.push((shared, i, j));
            }
        }
        edges.sort_by_key(|&(w, i, j)| (std::cmp::Reverse(w), i, j));
        let mut component: Vec<usize> = (0..m).collect();
        fn find(c: &mut [usize], mut x: usize) -> usize {
            while c[x] != x {
                c[x] = c[c[x]];
                x = c[x];
            }
            x
        }
        let mut adjacent = vec![Vec::new(); m];
        for (_, i, j) in edges {
            let (ri, rj) = (find(&mut component, i), find(&mut component, j));
            if ri != rj {
                component[ri] = rj;
                adjacent[i].push(j);
                adjacent[j].push(i);
            }
        }
        let mut parent = vec![None; m];
        let mut order = vec![0];
        let mut seen = vec![false; m];
        seen[0] = true;
        let mut next = 0;
        while next < order.len() {
            let i = order[next];
            next += 1;
            for &j in &adjacent[i] {
                if !seen[j] {
                    seen[j] = true;
                    parent[j] = Some(i);
                    order.push(j);
                }
            }
        }
        let separator: Vec<Vec<usize>> = (0..m)
            .map(|i| match parent[i] {
                Some(p) => maximal[i]
                    .iter()
                    .copied()
                    .filter(|a| maximal[p].binary_search(a).is_ok())
                    .collect(),
                None => Vec::new(),
            })
            .collect();
        let to_separator = (0..m)
            .map(|i| Projection::new(&maximal[i], &separator[i], sizes))
            .collect();
        let parent_to_separator = (0..m)
            .map(|i| match parent[i] {
                Some(p) => Projection::new(&maximal[p], &separator[i], sizes),
                None => Projection::new(&[], &[], sizes),
            })
            .collect();
        JunctionTree {
            sizes: sizes.to_vec(),
            cliques: maximal,
            elimination,
            order,
            parent,
            separator,
            to_separator,
            parent_to_separator,
        }
    }

    /// The smallest maximal clique (fewest cells) containing `attrs`, if
    /// any: where a factor over them is cheapest to add and read.
    pub(crate) fn clique_containing(&self, attrs: &[usize]) -> Option<usize> {
        (0..self.cliques.len())
            .filter(|&c| contains(&self.cliques[c], attrs))
            .min_by_key(|&c| (cells(&self.cliques[c], &self.sizes), c))
    }

    /// Every maximal clique's marginal, scaled to `total`, of the model
    /// with log-potentials `potentials` (one per maximal clique): sum-
    /// product messages up the tree and back down. Each potential is
    /// exponentiated once, less its largest cell, and the messages are
    /// kept in linear space, every message and product rescaled so that
    /// its largest cell is 1 (one exponential per cell instead of one per
    /// cell and message).
    pub(crate) fn calibrate(&self, potentials: &[Vec<f64>], total: f64) -> Vec<Vec<f64>> {
        let m = self.cliques.len();
        let mut partial: Vec<Vec<f64>> = potentials
            .iter()
            .map(|p| {
                let top = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                p.iter().map(|v| (v - top).exp()).collect()
            })
            .collect();
        let mut up: Vec<Vec<f64>> = vec![Vec::new(); m];
        for &i in self.order.iter().rev() {
            rescale(&mut partial[i]);
            if let Some(p) = self.parent[i] {
                let mut message = self.to_separator[i].sum(&partial[i]);
                rescale(&mut message);
                self.parent_to_separator[i].mul(&mut partial[p], &message);
                up[i] = message;
            }
        }
        let mut belief: Vec<Vec<f64>> = vec![Vec::new(); m];
        for &i in &self.order {
            let mut b = std::mem::take(&mut partial[i]);
            if let Some(p) = self.parent[i] {
                let mut down = self.parent_to_separator[i].sum(&belief[p]);
                for (d, &u) in down.iter_mut().zip(&up[i]) {
                    *d = if u > 0.0 { *d / u } else { 0.0 };
                }
                rescale(&mut down);
                self.to_separator[i].mul(&mut b, &down);
                rescale(&mut b);
            }
            belief[i] = b;
        }
        for b in &mut belief {
            let sum: f64 = b.iter().sum();
            let scale = if sum > 0.0 { total / sum } else { 0.0 };
            for v in b.iter_mut() {
                *v *= scale;
            }
        }
        belief
    }

    /// The marginal over `attrs` (sorted) of the calibrated `beliefs`: a
    /// projection of a clique containing them, or else exact variable
    /// elimination over the model `Π β_C / Π β_S` (the separators'
    /// marginals divided out).
    pub(crate) fn marginal(&self, beliefs: &[Vec<f64>], attrs: &[usize]) -> Vec<f64> {
        let len = cells(attrs, &self.sizes);
        if let Some(c) = self.clique_containing(attrs) {
            let map = projection_map(&self.cliques[c], attrs, &self.sizes);
            return project_sum(&beliefs[c], &map, len);
        }
        let total: f64 = beliefs[0].iter().sum();
        // Log-factors: every clique's belief, and each separator's
        // marginal with a minus sign.
        let mut factors: Vec<(Vec<usize>, Vec<f64>)> = Vec::new();
        for (i, c) in self.cliques.iter().enumerate() {
            factors.push((
                c.clone(),
                beliefs[i]
                    .iter()
                    .map(|v| v.max(f64::MIN_POSITIVE).ln())
                    .collect(),
            ));
            if self.parent[i].is_some() && !self.separator[i].is_empty() {
                let sep = &self.separator[i];
                let projected = self.to_separator[i].sum(&beliefs[i]);
                factors.push((
                    sep.clone(),
                    projected
                        .iter()
                        .map(|v| -v.max(f64::MIN_POSITIVE).ln())
                        .collect(),
                ));
            }
        }
        let result = eliminate(factors, attrs, &self.sizes);
        let log_z = logsumexp(&result);
        let scale = total.ln() - log_z;
        result.into_iter().map(|v| (v + scale).exp()).collect()
    }
}

/// Divides every cell by the largest (left alone when all are zero).
fn rescale(values: &mut [f64]) {
    let top = values.iter().copied().fold(0.0, f64::max);
    if top > 0.0 && top != 1.0 {
        let inverse = 1.0 / top;
        for v in values.iter_mut() {
            *v *= inverse;
        }
    }
}

/// Variable elimination in log space: sums every attribute outside `keep`
/// out of the product of the log-`factors` (each eliminated attribute the
/// one whose factors' union has the fewest cells) and returns the
/// log-table over `keep` (sorted).
pub(crate) fn eliminate(
    mut factors: Vec<(Vec<usize>, Vec<f64>)>,
    keep: &[usize],
    sizes: &[usize],
) -> Vec<f64> {
    loop {
        let mut candidates: Vec<usize> = factors
            .iter()
            .flat_map(|(a, _)| a.iter().copied())
            .filter(|a| !keep.contains(a))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let Some(&var) = candidates.iter().min_by_key(|&&v| {
            let span = factors
                .iter()
                .filter(|(a, _)| a.contains(&v))
                .fold(Vec::new(), |acc, (a, _)| union(&acc, a));
            (cells(&span, sizes), v)
        }) else {
            break;
        };
        let (with, without): (Vec<_>, Vec<_>) =
            factors.into_iter().partition(|(a, _)| a.contains(&var));
        factors = without;
        let span = with.iter().fold(Vec::new(), |acc, (a, _)| union(&acc, a));
        let mut product = vec![0.0; cells(&span, sizes)];
        for (a, values) in &with {
            broadcast_add(&mut product, &projection_map(&span, a, sizes), values);
        }
        let rest: Vec<usize> = span.iter().copied().filter(|&a| a != var).collect();
        let map = projection_map(&span, &rest, sizes);
        factors.push((
            rest.clone(),
            project_logsumexp(&product, &map, cells(&rest, sizes)),
        ));
    }
    let mut out = vec![0.0; cells(keep, sizes)];
    for (a, values) in &factors {
        broadcast_add(&mut out, &projection_map(keep, a, sizes), values);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// The joint table of log-potentials `factors` over all attributes,
    /// normalized to 1, by brute force.
    fn joint(factors: &[(Vec<usize>, Vec<f64>)], sizes: &[usize]) -> Vec<f64> {
        let all: Vec<usize> = (0..sizes.len()).collect();
        let mut log = vec![0.0; cells(&all, sizes)];
        for (a, v) in factors {
            broadcast_add(&mut log, &projection_map(&all, a, sizes), v);
        }
        let z = logsumexp(&log);
        log.iter().map(|v| (v - z).exp()).collect()
    }

    #[test]
    fn calibrated_marginals_equal_the_joints_marginals() {
        let sizes = [2, 3, 2, 4, 3];
        // A cycle 0-1-2-3-0 and a pendant 4 on 2: triangulation needed.
        let cliques = vec![vec![0, 1], vec![1, 2], vec![2, 3], vec![0, 3], vec![2, 4]];
        let mut rng = StdRng::seed_from_u64(5);
        let factors: Vec<(Vec<usize>, Vec<f64>)> = cliques
            .iter()
            .map(|c| {
                let v = (0..cells(c, &sizes))
                    .map(|_| rng.random::<f64>() * 3.0 - 1.5)
                    .collect();
                (c.clone(), v)
            })
            .collect();
        let tree = JunctionTree::build(&sizes, &cliques);
        let mut potentials: Vec<Vec<f64>> = tree
            .cliques
            .iter()
            .map(|c| vec![0.0; cells(c, &sizes)])
            .collect();
        for (a, v) in &factors {
            let c = tree
                .clique_containing(a)
                .expect("a clique holds every factor");
            broadcast_add(
                &mut potentials[c],
                &projection_map(&tree.cliques[c], a, &sizes),
                v,
            );
        }
        let beliefs = tree.calibrate(&potentials, 100.0);
        let p = joint(&factors, &sizes);
        let all: Vec<usize> = (0..sizes.len()).collect();
        for (c, belief) in tree.cliques.iter().zip(&beliefs) {
            let expected = project_sum(&p, &projection_map(&all, c, &sizes), cells(c, &sizes));
            for (b, e) in belief.iter().zip(&expected) {
                assert!((b - 100.0 * e).abs() < 1e-9, "{b} vs {}", 100.0 * e);
            }
        }
        // Pairs no clique holds, by variable elimination.
        for pair in [vec![0, 4], vec![1, 3], vec![3, 4], vec![0, 2]] {
            let got = tree.marginal(&beliefs, &pair);
            let expected = project_sum(
                &p,
                &projection_map(&all, &pair, &sizes),
                cells(&pair, &sizes),
            );
            for (g, e) in got.iter().zip(&expected) {
                assert!(
                    (g - 100.0 * e).abs() < 1e-9,
                    "{pair:?}: {g} vs {}",
                    100.0 * e
                );
            }
        }
    }

    #[test]
    fn a_tree_of_pairs_needs_no_fill_in() {
        let sizes = [3, 3, 3, 3];
        let tree = JunctionTree::build(&sizes, &[vec![0, 1], vec![1, 2], vec![1, 3]]);
        assert_eq!(tree.cliques, vec![vec![0, 1], vec![1, 2], vec![1, 3]]);
        assert_eq!(
            model_cells(&sizes, &[vec![0, 1], vec![1, 2], vec![1, 3]]),
            27
        );
        // Disconnected attributes still get a clique each.
        let tree = JunctionTree::build(&sizes, &[vec![0, 1]]);
        assert_eq!(tree.cliques, vec![vec![0, 1], vec![2], vec![3]]);
    }
}
