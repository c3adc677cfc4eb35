//! [`DurableService`]: a runtime's workers served as one Restate workflow service.
//!
//! One generic handler rather than one handler per worker: workers are late-bound by name in
//! llm-do (a project's worker files are read when the service starts, a registry entry can be
//! replaced by a hardened tool of the same name), so the service's Restate interface stays the
//! same when workers are added, renamed or hardened, and never needs re-registering for it.
//! The workflow's key is the run id: Restate runs a workflow once per key, which makes a
//! submitted run idempotent.
//!
//! Handlers of the service [`SERVICE_NAME`]:
//! - `run` (workflow): input [`RunRequest`], output [`RunOutput`]; a failed run ends with a
//!   terminal error whose message is a [`RunFailure`] as JSON (its code: 400 for bad input,
//!   403 for a denial, 404 for an unknown worker, 500 otherwise).
//! - `pending` (shared): the approvals the run waits for, as a list of
//!   [`PendingApproval`](crate::PendingApproval).

use crate::journal::{Journal, PENDING_KEY};
use crate::wire::{PendingApproval, RunFailure, RunOutput, RunRequest};
use llm_do_core::error::ErrorKind;
use llm_do_core::{Error, Runtime};
use restate_sdk::discovery::{self, HandlerName, HandlerType, ServiceName, ServiceType};
use restate_sdk::endpoint::{self, ContextInternal, Endpoint};
use restate_sdk::errors::{HandlerError, HandlerResult, TerminalError};
use restate_sdk::http_server::HttpServer;
use restate_sdk::serde::Json;
use restate_sdk::service::Service;
use restate_sdk::service::macro_support::{ServiceBoxFuture, service_definition};
use std::future::Future;
use std::sync::Arc;
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
}

impl DurableService {
    /// Serves `runtime`'s workers (and tools) by name.
    pub fn new(runtime: Runtime) -> Self {
        Self { runtime }
    }

    /// The Restate endpoint holding the service (for host programs that serve it themselves).
    pub fn endpoint(&self) -> Endpoint {
        let dispatcher = Dispatcher { runtime: self.runtime.clone() };
        Endpoint::builder().bind(service_definition(dispatcher, discover())).build()
    }

    /// Serves the endpoint on `listener` (HTTP/2 and HTTP/1.1, as Restate calls it) until
    /// `shutdown` completes.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future) {
        HttpServer::new(self.endpoint()).serve_with_cancel(listener, shutdown).await;
    }
}

struct Dispatcher {
    runtime: Runtime,
}

impl Service for Dispatcher {
    type Future = ServiceBoxFuture;

    fn handle(&self, cx: ContextInternal) -> Self::Future {
        let runtime = self.runtime.clone();
        Box::pin(async move {
            match cx.handler_name() {
                "run" => {
                    let (Json(request), meta) = cx.input::<Json<RunRequest>>().await;
                    let result = run(&runtime, &cx, meta.key, request).await;
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
                other => Err(endpoint::Error::unknown_handler(cx.service_name(), other)),
            }
        })
    }
}

/// The `run` handler: one worker call, its effects journaled.
async fn run(
    runtime: &Runtime,
    cx: &ContextInternal,
    run_id: String,
    request: RunRequest,
) -> HandlerResult<Json<RunOutput>> {
    let journal = Arc::new(Journal::new(cx.clone(), run_id));
    let ctx = runtime.ctx_with_effects(journal);
    match ctx.call_value(&request.worker, request.input).await {
        Ok(output) => Ok(Json(RunOutput { output, usage: ctx.run_usage() })),
        Err(error) => {
            let failure = RunFailure::from_error(&error);
            let text = serde_json::to_string(&failure).unwrap_or_else(|_| failure.message.clone());
            Err(TerminalError::new_with_code(status_of(&error), text).into())
        }
    }
}

fn status_of(error: &Error) -> u16 {
    match error.kind() {
        ErrorKind::UnknownCallable => 404,
        ErrorKind::InvalidArguments => 400,
        ErrorKind::Denied => 403,
        _ => 500,
    }
}

fn discover() -> discovery::Service {
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
    discovery::Service {
        ty: ServiceType::Workflow,
        name: ServiceName::try_from(SERVICE_NAME.to_owned()).expect("a valid service name"),
        handlers: vec![
            handler(
                "run",
                HandlerType::Workflow,
                discovery::InputPayload::from_metadata::<Json<RunRequest>>(),
            ),
            handler("pending", HandlerType::Shared, discovery::InputPayload::empty()),
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
