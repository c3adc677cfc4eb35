//! [`RetryPolicy`]: how the provider retries transient failures (exponential backoff with
//! jitter, `Retry-After` honoured, attempts and total time bounded), and the retry loop itself.

use super::error::Failure;
use std::future::Future;
use std::time::{Duration, Instant};

/// How the provider retries a request that failed transiently: HTTP 429 (honouring
/// `Retry-After`), 5xx, connection errors, resets, timeouts and bodies cut off mid-way.
/// Other failures (4xx, undecodable answers) are returned at once.
///
/// The delay before retry `n` (1-based) is `initial_backoff * 2^(n-1)`, capped by
/// `max_backoff`, then reduced by a random fraction of at most `jitter` (so that many clients
/// that failed together do not retry together). A server's `Retry-After` (or `retry-after-ms`)
/// replaces the computed delay, capped by `max_backoff`. No retry starts once `max_elapsed`
/// has passed since the first attempt began, or when its delay would end after that.
///
/// ```
/// use llm_do_openai::{OpenAiConfig, RetryPolicy};
/// use std::time::Duration;
///
/// let fast = RetryPolicy {
///     max_attempts: 5,
///     initial_backoff: Duration::from_millis(2),
///     max_backoff: Duration::from_millis(20),
///     max_elapsed: Duration::from_secs(5),
///     jitter: 0.5,
/// };
/// let config = OpenAiConfig::new().retry(fast);
/// # let _ = config;
/// assert_eq!(RetryPolicy::default().max_attempts, 4);
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (`0` counts as `1`). Default 4.
    pub max_attempts: u32,
    /// Delay before the first retry. Default 500 ms.
    pub initial_backoff: Duration,
    /// Largest delay between two attempts, `Retry-After` included. Default 8 s.
    pub max_backoff: Duration,
    /// No retry starts later than this after the first attempt began. Default 60 s.
    pub max_elapsed: Duration,
    /// Fraction (0.0 to 1.0) by which each delay is randomly shortened. Default 0.5.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
            jitter: 0.5,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    ///
    /// ```
    /// # use llm_do_openai::RetryPolicy;
    /// assert_eq!(RetryPolicy::none().max_attempts, 1);
    /// ```
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The delay before retry number `retry` (1-based), given the server's `Retry-After` and a
    /// random number in `[0, 1)`.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>, random: f64) -> Duration {
        if let Some(server) = retry_after {
            return server.min(self.max_backoff);
        }
        let exponent = retry.saturating_sub(1).min(30);
        let base = self.initial_backoff.saturating_mul(1u32 << exponent).min(self.max_backoff);
        let jitter = if self.jitter.is_finite() { self.jitter.clamp(0.0, 1.0) } else { 0.0 };
        let random = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.0 };
        // `mul_f64` panics past `Duration::MAX`, which a huge `initial_backoff` or
        // `max_backoff` (a user's way of saying "wait as long as it takes") reaches at a factor
        // of 1: the delay is then the capped base itself.
        Duration::try_from_secs_f64(base.as_secs_f64() * (1.0 - jitter * random)).unwrap_or(base)
    }
}

/// Why the retry loop stopped with a failure.
#[derive(Debug)]
pub(crate) struct GaveUp {
    /// The last attempt's failure.
    pub(crate) failure: Failure,
    /// Attempts made.
    pub(crate) attempts: u32,
    /// `true` when a retry was possible but `max_elapsed` did not leave time for it.
    pub(crate) out_of_time: bool,
}

/// Runs `attempt` (given the 1-based attempt number) until it succeeds, fails in a way that is
/// not worth retrying, or the policy is exhausted.
pub(crate) async fn run<T, F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Result<T, GaveUp>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let started = Instant::now();
    let max_attempts = policy.max_attempts.max(1);
    let mut number = 1;
    loop {
        let failure = match attempt(number).await {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        if !failure.should_retry() || number >= max_attempts {
            return Err(GaveUp { failure, attempts: number, out_of_time: false });
        }
        let delay = policy.delay(number, failure.retry_after, fastrand::f64());
        if started.elapsed().saturating_add(delay) > policy.max_elapsed {
            return Err(GaveUp { failure, attempts: number, out_of_time: true });
        }
        tokio::time::sleep(delay).await;
        number += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::ModelErrorKind;
    use std::cell::Cell;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_elapsed: Duration::from_secs(60),
            jitter: 0.5,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_only_shortens() {
        let p = policy();
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(100));
        assert_eq!(p.delay(2, None, 0.0), Duration::from_millis(200));
        assert_eq!(p.delay(3, None, 0.0), Duration::from_millis(350));
        assert_eq!(p.delay(40, None, 0.0), Duration::from_millis(350));
        assert_eq!(p.delay(1, None, 1.0), Duration::from_millis(50));
        assert_eq!(p.delay(1, None, f64::NAN), Duration::from_millis(100));
        let odd = RetryPolicy { jitter: 7.0, ..p.clone() };
        assert_eq!(odd.delay(1, None, 1.0), Duration::ZERO);
    }

    #[test]
    fn the_largest_backoffs_are_delays_not_panics() {
        let huge = RetryPolicy {
            initial_backoff: Duration::MAX,
            max_backoff: Duration::MAX,
            jitter: 0.0,
            ..policy()
        };
        for retry in [1, 2, 40] {
            assert_eq!(huge.delay(retry, None, 0.0), Duration::MAX);
        }
        let jittered = RetryPolicy { jitter: 0.5, ..huge };
        assert!(jittered.delay(1, None, 0.5) < Duration::MAX);
        assert!(jittered.delay(1, None, 0.5) > Duration::MAX / 2);
    }

    #[test]
    fn retry_after_replaces_the_backoff_but_is_capped() {
        let p = policy();
        assert_eq!(p.delay(1, Some(Duration::from_millis(300)), 0.9), Duration::from_millis(300));
        assert_eq!(p.delay(1, Some(Duration::from_secs(30)), 0.0), Duration::from_millis(350));
    }

    fn transient() -> Failure {
        Failure::new(ModelErrorKind::Status(503), "overloaded").retryable(true)
    }

    fn fast() -> RetryPolicy {
        RetryPolicy { initial_backoff: Duration::from_millis(1), ..policy() }
    }

    #[tokio::test]
    async fn retries_transient_failures_until_success() {
        let calls = Cell::new(0);
        let out = run(&fast(), |n| {
            calls.set(n);
            async move { if n < 3 { Err(transient()) } else { Ok(n) } }
        })
        .await;
        assert_eq!(out.ok(), Some(3));
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn stops_after_max_attempts() {
        let gave_up = run(&fast(), |_| async { Err::<(), _>(transient()) }).await.unwrap_err();
        assert_eq!(gave_up.attempts, 4);
        assert!(!gave_up.out_of_time);
    }

    #[tokio::test]
    async fn does_not_retry_permanent_failures() {
        let gave_up = run(&fast(), |_| async {
            Err::<(), _>(Failure::new(ModelErrorKind::Status(400), "bad"))
        })
        .await
        .unwrap_err();
        assert_eq!(gave_up.attempts, 1);
    }

    #[tokio::test]
    async fn stops_when_the_next_delay_would_pass_max_elapsed() {
        let p = RetryPolicy { max_elapsed: Duration::from_millis(50), ..policy() };
        let gave_up = run(&p, |_| async { Err::<(), _>(transient()) }).await.unwrap_err();
        assert_eq!(gave_up.attempts, 1);
        assert!(gave_up.out_of_time);
    }

    #[tokio::test]
    async fn zero_attempts_still_makes_one() {
        let p = RetryPolicy { max_attempts: 0, ..fast() };
        let gave_up = run(&p, |_| async { Err::<(), _>(transient()) }).await.unwrap_err();
        assert_eq!(gave_up.attempts, 1);
    }
}
