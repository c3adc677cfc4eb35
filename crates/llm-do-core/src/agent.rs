//! The agent loop: how a worker call runs.
//!
//! 1. The model is resolved (override, the worker's `model`, `LLM_DO_MODEL`, the default).
//! 2. The worker's tools are resolved by name — the registry first (late binding), then the
//!    worker's own compiled tool list — and offered to the model with their JSON Schemas.
//! 3. The conversation starts with the system prompt (the worker's `system`, else its
//!    description) and the rendered prompt as the user message — or, in a chat turn
//!    ([`Ctx::chat`]), the conversation's (processed) history ending with that prompt.
//!    Attachment arguments (parameters whose schema has `"format": "attachment"`) become
//!    parts of that message, as the model can take them ([`crate::attachment`]); a file it
//!    cannot take is an error before any request. A chat turn's prompt is made the same way;
//!    a file of an earlier turn whose bytes are gone (a saved conversation keeps digests) or
//!    that the model cannot take is sent as a placeholder naming it.
//!    Requests carry the worker's sampling settings, overlaid by those of the calling context
//!    ([`Ctx::with_settings`]).
//! 4. Each turn is one model request. Tool calls in the answer (each given an id of its own
//!    when the answer repeats one, so that results pair with calls) pass the approval gate
//!    ([`crate::approval`]) and are dispatched through the call's [`Ctx`] — concurrently when
//!    there are several — and their results (or error messages the model can act on) are
//!    appended. An answer without tool calls is final.
//! 5. A final answer is parsed and validated against the output schema and the output type;
//!    when it fails, the validation error goes back to the model, up to `output_retries` times.
//! 6. The loop ends with a value, or [`Error::MaxTurns`] after `max_turns` requests — or
//!    early with [`Error::Model`] when an answer leaves nothing to use: a refusal, a content
//!    filter, a token budget that cut off a tool call or a structured answer
//!    (`agent/answer_end.rs`).
//!
//! (Over 400 lines: the loop is one state machine whose steps — the request, the tool calls, the
//! output checks and retries — share its state; split into files, one control flow would be
//! scattered.)

use crate::approval::GateOutcome;
use crate::chat::ChatTurn;
use crate::ctx::Ctx;
use crate::effects::{ModelStep, ToolStep};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::message::{Message, ToolCall, ToolResult};
use crate::model::{ModelRequest, OutputMode, StreamDelta, ToolDefinition};
use crate::resolve::ResolvedModel;
use crate::spec::{CallableSpec, ToolSource, WorkerConfig};
use crate::telemetry;
use crate::usage::Usage;
use crate::user_message::{earlier_turns, user_message};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Instrument as _;

mod answer_end;

/// Runs one call of a worker; `ctx` is the call's own context.
pub(crate) async fn run(
    ctx: &Ctx,
    spec: &Arc<CallableSpec>,
    config: &WorkerConfig,
    args: Value,
    mut chat: Option<&mut ChatTurn>,
) -> Result<Value> {
    let resolved = resolve_model(ctx, spec, config)?;
    let tools = resolve_tools(ctx, spec, config).await?;

    let mut messages = Vec::new();
    let system = config.system.as_deref().unwrap_or(spec.description());
    if !system.trim().is_empty() {
        messages.push(Message::system(system));
    }
    // In a chat turn, the history ends with this turn's prompt, made by the caller with
    // `user_message` too; the earlier turns' files are given as the model can take them.
    let history_start = messages.len();
    match chat.as_deref_mut() {
        Some(chat) => {
            let prompt = chat.history.pop();
            let (_, limits) = ctx.attachments();
            let capabilities = resolved.model.input_capabilities();
            let earlier = std::mem::take(&mut chat.history);
            messages.extend(earlier_turns(earlier, &capabilities, &resolved.label, limits));
            messages.extend(prompt);
            chat.tool_kinds = tools.specs.iter().map(|t| (t.name().to_owned(), t.kind())).collect();
        }
        None => messages.push(user_message(ctx, spec, config, &args)?),
    }

    let mut request = ModelRequest::new(resolved.name.clone(), messages)
        .with_tools(tools.definitions.clone())
        .with_output(spec.output_mode())
        .with_settings(match ctx.settings_override() {
            Some(over) => config.settings.overlaid_with(over),
            None => config.settings.clone(),
        });

    let mut rejected_answers = 0u32;
    let mut logged_messages = 0usize;
    for turn in 1..=config.max_turns {
        ctx.begin_request()?;
        ctx.emit(|| EventKind::ModelRequest {
            model: resolved.label.clone(),
            turn,
            messages: request.messages.len(),
            new_messages: request.messages.get(logged_messages..).unwrap_or_default().to_vec(),
            tools: tools.specs.iter().map(|t| t.name().to_owned()).collect(),
            structured: matches!(request.output, OutputMode::Json { .. }),
        });
        logged_messages = request.messages.len();
        let response = send(ctx, spec, &resolved, &request, turn).await?;
        if let Some(chat) = chat.as_deref_mut() {
            chat.requests.push((request.messages.len() - history_start, response.usage));
        }
        ctx.emit(|| EventKind::ModelResponse {
            model: resolved.label.clone(),
            turn,
            text: response.text.clone(),
            tool_calls: response.tool_calls.clone(),
            usage: response.usage,
        });
        if let Some(source) = answer_end::unusable(&request, &response) {
            let (name, model) = (spec.name().to_owned(), resolved.label.clone());
            return Err(Error::Model { name, model, source });
        }
        let crate::model::ModelResponse { text, mut tool_calls, .. } = response;
        crate::message::make_call_ids_unique(&mut tool_calls);

        if !tool_calls.is_empty() {
            // A fatal error (`dispatch` fails only with one: an aborting denial, a budget, a
            // cancellation) ends the call: the calls of the answer not yet started do not start.
            let parallel = match ctx.effects().concurrent_tools() {
                true => ctx.limits().max_parallel_tool_calls.max(1) as usize,
                false => 1,
            };
            let results = match tool_calls.as_slice() {
                // One call (the common case), or one after the other because a journal replays
                // steps by position.
                calls if calls.len() == 1 || parallel == 1 => {
                    let mut results = Vec::with_capacity(calls.len());
                    for call in calls {
                        let result = dispatch(ctx, &tools.specs, &resolved, call).await;
                        let fatal = result.is_err();
                        results.push(result);
                        if fatal {
                            break;
                        }
                    }
                    results
                }
                calls => parallel_dispatch(ctx, &tools.specs, &resolved, calls, parallel).await,
            };
            request.messages.push(Message::assistant(text, tool_calls));
            // A fatal error ends the call: the one that stopped the run, rather than the
            // cancellation it caused in the siblings.
            let mut fatal: Option<Error> = None;
            let mut files = Vec::new();
            for result in results {
                match result {
                    Ok((result, message)) => {
                        request.messages.push(Message::Tool(result));
                        files.extend(message);
                    }
                    Err(e) => {
                        let replaces = fatal.as_ref().is_none_or(|f| {
                            matches!(f, Error::Cancelled { .. })
                                && !matches!(e, Error::Cancelled { .. })
                        });
                        if replaces {
                            fatal = Some(e);
                        }
                    }
                }
            }
            if let Some(e) = fatal {
                return Err(e);
            }
            // Files returned by tools follow the results, as user messages (tool messages
            // carry text only in most APIs).
            request.messages.extend(files);
            continue;
        }

        request.messages.push(Message::assistant(text, tool_calls));
        let raw = match request.messages.last() {
            Some(Message::Assistant { content: Some(text), .. }) => text.as_str(),
            _ => "",
        };
        match accept_final_answer(spec, &request.output, raw) {
            Ok(value) => {
                if let Some(chat) = chat {
                    chat.messages = request.messages.split_off(history_start);
                }
                return Ok(value);
            }
            Err(problem) => {
                rejected_answers += 1;
                if rejected_answers > config.output_retries {
                    return Err(Error::InvalidOutput {
                        name: spec.name().to_owned(),
                        message: problem,
                        attempts: rejected_answers,
                        raw: raw.to_owned(),
                    });
                }
                ctx.emit(|| EventKind::OutputRetry {
                    attempt: rejected_answers,
                    reason: problem.clone(),
                });
                let retry = retry_prompt(&request.output, &problem);
                request.messages.push(Message::user(retry));
            }
        }
    }
    Err(Error::MaxTurns { name: spec.name().to_owned(), max_turns: config.max_turns })
}

/// The worker's model. The runtime's providers, override and default model are fixed when it is
/// built, so the model is resolved once per runtime and kept in the spec.
pub(crate) fn resolve_model(
    ctx: &Ctx,
    spec: &CallableSpec,
    config: &WorkerConfig,
) -> Result<Arc<ResolvedModel>> {
    if let Some(model) = spec.runtime_model().get(ctx.runtime_id()) {
        return Ok(model);
    }
    let model = Arc::new(ctx.resolve_model(spec.name(), config.model.as_ref())?);
    spec.runtime_model().set(ctx.runtime_id(), model.clone());
    Ok(model)
}

/// Sends one request inside a `chat` span and accounts for its usage (counted against the token
/// budget as [estimated](crate::estimate) when the provider reports no token counts).
async fn send(
    ctx: &Ctx,
    spec: &CallableSpec,
    resolved: &ResolvedModel,
    request: &ModelRequest,
    turn: u32,
) -> Result<crate::model::ModelResponse> {
    let span = telemetry::chat_span(&resolved.provider, &resolved.name, &request.settings);
    let sink = |delta: StreamDelta| ctx.emit(|| EventKind::ModelDelta { turn, delta });
    let step = ModelStep { ctx, worker: spec.name(), model: &resolved.label, turn };
    let exec = resolved.model.request_streaming(request, &sink);
    let sent = async {
        ctx.effects().model_request(step, exec).instrument(span.clone()).await.map_err(|source| {
            Error::Model { name: spec.name().to_owned(), model: resolved.label.clone(), source }
        })
    };
    let mut response = match ctx.unless_cancelled(sent).await {
        Ok(response) => response,
        Err(e) => {
            // Made (and perhaps paid for) without an answer, it still counts as a request, as
            // it does in the run's request budget; its tokens are unknown.
            let _ = ctx.record_usage(Usage { requests: 1, ..Usage::default() }, 0);
            return Err(e);
        }
    };
    response.usage.requests = 1;
    // A provider that reports no token counts (a server that sends no `usage`, a stream cut
    // before its usage chunk) does not make the token budget unlimited: the estimate is
    // counted against it (the usage reported stays what the provider said).
    let budget_tokens = match response.usage.total_tokens() {
        0 => crate::estimate::estimate_usage(request, &response).total_tokens(),
        reported => reported,
    };
    telemetry::record_response(
        &span,
        &response.usage,
        response.model.as_deref(),
        response.finish_reason.as_deref(),
    );
    ctx.record_usage(response.usage, budget_tokens)?;
    Ok(response)
}

/// The callables a worker offers its model, and their definitions as the model sees them.
pub(crate) struct WorkerTools {
    specs: Vec<Arc<CallableSpec>>,
    definitions: Arc<[ToolDefinition]>,
}

/// The callables a worker offers its model, resolved by name (registry first, then its
/// sources); a name ending in `*` offers every callable with the prefix before it. A source
/// still listing when the run is cancelled is not waited for.
///
/// When none of them comes from a [`CallableSource`](crate::CallableSource) (whose list can
/// change while the runtime lives, e.g. an MCP server's), the result depends only on the
/// runtime, whose registered specs are fixed when it is built: it is resolved once per runtime
/// and kept in the spec. Tools from sources are resolved again for every call.
async fn resolve_tools(
    ctx: &Ctx,
    worker: &CallableSpec,
    config: &WorkerConfig,
) -> Result<Arc<WorkerTools>> {
    if let Some(tools) = worker.runtime_tools().get(ctx.runtime_id()) {
        return Ok(tools);
    }
    let registry = ctx.registry();
    let mut dynamic = false;
    let mut specs: Vec<Arc<CallableSpec>> = Vec::with_capacity(config.tools.len());
    for source in &config.tools {
        let found = match source {
            ToolSource::Spec(f) => vec![registry.for_listed(f())],
            ToolSource::Name(name) => match name.strip_suffix('*') {
                Some(prefix) => {
                    dynamic |= registry.has_sources_for_prefix(prefix);
                    ctx.unless_cancelled(registry.with_prefix(prefix)).await?
                }
                None => {
                    dynamic |= !registry.contains(name);
                    let found = ctx.unless_cancelled(registry.resolve(name)).await?;
                    vec![found.ok_or_else(|| Error::UnknownCallable {
                        name: name.clone(),
                        known: registry.names().map(str::to_owned).collect(),
                    })?]
                }
            },
        };
        for spec in found {
            if !specs.iter().any(|t| t.name() == spec.name()) {
                specs.push(spec);
            }
        }
    }
    let definitions = specs.iter().map(|t| t.tool_definition()).collect();
    let tools = Arc::new(WorkerTools { specs, definitions });
    if !dynamic {
        worker.runtime_tools().set(ctx.runtime_id(), tools.clone());
    }
    Ok(tools)
}

/// Runs an answer's tool calls at most `parallel` at once, the results in the answer's order;
/// once one fails (fatally: see [`dispatch`]), the calls not yet started do not start.
async fn parallel_dispatch(
    ctx: &Ctx,
    tools: &[Arc<CallableSpec>],
    resolved: &ResolvedModel,
    calls: &[ToolCall],
    parallel: usize,
) -> Vec<Result<(ToolResult, Option<Message>)>> {
    let ended = AtomicBool::new(false);
    // Collected first: a stream over the `map` closure is not `Send` for every lifetime, as
    // the call's boxed future must be.
    let calls: Vec<_> = calls
        .iter()
        .map(|call| {
            let ended = &ended;
            async move {
                if ended.load(Ordering::SeqCst) {
                    return None;
                }
                let result = dispatch(ctx, tools, resolved, call).await;
                if result.is_err() {
                    ended.store(true, Ordering::SeqCst);
                }
                Some(result)
            }
        })
        .collect();
    let calls = futures::StreamExt::buffered(futures::stream::iter(calls), parallel);
    let results: Vec<_> = futures::StreamExt::collect(calls).await;
    results.into_iter().flatten().collect()
}

/// Runs one tool call requested by the model. Errors the model can act on become error tool
/// results; only fatal errors (budgets) propagate.
async fn dispatch(
    ctx: &Ctx,
    tools: &[Arc<CallableSpec>],
    resolved: &ResolvedModel,
    call: &ToolCall,
) -> Result<(ToolResult, Option<Message>)> {
    ctx.begin_tool_call()?;
    ctx.emit(|| EventKind::ToolCall { call: call.clone() });
    let mut files = None;
    let outcome = match tools.iter().find(|t| t.name() == call.name) {
        None => Err(unknown_tool_message(&call.name, tools)),
        Some(spec) => match call.parse_arguments() {
            Err(e) => Err(format!(
                "the arguments of `{}` are not valid JSON ({e}); call it again with a JSON object \
                 matching its parameter schema",
                call.name
            )),
            Ok(args) => match ctx.approve(spec, args).await {
                GateOutcome::Abort(error) => return Err(ended(ctx, call, error)),
                GateOutcome::Refused(message) => Err(message),
                GateOutcome::Run(args) => {
                    let step = ToolStep { ctx, call, kind: spec.kind() };
                    let exec = Box::pin(async move {
                        match ctx.call_spec(spec, args).await {
                            Ok(value) => Ok(Ok(value)),
                            Err(e) if e.is_fatal() || ends_run_past_max_depth(ctx, &e) => Err(e),
                            Err(e) => Ok(Err(e.to_string())),
                        }
                    });
                    match ctx
                        .effects()
                        .tool_call(step, exec)
                        .await
                        .map_err(|e| ended(ctx, call, e))?
                    {
                        Ok(value) => {
                            match crate::tool_files::tool_files(ctx, spec, resolved, &value) {
                                Ok(None) => Ok(value),
                                Ok(Some((shown, message))) => {
                                    files = message;
                                    Ok(Value::String(shown))
                                }
                                Err(problem) => Err(problem),
                            }
                        }
                        Err(message) => Err(message),
                    }
                }
            },
        },
    };
    let result = match outcome {
        Ok(Value::String(s)) => ToolResult::ok(&call.id, &call.name, s),
        Ok(value) => ToolResult::ok(&call.id, &call.name, value.to_string()),
        Err(message) => ToolResult::error(&call.id, &call.name, message),
    };
    ctx.emit(|| EventKind::ToolResult { result: result.clone() });
    Ok((result, files))
}

/// `error`, which ends the run at `call`, once the call's `ToolResult` event (that error) is
/// emitted: every `ToolCall` event has its result, also when the call ends the run.
fn ended(ctx: &Ctx, call: &ToolCall, error: Error) -> Error {
    // Built only when someone listens, as every event is.
    ctx.emit(|| EventKind::ToolResult {
        result: ToolResult::error(&call.id, &call.name, error.to_string()),
    });
    error
}

/// The error result of a call to a tool the worker does not offer; the name, the model's, is
/// quoted cut (it may be megabytes long).
fn unknown_tool_message(name: &str, tools: &[Arc<CallableSpec>]) -> String {
    let name = crate::bounds::excerpt(name);
    if tools.is_empty() {
        format!("there is no tool named `{name}`: no tools are available, answer directly")
    } else {
        let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
        format!("there is no tool named `{name}`; available tools: {}", names.join(", "))
    }
}

/// Parses and validates a final answer.
fn accept_final_answer(
    spec: &CallableSpec,
    output: &OutputMode,
    raw: &str,
) -> std::result::Result<Value, String> {
    let value = match output {
        // A worker returning `()` did its work through its tools; its closing words are in
        // the run's events, its value is `null`.
        OutputMode::Text if crate::schema::is_unit_schema(spec.output_schema()) => Value::Null,
        OutputMode::Text => Value::String(raw.to_owned()),
        OutputMode::Json { .. } => parse_json_answer(raw)?,
    };
    spec.validate_output(&value)?;
    Ok(value)
}

/// Parses a JSON answer, tolerating a Markdown code fence around it.
fn parse_json_answer(raw: &str) -> std::result::Result<Value, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("the answer is empty".into());
    }
    match serde_json::from_str(trimmed) {
        Ok(v) => Ok(v),
        Err(first) => {
            if let Some(inner) = strip_code_fence(trimmed)
                && let Ok(v) = serde_json::from_str(inner)
            {
                return Ok(v);
            }
            Err(format!("the answer is not valid JSON ({first})"))
        }
    }
}

fn strip_code_fence(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("```")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    let body = rest.strip_suffix("```")?;
    Some(body.trim())
}

fn retry_prompt(output: &OutputMode, problem: &str) -> String {
    match output {
        OutputMode::Json { schema, .. } => format!(
            "Your answer was rejected: {problem}. Answer again with only a JSON value that matches \
             this JSON Schema:\n{schema}"
        ),
        OutputMode::Text => format!("Your answer was rejected: {problem}. Answer again."),
    }
}

/// A call too deep ends the run when the limits say so ([`Limits::max_depth_ends_run`]); it is
/// otherwise the tool's error, told to the model.
///
/// [`Limits::max_depth_ends_run`]: crate::Limits::max_depth_ends_run
fn ends_run_past_max_depth(ctx: &Ctx, e: &Error) -> bool {
    matches!(e, Error::DepthExceeded { .. }) && ctx.limits().max_depth_ends_run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fenced_json() {
        assert_eq!(
            parse_json_answer("```json\n{\"a\": 1}\n```").unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(parse_json_answer(" \"Bug\" ").unwrap(), serde_json::json!("Bug"));
        assert!(parse_json_answer("Bug").unwrap_err().starts_with("the answer is not valid JSON"));
        assert_eq!(parse_json_answer("  ").unwrap_err(), "the answer is empty");
    }
}
