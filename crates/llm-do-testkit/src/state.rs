//! [`Shared`]: what the server's handlers and the [`TestServer`](crate::TestServer) handle
//! share: the script, queued faults, the fault rate, recorded requests and counters.

use crate::fault::Fault;
use crate::fault_rate::FaultRate;
use crate::recorded::RecordedRequest;
use crate::responses::Unfinished;
use llm_do_testing::scripted::Reply;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Locks a mutex; a panic elsewhere while it was held cannot leave these lists half-updated.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The server's state, behind an `Arc`.
#[derive(Debug)]
pub(crate) struct Shared {
    script: Mutex<VecDeque<Reply>>,
    faults: Mutex<VecDeque<Fault>>,
    rate: Option<Mutex<FaultRate>>,
    /// The last `keep` requests received.
    requests: Mutex<VecDeque<RecordedRequest>>,
    keep: usize,
    /// Every request received.
    received: AtomicU64,
    models: Mutex<Vec<String>>,
    calls: AtomicU64,
    completions: AtomicU64,
    /// Waited before every chat answer.
    pub(crate) latency: Duration,
    /// Waited between the events of a streamed answer.
    pub(crate) stream_pause: Duration,
    /// Streamed answers whose client went away before their end.
    abandoned: Arc<AtomicU64>,
}

impl Shared {
    pub(crate) fn new(
        script: Vec<Reply>,
        faults: Vec<Fault>,
        rate: Option<FaultRate>,
        models: Vec<String>,
        latency: Duration,
        stream_pause: Duration,
        keep: usize,
    ) -> Self {
        Self {
            script: Mutex::new(script.into()),
            faults: Mutex::new(faults.into()),
            rate: rate.map(Mutex::new),
            requests: Mutex::new(VecDeque::new()),
            keep,
            received: AtomicU64::new(0),
            models: Mutex::new(models),
            calls: AtomicU64::new(0),
            completions: AtomicU64::new(0),
            latency,
            stream_pause,
            abandoned: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The guard of one streamed answer, counted in [`abandoned_streams`](Self::abandoned_streams)
    /// when dropped before the stream's end.
    pub(crate) fn unfinished_stream(&self) -> Unfinished {
        Unfinished::new(Arc::clone(&self.abandoned))
    }

    /// How many streamed answers were dropped before their end (the client closed the
    /// connection).
    pub(crate) fn abandoned_streams(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.received.fetch_add(1, Ordering::Relaxed);
        if self.keep == 0 {
            return;
        }
        let mut requests = lock(&self.requests);
        if requests.len() == self.keep {
            requests.pop_front();
        }
        requests.push_back(request);
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).iter().cloned().collect()
    }

    pub(crate) fn request_count(&self) -> usize {
        usize::try_from(self.received.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    pub(crate) fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.requests).back().cloned()
    }

    pub(crate) fn push_reply(&self, reply: Reply) {
        lock(&self.script).push_back(reply);
    }

    pub(crate) fn remaining_replies(&self) -> usize {
        lock(&self.script).len()
    }

    /// The next scripted reply: taken from the script, or (`take == false`) a copy, left in
    /// place.
    pub(crate) fn next_reply(&self, take: bool) -> Option<Reply> {
        let mut script = lock(&self.script);
        if take { script.pop_front() } else { script.front().cloned() }
    }

    pub(crate) fn push_fault(&self, fault: Fault) {
        lock(&self.faults).push_back(fault);
    }

    /// The fault for the next chat request: the first queued one, else one drawn at the
    /// configured rate (requests served from the queue do not draw).
    pub(crate) fn next_fault(&self) -> Option<Fault> {
        if let Some(fault) = lock(&self.faults).pop_front() {
            return Some(fault);
        }
        self.rate.as_ref().and_then(|rate| lock(rate).draw())
    }

    /// Notes a model name a client asked for, so that `/v1/models` lists it.
    pub(crate) fn serve_model(&self, name: &str) {
        let mut models = lock(&self.models);
        if !models.iter().any(|m| m == name) {
            models.push(name.to_owned());
        }
    }

    pub(crate) fn models(&self) -> Vec<String> {
        lock(&self.models).clone()
    }

    /// How many tool call ids were handed out.
    pub(crate) fn calls_issued(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The next tool call id: `call_1`, `call_2`, ... over the server's lifetime.
    pub(crate) fn next_call_id(&self) -> String {
        let n = self.calls.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        format!("call_{n}")
    }

    /// The next completion id: `chatcmpl-1`, `chatcmpl-2`, ...
    pub(crate) fn next_completion_id(&self) -> String {
        let n = self.completions.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        format!("chatcmpl-{n}")
    }
}
