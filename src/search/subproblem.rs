//! The best-effort search's large neighbourhood: the optimum over the levels
//! of a group of quasi-identifiers with every other one held where a node
//! has it ([§6.5](crate::methods#65-best-effort-search), step 4).
//!
//! Holding the other quasi-identifiers at their levels, the nodes that
//! differ from a center only in the group's levels form a lattice of their
//! own: the group's levels, over the table counted at the center with the
//! group at its bottom levels, each held attribute a hierarchy of height 0
//! over its labels at its level ([`CompiledHierarchy::fixed_at`]). Its
//! classes are the whole's at the same node, so where class sizes alone
//! decide the models and the metric depends on a level only through its
//! labels, a node scores there as on the whole, and the optimal search
//! finds the best of the neighbourhood exactly.

use std::time::Instant;

use crate::frequency::node::Node;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::model::{KAnonymity, PrivacyModel};
use crate::search::config::AnonymizationConfig;
use crate::search::crew::with_crew;
use crate::search::evaluator::Evaluator;
use crate::search::lattice::Lattice;
use crate::search::strategies::{Stopped, optimal};

/// The subproblems of a search: those of groups of its quasi-identifiers.
pub(crate) struct Subproblems<'s, 'a> {
    evaluator: &'s Evaluator<'a>,
    config: &'s AnonymizationConfig,
}

/// What a subproblem's search found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Solved {
    /// The levels of the whole's best node of the neighbourhood, `None`
    /// when none of its nodes is feasible.
    pub(crate) levels: Option<Vec<u32>>,
    /// The nodes the subproblem's search evaluated.
    pub(crate) nodes_checked: u64,
}

impl<'s, 'a> Subproblems<'s, 'a> {
    /// The subproblems of `evaluator`'s search, when they score as the
    /// whole does (see the module's documentation).
    pub(crate) fn new(
        evaluator: &'s Evaluator<'a>,
        config: &'s AnonymizationConfig,
    ) -> Option<Subproblems<'s, 'a>> {
        (evaluator.classes_decide_alone() && evaluator.utility.conditions())
            .then_some(Subproblems { evaluator, config })
    }

    /// The best node (ties as the optimal search breaks them) among those
    /// with every quasi-identifier outside `columns` at its level in
    /// `center`, searched until `deadline`.
    ///
    /// # Errors
    ///
    /// [`Stopped`] at the deadline.
    ///
    /// # Panics
    ///
    /// Panics if `center` is not a node of the whole's lattice or a column
    /// is out of range.
    pub(crate) fn solve(
        &self,
        center: &[u32],
        columns: &[usize],
        deadline: Option<Instant>,
    ) -> Result<Solved, Stopped> {
        let whole = self.evaluator;
        let width = center.len();
        let mut free = vec![false; width];
        for &j in columns {
            free[j] = true;
        }
        let start: Vec<u32> = (0..width)
            .map(|j| if free[j] { 0 } else { center[j] })
            .collect();
        let (counted, _) = whole
            .bottom
            .roll_up_counts(&whole.hierarchies, &Node::new(start))
            .expect("a node of the lattice is above the bottom");
        let held: Vec<Option<CompiledHierarchy>> = (0..width)
            .map(|j| (!free[j]).then(|| whole.hierarchies[j].fixed_at(center[j] as usize)))
            .collect();
        let hierarchies: Vec<&CompiledHierarchy> = (0..width)
            .map(|j| held[j].as_ref().unwrap_or(whole.hierarchies[j]))
            .collect();
        let fixed: Vec<Option<u32>> = (0..width)
            .map(|j| (!free[j]).then_some(center[j]))
            .collect();
        let heights = hierarchies.iter().map(|h| h.height() as u32).collect();
        let model: Box<dyn PrivacyModel> = Box::new(
            KAnonymity::new(whole.min_class_size).expect("a minimal class size is at least 1"),
        );
        let utility = whole.utility.conditioned(&fixed);
        let evaluator =
            Evaluator::from_parts(counted.held(), hierarchies, vec![model], utility, self.config);
        let lattice = Lattice::new(heights).expect("a group's lattice");
        let outcome = with_crew(rayon::current_num_threads(), |crew| {
            optimal(&evaluator, &lattice, crew, deadline)
        })?;
        let levels = outcome.best.map(|best| {
            let found = best.node.levels();
            (0..width)
                .map(|j| if free[j] { found[j] } else { center[j] })
                .collect()
        });
        Ok(Solved {
            levels,
            nodes_checked: outcome.nodes_checked,
        })
    }
}
