//! [`XorShift64`]: the tiny seeded pseudo-random generator behind rate-based faults.

/// A xorshift64* generator: fast, deterministic for a seed, and good enough to decide which
/// requests fail. Not for anything that needs real randomness.
///
/// ```
/// use llm_do_testkit::XorShift64;
///
/// let mut a = XorShift64::new(42);
/// let mut b = XorShift64::new(42);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let x = a.next_f64();
/// assert!((0.0..1.0).contains(&x));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XorShift64 {
    state: u64,
}

impl XorShift64 {
    /// A generator for `seed`. Every seed works, 0 included (it is mixed first, since the
    /// xorshift state must not be zero).
    ///
    /// ```
    /// # use llm_do_testkit::XorShift64;
    /// assert_ne!(XorShift64::new(0).next_u64(), 0);
    /// ```
    pub fn new(seed: u64) -> Self {
        // SplitMix64's finaliser spreads nearby seeds apart; `| 1` rules out the zero state.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self { state: z | 1 }
    }

    /// The next 64 random bits.
    ///
    /// ```
    /// # use llm_do_testkit::XorShift64;
    /// let mut rng = XorShift64::new(7);
    /// assert_ne!(rng.next_u64(), rng.next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `[0, 1)`, from the top 53 bits.
    ///
    /// ```
    /// # use llm_do_testkit::XorShift64;
    /// let mut rng = XorShift64::new(1);
    /// assert!((0..100).map(|_| rng.next_f64()).all(|x| (0.0..1.0).contains(&x)));
    /// ```
    pub fn next_f64(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }

    /// An index in `0..len` (0 when `len` is 0).
    ///
    /// ```
    /// # use llm_do_testkit::XorShift64;
    /// let mut rng = XorShift64::new(3);
    /// assert!(rng.below(5) < 5);
    /// assert_eq!(rng.below(0), 0);
    /// ```
    pub fn below(&mut self, len: usize) -> usize {
        match u64::try_from(len) {
            Ok(0) | Err(_) => 0,
            Ok(n) => usize::try_from(self.next_u64() % n).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::XorShift64;

    #[test]
    fn same_seed_same_sequence_different_seed_different_sequence() {
        let a: Vec<u64> = {
            let mut r = XorShift64::new(5);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = XorShift64::new(5);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = XorShift64::new(6);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn fractions_are_spread() {
        let mut r = XorShift64::new(11);
        let below_half = (0..1000).filter(|_| r.next_f64() < 0.5).count();
        assert!((400..600).contains(&below_half), "{below_half}");
    }
}
