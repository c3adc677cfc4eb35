//! The gate the agent loop passes every model-requested call through.

use super::{ApprovalPolicy, ApprovalRequest, Approver, Decision, DenyAll, Verdict};
use crate::attachment::AttachmentLoader;
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
    /// What the runtime's approver approved for the session (a run with its own approver
    /// keeps its own: [`Ctx::run_session`]).
    session: SessionApprovals,
}

/// Standing approvals: the calls (tool, canonical arguments) an approver approved for the
/// session.
pub(crate) type SessionApprovals = Mutex<HashSet<(String, String)>>;

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

/// Why a call's arguments were refused before any rule was consulted ([`gated_args`]).
///
/// ```
/// use llm_do_core::approval::ArgsRefused;
/// let forbidden = ArgsRefused::Forbidden("a pipe".into());
/// assert_eq!(forbidden.to_string(), "refused: a pipe");
/// let unresolved = ArgsRefused::NotCanonical("`../x` is outside the sandbox".into());
/// assert_eq!(unresolved.to_string(), "`../x` is outside the sandbox");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsRefused {
    /// The callee's [`forbidden_args`](CallableSpec::forbidden_args) check refused them: no
    /// rule or approval can allow the call (the check's reason).
    #[error("refused: {0}")]
    Forbidden(String),
    /// They cannot be put in the callee's [canonical form](CallableSpec::canonical_args) (the
    /// hook's reason, e.g. a path outside a file tool's sandbox): the call cannot run.
    #[error("{0}")]
    NotCanonical(String),
}

/// The arguments of a call as the approval gate sees them: refused when the callee forbids
/// them ([`CallableSpec::forbidden_args`]), else in the callee's canonical form
/// ([`CallableSpec::canonical_args`]; unchanged, and not copied, when it has no hook). Policy
/// rules are matched against this form ([`GatedArgs::for_rules`]); questions show, and the
/// call runs with, [`GatedArgs::into_run`] — the same form, except for a callee that runs its
/// arguments as given (the shell). The gate of model-requested calls starts here, and so must
/// any other gate: a rule on `secret/**` then also holds for `./secret/x`. A gate of a
/// runtime's calls takes [`Runtime::gated_args`](crate::Runtime::gated_args), which adds a
/// worker's attachment paths resolved (`llm-do mcp` checks its clients' calls with it).
///
/// ```
/// use llm_do_core::ToolSpecBuilder;
/// use llm_do_core::approval::{ApprovalPolicy, ArgsRefused, Pattern, Rule, Verdict, gated_args};
/// use serde_json::json;
/// let read = ToolSpecBuilder::new("read")
///     .forbidden_args(|a| a["path"].as_str()?.contains('*').then(|| "a wildcard".into()))
///     .canonical_args(|a| match a["path"].as_str() {
///         Some(p) if !p.starts_with("..") => Ok(json!({"path": p.trim_start_matches("./")})),
///         _ => Err("the path is outside the sandbox".into()),
///     })
///     .handler(|_, a| async move { Ok(a) })
///     .build();
/// let gated = gated_args(&read, json!({"path": "./secret/key"})).unwrap();
/// assert_eq!(gated.for_rules(), &json!({"path": "secret/key"}));
/// let policy = ApprovalPolicy::new()
///     .rule(Rule::new("read", Verdict::Deny).unwrap().arg("/path", Pattern::glob("secret/**").unwrap()));
/// assert_eq!(policy.evaluate("read", gated.for_rules(), read.approval()).0, Verdict::Deny);
/// assert_eq!(gated.into_run(), json!({"path": "secret/key"}));
/// assert_eq!(
///     gated_args(&read, json!({"path": "*"})),
///     Err(ArgsRefused::Forbidden("a wildcard".into()))
/// );
/// assert_eq!(
///     gated_args(&read, json!({"path": "../x"})),
///     Err(ArgsRefused::NotCanonical("the path is outside the sandbox".into()))
/// );
/// ```
pub fn gated_args(spec: &CallableSpec, args: Value) -> Result<GatedArgs, ArgsRefused> {
    if let Some(why) = spec.forbidden_args(&args) {
        return Err(ArgsRefused::Forbidden(why));
    }
    if spec.runs_canonical_args() {
        let canonical = spec.canonical_args_owned(args).map_err(ArgsRefused::NotCanonical)?;
        Ok(GatedArgs { canonical, given: None, reads: Vec::new() })
    } else {
        let canonical = spec.canonical_args(&args).map_err(ArgsRefused::NotCanonical)?;
        Ok(GatedArgs { canonical, given: Some(args), reads: Vec::new() })
    }
}

/// A call's arguments past [`gated_args`]: the form rules are matched against, and the form
/// the call runs with — the same, unless the callee runs the arguments as given
/// ([`CallableSpec::runs_canonical_args`] is `false`: the shell, whose normalised words may not
/// be paths).
#[derive(Debug, Clone, PartialEq)]
pub struct GatedArgs {
    canonical: Value,
    given: Option<Value>,
    /// The reads of files this call makes that rules of another tool also decide (a worker's
    /// attachment paths, as [`AttachmentLoader::read_rules`] names them): that tool and its
    /// arguments, one per path.
    reads: Vec<(String, Value)>,
}

impl GatedArgs {
    /// The canonical form: what policy rules are matched against.
    ///
    /// ```
    /// # use llm_do_core::{ToolSpecBuilder, approval::gated_args};
    /// # use serde_json::json;
    /// let t = ToolSpecBuilder::new("t").handler(|_, a| async move { Ok(a) }).build();
    /// let gated = gated_args(&t, json!({"x": 1})).unwrap();
    /// assert_eq!(gated.for_rules(), &json!({"x": 1}));
    /// ```
    pub fn for_rules(&self) -> &Value {
        &self.canonical
    }

    /// The arguments the call runs with (and an approver is shown).
    ///
    /// ```
    /// # use llm_do_core::{ToolSpecBuilder, approval::gated_args};
    /// # use serde_json::json;
    /// let shell = ToolSpecBuilder::new("shell")
    ///     .canonical_args_for_rules(|a| Ok(json!({"command": a["command"].as_str().unwrap_or("").replace("//", "/")})))
    ///     .handler(|_, a| async move { Ok(a) })
    ///     .build();
    /// let gated = gated_args(&shell, json!({"command": "sed s//X/ f"})).unwrap();
    /// assert_eq!(gated.for_rules(), &json!({"command": "sed s/X/ f"}));
    /// assert_eq!(gated.into_run(), json!({"command": "sed s//X/ f"}));
    /// ```
    pub fn into_run(self) -> Value {
        self.given.unwrap_or(self.canonical)
    }

    /// The reads of files the call makes that another tool's rules also decide (a worker's
    /// attachment paths, as [`AttachmentLoader::read_rules`] names that tool): the tool and
    /// its arguments, one per path ([`ApprovalPolicy::evaluate_gated`]).
    pub fn reads(&self) -> &[(String, Value)] {
        &self.reads
    }
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
        Self { policy, approver, on_denied, session: Mutex::default() }
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
        let gated = match gated_args(spec, args) {
            Ok(gated) => gated,
            Err(refused @ ArgsRefused::Forbidden(_)) => {
                let message = refused.to_string();
                ctx.emit(|| EventKind::ApprovalDecided {
                    tool: spec.name().to_owned(),
                    verdict: Verdict::Deny,
                    approved: false,
                    decision: message.clone(),
                });
                return self.denied(ctx, spec, message);
            }
            Err(ArgsRefused::NotCanonical(message)) => return GateOutcome::Refused(message),
        };
        let (loader, _) = ctx.attachments();
        let gated = match with_attachments_resolved(loader, spec, gated) {
            Ok(gated) => gated,
            Err(refused) => return GateOutcome::Refused(refused.to_string()),
        };
        let (verdict, reason) = self.policy.evaluate_gated(spec, &gated);
        let GatedArgs { canonical, given, .. } = gated;
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
                // The session of the approver who would be asked: the run's own, else the
                // runtime's.
                let session = ctx.run_session().unwrap_or(&self.session);
                if session.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
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
                        session.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
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

/// `gated` ([`gated_args`]) with, for a worker, each attachment path as `loader` (the
/// runtime's) will read it ([`AttachmentLoader::resolve`]) — the form rules are matched
/// against and the worker runs with; or why the call cannot run (a path the loader refuses).
/// The one place this is done: the gate of model-requested calls and
/// [`Runtime::gated_args`](crate::Runtime::gated_args) (`llm-do mcp`'s gate) both come here.
pub(crate) fn with_attachments_resolved(
    loader: Option<&dyn AttachmentLoader>,
    spec: &CallableSpec,
    gated: GatedArgs,
) -> Result<GatedArgs, ArgsRefused> {
    if spec.worker().is_none() || !spec.has_attachment_params() {
        return Ok(gated);
    }
    let GatedArgs { canonical, given, mut reads } = gated;
    let (canonical, paths) =
        crate::attachment::resolve_paths(spec.input_schema(), canonical, loader)
            .map_err(|e| ArgsRefused::NotCanonical(e.to_string()))?;
    if let Some((tool, arg)) = loader.and_then(|l| l.read_rules()) {
        let mut as_read = |path: String| {
            let mut args = serde_json::Map::new();
            args.insert(arg.to_owned(), Value::String(path));
            (tool.to_owned(), Value::Object(args))
        };
        reads.extend(paths.into_iter().map(&mut as_read));
    }
    Ok(GatedArgs { canonical, given, reads })
}
