//! [`Cancellation`]: the token of a run. Cancelling it stops every call of the run still in
//! flight, at any depth, siblings included: each ends with [`Error::Cancelled`].
//!
//! [`Error::Cancelled`]: crate::Error::Cancelled

use futures::channel::oneshot;
use futures::future::{FutureExt as _, Shared};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The cancellation token of a run. Cheap to clone; every clone is the same token.
///
/// A root context ([`Runtime::ctx`](crate::Runtime::ctx)) starts a run with a new token; calls
/// made under it share it. [`Ctx::cancel`](crate::Ctx::cancel) cancels it from inside the run
/// (an approver's [`Decision::DenyAndAbort`](crate::approval::Decision::DenyAndAbort) does),
/// and [`Ctx::cancellation`](crate::Ctx::cancellation) hands it to code outside the run (a
/// signal handler, a server whose client went away).
///
/// ```
/// use llm_do_core::cancel::Cancellation;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let token = Cancellation::new();
/// assert!(!token.is_cancelled());
/// token.clone().cancel("stop");
/// token.cancel("ignored: the first reason is kept");
/// assert_eq!(token.reason().as_deref(), Some("stop"));
/// assert_eq!(token.cancelled().await, "stop");
/// # }
/// ```
#[derive(Clone)]
pub struct Cancellation {
    inner: Arc<Inner>,
}

struct Inner {
    /// Set (after `reason`) once cancelled: the check every call and effect makes reads
    /// this flag, not the lock.
    cancelled: AtomicBool,
    reason: Mutex<Option<String>>,
    trigger: Mutex<Option<oneshot::Sender<()>>>,
    signal: Shared<oneshot::Receiver<()>>,
}

impl Default for Cancellation {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Cancellation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancellation").field("reason", &self.reason()).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Cancellation {
    /// A token nobody has cancelled.
    ///
    /// ```
    /// assert!(llm_do_core::cancel::Cancellation::new().reason().is_none());
    /// ```
    pub fn new() -> Self {
        let (trigger, signal) = oneshot::channel();
        Self {
            inner: Arc::new(Inner {
                cancelled: AtomicBool::new(false),
                reason: Mutex::new(None),
                trigger: Mutex::new(Some(trigger)),
                signal: signal.shared(),
            }),
        }
    }

    /// Cancels: every call of the run in flight ends with
    /// [`Error::Cancelled`](crate::Error::Cancelled), and calls started later fail at once.
    /// The first reason is kept.
    ///
    /// ```
    /// let token = llm_do_core::cancel::Cancellation::new();
    /// token.cancel("the client went away");
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self, reason: impl Into<String>) {
        {
            let mut r = lock(&self.inner.reason);
            if r.is_none() {
                *r = Some(reason.into());
            }
            self.inner.cancelled.store(true, Ordering::Release);
        }
        if let Some(trigger) = lock(&self.inner.trigger).take() {
            let _ = trigger.send(());
        }
    }

    /// `true` once cancelled.
    ///
    /// ```
    /// assert!(!llm_do_core::cancel::Cancellation::new().is_cancelled());
    /// ```
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// Why it was cancelled, if it was.
    ///
    /// ```
    /// assert_eq!(llm_do_core::cancel::Cancellation::new().reason(), None);
    /// ```
    #[inline]
    pub fn reason(&self) -> Option<String> {
        if !self.is_cancelled() {
            return None;
        }
        self.recorded_reason()
    }

    fn recorded_reason(&self) -> Option<String> {
        lock(&self.inner.reason).clone()
    }

    /// Resolves once cancelled, with the reason.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let token = llm_do_core::cancel::Cancellation::new();
    /// let waiter = token.cancelled();
    /// token.cancel("now");
    /// assert_eq!(waiter.await, "now");
    /// # }
    /// ```
    pub fn cancelled(&self) -> impl std::future::Future<Output = String> + Send + 'static {
        let signal = self.inner.signal.clone();
        let inner = self.inner.clone();
        async move {
            // The sender lives in `inner`, which this future holds: it resolves only on `cancel`.
            let _ = signal.await;
            lock(&inner.reason).clone().unwrap_or_default()
        }
    }
}
