//! [`DurableService`]: a runtime's workers served as one Restate workflow service.
//!
//! One generic handler rather than one handler per worker: workers are late-bound by name in
//! llm-do (a project's worker files are read when the service starts, a registry entry can be
//! replaced by a hardened tool of the same name), so the service's Restate interface stays the
//! same when workers are added, renamed or hardened, and never needs re-registering for it.
//! The workflow's key is the run id: Restate runs a workflow once per key, which makes a
//! submitted run idempotent (and the client makes a run id submitted again with another worker
//! or input an error).
//!
//! Handlers of the service [`SERVICE_NAME`]:
//! - `run` (workflow): input [`RunRequest`], output [`RunOutput`]; a failed run ends with a
//!   terminal error whose message is a [`RunFailure`] as JSON (its code: 400 for bad input,
//!   403 for a denial, 404 for an unknown worker, 409 for a cancelled run, 500 otherwise).
//! - `pending` (shared): the approvals the run waits for, as a list of
//!   [`PendingApproval`].
//! - `record` (shared): the run's status, usage, failure and events, a
//!   [`RunRecord`] (`null` for a run id never submitted). The record is kept
//!   in the workflow's state, which Restate keeps for a while after the run finishes (its
//!   workflow retention, one day unless configured); a run log
//!   ([`DurableService::log_dir`]) keeps it for good.
//! - `request` (shared): what the run was started with, its worker and the digest of its
//!   input (`null` before it starts); [`Client::submit`](crate::Client::submit) compares a
//!   run id submitted again with it.
//! - `cancel` (shared): input [`CancelRequest`]; cancels the run if it is under way (see
//!   [`crate::cancel`]); its output is the run's status when it was sent (`null` for a run id
//!   never submitted).

use crate::cancel::CancelRequest;
use crate::journal::{Journal, PENDING_KEY};
use crate::record::{
    Chunk, EVENTS_PREFIX, FAILURE_KEY, Recorder, RunRecord, RunRecorder, STATUS_KEY,
};
use crate::reuse::{REQUEST_KEY, Submitted};
use crate::wire::{PendingApproval, RunFailure, RunOutput, RunRequest};
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use llm_do_core::error::ErrorKind;
use llm_do_core::{Limits, RunOptions, Runtime};
use restate_sdk::discovery::{self, HandlerName, HandlerType, ServiceName, ServiceType};
use restate_sdk::endpoint::{self, ContextInternal, Endpoint};
use restate_sdk::errors::{HandlerError, HandlerResult, TerminalError};
use restate_sdk::hyper::HyperEndpoint;
use restate_sdk::serde::Json;
use restate_sdk::service::Service;
use restate_sdk::service::macro_support::{ServiceBoxFuture, service_definition};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The name of the Restate service that runs workers.
pub const SERVICE_NAME: &str = "LlmDo";

/// A runtime's workers as a Restate service.
///
/// ```no_run
/// # async fn serve(rt: llm_do_core::Runtime) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9080").await?;
/// llm_do_restate::DurableService::new(rt).serve(listener, std::future::pending::<()>()).await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DurableService {
    runtime: Runtime,
    recorder: Recorder,
    log_dir: Option<PathBuf>,
    retention: Option<Duration>,
    run_limits: Arc<BTreeMap<String, Limits>>,
}

impl DurableService {
    /// Serves `runtime`'s workers (and tools) by name. Runs' events are recorded as their
    /// JSON ([`event_json`](crate::event_json)) until [`recorder`](Self::recorder) says
    /// otherwise.
    pub fn new(runtime: Runtime) -> Self {
        Self {
            runtime,
            recorder: crate::record::event_json(),
            log_dir: None,
            retention: None,
            run_limits: Arc::default(),
        }
    }

    /// Records each event of a run as `recorder` makes it (what
    /// [`Client::record`](crate::Client::record) returns, and the lines of run logs).
    pub fn recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = recorder;
        self
    }

    /// Also writes each run's record to `DIR/RUN_ID.jsonl`, one record per line, as the run
    /// goes (rewritten from the start when a run is resumed after a crash). Run ids that are
    /// not plain names (letters, digits, `_-.`) are not logged.
    pub fn log_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.log_dir = Some(dir.into());
        self
    }

    /// How long Restate keeps a finished run — its output, and its record in the workflow's
    /// state — after it ends (Restate's workflow retention; its default is one day). Declared
    /// to Restate when the deployment is registered.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// The depth limit and budgets of a run of `worker`, in place of the runtime's (a worker
    /// file's `budget:`; see [`Runtime::ctx_with`]).
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().max_tool_calls(50).build();
    /// let mut limits = rt.limits();
    /// limits.max_tool_calls = Some(4);
    /// let service = llm_do_restate::DurableService::new(rt).run_limits("triage", limits);
    /// assert_eq!(service.limits_of("triage").max_tool_calls, Some(4));
    /// assert_eq!(service.limits_of("other").max_tool_calls, Some(50));
    /// ```
    pub fn run_limits(mut self, worker: impl Into<String>, limits: Limits) -> Self {
        Arc::make_mut(&mut self.run_limits).insert(worker.into(), limits);
        self
    }

    /// The limits of a run of `worker`: those given by [`run_limits`](Self::run_limits), else
    /// the runtime's.
    pub fn limits_of(&self, worker: &str) -> Limits {
        self.run_limits.get(worker).copied().unwrap_or_else(|| self.runtime.limits())
    }

    /// The Restate endpoint holding the service (for host programs that serve it themselves:
    /// set `TCP_NODELAY` on its connections, as [`serve`](Self::serve) does, or every
    /// journaled step waits ~40 ms on Nagle's algorithm).
    pub fn endpoint(&self) -> Endpoint {
        let dispatcher = Dispatcher { service: self.clone() };
        let definition = service_definition(dispatcher, discover(self.retention));
        Endpoint::builder().bind(definition).build()
    }

    /// Serves the endpoint on `listener` (HTTP/2 without TLS, as Restate calls it) until
    /// `shutdown` completes; connections under way get 10 s to finish.
    ///
    /// What `restate_sdk::http_server::HttpServer` does, with `TCP_NODELAY` on every
    /// connection: a step's result is a small write that the service sends right after
    /// another, and with Nagle's algorithm it waited for the server's delayed ACK (~40 ms, on
    /// every journaled step).
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future) {
        let endpoint = HyperEndpoint::new(self.endpoint());
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, remote)) = accepted else {
                        // Out of file descriptors, say: try again a little later.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let connection = http2::Builder::new(TokioExecutor::default())
                        .serve_connection(TokioIo::new(stream), endpoint.clone());
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::debug!(target: "llm_do_restate", %remote, "connection ended: {e}");
                        }
                    });
                }
                _ = &mut shutdown => break,
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    }
}

struct Dispatcher {
    service: DurableService,
}

impl Service for Dispatcher {
    type Future = ServiceBoxFuture;

    fn handle(&self, cx: ContextInternal) -> Self::Future {
        let service = self.service.clone();
        Box::pin(async move {
            match cx.handler_name() {
                "run" => {
                    let (Json(request), meta) = cx.input::<Json<RunRequest>>().await;
                    let result = run(&service, &cx, meta.key, &meta.invocation_id, request).await;
                    cx.handle_handler_result(result);
                    cx.end();
                    Ok(())
                }
                "pending" => {
                    let _ = cx.input::<()>().await;
                    let result: HandlerResult<Json<Vec<PendingApproval>>> =
                        match cx.get::<Json<Vec<PendingApproval>>>(PENDING_KEY).await {
                            Ok(pending) => Ok(pending.unwrap_or_default()),
                            Err(e) => Err(HandlerError::from(e)),
                        };
                    cx.handle_handler_result(result);
                    cx.end();
                    Ok(())
                }
                "record" => {
                    let _ = cx.input::<()>().await;
                    let result = record(&cx).await;
                    cx.handle_handler_result(result);
                    cx.end();
                    Ok(())
                }
                "request" => {
                    let _ = cx.input::<()>().await;
                    let result = crate::reuse::handler(&cx).await;
                    cx.handle_handler_result(result);
                    cx.end();
                    Ok(())
                }
                "cancel" => {
                    let (Json(request), _) = cx.input::<Json<CancelRequest>>().await;
                    let result = crate::cancel::handler(&cx, request).await;
                    cx.handle_handler_result(result);
                    cx.end();
                    Ok(())
                }
                other => Err(endpoint::Error::unknown_handler(cx.service_name(), other)),
            }
        })
    }
}

/// The `run` handler: one worker call, its effects journaled, its record kept.
async fn run(
    service: &DurableService,
    cx: &ContextInternal,
    run_id: String,
    invocation_id: &str,
    request: RunRequest,
) -> HandlerResult<Json<RunOutput>> {
    let log = match &service.log_dir {
        Some(dir) if crate::client::is_plain_id(&run_id) => {
            Some(dir.join(format!("{run_id}.jsonl")))
        }
        _ => None,
    };
    // What it was started with, for a submission of the same run id to compare with.
    cx.set(REQUEST_KEY, Json(Submitted::new(&request.worker, &request.input)));
    let record = RunRecorder::new(service.recorder.clone(), log);
    let journal = Arc::new(Journal::new(cx.clone(), run_id, record));
    journal.start(invocation_id);
    let options =
        RunOptions::new().effects(journal.clone()).limits(service.limits_of(&request.worker));
    let ctx = service.runtime.ctx_with(options);
    let mut result = ctx.call_value(&request.worker, request.input).await;
    if journal.was_cancelled() && result.is_err() {
        // However its calls reported it, the run ended because it was cancelled.
        result = Err(llm_do_core::Error::Cancelled { reason: crate::cancel::reason(cx).await });
    }
    let (usage, failure) = journal.finish(&ctx, result.as_ref().err()).await?;
    let failure = match (result, failure) {
        (Ok(output), None) => return Ok(Json(RunOutput { output, usage })),
        // As the run's first execution recorded it.
        (_, Some(failure)) => failure,
        (Err(error), None) => RunFailure::from_error(&error),
    };
    let text = serde_json::to_string(&failure).unwrap_or_else(|_| failure.message.clone());
    Err(TerminalError::new_with_code(status_of(failure.kind), text).into())
}

fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::UnknownCallable => 404,
        ErrorKind::InvalidArguments => 400,
        ErrorKind::Denied => 403,
        ErrorKind::Cancelled => 409,
        _ => 500,
    }
}

/// The `record` handler: the run's record from the workflow's state.
async fn record(cx: &ContextInternal) -> HandlerResult<Json<Option<RunRecord>>> {
    let Some(Json(status)) = cx.get::<Json<String>>(STATUS_KEY).await? else {
        return Ok(Json(None));
    };
    let mut chunks: Vec<(u64, String)> = cx
        .get_keys()
        .await?
        .into_iter()
        .filter_map(|key| Some((key.strip_prefix(EVENTS_PREFIX)?.parse().ok()?, key)))
        .collect();
    chunks.sort();
    let (mut events, mut usage) = (Vec::new(), Default::default());
    for (_, key) in chunks {
        if let Some(Json(chunk)) = cx.get::<Json<Chunk>>(&key).await? {
            usage = chunk.usage;
            events.extend(chunk.records.iter().filter_map(|r| serde_json::from_str(r).ok()));
        }
    }
    let failure = cx.get::<Json<RunFailure>>(FAILURE_KEY).await?.map(|Json(f)| f);
    Ok(Json(Some(RunRecord { status, usage, failure, events })))
}

fn discover(retention: Option<Duration>) -> discovery::Service {
    let handler =
        |name: &str, ty: HandlerType, input: discovery::InputPayload| discovery::Handler {
            name: HandlerName::try_from(name.to_owned()).expect("a valid handler name"),
            input: Some(input),
            output: Some(discovery::OutputPayload::from_metadata::<Json<serde_json::Value>>()),
            ty: Some(ty),
            documentation: None,
            metadata: Default::default(),
            abort_timeout: None,
            inactivity_timeout: None,
            journal_retention: None,
            idempotency_retention: None,
            workflow_completion_retention: None,
            enable_lazy_state: None,
            ingress_private: None,
            retry_policy_initial_interval: None,
            retry_policy_max_interval: None,
            retry_policy_max_attempts: None,
            retry_policy_exponentiation_factor: None,
            retry_policy_on_max_attempts: None,
        };
    let mut run = handler(
        "run",
        HandlerType::Workflow,
        discovery::InputPayload::from_metadata::<Json<RunRequest>>(),
    );
    run.workflow_completion_retention =
        retention.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    discovery::Service {
        ty: ServiceType::Workflow,
        name: ServiceName::try_from(SERVICE_NAME.to_owned()).expect("a valid service name"),
        handlers: vec![
            run,
            handler("pending", HandlerType::Shared, discovery::InputPayload::empty()),
            handler("record", HandlerType::Shared, discovery::InputPayload::empty()),
            handler("request", HandlerType::Shared, discovery::InputPayload::empty()),
            handler(
                "cancel",
                HandlerType::Shared,
                discovery::InputPayload::from_metadata::<Json<CancelRequest>>(),
            ),
        ],
        documentation: Some("llm-do workers, run durably: one run per key".to_owned()),
        metadata: Default::default(),
        abort_timeout: None,
        inactivity_timeout: None,
        journal_retention: None,
        idempotency_retention: None,
        enable_lazy_state: None,
        ingress_private: None,
        retry_policy_initial_interval: None,
        retry_policy_max_interval: None,
        retry_policy_max_attempts: None,
        retry_policy_exponentiation_factor: None,
        retry_policy_on_max_attempts: None,
    }
}
