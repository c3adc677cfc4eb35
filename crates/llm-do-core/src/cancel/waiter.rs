//! The future of [`Cancellation::cancelled`](super::Cancellation::cancelled): it waits in the
//! token's waiter list, registered once per task.

use super::{Inner, lock};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

/// The future of [`Cancellation::cancelled`](super::Cancellation::cancelled). It registers its waker at its first pending
/// poll and polls again without the lock while the task's waker is the same one; dropping it
/// frees its slot.
pub(super) struct Cancelled {
    pub(super) inner: Arc<Inner>,
    /// Where its waker is registered, with that waker.
    pub(super) slot: Option<(usize, Waker)>,
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
    use super::super::Cancellation;
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
        lock(&token.inner.waiters).len()
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
        assert_eq!(lock(&token.inner.waiters).capacity(), 1, "the slot is reused");
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
