//! `tracing` spans named and attributed after the OpenTelemetry GenAI semantic conventions.
//!
//! Span names in `tracing` are static, so each span also carries `otel.name` with the
//! convention's dynamic name (`invoke_agent {name}`, `chat {model}`, `execute_tool {name}`),
//! which `tracing-opentelemetry` uses as the exported span name.

use crate::call::CallInfo;
use crate::model::ModelSettings;
use crate::usage::Usage;
use tracing::field::Empty;

/// Span of a worker call.
pub(crate) fn agent_span(info: &CallInfo) -> tracing::Span {
    tracing::info_span!(
        "invoke_agent",
        otel.name = %format_args!("invoke_agent {}", info.name),
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = %info.name,
        llm_do.call.id = info.id.0,
        llm_do.call.parent = info.parent.map(|p| p.0),
        llm_do.call.depth = info.depth,
        llm_do.call.kind = "stochastic",
    )
}

/// Span of a tool call.
pub(crate) fn tool_span(info: &CallInfo) -> tracing::Span {
    tracing::info_span!(
        "execute_tool",
        otel.name = %format_args!("execute_tool {}", info.name),
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = %info.name,
        llm_do.call.id = info.id.0,
        llm_do.call.parent = info.parent.map(|p| p.0),
        llm_do.call.depth = info.depth,
        llm_do.call.kind = "deterministic",
    )
}

/// Span of one model request; usage is recorded when the response arrives.
pub(crate) fn chat_span(provider: &str, model: &str, settings: &ModelSettings) -> tracing::Span {
    tracing::info_span!(
        "chat",
        otel.name = %format_args!("chat {model}"),
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = %provider,
        gen_ai.request.model = %model,
        gen_ai.request.temperature = settings.temperature.map(f64::from),
        gen_ai.request.top_p = settings.top_p.map(f64::from),
        gen_ai.request.max_tokens = settings.max_tokens,
        gen_ai.request.seed = settings.seed,
        gen_ai.response.model = Empty,
        gen_ai.response.finish_reasons = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        llm_do.call.kind = "stochastic",
    )
}

/// Records a response on its chat span.
pub(crate) fn record_response(
    span: &tracing::Span,
    usage: &Usage,
    model: Option<&str>,
    finish: Option<&str>,
) {
    span.record("gen_ai.usage.input_tokens", usage.input_tokens);
    span.record("gen_ai.usage.output_tokens", usage.output_tokens);
    if let Some(m) = model {
        span.record("gen_ai.response.model", m);
    }
    if let Some(f) = finish {
        span.record("gen_ai.response.finish_reasons", f);
    }
}
