//! Whole numbers of records in proportion to weights: how both models
//! turn a marginal or a conditional row into codes.

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

/// `n` codes in proportion to `weights`: the whole parts of n·wᵢ/Σw, the
/// remaining records to distinct codes drawn by their fractional parts,
/// shuffled.
pub(crate) fn allot<R: Rng + ?Sized>(weights: &[f64], n: usize, rng: &mut R) -> Vec<u32> {
    let sum: f64 = weights.iter().sum();
    let (mut whole, mut fractions): (Vec<usize>, Vec<f64>) = if sum > 0.0 {
        weights
            .iter()
            .map(|&w| {
                let share = w / sum * n as f64;
                (share.floor() as usize, share - share.floor())
            })
            .unzip()
    } else {
        (vec![0; weights.len()], vec![1.0; weights.len()])
    };
    let mut missing = n.saturating_sub(whole.iter().sum());
    while missing > 0 {
        let total: f64 = fractions.iter().sum();
        let pick = if total > 0.0 {
            let mut target = rng.random::<f64>() * total;
            let mut pick = fractions.iter().rposition(|&f| f > 0.0).unwrap_or(0);
            for (i, &f) in fractions.iter().enumerate() {
                if f > 0.0 && target < f {
                    pick = i;
                    break;
                }
                target -= f;
            }
            pick
        } else {
            rng.random_range(0..weights.len())
        };
        whole[pick] += 1;
        fractions[pick] = 0.0;
        missing -= 1;
    }
    let mut codes: Vec<u32> = whole
        .iter()
        .enumerate()
        .flat_map(|(c, &k)| std::iter::repeat_n(c as u32, k))
        .collect();
    codes.truncate(n);
    codes.shuffle(rng);
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn allotment_is_proportional_and_whole() {
        let mut rng = StdRng::seed_from_u64(3);
        let codes = allot(&[0.5, 0.25, 0.25, 0.0], 10, &mut rng);
        assert_eq!(codes.len(), 10);
        let count = |c| codes.iter().filter(|&&x| x == c).count();
        assert_eq!(count(0), 5);
        assert!((2..=3).contains(&count(1)) && (2..=3).contains(&count(2)));
        assert_eq!(count(3), 0);
    }
}
