//! `tracing` spans follow the OpenTelemetry GenAI conventions: `invoke_agent {name}`,
//! `chat {model}`, `execute_tool {name}`, with `gen_ai.*` attributes and usage.

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone, Default)]
struct SpanRecord {
    name: String,
    parent: Option<String>,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<(Id, SpanRecord)>>>,
}

struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut record =
            SpanRecord { name: attrs.metadata().name().to_owned(), ..Default::default() };
        attrs.record(&mut FieldVisitor(&mut record.fields));
        record.parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.name().to_owned());
        self.spans.lock().unwrap().push((id.clone(), record));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some((_, record)) = spans.iter_mut().rev().find(|(i, _)| i == id) {
            values.record(&mut FieldVisitor(&mut record.fields));
        }
    }
}

/// Shout text.
#[tool]
async fn shout(text: String) -> Result<String> {
    Ok(text.to_uppercase())
}

/// Make it loud.
#[worker(model = "openai:gpt-4o-mini", prompt = "Make this loud: {text}", tools = [shout], temperature = 0.5)]
async fn loud(ctx: &Ctx, text: String) -> Result<String>;

#[test]
fn spans_follow_the_genai_conventions() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let model = ScriptedModel::queue([
        Reply::tool_call("shout", json!({"text": "hi"})).with_tokens(12, 3),
        Reply::text("HI").with_tokens(20, 1),
    ]);
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let ctx = Runtime::builder().model_override(model).build().ctx();
        assert_eq!(rt.block_on(loud(&ctx, "hi".into())).unwrap(), "HI");
    });
    let spans: Vec<SpanRecord> =
        capture.spans.lock().unwrap().iter().map(|(_, r)| r.clone()).collect();
    let names: Vec<(&str, &str)> = spans
        .iter()
        .map(|s| (s.name.as_str(), s.fields.get("otel.name").map_or("", String::as_str)))
        .collect();
    assert_eq!(
        names,
        [
            ("invoke_agent", "invoke_agent loud"),
            ("chat", "chat gpt-4o-mini"),
            ("execute_tool", "execute_tool shout"),
            ("chat", "chat gpt-4o-mini"),
        ]
    );
    let agent = &spans[0];
    assert_eq!(agent.fields["gen_ai.operation.name"], "invoke_agent");
    assert_eq!(agent.fields["gen_ai.agent.name"], "loud");
    assert_eq!(agent.fields["llm_do.call.kind"], "stochastic");
    let chat = &spans[1];
    assert_eq!(chat.parent.as_deref(), Some("invoke_agent"));
    assert_eq!(chat.fields["gen_ai.request.model"], "gpt-4o-mini");
    assert_eq!(chat.fields["gen_ai.request.temperature"], "0.5");
    assert_eq!(chat.fields["gen_ai.usage.input_tokens"], "12");
    assert_eq!(chat.fields["gen_ai.usage.output_tokens"], "3");
    let tool = &spans[2];
    assert_eq!(tool.parent.as_deref(), Some("invoke_agent"));
    assert_eq!(tool.fields["gen_ai.tool.name"], "shout");
    assert_eq!(tool.fields["llm_do.call.kind"], "deterministic");
    assert_eq!(tool.fields["llm_do.call.depth"], "2");
}
