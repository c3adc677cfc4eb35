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
//! - Approvals answered "for the session" hold for that call only: a session of a long-lived
//!   service is shared by every run it serves.

use crate::wire::{self, ApprovalAnswer, PendingApproval};
use futures::future::BoxFuture;
use llm_do_core::approval::{ApprovalRequest, Decision};
use llm_do_core::effects::{Effects, ModelStep, ToolOutcome, ToolStep};
use llm_do_core::error::ErrorInfo;
use llm_do_core::{CallKind, Ctx, Error, ModelError, ModelErrorKind, ModelResponse};
use restate_sdk::context::RunFuture as _;
use restate_sdk::endpoint::ContextInternal;
use restate_sdk::errors::TerminalError;
use restate_sdk::serde::Json;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

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
}

/// Marks a step open while it lives.
struct OpenStep<'a>(&'a AtomicU32);

impl Drop for OpenStep<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Journal {
    pub(crate) fn new(cx: ContextInternal, run_id: String) -> Self {
        Self {
            cx,
            run_id,
            open_steps: AtomicU32::new(0),
            pending: Mutex::new(Vec::new()),
            fatal: Mutex::new(None),
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
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if pending.is_empty() {
            self.cx.clear(PENDING_KEY);
        } else {
            self.cx.set(PENDING_KEY, Json(pending));
        }
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
        Box::pin(async move {
            let journaled = self
                .cx
                .run(|| async move { Ok(Json(wire::ModelResult::from(exec.await))) })
                .name(name)
                .await;
            drop(open);
            match journaled {
                Ok(Json(result)) => result.into(),
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
        Box::pin(async move {
            let journaled = self
                .cx
                .run(|| async move {
                    Ok(Json(match exec.await {
                        Ok(outcome) => wire::ToolResult::Done(outcome),
                        Err(fatal) => {
                            let info = ErrorInfo::from(&fatal);
                            *self.fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(fatal);
                            wire::ToolResult::Fatal(info)
                        }
                    }))
                })
                .name(name)
                .await;
            drop(open);
            match journaled {
                Ok(Json(wire::ToolResult::Done(outcome))) => Ok(outcome),
                Ok(Json(wire::ToolResult::Fatal(info))) => {
                    Err(self.fatal.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or(
                        // Replayed: the error of an earlier execution, with its kind.
                        Error::Recorded(info),
                    ))
                }
                Err(e) => Err(Error::msg(journal_failure(&e))),
            }
        })
    }

    fn approval<'a>(
        &'a self,
        _ctx: &'a Ctx,
        request: &'a ApprovalRequest,
        _exec: BoxFuture<'a, Decision>,
    ) -> BoxFuture<'a, Decision> {
        // The runtime's approver is not asked: a person answers, through Restate, whenever.
        Box::pin(async move {
            let (id, answer) = self.cx.awakeable::<Json<ApprovalAnswer>>();
            let pending = PendingApproval {
                id: id.clone(),
                run_id: self.run_id.clone(),
                tool: request.tool.clone(),
                args: request.args.clone(),
                caller: request.caller.clone(),
                reason: request.reason.clone(),
            };
            tracing::info!(target: "llm_do_restate", run = %self.run_id, approval = %id, tool = %request.tool, "waiting for approval");
            eprintln!(
                "llm-do restate: run {} waits for approval {id}: `{}` {}",
                self.run_id.escape_debug(),
                request.tool.escape_debug(),
                request.args.to_string().escape_debug()
            );
            self.pending.lock().unwrap_or_else(|p| p.into_inner()).push(pending);
            self.publish_pending();
            let answer = answer.await;
            self.pending.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| p.id != id);
            self.publish_pending();
            match answer {
                Ok(Json(answer)) if answer.approve => Decision::ApproveOnce,
                // A person's denial ends the run with `Error::Denied`.
                Ok(Json(answer)) => Decision::DenyAndAbort { reason: answer.reason },
                Err(e) => Decision::deny(format!("the approval failed: {}", e.message())),
            }
        })
    }

    fn concurrent_tools(&self) -> bool {
        false
    }
}

/// Why a journaled step has no result: Restate gave up on it (its retry policy ran out) or the
/// invocation was cancelled.
fn journal_failure(e: &TerminalError) -> String {
    format!("the journaled step failed in Restate: {}", e.message())
}
