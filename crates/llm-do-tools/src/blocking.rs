//! Running blocking filesystem work off the async executor.

use crate::error::ToolError;

/// Runs `f` on Tokio's blocking pool when called inside a Tokio runtime, inline otherwise (so
/// that the tools also work under other executors, at the cost of blocking them briefly).
pub(crate) async fn run_blocking<T, F>(f: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.spawn_blocking(f).await.map_err(|e| {
            ToolError::Internal(format!("the background filesystem task failed: {e}"))
        })?,
        Err(_) => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::run_blocking;

    #[test]
    fn runs_inline_without_a_runtime() {
        let out = futures_lite_block_on(run_blocking(|| Ok(7)));
        assert_eq!(out.ok(), Some(7));
    }

    #[tokio::test]
    async fn runs_on_the_blocking_pool_inside_tokio() {
        assert_eq!(run_blocking(|| Ok("x")).await.ok(), Some("x"));
    }

    /// A minimal executor for a future that never waits.
    fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
