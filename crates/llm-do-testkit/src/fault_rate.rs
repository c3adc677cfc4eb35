//! [`FaultRate`]: faults drawn at random, reproducibly, for a share of the requests.

use crate::fault::{Fault, FaultKind};

/// Injects one of `kinds` into a share `rate` of the requests, drawn from a seeded generator:
/// the same seed and the same sequence of requests give the same faults.
#[derive(Debug, Clone)]
pub(crate) struct FaultRate {
    rate: f64,
    rng: fastrand::Rng,
    kinds: Vec<FaultKind>,
}

impl FaultRate {
    /// `rate` is clamped to `[0, 1]` (`NaN` counts as 0).
    pub(crate) fn new(rate: f64, seed: u64, kinds: Vec<FaultKind>) -> Self {
        let rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
        Self { rate, rng: fastrand::Rng::with_seed(seed), kinds }
    }

    /// The fault for the next request, if it gets one. Each call draws one number, and a
    /// second one to pick the kind when the request gets a fault.
    pub(crate) fn draw(&mut self) -> Option<Fault> {
        if self.kinds.is_empty() {
            return None;
        }
        if self.rng.f64() >= self.rate {
            return None;
        }
        let index = self.rng.usize(..self.kinds.len());
        self.kinds.get(index).map(|kind| kind.fault())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(rate: f64, seed: u64, n: usize) -> Vec<Option<Fault>> {
        let mut r = FaultRate::new(rate, seed, vec![FaultKind::Status500, FaultKind::InvalidJson]);
        (0..n).map(|_| r.draw()).collect()
    }

    #[test]
    fn reproducible_and_roughly_the_rate() {
        assert_eq!(draws(0.3, 9, 200), draws(0.3, 9, 200));
        assert_ne!(draws(0.3, 9, 200), draws(0.3, 10, 200));
        let hits = draws(0.3, 9, 1000).iter().filter(|f| f.is_some()).count();
        assert!((200..400).contains(&hits), "{hits}");
        assert!(draws(0.0, 1, 100).iter().all(Option::is_none));
        assert!(draws(f64::NAN, 1, 100).iter().all(Option::is_none));
        assert!(draws(7.0, 1, 100).iter().all(Option::is_some));
        let mut none = FaultRate::new(1.0, 1, vec![]);
        assert_eq!(none.draw(), None);
    }
}
