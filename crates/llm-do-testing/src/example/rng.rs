//! The choice source behind seeded examples: seed 0 always takes the first option.

/// A seeded choice source ([`fastrand`]). Seed 0 is the canonical, "first choice
/// everywhere" mode used by [`example_value`](super::example_value).
#[derive(Debug, Clone)]
pub(super) struct Rng {
    seed: u64,
    rng: fastrand::Rng,
}

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self { seed, rng: fastrand::Rng::with_seed(seed) }
    }

    /// `true` for seed 0: every choice takes its first option.
    pub(super) fn is_canonical(&self) -> bool {
        self.seed == 0
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.rng.u64(..)
    }

    /// An index below `n` (0 when canonical or `n` is 0).
    pub(super) fn choose(&mut self, n: usize) -> usize {
        if self.is_canonical() || n == 0 {
            return 0;
        }
        self.rng.usize(..n)
    }

    /// `0..n` starting at a chosen index and wrapping around.
    pub(super) fn rotation(&mut self, n: usize) -> impl Iterator<Item = usize> + use<> {
        let start = self.choose(n);
        (0..n).map(move |i| (start + i) % n)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn canonical_takes_first() {
        let mut rng = Rng::new(0);
        assert_eq!(rng.choose(5), 0);
        assert_eq!(rng.rotation(3).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn seeded_is_deterministic() {
        let a: Vec<usize> = {
            let mut r = Rng::new(7);
            (0..10).map(|_| r.choose(10)).collect()
        };
        let b: Vec<usize> = {
            let mut r = Rng::new(7);
            (0..10).map(|_| r.choose(10)).collect()
        };
        assert_eq!(a, b);
        assert!(a.iter().all(|&i| i < 10));
        assert!(a.iter().any(|&i| i != a[0]));
    }
}
