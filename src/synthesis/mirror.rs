//! Private-PGM's estimation (McKenna, Sheldon and Miklau, "Graphical-model
//! based estimation and inference for differential privacy", ICML 2019):
//! the graphical model whose marginals best fit noisy marginal
//! measurements in weighted least squares, found by entropic mirror
//! descent over its log-potentials with an Armijo line search, every
//! step's marginals by exact inference on the junction tree
//! ([`super::junction`]). It reads only the noisy measurements
//! (post-processing).

use super::factor::{Projection, broadcast_add, cells, contains, maximal_sets, projection_map};
use super::junction::JunctionTree;

/// A noisy marginal: its attributes (sorted), the noisy counts of its
/// cells, and the standard deviation of their noise.
#[derive(Clone, Debug)]
pub(crate) struct Measurement {
    pub attrs: Vec<usize>,
    pub values: Vec<f64>,
    pub sigma: f64,
}

/// A fitted model: the junction tree, the log-potentials on the cliques
/// of the measurements (those no other contains), the calibrated
/// marginals of the tree's cliques and the estimated number of records.
#[derive(Clone, Debug)]
pub(crate) struct Fitted {
    pub tree: JunctionTree,
    pub cliques: Vec<Vec<usize>>,
    theta: Vec<Vec<f64>>,
    pub beliefs: Vec<Vec<f64>>,
    pub total: f64,
    /// Mirror-descent iterations run.
    #[cfg_attr(not(test), allow(dead_code))]
    pub iterations: usize,
}

impl Fitted {
    /// The model's marginal over `attrs` (sorted), scaled to its total.
    pub(crate) fn marginal(&self, attrs: &[usize]) -> Vec<f64> {
        self.tree.marginal(&self.beliefs, attrs)
    }
}

/// The minimum-variance unbiased estimate of the number of records from
/// the measurements' sums (each with variance σ²·cells), at least 1.
fn estimated_total(measurements: &[Measurement]) -> f64 {
    let (mut weighted, mut weights) = (0.0, 0.0);
    for m in measurements {
        let variance = m.sigma * m.sigma * m.values.len() as f64;
        weighted += m.values.iter().sum::<f64>() / variance;
        weights += 1.0 / variance;
    }
    if weights > 0.0 {
        (weighted / weights).max(1.0)
    } else {
        1.0
    }
}

/// The structure shared by every step: where each parameter clique lives
/// in the tree and which parameter clique each measurement reads.
struct Layout {
    home: Vec<usize>,
    home_maps: Vec<Projection>,
    owner: Vec<usize>,
    measurement_maps: Vec<Projection>,
}

/// Mirror descent from `warm`'s potentials (zero without), at most
/// `iterations` steps, stopping early once `tolerance` (relative) is all
/// the loss gained over the last 50 steps.
pub(crate) fn estimate(
    sizes: &[usize],
    measurements: &[Measurement],
    warm: Option<&Fitted>,
    iterations: usize,
    tolerance: f64,
) -> Fitted {
    let cliques = maximal_sets(measurements.iter().map(|m| &m.attrs));
    let tree = JunctionTree::build(sizes, &cliques);
    let home: Vec<usize> = cliques
        .iter()
        .map(|c| {
            tree.clique_containing(c)
                .expect("the tree holds every clique")
        })
        .collect();
    let home_maps = cliques
        .iter()
        .zip(&home)
        .map(|(c, &h)| Projection::new(&tree.cliques[h], c, sizes))
        .collect();
    let owner: Vec<usize> = measurements
        .iter()
        .map(|m| {
            cliques
                .iter()
                .position(|c| contains(c, &m.attrs))
                .expect("a clique holds every measurement")
        })
        .collect();
    let measurement_maps = measurements
        .iter()
        .zip(&owner)
        .map(|(m, &o)| Projection::new(&cliques[o], &m.attrs, sizes))
        .collect();
    let layout = Layout {
        home,
        home_maps,
        owner,
        measurement_maps,
    };
    let mut theta: Vec<Vec<f64>> = cliques.iter().map(|c| vec![0.0; cells(c, sizes)]).collect();
    if let Some(w) = warm {
        for (c, t) in w.cliques.iter().zip(&w.theta) {
            if let Some(i) = cliques.iter().position(|d| contains(d, c)) {
                broadcast_add(&mut theta[i], &projection_map(&cliques[i], c, sizes), t);
            }
        }
    }
    let total = estimated_total(measurements);
    // The loss's Hessian in the marginals is block diagonal (one block per
    // parameter clique, Σ PᵀP/σ² over its measurements), and the all-ones
    // vector is every PᵀP's top eigenvector (eigenvalue cells/cells of
    // the measurement): the Lipschitz constant exactly.
    let mut lipschitz = vec![0.0; cliques.len()];
    for (m, &o) in measurements.iter().zip(&layout.owner) {
        let ratio = cells(&cliques[o], sizes) as f64 / m.values.len() as f64;
        lipschitz[o] += ratio / (m.sigma * m.sigma);
    }
    let lipschitz = lipschitz.iter().copied().fold(0.0, f64::max).max(1e-12);
    let mut alpha = 2.0 / (lipschitz * total);

    let (mut beliefs, mut mu) = marginals(&tree, &cliques, &layout, &theta, total);
    let (mut loss, mut grad) = loss_and_gradient(&cliques, &layout, measurements, &mu, sizes);
    let mut history = vec![loss];
    let mut steps = 0;
    while steps < iterations {
        steps += 1;
        let trial: Vec<Vec<f64>> = theta
            .iter()
            .zip(&grad)
            .map(|(t, g)| t.iter().zip(g).map(|(t, g)| t - alpha * g).collect())
            .collect();
        let (beliefs2, mu2) = marginals(&tree, &cliques, &layout, &trial, total);
        let (loss2, grad2) = loss_and_gradient(&cliques, &layout, measurements, &mu2, sizes);
        let decrease: f64 = grad
            .iter()
            .zip(mu.iter().zip(&mu2))
            .map(|(g, (a, b))| {
                g.iter()
                    .zip(a.iter().zip(b))
                    .map(|(g, (a, b))| g * (a - b))
                    .sum::<f64>()
            })
            .sum();
        if loss - loss2 >= 0.5 * alpha * decrease {
            theta = trial;
            beliefs = beliefs2;
            mu = mu2;
            loss = loss2;
            grad = grad2;
            alpha *= 1.01;
        } else {
            alpha *= 0.5;
        }
        history.push(loss);
        if history.len() > 50 {
            let before = history[history.len() - 51];
            if before - loss <= tolerance * loss.abs().max(1.0) {
                break;
            }
        }
    }
    Fitted {
        tree,
        cliques,
        theta,
        beliefs,
        total,
        iterations: steps,
    }
}

/// The tree's calibrated marginals for log-potentials `theta`, and the
/// marginals of the parameter cliques.
fn marginals(
    tree: &JunctionTree,
    cliques: &[Vec<usize>],
    layout: &Layout,
    theta: &[Vec<f64>],
    total: f64,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let sizes = &tree.sizes;
    let mut potentials: Vec<Vec<f64>> = tree
        .cliques
        .iter()
        .map(|c| vec![0.0; cells(c, sizes)])
        .collect();
    for ((t, &h), map) in theta.iter().zip(&layout.home).zip(&layout.home_maps) {
        map.add(&mut potentials[h], t);
    }
    let beliefs = tree.calibrate(&potentials, total);
    let mu = cliques
        .iter()
        .zip(&layout.home)
        .zip(&layout.home_maps)
        .map(|((_, &h), map)| map.sum(&beliefs[h]))
        .collect();
    (beliefs, mu)
}

/// ½ Σ ‖(Pμ − y)/σ‖² over the measurements, and its gradient in the
/// parameter cliques' marginals.
fn loss_and_gradient(
    cliques: &[Vec<usize>],
    layout: &Layout,
    measurements: &[Measurement],
    mu: &[Vec<f64>],
    sizes: &[usize],
) -> (f64, Vec<Vec<f64>>) {
    let mut grad: Vec<Vec<f64>> = cliques.iter().map(|c| vec![0.0; cells(c, sizes)]).collect();
    let mut loss = 0.0;
    for ((m, &o), map) in measurements
        .iter()
        .zip(&layout.owner)
        .zip(&layout.measurement_maps)
    {
        let x = map.sum(&mu[o]);
        let scaled: Vec<f64> = x
            .iter()
            .zip(&m.values)
            .map(|(x, y)| (x - y) / m.sigma)
            .collect();
        loss += 0.5 * scaled.iter().map(|d| d * d).sum::<f64>();
        let g: Vec<f64> = scaled.iter().map(|d| d / m.sigma).collect();
        map.add(&mut grad[o], &g);
    }
    (loss, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthesis::factor::project_sum;

    #[test]
    fn exact_consistent_measurements_are_recovered() {
        // A joint over three attributes; its exact pair marginals measured
        // (σ = 1, no noise): the fitted marginals reproduce them.
        let sizes = [2, 3, 2];
        let all = [0, 1, 2];
        let joint: Vec<f64> = [5.0, 1.0, 2.0, 8.0, 3.0, 3.0, 1.0, 6.0, 4.0, 2.0, 7.0, 2.0]
            .iter()
            .map(|v| v * 10.0)
            .collect();
        let pair =
            |a: &[usize]| project_sum(&joint, &projection_map(&all, a, &sizes), cells(a, &sizes));
        let measurements: Vec<Measurement> = [vec![0, 1], vec![1, 2], vec![0]]
            .into_iter()
            .map(|a| Measurement {
                values: pair(&a),
                attrs: a,
                sigma: 1.0,
            })
            .collect();
        let fitted = estimate(&sizes, &measurements, None, 5000, 0.0);
        assert!((fitted.total - 440.0).abs() < 1e-9);
        for m in &measurements {
            for (got, want) in fitted.marginal(&m.attrs).iter().zip(&m.values) {
                assert!((got - want).abs() < 1e-3, "{:?}: {got} vs {want}", m.attrs);
            }
        }
        // A warm start from the fit is already there.
        let again = estimate(&sizes, &measurements, Some(&fitted), 5000, 1e-9);
        assert!(again.iterations <= 60, "{} iterations", again.iterations);
    }

    #[test]
    fn maximal_sets_drop_contained_and_repeated_sets() {
        let sets = [vec![0], vec![0, 1], vec![1, 2], vec![0, 1], vec![2]];
        assert_eq!(maximal_sets(sets.iter()), vec![vec![0, 1], vec![1, 2]]);
    }
}
