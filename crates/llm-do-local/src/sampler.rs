//! Choosing the next token from the model's logits: greedy at temperature 0, otherwise
//! top-k (40), nucleus (`top_p`) and temperature, drawn with a seeded generator
//! ([`fastrand`]), so that a request's `seed` fixes its answer.

use crate::error::LocalError;

/// Candidates kept before nucleus sampling.
const TOP_K: usize = 40;

/// Sampling for one job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sampling {
    pub(crate) temperature: f32,
    pub(crate) top_p: f32,
    pub(crate) seed: Option<u64>,
    pub(crate) max_tokens: u32,
}

impl Sampling {
    /// The sampling of a request, checked: a temperature that is not a finite number of at
    /// least 0, a `top_p` outside `0..=1` or a `max_tokens` of 0 is a
    /// [`LocalError::InvalidSetting`] naming it (before, NaN and infinite temperatures were
    /// read as greedy decoding, a `top_p` of 7 or NaN as 1, and `max_tokens = 0` as 1).
    pub(crate) fn checked(
        temperature: f32,
        top_p: f32,
        seed: Option<u64>,
        max_tokens: u32,
    ) -> Result<Self, LocalError> {
        let invalid = |setting: &str, reason: String| LocalError::InvalidSetting {
            setting: setting.to_owned(),
            reason,
        };
        if !(temperature.is_finite() && temperature >= 0.0) {
            return Err(invalid(
                "temperature",
                format!("{temperature} is not a finite number of at least 0 (0 is greedy)"),
            ));
        }
        if !(0.0..=1.0).contains(&top_p) {
            return Err(invalid("top_p", format!("{top_p} is not between 0 and 1")));
        }
        if max_tokens == 0 {
            return Err(invalid(
                "max_tokens",
                "0 leaves no room for an answer (at least 1)".into(),
            ));
        }
        Ok(Sampling { temperature, top_p, seed, max_tokens })
    }
}

/// The draws of one job: [`fastrand`]'s generator, the workspace's one source of randomness.
pub(crate) struct Rng(fastrand::Rng);

impl Rng {
    /// Seeded with `seed` (the same seed, the same draws), or from the operating system's
    /// randomness (fastrand's own seeding) when `None`.
    pub(crate) fn new(seed: Option<u64>) -> Self {
        Rng(seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed))
    }

    /// A uniform number in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        self.0.f64()
    }
}

/// The next token, `None` when every logit is minus infinity (nothing allowed).
pub(crate) fn sample(logits: &[f32], s: &Sampling, rng: &mut Rng) -> Option<u32> {
    let allowed = logits.iter().enumerate().filter(|(_, l)| l.is_finite());
    if s.temperature <= 0.0 || !s.temperature.is_finite() {
        // Greedy; ties go to the lowest token id, so the choice is reproducible.
        let mut best: Option<(usize, f32)> = None;
        for (i, &l) in allowed {
            if best.is_none_or(|(_, b)| l > b) {
                best = Some((i, l));
            }
        }
        return best.map(|(i, _)| i as u32);
    }
    let mut candidates: Vec<(usize, f32)> = allowed.map(|(i, &l)| (i, l)).collect();
    if candidates.is_empty() {
        return None;
    }
    let by_logit = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if candidates.len() > TOP_K {
        candidates.select_nth_unstable_by(TOP_K - 1, by_logit);
        candidates.truncate(TOP_K);
    }
    candidates.sort_by(by_logit);
    let max = candidates[0].1;
    let t = s.temperature as f64;
    let weights: Vec<f64> = candidates.iter().map(|(_, l)| ((*l - max) as f64 / t).exp()).collect();
    let total: f64 = weights.iter().sum();
    // Nucleus: the smallest prefix whose probability reaches top_p.
    let top_p = (s.top_p as f64).clamp(0.0, 1.0);
    let mut kept = 0;
    let mut mass = 0.0;
    for w in &weights {
        kept += 1;
        mass += w / total;
        if mass >= top_p {
            break;
        }
    }
    let kept_total: f64 = weights[..kept].iter().sum();
    let mut r = rng.next_f64() * kept_total;
    for (i, w) in weights[..kept].iter().enumerate() {
        if r < *w {
            return Some(candidates[i].0 as u32);
        }
        r -= w;
    }
    Some(candidates[kept - 1].0 as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampling(temperature: f32, top_p: f32) -> Sampling {
        Sampling { temperature, top_p, seed: None, max_tokens: 1 }
    }

    #[test]
    fn out_of_range_settings_are_named() {
        let setting = |t, p, n| match Sampling::checked(t, p, None, n) {
            Err(LocalError::InvalidSetting { setting, reason }) => format!("{setting}: {reason}"),
            other => panic!("{other:?}"),
        };
        for t in [f32::NAN, f32::INFINITY, -0.5] {
            assert!(setting(t, 0.9, 8).starts_with("temperature: "), "{t}");
        }
        assert_eq!(
            setting(f32::NAN, 0.9, 8),
            "temperature: NaN is not a finite number of at least 0 (0 is greedy)"
        );
        for p in [f32::NAN, 1.5, -0.1] {
            assert_eq!(setting(0.5, p, 8), format!("top_p: {p} is not between 0 and 1"));
        }
        assert_eq!(setting(0.5, 0.9, 0), "max_tokens: 0 leaves no room for an answer (at least 1)");
        let e = Sampling::checked(0.5, 2.0, None, 8).unwrap_err();
        let kind = llm_do_core::ModelError::from(e).kind();
        assert_eq!(kind, llm_do_core::ModelErrorKind::InvalidRequest);
        let ok = Sampling::checked(0.0, 1.0, Some(3), 1).unwrap();
        assert_eq!(ok, Sampling { temperature: 0.0, top_p: 1.0, seed: Some(3), max_tokens: 1 });
        assert!(Sampling::checked(2.0, 0.0, None, u32::MAX).is_ok());
    }

    #[test]
    fn greedy_takes_the_best_allowed_token() {
        let logits = [1.0, 3.0, f32::NEG_INFINITY, 3.0];
        assert_eq!(sample(&logits, &sampling(0.0, 1.0), &mut Rng::new(Some(1))), Some(1));
        let none = [f32::NEG_INFINITY; 3];
        assert_eq!(sample(&none, &sampling(0.0, 1.0), &mut Rng::new(Some(1))), None);
        assert_eq!(sample(&none, &sampling(0.8, 1.0), &mut Rng::new(Some(1))), None);
    }

    #[test]
    fn a_seed_fixes_the_draws_and_masked_tokens_never_come() {
        let logits = [0.5, 0.4, f32::NEG_INFINITY, 0.3, 0.2];
        let draw = |seed| {
            let mut rng = Rng::new(Some(seed));
            (0..50).map(|_| sample(&logits, &sampling(1.0, 1.0), &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        assert!(draw(9).iter().all(|t| t.is_some_and(|t| t != 2)));
    }

    #[test]
    fn a_small_top_p_keeps_only_the_head() {
        let logits = [5.0, 0.0, 0.0, 0.0];
        let mut rng = Rng::new(Some(3));
        for _ in 0..100 {
            assert_eq!(sample(&logits, &sampling(1.0, 0.5), &mut rng), Some(0));
        }
    }
}
