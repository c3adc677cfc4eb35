//! A served call's progress, passed on to the client that asked for it (`_meta.progressToken`
//! of its `tools/call`) as `notifications/progress`.
//!
//! What the client sees, from the run's [`EventKind::Progress`] events (already kept at a
//! readable rate by [`Ctx::report_progress`](llm_do_core::Ctx::report_progress)):
//! - the served call's own reports, as they are: a Rust tool's `3/10 "file 3"`;
//! - while the served call has reported nothing of its own (a worker never does), the reports of
//!   the calls beneath it, as messages naming the call (`` `search`: page 2 (2/5) ``), counted
//!   1, 2, 3, … with no total: their scales are theirs, and one notification stream has one.
//!
//! Messages have their secrets redacted, as the questions passed on do. The protocol wants the
//! progress of one request to grow with each notification; a report that would not is not
//! passed on. A call driven in rounds (protocol 2026-07-28) is one
//! request per round: each round's reports go to that round's token, and the latest report
//! made while the call waited for answers goes to the next round's first.

use llm_do_core::event::progress_fraction;
use llm_do_core::{Event, EventKind, EventSubscriber};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The most notifications waiting to be sent; past it, reports are dropped.
const QUEUE: usize = 64;

/// How long a reply waits for the notifications before it to be sent (a slow client's
/// transport must not hold the reply back for longer).
const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// Where one request's notifications go.
#[derive(Clone)]
pub(crate) struct Target {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

impl Target {
    /// The request's target, if its client asked for progress.
    pub(crate) fn of(context: &rmcp::service::RequestContext<RoleServer>) -> Option<Self> {
        let token = context.meta.get_progress_token()?;
        Some(Self { peer: context.peer.clone(), token })
    }
}

/// A report made into a notification, before it has a token.
#[derive(Debug, Clone, PartialEq)]
struct Notice {
    progress: f64,
    total: Option<f64>,
    message: Option<String>,
}

/// What goes to the sending task.
enum Job {
    Send(Target, Notice),
    /// Answered once everything before it is sent.
    Flush(oneshot::Sender<()>),
}

#[derive(Default)]
struct State {
    /// The request in flight, if it asked for progress.
    target: Option<Target>,
    /// The latest report made while no request was in flight.
    pending: Option<Notice>,
    /// The last progress value passed on.
    last: Option<f64>,
    /// Whether the served call has reported progress of its own.
    own: bool,
}

impl State {
    /// The notification `event` makes, if any.
    fn notice(&mut self, event: &Event) -> Option<Notice> {
        let EventKind::Progress { progress, total, message } = &event.kind else { return None };
        let message = message.as_deref().map(|m| super::redactor().redact(m));
        let notice = if event.call.depth <= 1 {
            self.own = true;
            Notice { progress: *progress, total: *total, message }
        } else if self.own {
            return None;
        } else {
            let numbers = progress_fraction(*progress, *total);
            let name = &event.call.name;
            let message = match message {
                Some(m) => format!("`{name}`: {m} ({numbers})"),
                None => format!("`{name}`: {numbers}"),
            };
            let next = self.last.map_or(1.0, |last| last.floor() + 1.0);
            Notice { progress: next, total: None, message: Some(message) }
        };
        if self.last.is_some_and(|last| notice.progress <= last) {
            return None;
        }
        self.last = Some(notice.progress);
        Some(notice)
    }
}

/// Passes one served call's progress on: the run's [`EventSubscriber`] (given to the run with
/// [`RunOptions::subscribe`](llm_do_core::runtime::RunOptions::subscribe)) and the request it
/// goes to, changed per round.
#[derive(Clone)]
pub(crate) struct Relay {
    state: Arc<Mutex<State>>,
    jobs: mpsc::Sender<Job>,
}

impl Relay {
    /// A relay aimed at `target`, and its sending task (which ends with the last clone).
    pub(crate) fn new(target: Option<Target>) -> Self {
        let (jobs, mut queued) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(async move {
            while let Some(job) = queued.recv().await {
                match job {
                    Job::Send(Target { peer, token }, n) => {
                        let mut param = ProgressNotificationParam::new(token, n.progress);
                        param.total = n.total;
                        param.message = n.message;
                        // A client gone is the reply's business, not the progress's.
                        let _ = peer.notify_progress(param).await;
                    }
                    Job::Flush(done) => drop(done.send(())),
                }
            }
        });
        let state = State { target, ..State::default() };
        Self { state: Arc::new(Mutex::new(state)), jobs }
    }

    /// Sends the next reports to `target` (the request of a new round), beginning with the
    /// latest one made while no request was in flight.
    pub(crate) fn aim(&self, target: Option<Target>) {
        let mut state = self.lock();
        state.target = target;
        if let (Some(target), Some(notice)) = (state.target.clone(), state.pending.take()) {
            let _ = self.jobs.try_send(Job::Send(target, notice));
        }
    }

    /// Sends what is queued before the request's reply, then stops aiming at the request:
    /// later reports wait for the next round.
    pub(crate) async fn finish_request(&self) {
        self.lock().target = None;
        let (done, sent) = oneshot::channel();
        if self.jobs.send_timeout(Job::Flush(done), FLUSH_WAIT).await.is_ok() {
            let _ = tokio::time::timeout(FLUSH_WAIT, sent).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventSubscriber for Relay {
    fn on_event(&self, event: &Event) {
        if !matches!(event.kind, EventKind::Progress { .. }) {
            return;
        }
        let mut state = self.lock();
        let Some(notice) = state.notice(event) else { return };
        match state.target.clone() {
            Some(target) => {
                // A client that reads slower than the run reports loses reports, not memory.
                let _ = self.jobs.try_send(Job::Send(target, notice));
            }
            None => state.pending = Some(notice),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::{CallId, CallInfo, CallKind};

    fn report(depth: u32, name: &str, progress: f64, total: Option<f64>, m: &str) -> Event {
        Event {
            seq: 0,
            time: std::time::SystemTime::UNIX_EPOCH,
            call: CallInfo::new(CallId(1), None, depth, name, CallKind::Tool),
            kind: EventKind::Progress { progress, total, message: Some(m.to_owned()) },
        }
    }

    fn notice(progress: f64, total: Option<f64>, message: &str) -> Option<Notice> {
        Some(Notice { progress, total, message: Some(message.to_owned()) })
    }

    #[test]
    fn the_served_calls_own_reports_pass_as_they_are_and_only_growing() {
        let mut s = State::default();
        assert_eq!(s.notice(&report(1, "index", 1.0, Some(3.0), "a")), notice(1.0, Some(3.0), "a"));
        assert_eq!(s.notice(&report(1, "index", 1.0, Some(3.0), "again")), None);
        assert_eq!(s.notice(&report(1, "index", 2.5, Some(3.0), "b")), notice(2.5, Some(3.0), "b"));
        // Beneath a call that reports its own, other scales are not mixed in.
        assert_eq!(s.notice(&report(2, "fetch", 9.0, None, "c")), None);
    }

    #[test]
    fn reports_beneath_a_silent_call_are_counted_and_named() {
        let mut s = State::default();
        assert_eq!(
            s.notice(&report(2, "search", 2.0, Some(5.0), "page 2")),
            notice(1.0, None, "`search`: page 2 (2/5)")
        );
        assert_eq!(
            s.notice(&report(3, "fetch", 0.5, None, "x")),
            notice(2.0, None, "`fetch`: x (0.5)")
        );
        // Once the served call reports, its own numbers count (if they grow past the count).
        assert_eq!(s.notice(&report(1, "research", 1.0, Some(4.0), "y")), None);
        assert_eq!(
            s.notice(&report(1, "research", 3.0, Some(4.0), "z")),
            notice(3.0, Some(4.0), "z")
        );
    }
}
