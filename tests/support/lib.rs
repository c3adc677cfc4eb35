//! Shared helpers for llm-do's cross-crate behaviour tests.

use std::future::Future;
use std::time::Duration;

/// Bounds a test future: a hang becomes a failure with a message instead of a stuck CI run.
/// (A liveness bound, not a timing assertion: the limit is far above any expected duration.)
pub async fn bounded<F: Future>(fut: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(30), fut).await {
        Ok(v) => v,
        Err(_) => panic!("test future did not finish within 30 s (deadlock or hang)"),
    }
}
