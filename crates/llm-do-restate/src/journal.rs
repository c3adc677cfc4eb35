//! [`Journal`]: the [`Effects`] of a durable run. Every model request and every tool execution
//! is a Restate `run` step of the invocation (its result journaled before the run goes on);
//! an approval is a Restate awakeable (a durable wait, resolved by a person).
//!
//! - Steps are taken one after the other ([`Effects::concurrent_tools`] is `false`): Restate
//!   replays a journal by position, so the order of steps must not depend on timing.
//! - A nested worker call is not a step of its own: its model requests and tool executions
//!   are steps of the same invocation, in the order they happen. (A step cannot contain steps,
//!   and a child invocation would have to carry the run's budgets, depth and usage across
//!   processes.) A Rust tool that calls workers itself is one step: what it does inside is
//!   performed directly and journaled as the tool's result.
//! - Each step also carries the run's record up to its end (the events held since the previous
//!   step and those of the step, see [`crate::record`]), and writes it to the workflow's state;
//!   a last step, `run end`, keeps the last events, the final usage and the failure.
//! - An approval is a durable wait only outside steps: asked inside one (by a worker that a
//!   Rust tool calls), the runtime's approver decides, since Restate allows no wait there.
//! - Approvals answered "for the session" hold for that call only: a session of a long-lived
//!   service is shared by every run it serves.
//! - A cancellation of the invocation (see [`crate::cancel`]) surfaces at the next journaled
//!   operation: the journal cancels the run ([`Ctx::cancel`]), so that every call of it ends
//!   with [`Error::Cancelled`], and the run's end records that.

use crate::cancel::{INVOCATION_KEY, NO_REASON, is_cancellation};
use crate::record::{Chunk, EVENTS_PREFIX, FAILURE_KEY, RunRecorder, STATUS_KEY, StepRecord};
use crate::wire::{self, ApprovalAnswer, PendingApproval, RunFailure};
use futures::future::BoxFuture;
use llm_do_core::approval::{ApprovalRequest, Decision};
use llm_do_core::effects::{Effects, ModelStep, ToolOutcome, ToolStep};
use llm_do_core::error::ErrorInfo;
use llm_do_core::{CallKind, Ctx, Error, Event, ModelError, ModelErrorKind, ModelResponse, Usage};
use restate_sdk::context::RunFuture as _;
use restate_sdk::endpoint::ContextInternal;
use restate_sdk::errors::TerminalError;
use restate_sdk::serde::Json;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

/// State key of the approvals a run waits for (a list of [`PendingApproval`]).
pub(crate) const PENDING_KEY: &str = "pending_approvals";

/// The effects of one durable run: one Restate invocation.
pub(crate) struct Journal {
    cx: ContextInternal,
    run_id: String,
    /// Steps under way: effects inside a step are part of it and are performed directly.
    open_steps: AtomicU32,
    pending: Mutex<Vec<PendingApproval>>,
    /// A fatal error raised inside a tool step, kept as it is for this execution (the journal
    /// keeps its kind and message, which a replay gets back as [`Error::Recorded`]).
    fatal: Mutex<Option<Error>>,
    /// Whether Restate delivered a cancellation of the invocation.
    cancelled: AtomicBool,
    record: Mutex<RunRecorder>,
}

/// Marks a step open while it lives.
struct OpenStep<'a>(&'a AtomicU32);

impl Drop for OpenStep<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Journal {
    pub(crate) fn new(cx: ContextInternal, run_id: String, record: RunRecorder) -> Self {
        Self {
            cx,
            run_id,
            open_steps: AtomicU32::new(0),
            pending: Mutex::new(Vec::new()),
            fatal: Mutex::new(None),
            cancelled: AtomicBool::new(false),
            record: Mutex::new(record),
        }
    }

    /// Opens a step, or `None` inside one (the effect is then part of the open step).
    fn open(&self) -> Option<OpenStep<'_>> {
        if self.open_steps.fetch_add(1, Ordering::SeqCst) == 0 {
            Some(OpenStep(&self.open_steps))
        } else {
            self.open_steps.fetch_sub(1, Ordering::SeqCst);
            None
        }
    }

    fn publish_pending(&self) {
        let pending = lock(&self.pending).clone();
        if pending.is_empty() {
            self.cx.clear(PENDING_KEY);
        } else {
            self.cx.set(PENDING_KEY, Json(pending));
        }
    }

    /// Marks the run as running (its record starts), under the invocation `invocation_id`
    /// (which the `cancel` handler cancels).
    pub(crate) fn start(&self, invocation_id: &str) {
        self.cx.set(STATUS_KEY, Json("running"));
        self.cx.set(INVOCATION_KEY, Json(invocation_id));
    }

    /// Whether `e` is Restate's cancellation of the invocation; if so, cancels the run (every
    /// call of it still in flight ends with [`Error::Cancelled`]).
    fn cancels(&self, ctx: &Ctx, e: &TerminalError) -> bool {
        if !is_cancellation(e) {
            return false;
        }
        self.cancelled.store(true, Ordering::SeqCst);
        ctx.cancel(NO_REASON);
        true
    }

    /// Whether Restate cancelled the invocation.
    pub(crate) fn was_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The held events and the step's own as its record (inside a step executed here).
    fn take_record(&self, step_start: usize, live_usage: Usage) -> StepRecord {
        lock(&self.record).take(step_start, live_usage)
    }

    /// Keeps a step's record: in the workflow's state, and in the run log if there is one.
    /// `executed` is `false` when the step was restored from the journal.
    fn keep(&self, record: &StepRecord, executed: bool, live_usage: Usage) {
        let n = {
            let mut r = lock(&self.record);
            if !executed {
                r.restored(record, live_usage);
            }
            r.log(&record.records);
            r.chunks += 1;
            r.chunks - 1
        };
        let chunk = Chunk { records: record.records.clone(), usage: record.usage };
        self.cx.set(&format!("{EVENTS_PREFIX}{n}"), Json(chunk));
    }

    /// Ends the run's record (a journaled step of its own, holding the last events, the final
    /// usage and the failure): returns the run's usage and failure as first recorded.
    pub(crate) async fn finish(
        &self,
        ctx: &Ctx,
        error: Option<&Error>,
    ) -> Result<(Usage, Option<RunFailure>), TerminalError> {
        let live_usage = ctx.run_usage();
        let mut failure = error.map(RunFailure::from_error);
        let executed = AtomicBool::new(false);
        let end = loop {
            let executed_ref = &executed;
            let result = failure.clone();
            let end = self
                .cx
                .run(|| async move {
                    executed_ref.store(true, Ordering::SeqCst);
                    let start = lock(&self.record).held();
                    let record = self.take_record(start, live_usage);
                    Ok(Json(wire::Step { result, record }))
                })
                .name("run end")
                .await;
            match end {
                Ok(Json(end)) => break end,
                // Cancelled as it ended: it ends cancelled (Restate delivers a cancellation
                // once, so the step is taken the second time).
                Err(e) if !self.was_cancelled() && self.cancels(ctx, &e) => {
                    let reason = crate::cancel::reason(&self.cx).await;
                    failure = Some(RunFailure::from_error(&Error::Cancelled { reason }));
                }
                Err(e) => return Err(e),
            }
        };
        self.keep(&end.record, executed.load(Ordering::SeqCst), live_usage);
        match &end.result {
            Some(failure) => {
                self.cx.set(STATUS_KEY, Json("failed"));
                self.cx.set(FAILURE_KEY, Json(failure));
            }
            None => self.cx.set(STATUS_KEY, Json("succeeded")),
        }
        Ok((end.record.usage, end.result))
    }
}

impl Effects for Journal {
    fn model_request<'a>(
        &'a self,
        step: ModelStep<'a>,
        exec: BoxFuture<'a, Result<ModelResponse, ModelError>>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let Some(open) = self.open() else { return exec };
        let name = format!("model {} turn {}", step.worker, step.turn);
        let (ctx, live_usage) = (step.ctx, step.ctx.run_usage());
        Box::pin(async move {
            let executed = AtomicBool::new(false);
            let executed_ref = &executed;
            let journaled = self
                .cx
                .run(|| async move {
                    let start = lock(&self.record).held();
                    let result = wire::ModelResult::from(exec.await);
                    executed_ref.store(true, Ordering::SeqCst);
                    Ok(Json(wire::Step { result, record: self.take_record(start, live_usage) }))
                })
                .name(name)
                .await;
            drop(open);
            match journaled {
                Ok(Json(step)) => {
                    self.keep(&step.record, executed.load(Ordering::SeqCst), live_usage);
                    step.result.into()
                }
                // The run ends cancelled: this error is not what it reports.
                Err(e) if self.cancels(ctx, &e) => {
                    Err(ModelError::new(ModelErrorKind::Other, NO_REASON))
                }
                Err(e) => Err(ModelError::new(ModelErrorKind::Other, journal_failure(&e))),
            }
        })
    }

    fn tool_call<'a>(
        &'a self,
        step: ToolStep<'a>,
        exec: BoxFuture<'a, llm_do_core::Result<ToolOutcome>>,
    ) -> BoxFuture<'a, llm_do_core::Result<ToolOutcome>> {
        // A worker's own requests and tool calls are the steps.
        if step.kind == CallKind::Worker {
            return exec;
        }
        let Some(open) = self.open() else { return exec };
        let name = format!("tool {} ({})", step.call.name, step.call.id);
        let (ctx, live_usage) = (step.ctx, step.ctx.run_usage());
        Box::pin(async move {
            let executed = AtomicBool::new(false);
            let executed_ref = &executed;
            let journaled = self
                .cx
                .run(|| async move {
                    let start = lock(&self.record).held();
                    let result = match exec.await {
                        Ok(outcome) => wire::ToolResult::Done(outcome),
                        Err(fatal) => {
                            let info = ErrorInfo::from(&fatal);
                            *lock(&self.fatal) = Some(fatal);
                            wire::ToolResult::Fatal(info)
                        }
                    };
                    executed_ref.store(true, Ordering::SeqCst);
                    Ok(Json(wire::Step { result, record: self.take_record(start, live_usage) }))
                })
                .name(name)
                .await;
            drop(open);
            let step = match journaled {
                Ok(Json(step)) => step,
                Err(e) if self.cancels(ctx, &e) => {
                    return Err(Error::Cancelled { reason: NO_REASON.to_owned() });
                }
                Err(e) => return Err(Error::msg(journal_failure(&e))),
            };
            self.keep(&step.record, executed.load(Ordering::SeqCst), live_usage);
            match step.result {
                wire::ToolResult::Done(outcome) => Ok(outcome),
                // Restored: the error of an earlier execution, with its kind.
                wire::ToolResult::Fatal(info) => {
                    Err(lock(&self.fatal).take().unwrap_or(Error::Recorded(info)))
                }
            }
        })
    }

    fn approval<'a>(
        &'a self,
        ctx: &'a Ctx,
        request: &'a ApprovalRequest,
        exec: BoxFuture<'a, Decision>,
    ) -> BoxFuture<'a, Decision> {
        // Inside a step (a Rust tool that calls workers is one step) Restate allows no durable
        // wait: the runtime's approver decides there, as everything inside a step is performed
        // directly.
        if self.open_steps.load(Ordering::SeqCst) > 0 {
            return exec;
        }
        // Otherwise the runtime's approver is not asked: a person answers, through Restate,
        // whenever.
        Box::pin(async move {
            let (id, answer) = self.cx.awakeable::<Json<ApprovalAnswer>>();
            let pending = PendingApproval {
                id: id.clone(),
                run_id: self.run_id.clone(),
                tool: request.tool.clone(),
                // Shown to whoever answers and kept in Restate's state: secrets redacted, as
                // in every record the service keeps (the call itself gets the real arguments).
                args: crate::record::redacted(&request.args),
                caller: request.caller.clone(),
                reason: request.reason.clone(),
            };
            tracing::info!(target: "llm_do_restate", run = %self.run_id, approval = %id, tool = %request.tool, "waiting for approval");
            eprintln!(
                "llm-do restate: run {} waits for approval {id}: `{}` {}",
                self.run_id.escape_debug(),
                request.tool.escape_debug(),
                pending.args.to_string().escape_debug()
            );
            lock(&self.pending).push(pending);
            self.publish_pending();
            let answer = answer.await;
            lock(&self.pending).retain(|p| p.id != id);
            self.publish_pending();
            match answer {
                Ok(Json(answer)) if answer.approve => Decision::ApproveOnce,
                // A person's denial ends the run with `Error::Denied`.
                Ok(Json(answer)) => Decision::DenyAndAbort { reason: answer.reason },
                // Cancelled while it waited: the run ends, the call is not made.
                Err(e) if self.cancels(ctx, &e) => Decision::abort(NO_REASON),
                Err(e) => Decision::deny(format!("the approval failed: {}", e.message())),
            }
        })
    }

    fn concurrent_tools(&self) -> bool {
        false
    }

    fn records_events(&self) -> bool {
        true
    }

    fn event(&self, event: &Event) {
        lock(&self.record).push(event);
    }
}

/// Why a journaled step has no result: Restate gave up on it (its retry policy ran out) or the
/// invocation was cancelled.
fn journal_failure(e: &TerminalError) -> String {
    format!("the journaled step failed in Restate: {}", e.message())
}
