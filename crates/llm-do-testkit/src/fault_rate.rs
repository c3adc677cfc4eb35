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
    /// `None` unless `rate` is a share from 0 to 1 (`NaN`, `30` meaning 30 % and negative
    /// rates are refused, not clamped).
    pub(crate) fn new(rate: f64, seed: u64, kinds: Vec<FaultKind>) -> Option<Self> {
        (0.0..=1.0).contains(&rate).then(|| Self {
            rate,
            rng: fastrand::Rng::with_seed(seed),
            kinds,
        })
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
        let kinds = vec![FaultKind::Status500, FaultKind::InvalidJson];
        let mut r = FaultRate::new(rate, seed, kinds).expect("a rate from 0 to 1");
        (0..n).map(|_| r.draw()).collect()
    }

    #[test]
    fn reproducible_and_roughly_the_rate() {
        assert_eq!(draws(0.3, 9, 200), draws(0.3, 9, 200));
        assert_ne!(draws(0.3, 9, 200), draws(0.3, 10, 200));
        let hits = draws(0.3, 9, 1000).iter().filter(|f| f.is_some()).count();
        assert!((200..400).contains(&hits), "{hits}");
        assert!(draws(0.0, 1, 100).iter().all(Option::is_none));
        assert!(draws(1.0, 1, 100).iter().all(Option::is_some));
        let mut none = FaultRate::new(1.0, 1, vec![]).expect("a rate");
        assert_eq!(none.draw(), None);
    }

    #[test]
    fn a_rate_outside_0_to_1_is_refused() {
        for rate in [f64::NAN, 30.0, 1.01, -0.1, f64::INFINITY] {
            assert!(FaultRate::new(rate, 1, vec![FaultKind::Status500]).is_none(), "{rate}");
        }
    }
}
