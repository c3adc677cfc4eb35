//! [`Cancellation`]: the token of a run. Cancelling it stops every call of the run still in
//! flight, at any depth, siblings included: each ends with [`Error::Cancelled`].
//!
//! [`Error::Cancelled`]: crate::Error::Cancelled

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

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
    /// The tasks waiting in [`Cancellation::cancelled`], woken by `cancel`.
    waiters: Mutex<Waiters>,
}

/// The wakers of the waiting futures, each in a slot of its own that it frees when dropped.
#[derive(Default)]
struct Waiters {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Waiters {
    fn insert(&mut self, waker: Waker) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(waker);
                slot
            }
            None => {
                self.slots.push(Some(waker));
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, slot: usize) {
        if let Some(entry) = self.slots.get_mut(slot)
            && entry.take().is_some()
        {
            self.free.push(slot);
        }
    }
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
        Self {
            inner: Arc::new(Inner {
                cancelled: AtomicBool::new(false),
                reason: Mutex::new(None),
                waiters: Mutex::new(Waiters::default()),
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
        // A waiter checks the flag under this lock before it registers, so none is missed.
        let waiters = std::mem::take(&mut *lock(&self.inner.waiters));
        for waker in waiters.slots.into_iter().flatten() {
            waker.wake();
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
    pub fn cancelled(&self) -> impl Future<Output = String> + Send + 'static {
        Cancelled { inner: self.inner.clone(), slot: None }
    }
}

/// The future of [`Cancellation::cancelled`]. It registers its waker at its first pending
/// poll and polls again without the lock while the task's waker is the same one; dropping it
/// frees its slot.
struct Cancelled {
    inner: Arc<Inner>,
    /// Where its waker is registered, with that waker.
    slot: Option<(usize, Waker)>,
}

impl Future for Cancelled {
    type Output = String;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<String> {
        let this = self.get_mut();
        let ready = |inner: &Inner| lock(&inner.reason).clone().unwrap_or_default();
        if this.inner.cancelled.load(Ordering::Acquire) {
            this.slot = None;
            return Poll::Ready(ready(&this.inner));
        }
        if let Some((_, waker)) = &this.slot
            && waker.will_wake(cx.waker())
        {
            return Poll::Pending;
        }
        let mut waiters = lock(&this.inner.waiters);
        if this.inner.cancelled.load(Ordering::Acquire) {
            drop(waiters);
            this.slot = None;
            return Poll::Ready(ready(&this.inner));
        }
        if let Some((slot, _)) = this.slot.take() {
            waiters.remove(slot);
        }
        let slot = waiters.insert(cx.waker().clone());
        this.slot = Some((slot, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some((slot, _)) = self.slot.take()
            && !self.inner.cancelled.load(Ordering::Acquire)
        {
            lock(&self.inner.waiters).remove(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(
        fut: &mut Pin<Box<impl Future<Output = String>>>,
        waker: &Arc<Counter>,
    ) -> Poll<String> {
        fut.as_mut().poll(&mut Context::from_waker(&Waker::from(waker.clone())))
    }

    fn registered(token: &Cancellation) -> usize {
        lock(&token.inner.waiters).slots.iter().flatten().count()
    }

    #[test]
    fn cancel_wakes_every_waiter_once_with_the_first_reason() {
        let token = Cancellation::new();
        let wakers: Vec<Arc<Counter>> = (0..3).map(|_| Arc::default()).collect();
        let mut waiting: Vec<_> = wakers.iter().map(|_| Box::pin(token.cancelled())).collect();
        for (fut, waker) in waiting.iter_mut().zip(&wakers) {
            assert_eq!(poll(fut, waker), Poll::Pending);
            // Polled again by the same task: still one registration.
            assert_eq!(poll(fut, waker), Poll::Pending);
        }
        assert_eq!(registered(&token), 3);
        token.cancel("first");
        token.cancel("second");
        assert!(wakers.iter().all(|w| w.0.load(Ordering::SeqCst) == 1));
        for (fut, waker) in waiting.iter_mut().zip(&wakers) {
            assert_eq!(poll(fut, waker), Poll::Ready("first".to_owned()));
        }
        // A waiter made after the cancellation is ready at once.
        let late = Arc::default();
        assert_eq!(poll(&mut Box::pin(token.cancelled()), &late), Poll::Ready("first".into()));
    }

    #[test]
    fn a_dropped_waiter_frees_its_slot_and_a_new_task_replaces_the_old_waker() {
        let token = Cancellation::new();
        let (a, b) = (Arc::<Counter>::default(), Arc::<Counter>::default());
        for _ in 0..100 {
            let mut fut = Box::pin(token.cancelled());
            assert_eq!(poll(&mut fut, &a), Poll::Pending);
        }
        assert_eq!(registered(&token), 0);
        assert_eq!(lock(&token.inner.waiters).slots.len(), 1, "the slot is reused");
        let mut fut = Box::pin(token.cancelled());
        assert_eq!(poll(&mut fut, &a), Poll::Pending);
        assert_eq!(poll(&mut fut, &b), Poll::Pending);
        assert_eq!(registered(&token), 1);
        token.cancel("now");
        assert_eq!((a.0.load(Ordering::SeqCst), b.0.load(Ordering::SeqCst)), (0, 1));
    }

    #[test]
    fn a_waiter_on_another_thread_is_woken() {
        let token = Cancellation::new();
        let waiting = std::thread::spawn({
            let token = token.clone();
            move || {
                struct Unpark(std::thread::Thread);
                impl Wake for Unpark {
                    fn wake(self: Arc<Self>) {
                        self.0.unpark();
                    }
                }
                let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
                let mut fut = Box::pin(token.cancelled());
                loop {
                    if let Poll::Ready(reason) = fut.as_mut().poll(&mut Context::from_waker(&waker))
                    {
                        break reason;
                    }
                    std::thread::park();
                }
            }
        });
        while registered(&token) == 0 {
            std::thread::yield_now();
        }
        token.cancel("from here");
        assert_eq!(waiting.join().unwrap(), "from here");
    }
}
