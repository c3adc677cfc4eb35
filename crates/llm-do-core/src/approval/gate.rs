//! The gate the agent loop passes every model-requested call through.

use super::{ApprovalPolicy, ApprovalRequest, Approver, Decision, DenyAll, Verdict};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::EventKind;
use crate::spec::CallableSpec;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// What happens when a call is denied.
///
/// ```
/// use llm_do_core::approval::OnDenied;
/// assert_eq!(OnDenied::default(), OnDenied::ToolResult);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDenied {
    /// The model receives a permission error as the tool result and the run goes on.
    #[default]
    ToolResult,
    /// The run ends with [`Error::Denied`](crate::Error::Denied), as after
    /// [`Decision::DenyAndAbort`]: it is cancelled, so its calls in flight stop and no call
    /// is started after the denied one.
    Abort,
}

/// Policy + approver + the session's standing approvals.
pub(crate) struct Gate {
    pub(crate) policy: ApprovalPolicy,
    pub(crate) approver: Arc<dyn Approver>,
    on_denied: OnDenied,
    session: Mutex<HashSet<(String, String)>>,
}

/// The gate's final answer for one call, [`OnDenied`] applied.
pub(crate) enum GateOutcome {
    /// Run the call with these arguments: the callee's canonical form of what the model gave
    /// ([`CallableSpec::canonical_args`]), the form the rules were matched against — or, for a
    /// callee whose canonical form is for matching only
    /// ([`CallableSpec::runs_canonical_args`] is `false`: the shell), the arguments as given.
    Run(Value),
    /// The call does not run; the model receives this message as the tool's error result
    /// (arguments that cannot be put in canonical form, or a denial under
    /// [`OnDenied::ToolResult`]).
    Refused(String),
    /// The call does not run and the run ends with this error ([`Error::Denied`]: a denial
    /// under [`OnDenied::Abort`], or [`Decision::DenyAndAbort`]; either cancels the run, so
    /// that its other calls stop too).
    Abort(Error),
}

impl Default for Gate {
    fn default() -> Self {
        Self::new(ApprovalPolicy::new(), Arc::new(DenyAll), OnDenied::ToolResult)
    }
}

impl Gate {
    pub(crate) fn new(
        policy: ApprovalPolicy,
        approver: Arc<dyn Approver>,
        on_denied: OnDenied,
    ) -> Self {
        Self { policy, approver, on_denied, session: Mutex::new(HashSet::new()) }
    }

    /// Decides whether a call requested by the model of `ctx`'s worker may run.
    ///
    /// Rules are matched against the callee's canonical form of the arguments (for file tools
    /// and workers' attachment paths: resolved paths inside the sandbox; for the shell: its
    /// path arguments' spelling normalised), never their spelling. A call that runs runs with
    /// that form, unless the callee runs the arguments as given
    /// ([`CallableSpec::runs_canonical_args`]); the approver is asked about, and standing
    /// session approvals are keyed by, the arguments the call runs with.
    pub(crate) async fn check(&self, ctx: &Ctx, spec: &CallableSpec, args: Value) -> GateOutcome {
        if let Some(why) = spec.forbidden_args(&args) {
            let message = format!("refused: {why}");
            ctx.emit(|| EventKind::ApprovalDecided {
                tool: spec.name().to_owned(),
                verdict: Verdict::Deny,
                approved: false,
                decision: message.clone(),
            });
            return self.denied(ctx, spec, message);
        }
        let (canonical, given) = match canonical_form(ctx, spec, args) {
            Ok(forms) => forms,
            Err(message) => return GateOutcome::Refused(message),
        };
        let (verdict, reason) = self.policy.evaluate(spec.name(), &canonical, spec.approval());
        let args = given.unwrap_or(canonical);
        let explicit = reason.is_explicit();
        let decided = |approved: bool, decision: String| {
            if explicit {
                ctx.emit(|| EventKind::ApprovalDecided {
                    tool: spec.name().to_owned(),
                    verdict,
                    approved,
                    decision,
                });
            }
        };
        match verdict {
            Verdict::Allow => {
                // The message is built only when it is emitted (most calls are allowed by
                // default and emit nothing).
                if explicit {
                    decided(true, format!("allowed by {reason}"));
                }
                GateOutcome::Run(args)
            }
            Verdict::Deny => {
                let message = format!("denied by {reason}");
                decided(false, message.clone());
                self.denied(ctx, spec, message)
            }
            Verdict::Ask => {
                let key = (spec.name().to_owned(), crate::canonical::string(&args));
                if self.session.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
                    decided(true, "approved earlier for the session".to_owned());
                    return GateOutcome::Run(args);
                }
                let mut call_path: Vec<String> =
                    ctx.call_path().iter().map(|s| s.to_string()).collect();
                let caller = call_path.last().cloned().unwrap_or_default();
                call_path.push(spec.name().to_owned());
                let request = ApprovalRequest {
                    tool: spec.name().to_owned(),
                    args: args.clone(),
                    kind: spec.kind(),
                    caller,
                    call_path,
                    depth: ctx.depth() + 1,
                    reason,
                };
                ctx.emit(|| EventKind::ApprovalRequested { request: request.clone() });
                // The run's own approver (a server asking its client), else the runtime's.
                let approver = ctx.run_approver().unwrap_or(&*self.approver);
                let decide = async {
                    Ok(ctx.effects().approval(ctx, &request, approver.decide(&request)).await)
                };
                let decision = match ctx.unless_cancelled(decide).await {
                    Ok(decision) => decision,
                    // The run was cancelled while the approver was deciding.
                    Err(error) => return GateOutcome::Abort(error),
                };
                match decision {
                    Decision::ApproveOnce => {
                        decided(true, "approved once".to_owned());
                        GateOutcome::Run(args)
                    }
                    Decision::ApproveForSession => {
                        self.session.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
                        decided(true, "approved for the session".to_owned());
                        GateOutcome::Run(args)
                    }
                    Decision::Deny { reason: why } => {
                        let message = match why {
                            Some(why) => format!("denied by the approver: {why}"),
                            None => "denied by the approver".to_owned(),
                        };
                        decided(false, message.clone());
                        self.denied(ctx, spec, message)
                    }
                    Decision::DenyAndAbort { reason: why } => {
                        // The run ends: every call of it still in flight stops too.
                        ctx.cancel(why.clone().unwrap_or_else(|| {
                            "the approver denied a call and ended the run".to_owned()
                        }));
                        let message = match why {
                            Some(why) => {
                                format!("denied by the approver, who ended the run: {why}")
                            }
                            None => "denied by the approver, who ended the run".to_owned(),
                        };
                        decided(false, message.clone());
                        GateOutcome::Abort(Error::Denied {
                            name: spec.name().to_owned(),
                            reason: message,
                        })
                    }
                }
            }
        }
    }
}

impl Gate {
    /// A denial, with [`OnDenied`] applied: an error result for the model, or the end of the run.
    fn denied(&self, ctx: &Ctx, spec: &CallableSpec, reason: String) -> GateOutcome {
        match self.on_denied {
            OnDenied::Abort => {
                let error = Error::Denied { name: spec.name().to_owned(), reason };
                // The run ends, as after `DenyAndAbort`: its calls in flight stop, and the calls
                // still queued behind this one are not started.
                ctx.cancel(error.to_string());
                GateOutcome::Abort(error)
            }
            OnDenied::ToolResult => GateOutcome::Refused(format!(
                "permission denied: the call to `{}` was {reason}. It did not run; do not retry \
                 the same call",
                spec.name()
            )),
        }
    }
}

/// The arguments in the callee's canonical form — its hook ([`CallableSpec::canonical_args`]),
/// then, for a worker, each attachment path as the runtime's loader will read it
/// ([`AttachmentLoader::resolve`](crate::attachment::AttachmentLoader::resolve)) — and, when the
/// callee runs the arguments as given, those; or why the call cannot run.
fn canonical_form(
    ctx: &Ctx,
    spec: &CallableSpec,
    args: Value,
) -> Result<(Value, Option<Value>), String> {
    let (canonical, given) = if spec.runs_canonical_args() {
        (spec.canonical_args_owned(args)?, None)
    } else {
        (spec.canonical_args(&args)?, Some(args))
    };
    if spec.worker().is_none() || !spec.has_attachment_params() {
        return Ok((canonical, given));
    }
    let (loader, _) = ctx.attachments();
    let canonical = crate::attachment::resolve_paths(spec.input_schema(), canonical, loader)
        .map_err(|e| e.to_string())?;
    Ok((canonical, given))
}
