//! What the in-process models share between clones: the requests seen and the tool call ids
//! handed out.

use llm_do_core::ModelRequest;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Requests received, in arrival order, and the counter behind `call_1`, `call_2`, ...
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    requests: Mutex<Vec<ModelRequest>>,
    calls: AtomicU64,
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Vec<ModelRequest>> {
        // A panic while holding the lock cannot leave the list half-updated.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `request`; returns its 1-based number.
    pub(crate) fn record(&self, request: &ModelRequest) -> usize {
        let mut requests = self.lock();
        requests.push(request.clone());
        requests.len()
    }

    pub(crate) fn requests(&self) -> Vec<ModelRequest> {
        self.lock().clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn last(&self) -> Option<ModelRequest> {
        self.lock().last().cloned()
    }

    /// The next tool call id: `call_1`, `call_2`, ...
    pub(crate) fn next_call_id(&self) -> String {
        let n = self.calls.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        format!("call_{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::Recorder;
    use llm_do_core::ModelRequest;

    #[test]
    fn records_and_numbers() {
        let r = Recorder::default();
        assert_eq!(r.record(&ModelRequest::new("a", vec![])), 1);
        assert_eq!(r.record(&ModelRequest::new("b", vec![])), 2);
        assert_eq!(r.count(), 2);
        assert_eq!(r.last().map(|q| q.model), Some("b".to_owned()));
        assert_eq!(
            (r.next_call_id(), r.next_call_id()),
            ("call_1".to_owned(), "call_2".to_owned())
        );
    }
}
