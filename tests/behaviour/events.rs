//! Typed events make every crossing of the stochastic boundary visible: each call has an id, a
//! parent, a depth, a name and a kind.

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{CallKind, EventKind, EventLog};
use llm_do_tests::bounded;
use std::time::Duration;

#[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
enum Category {
    Bug,
    Billing,
    Feature,
}

/// Look a customer up by email.
#[tool]
async fn lookup_customer(
    ctx: &Ctx,
    /** the customer's email */
    email: String,
) -> Result<String> {
    let _ = ctx;
    Ok(format!("{email}: premium plan, 2 invoices this month"))
}

/// Classify a customer support ticket.
#[worker(model = "openai:gpt-4o-mini", prompt = "Classify this ticket: {ticket}", tools = [lookup_customer])]
async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;

/// Route a ticket to the right team.
#[worker(model = "openai:gpt-4o", prompt = "Route this ticket: {ticket}", tools = [classify])]
async fn triage(ctx: &Ctx, ticket: String) -> Result<String>;

fn script() -> ScriptedModel {
    ScriptedModel::queue([
        Reply::tool_call("classify", json!({"ticket": "ann@example.com: charged twice"}))
            .with_tokens(50, 10),
        Reply::tool_call("lookup_customer", json!({"email": "ann@example.com"})).with_tokens(40, 8),
        Reply::json(json!("Billing")).with_tokens(60, 2),
        Reply::text("Routed to the billing team.").with_tokens(70, 6),
    ])
}

#[tokio::test]
async fn a_nested_run_produces_a_complete_transcript() {
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(triage::spec())
        .model_override(script())
        .subscribe(log.clone())
        .build();
    let ctx = rt.ctx();
    let answer = bounded(triage(&ctx, "ann@example.com: charged twice".into())).await.unwrap();
    assert_eq!(answer, "Routed to the billing team.");
    insta::assert_snapshot!(log.transcript());

    let events = log.events();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "seq numbers are dense and ordered"
    );
    // Every call appears with its kind: workers are stochastic, tools deterministic.
    let started: Vec<(String, CallKind, u32, Option<u64>)> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CallStarted { .. }))
        .map(|e| (e.call.name.to_string(), e.call.kind, e.call.depth, e.call.parent.map(|p| p.0)))
        .collect();
    assert_eq!(
        started,
        [
            ("triage".to_owned(), CallKind::Worker, 1, None),
            ("classify".to_owned(), CallKind::Worker, 2, Some(1)),
            ("lookup_customer".to_owned(), CallKind::Tool, 3, Some(2)),
        ]
    );
    // Events serialize (for JSONL run logs) with the call identity and a type tag.
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["call"]["kind"], "stochastic");
    assert_eq!(json["kind"]["type"], "call_started");
}

#[tokio::test]
async fn a_dropped_call_reports_its_cancellation() {
    let log = EventLog::new();
    let model =
        ScriptedModel::queue([Reply::text("too late")]).with_latency(Duration::from_secs(3600));
    let rt = Runtime::builder().model_override(model).subscribe(log.clone()).build();
    let ctx = rt.ctx();
    let outcome = tokio::time::timeout(Duration::from_millis(20), triage(&ctx, "x".into())).await;
    assert!(outcome.is_err(), "the model never answers within the timeout");
    let kinds: Vec<&str> = log.events().iter().map(|e| e.kind.label()).collect();
    assert_eq!(kinds, ["call_started", "model_request", "call_cancelled"]);
}

#[tokio::test]
async fn no_subscriber_no_cost_and_no_events() {
    let log = EventLog::new();
    let rt = Runtime::builder().register(lookup_customer::spec()).build();
    let ctx = rt.ctx();
    let _ = lookup_customer(&ctx, "a@b.c".into()).await.unwrap();
    assert!(log.events().is_empty());
}

/// A model that streams its answer in three pieces.
struct Streaming;

impl llm_do::Model for Streaming {
    fn request<'a>(
        &'a self,
        _request: &'a llm_do::ModelRequest,
    ) -> futures::future::BoxFuture<
        'a,
        std::result::Result<llm_do::ModelResponse, llm_do::ModelError>,
    > {
        Box::pin(async { Ok(llm_do::ModelResponse::text("Hello, world")) })
    }

    fn request_streaming<'a>(
        &'a self,
        request: &'a llm_do::ModelRequest,
        sink: &'a dyn llm_do::DeltaSink,
    ) -> futures::future::BoxFuture<
        'a,
        std::result::Result<llm_do::ModelResponse, llm_do::ModelError>,
    > {
        Box::pin(async move {
            for piece in ["Hello", ", ", "world"] {
                sink.delta(llm_do::StreamDelta::Text { text: piece.into() });
            }
            self.request(request).await
        })
    }
}

/// Greets.
#[worker(prompt = "Greet.")]
async fn greet(ctx: &Ctx) -> Result<String>;

#[tokio::test]
async fn streamed_pieces_become_events_before_the_response() {
    let log = EventLog::new();
    let ctx = Runtime::builder().model_override(Streaming).subscribe(log.clone()).build().ctx();
    assert_eq!(bounded(greet(&ctx)).await.unwrap(), "Hello, world");
    insta::assert_snapshot!(log.transcript());
}

#[tokio::test]
async fn free_text_cannot_forge_a_line_of_the_transcript() {
    // A model names a tool whose name holds a line break and a fake event after it; the tool
    // result (naming it) and the answer carry controls too.
    let forged = "nosuch\n5 delete_things finished output=\"ok\"";
    let model = ScriptedModel::queue([
        Reply::tool_call(forged, json!({"note": "a\nb"})),
        Reply::text("done\r\n9 fake finished\u{1b}[2J"),
    ]);
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(triage::spec())
        .model_override(model)
        .subscribe(log.clone())
        .build();
    let answer = bounded(triage(&rt.ctx(), "x".into())).await.unwrap();
    assert_eq!(answer, "done\r\n9 fake finished\u{1b}[2J", "the value itself is untouched");
    let transcript = log.transcript();
    assert_eq!(transcript.lines().count(), log.events().len(), "one line per event:\n{transcript}");
    assert!(
        transcript.lines().all(|l| !l.trim_start().starts_with("5 delete_things")),
        "{transcript}"
    );
    assert!(transcript.contains(" nosuch\\n5 delete_things finished"), "{transcript}");
    assert!(!transcript.chars().any(|c| c.is_control() && c != '\n'), "{transcript}");
}
