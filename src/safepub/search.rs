//! The private choice of a transformation: one exponential mechanism over
//! every node of the lattice, or SafePub's top-down walk
//! ([§8.4](crate::methods#84-differentially-private-anonymization-safepub)).

use rand::Rng;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::noise::{Rational, exponential_mechanism};
use crate::safepub::score::{NodeScore, Scorer};
use crate::search::Lattice;

/// The largest lattice [`DpSearch::Lattice`] scores node by node.
pub const MAX_DP_LATTICE_NODES: u64 = 1 << 20;

/// How the transformation is chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DpSearch {
    /// One exponential mechanism over every node of the lattice with the
    /// whole search budget (lattices up to [`MAX_DP_LATTICE_NODES`]).
    Lattice,
    /// SafePub's walk (Bild, Kuhn and Prasser 2018, Algorithm 2, as ARX's
    /// `DataDependentEDDPAlgorithm`): from the top, each step adds the
    /// pivot's direct specializations to the candidates, removes the pivot
    /// and picks the next pivot among the candidates by the exponential
    /// mechanism; the release is then picked among the pivots by one more
    /// exponential mechanism. The budget is split evenly over the
    /// `steps + 1` selections.
    Walk {
        /// Number of steps (expansions).
        steps: u32,
    },
    /// A transformation fixed without looking at the data (no search
    /// budget: the whole ε goes to the anonymization).
    Fixed {
        /// The levels, in the quasi-identifiers' order.
        node: Node,
    },
}

/// The chosen node and how it was chosen.
#[derive(Clone, Debug)]
pub(crate) struct Choice {
    pub node: Node,
    /// Nodes scored.
    pub scored: u64,
    /// The pivots of a walk (top first), empty otherwise.
    pub pivots: Vec<Node>,
}

/// Scores the sample (its table at the bottom node) at lattice nodes.
pub(crate) struct NodeScores<'a> {
    pub bottom: &'a FrequencyTable,
    pub hierarchies: &'a [&'a CompiledHierarchy],
    pub scorer: &'a Scorer<'a>,
    pub lattice: &'a Lattice,
}

impl NodeScores<'_> {
    fn score(&self, index: u64) -> Result<NodeScore> {
        let node = self.lattice.node(index);
        let (table, _) = self.bottom.roll_up_counts(self.hierarchies, &node)?;
        self.scorer.score(&table)
    }

    fn scores(&self, indices: &[u64]) -> Result<Vec<NodeScore>> {
        indices.par_iter().map(|&i| self.score(i)).collect()
    }

    /// The loss of every node, by index. Each node's table is rolled up
    /// from its parent's in a spanning tree of the lattice (a node's parent
    /// lowers its last raised attribute by one), depth first, so tables
    /// shrink on the way up and only one path of them is kept; the
    /// subtrees of the bottom's children run in parallel.
    fn all_losses(&self) -> Result<Vec<u128>> {
        let heights = self.lattice.heights().to_vec();
        let width = heights.len();
        let mut losses = vec![0u128; self.lattice.size() as usize];
        losses[0] = self.scorer.score(self.bottom)?.units;
        let subtrees: Vec<Vec<(u64, u128)>> = (0..width)
            .into_par_iter()
            .filter(|&j| heights[j] > 0)
            .map(|j| {
                let mut levels = vec![0u32; width];
                levels[j] = 1;
                let mut found = Vec::new();
                self.visit(self.bottom, levels, j, &mut found)?;
                Ok(found)
            })
            .collect::<Result<_>>()?;
        for (index, loss) in subtrees.into_iter().flatten() {
            losses[index as usize] = loss;
        }
        Ok(losses)
    }

    /// Scores the node `levels` (rolled up from `parent`) and the subtree
    /// above it, whose nodes raise attributes `last` and after.
    fn visit(
        &self,
        parent: &FrequencyTable,
        mut levels: Vec<u32>,
        last: usize,
        found: &mut Vec<(u64, u128)>,
    ) -> Result<()> {
        let node = Node::new(levels.clone());
        let (table, _) = parent.roll_up_counts(self.hierarchies, &node)?;
        found.push((
            self.lattice.index(&levels),
            self.scorer.score(&table)?.units,
        ));
        let heights = self.lattice.heights();
        for j in last..levels.len() {
            if levels[j] < heights[j] {
                levels[j] += 1;
                self.visit(&table, levels.clone(), j, found)?;
                levels[j] -= 1;
            }
        }
        Ok(())
    }
}

/// Chooses a node with `search`, spending `epsilon` (the search budget).
pub(crate) fn choose<R: Rng + ?Sized>(
    rng: &mut R,
    scores: &NodeScores<'_>,
    search: &DpSearch,
    epsilon: Rational,
) -> Result<Choice> {
    match search {
        DpSearch::Fixed { node } => Ok(Choice {
            node: node.clone(),
            scored: 0,
            pivots: Vec::new(),
        }),
        DpSearch::Lattice => {
            let size = scores.lattice.size();
            if size > MAX_DP_LATTICE_NODES {
                return Err(Error::parameter(
                    "search",
                    format!(
                        "the lattice has {size} nodes, more than the {MAX_DP_LATTICE_NODES} the lattice search scores; use the walk (steps = …)"
                    ),
                ));
            }
            let losses = scores.all_losses()?;
            let chosen = exponential_mechanism(rng, &losses, scores.scorer.per_unit(epsilon)?)?;
            Ok(Choice {
                node: scores.lattice.node(chosen as u64),
                scored: size,
                pivots: Vec::new(),
            })
        }
        DpSearch::Walk { steps } => walk(rng, scores, *steps, epsilon),
    }
}

/// SafePub's walk with a private final choice among the pivots.
fn walk<R: Rng + ?Sized>(
    rng: &mut R,
    scores: &NodeScores<'_>,
    steps: u32,
    epsilon: Rational,
) -> Result<Choice> {
    if steps == 0 {
        return Err(Error::parameter(
            "steps",
            "the walk needs at least one step",
        ));
    }
    let per_selection = Rational::new(
        epsilon.num,
        epsilon
            .den
            .checked_mul(u128::from(steps) + 1)
            .ok_or_else(|| Error::parameter("steps", "too many steps"))?,
    )?;
    let per_unit = scores.scorer.per_unit(per_selection)?;
    let lattice = scores.lattice;
    let top = lattice.size() - 1;
    // Every node scored so far (a cache), and the candidates in insertion
    // order (the order never depends on the data). As in ARX, a former
    // pivot can become a candidate again.
    let mut known: FxHashMap<u64, u128> = FxHashMap::default();
    known.insert(top, scores.score(top)?.units);
    let mut candidates: Vec<u64> = vec![top];
    let mut pivots = vec![top];
    let mut pivot = top;
    for _ in 0..steps {
        let fresh: Vec<u64> = lattice
            .predecessors(pivot)
            .filter(|i| !candidates.contains(i))
            .collect();
        let unscored: Vec<u64> = fresh
            .iter()
            .copied()
            .filter(|i| !known.contains_key(i))
            .collect();
        for (&i, s) in unscored.iter().zip(scores.scores(&unscored)?) {
            known.insert(i, s.units);
        }
        candidates.extend(fresh);
        candidates.retain(|&i| i != pivot);
        if candidates.is_empty() {
            break;
        }
        let losses: Vec<u128> = candidates.iter().map(|i| known[i]).collect();
        pivot = candidates[exponential_mechanism(rng, &losses, per_unit)?];
        pivots.push(pivot);
    }
    let losses: Vec<u128> = pivots.iter().map(|i| known[i]).collect();
    let chosen = pivots[exponential_mechanism(rng, &losses, per_unit)?];
    Ok(Choice {
        node: lattice.node(chosen),
        scored: known.len() as u64,
        pivots: pivots.iter().map(|&i| lattice.node(i)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::attribute::{AttributeRole, AttributeType};
    use crate::data::column::EncodedColumn;
    use crate::data::dataset::Dataset;
    use crate::hierarchy::{Hierarchies, Hierarchy};
    use crate::safepub::score::DpScore;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use statrs::distribution::{ChiSquared, ContinuousCDF};

    /// Six records a a a b b c of one quasi-identifier whose hierarchy
    /// lists a, b, c, d → ab, cd → `*` (domain 4, d absent from the data).
    fn tiny() -> (Dataset, Hierarchies) {
        let column = EncodedColumn::from_values("zip", ["a", "a", "a", "b", "b", "c"]);
        let dataset = Dataset::from_encoded(vec![(
            column,
            AttributeRole::QuasiIdentifier,
            AttributeType::String,
        )])
        .unwrap();
        let rows = [
            ["a", "ab", "*"],
            ["b", "ab", "*"],
            ["c", "cd", "*"],
            ["d", "cd", "*"],
        ]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
        let hierarchy = Hierarchy::from_rows("zip", rows).unwrap();
        let hierarchies = Hierarchies::compile(&dataset, &[hierarchy]).unwrap();
        (dataset, hierarchies)
    }

    fn chi_squared_p(observed: &[u64], probabilities: &[f64]) -> f64 {
        let n: u64 = observed.iter().sum();
        let statistic: f64 = observed
            .iter()
            .zip(probabilities)
            .map(|(&o, &p)| (o as f64 - p * n as f64).powi(2) / (p * n as f64))
            .sum();
        1.0 - ChiSquared::new((observed.len() - 1) as f64)
            .unwrap()
            .cdf(statistic)
    }

    /// Runs `search` `draws` times on the tiny table with k = 3 and counts
    /// the nodes chosen (by their level).
    fn frequencies(search: &DpSearch, epsilon: Rational, draws: usize) -> [u64; 3] {
        let (dataset, hierarchies) = tiny();
        let compiled = hierarchies.checked_quasi_identifiers(&dataset).unwrap();
        let bottom =
            FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(1)).unwrap();
        let lattice = Lattice::new(vec![2]).unwrap();
        let scorer = Scorer {
            score: DpScore::Loss,
            hierarchies: &compiled,
            k: 3,
            rows: 6,
        };
        let scores = NodeScores {
            bottom: &bottom,
            hierarchies: &compiled,
            scorer: &scorer,
            lattice: &lattice,
        };
        let mut rng = StdRng::seed_from_u64(20);
        let mut counts = [0u64; 3];
        for _ in 0..draws {
            let choice = choose(&mut rng, &scores, search, epsilon).unwrap();
            counts[choice.node.levels()[0] as usize] += 1;
        }
        counts
    }

    #[test]
    fn the_spanning_tree_scores_every_node_as_from_the_bottom() {
        // Two quasi-identifiers: the tiny zip and sex (m/f → *), lattice 3 × 2.
        let zip = EncodedColumn::from_values("zip", ["a", "a", "a", "b", "b", "c", "c", "d"]);
        let sex = EncodedColumn::from_values("sex", ["m", "f", "m", "f", "m", "f", "m", "m"]);
        let dataset = Dataset::from_encoded(vec![
            (zip, AttributeRole::QuasiIdentifier, AttributeType::String),
            (sex, AttributeRole::QuasiIdentifier, AttributeType::String),
        ])
        .unwrap();
        let rows = |r: &[[&str; 3]]| -> Vec<Vec<String>> {
            r.iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect()
        };
        let zip_h = Hierarchy::from_rows(
            "zip",
            rows(&[
                ["a", "ab", "*"],
                ["b", "ab", "*"],
                ["c", "cd", "*"],
                ["d", "cd", "*"],
            ]),
        )
        .unwrap();
        let sex_h = Hierarchy::from_rows(
            "sex",
            vec![
                vec!["m".to_string(), "*".to_string()],
                vec!["f".to_string(), "*".to_string()],
            ],
        )
        .unwrap();
        let hierarchies = Hierarchies::compile(&dataset, &[zip_h, sex_h]).unwrap();
        let compiled = hierarchies.checked_quasi_identifiers(&dataset).unwrap();
        let bottom =
            FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(2)).unwrap();
        let lattice = Lattice::new(vec![2, 1]).unwrap();
        for score in [DpScore::Loss, DpScore::Precision, DpScore::Discernibility] {
            let scorer = Scorer {
                score,
                hierarchies: &compiled,
                k: 2,
                rows: 8,
            };
            let scores = NodeScores {
                bottom: &bottom,
                hierarchies: &compiled,
                scorer: &scorer,
                lattice: &lattice,
            };
            let direct: Vec<u128> = (0..6).map(|i| scores.score(i).unwrap().units).collect();
            assert_eq!(scores.all_losses().unwrap(), direct, "{score:?}");
        }
    }

    #[test]
    fn scores_match_the_hand_computation() {
        let (dataset, hierarchies) = tiny();
        let compiled = hierarchies.checked_quasi_identifiers(&dataset).unwrap();
        let bottom =
            FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(1)).unwrap();
        let at = |score, level| {
            let scorer = Scorer {
                score,
                hierarchies: &compiled,
                k: 3,
                rows: 6,
            };
            let table = bottom.roll_up(&compiled, &Node::new(vec![level])).unwrap();
            scorer.score(&table).unwrap()
        };
        let unit = f64::from(1u32 << 20);
        // Loss: level 0 releases a (3 records, 1 of 4 leaves each) and
        // drops 3: 3 + 3/4; level 1 releases ab (5 records, 2/4) and
        // drops c: 1 + 10/4; level 2 releases all six at 4/4: 6.
        for (level, released, loss) in [(0, 3, 3.75), (1, 5, 3.5), (2, 6, 6.0)] {
            let s = at(DpScore::Loss, level);
            assert_eq!(s.released, released);
            assert_eq!(s.units as f64, loss * unit, "Loss at level {level}");
        }
        // Precision: dropped records 1, released level/height.
        for (level, precision) in [(0, 3.0), (1, 1.0 + 5.0 / 2.0), (2, 6.0)] {
            assert_eq!(at(DpScore::Precision, level).units as f64, precision * unit);
        }
        // Discernibility: n per dropped record, class size per released.
        for (level, dm) in [(0, 6 * 3 + 9), (1, 6 + 25), (2, 36)] {
            assert_eq!(at(DpScore::Discernibility, level).units, dm);
        }
        // Δ = n(k² + k − 1)/(k − 1) = 6·11/2 = 33: ε/(2Δ) = ε/66.
        let scorer = Scorer {
            score: DpScore::Discernibility,
            hierarchies: &compiled,
            k: 3,
            rows: 6,
        };
        assert_eq!(
            scorer.per_unit(Rational::new(1, 1).unwrap()).unwrap(),
            Rational::new(1, 66).unwrap()
        );
    }

    #[test]
    fn the_lattice_search_selects_with_the_exponential_mechanisms_probabilities() {
        // ε = 4, Δ = d(k − 1) = 2: weights exp(−(S − 3.5)) for S = 3.75,
        // 3.5, 6.
        let weights = [(-0.25f64).exp(), 1.0, (-2.5f64).exp()];
        let total: f64 = weights.iter().sum();
        let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let counts = frequencies(&DpSearch::Lattice, Rational::new(4, 1).unwrap(), 20_000);
        let pvalue = chi_squared_p(&counts, &p);
        assert!(pvalue > 0.001, "χ² p = {pvalue}: {counts:?} against {p:?}");
    }

    #[test]
    fn the_walk_ends_with_a_private_choice_among_its_pivots() {
        // One step from the top reaches level 1 (the only candidate); the
        // last choice among the pivots {2, 1} spends ε/2 = 2: weights
        // exp(−2(S − 3.5)/4) = 1 and exp(−1.25).
        let weights = [1.0, (-1.25f64).exp()];
        let p = [
            weights[0] / (weights[0] + weights[1]),
            weights[1] / (weights[0] + weights[1]),
        ];
        let counts = frequencies(
            &DpSearch::Walk { steps: 1 },
            Rational::new(4, 1).unwrap(),
            20_000,
        );
        assert_eq!(counts[0], 0, "level 0 is never a pivot after one step");
        let pvalue = chi_squared_p(&counts[1..], &p);
        assert!(pvalue > 0.001, "χ² p = {pvalue}: {counts:?}");
    }
}
