//! [`Cancellation`]: the token of a run. Cancelling it stops every call of the run still in
//! flight, at any depth, siblings included: each ends with [`Error::Cancelled`].
//!
//! A token can have [children](Cancellation::child): cancelling a token cancels its children
//! (and theirs), with its reason; cancelling a child leaves its parent alone. A chat session
//! gives each turn a child of the session's token.
//!
//! The waiting future is in `waiter.rs`, the slot list of waiters and children in `slots.rs`.
//!
//! [`Error::Cancelled`]: crate::Error::Cancelled

mod slots;
mod waiter;

use slots::Slots;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;

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
    waiters: Mutex<Slots<Waker>>,
    /// The tokens made by [`Cancellation::child`], held weakly: a child removes itself when
    /// its last handle goes, so a long-lived token does not collect dead children. `cancel`
    /// takes the list (after setting the flag); `child` registers under this lock only while
    /// the flag is unset, so no child made concurrently is missed.
    children: Mutex<Slots<Weak<Inner>>>,
    /// A child's parent, with the child's slot in the parent's `children`. The parent is held
    /// strongly: a grandchild stays linked to the root even when no one keeps the child.
    parent: Option<(Arc<Inner>, usize)>,
}

impl Inner {
    fn new(parent: Option<(Arc<Inner>, usize)>) -> Self {
        Self {
            cancelled: AtomicBool::new(false),
            reason: Mutex::new(None),
            waiters: Mutex::default(),
            children: Mutex::default(),
            parent,
        }
    }

    /// Cancels this token alone (the first reason is kept) and wakes its waiters; returns its
    /// children, unless an earlier cancellation took them, with the reason they are to get.
    fn cancel_one(&self, reason: String) -> Option<(Slots<Weak<Inner>>, String)> {
        {
            let mut r = lock(&self.reason);
            if r.is_none() {
                *r = Some(reason);
            }
            self.cancelled.store(true, Ordering::Release);
        }
        // A waiter checks the flag under this lock before it registers, so none is missed.
        let waiters = std::mem::take(&mut *lock(&self.waiters));
        for waker in waiters.into_entries() {
            waker.wake();
        }
        // The same for a child made concurrently: it is in the list, or made cancelled.
        let children = std::mem::take(&mut *lock(&self.children));
        if children.is_empty() {
            return None;
        }
        // The parent's recorded reason (a concurrent `cancel` may have given another).
        Some((children, lock(&self.reason).clone().unwrap_or_default()))
    }
}

impl Drop for Inner {
    /// A child leaves its parent's list. Iterative, so that a long chain of children, each the
    /// last holder of its parent, does not recurse once per link.
    fn drop(&mut self) {
        let mut link = self.parent.take();
        while let Some((parent, slot)) = link {
            if !parent.cancelled.load(Ordering::Acquire) {
                lock(&parent.children).remove(slot);
            }
            link = match Arc::try_unwrap(parent) {
                Ok(mut last) => last.parent.take(),
                Err(_) => None,
            };
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
        Self { inner: Arc::new(Inner::new(None)) }
    }

    /// A new token linked to this one: it is cancelled, with this token's reason, when this
    /// token is (a child made after that starts cancelled); cancelling it leaves this token
    /// alone. A child dropped by everyone leaves nothing behind in its parent, so a session
    /// can make one per turn for as long as it lasts.
    ///
    /// ```
    /// let session = llm_do_core::cancel::Cancellation::new();
    /// let turn = session.child();
    /// turn.cancel("this turn only");
    /// assert!(!session.is_cancelled());
    ///
    /// let next = session.child();
    /// session.cancel("the session ends");
    /// assert_eq!(next.reason().as_deref(), Some("the session ends"));
    /// assert_eq!(session.child().reason().as_deref(), Some("the session ends"));
    /// ```
    pub fn child(&self) -> Cancellation {
        let mut children = lock(&self.inner.children);
        if self.inner.cancelled.load(Ordering::Acquire) {
            drop(children);
            let child = Cancellation::new();
            child.cancel(self.recorded_reason().unwrap_or_default());
            return child;
        }
        let inner = Arc::new_cyclic(|me| {
            let slot = children.insert(me.clone());
            Inner::new(Some((self.inner.clone(), slot)))
        });
        Cancellation { inner }
    }

    /// Cancels: every call of the run in flight ends with
    /// [`Error::Cancelled`](crate::Error::Cancelled), and calls started later fail at once.
    /// The first reason is kept. The token's [children](Self::child) are cancelled too, with
    /// that reason.
    ///
    /// ```
    /// let token = llm_do_core::cancel::Cancellation::new();
    /// token.cancel("the client went away");
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self, reason: impl Into<String>) {
        let Some((children, reason)) = self.inner.cancel_one(reason.into()) else { return };
        // Depth first without recursion: each entry is a list of siblings and their reason.
        let mut pending = vec![(children, reason)];
        while let Some((children, reason)) = pending.pop() {
            for child in children.into_entries().filter_map(|c| c.upgrade()) {
                pending.extend(child.cancel_one(reason.clone()));
            }
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
        waiter::Cancelled { inner: self.inner.clone(), slot: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn children(token: &Cancellation) -> usize {
        lock(&token.inner.children).len()
    }

    #[test]
    fn cancelling_a_parent_cancels_its_descendants_with_its_reason_and_not_the_reverse() {
        let root = Cancellation::new();
        let (a, b) = (root.child(), root.child());
        // The middle link is not kept: the grandchild still hears the root.
        let grandchild = root.child().child();
        a.cancel("a alone");
        assert!(!root.is_cancelled() && !b.is_cancelled() && !grandchild.is_cancelled());
        root.cancel("the run ends");
        root.cancel("too late");
        assert_eq!(a.reason().as_deref(), Some("a alone"), "a child keeps its first reason");
        for token in [&b, &grandchild] {
            assert_eq!(token.reason().as_deref(), Some("the run ends"));
        }
        assert_eq!(children(&root), 0, "the cancellation took the list");
        let late = root.child();
        assert_eq!(late.reason().as_deref(), Some("the run ends"));
        assert_eq!(children(&root), 0, "a late child is not registered");
    }

    #[test]
    fn children_made_and_dropped_leave_nothing_in_a_long_lived_parent() {
        let root = Cancellation::new();
        let kept = root.child();
        for turn in 0..10_000 {
            let child = root.child();
            let nested = child.child();
            // A clone and a waiter keep the child alive until they go too.
            let waiting = child.clone().cancelled();
            if turn % 2 == 0 {
                child.cancel("turn cancelled");
            }
            drop((child, nested, waiting));
            assert_eq!(children(&root), 1, "turn {turn}");
        }
        assert!(lock(&root.inner.children).capacity() <= 3, "freed slots are reused");
        assert_eq!(children(&kept), 0);
        root.cancel("end");
        assert_eq!(kept.reason().as_deref(), Some("end"));
    }

    #[test]
    fn a_long_chain_of_children_cancels_and_drops_without_recursing() {
        let root = Cancellation::new();
        let mut leaf = root.child();
        for _ in 0..100_000 {
            leaf = leaf.child();
        }
        root.cancel("deep");
        assert_eq!(leaf.reason().as_deref(), Some("deep"));
        // Dropped uncancelled, each link leaves its parent's list.
        let root = Cancellation::new();
        let mut leaf = root.child();
        for _ in 0..100_000 {
            leaf = leaf.child();
        }
        assert_eq!(children(&root), 1);
        drop(leaf);
        assert_eq!(children(&root), 0);
    }

    #[test]
    fn a_child_made_while_another_thread_cancels_is_cancelled_either_way() {
        for _ in 0..200 {
            let root = Cancellation::new();
            let cancelling = std::thread::spawn({
                let root = root.clone();
                move || root.cancel("raced")
            });
            let made: Vec<Cancellation> = (0..50).map(|_| root.child()).collect();
            cancelling.join().unwrap();
            for child in made {
                assert_eq!(child.reason().as_deref(), Some("raced"));
            }
        }
    }
}
