//! The OpenAI-compatible provider over real HTTP (the loopback test server): a worker's full
//! tool loop, streamed and not, structured output in each mode, and several named providers
//! in one runtime.

#[allow(dead_code)]
mod common;

use common::bounded;
use common::{KEY, config, provider, recording};
use llm_do::prelude::*;
use llm_do::testing::Reply;
use llm_do::usage::BudgetKind;
use llm_do::{EventKind, EventLog, ModelResponse, StreamDelta, Usage};
use llm_do_openai::{OpenAiConfig, OpenAiProvider, StructuredOutput};
use llm_do_testkit::TestServer;
use serde_json::Value;

/// Add two integers.
#[tool]
async fn add(a: i64, b: i64) -> Result<i64> {
    Ok(a + b)
}

/// Multiply two integers.
#[tool]
async fn mul(a: i64, b: i64) -> Result<i64> {
    Ok(a * b)
}

/// Do arithmetic with the tools.
#[worker(prompt = "Compute: {question}", tools = [add, mul], model = "openai:gpt-4o-mini")]
async fn calculator(ctx: &Ctx, question: String) -> Result<i64>;

fn calculator_script() -> Vec<Reply> {
    vec![
        // Two calls in one answer: parallel tool calls.
        Reply::tool_calls([("add", json!({"a": 2, "b": 3})), ("mul", json!({"a": 4, "b": 5}))])
            .with_tokens(40, 12),
        Reply::json(json!({"response": 25})).with_tokens(60, 4),
    ]
}

/// What one run of a worker over HTTP produced.
struct Run {
    answer: i64,
    responses: Vec<std::result::Result<ModelResponse, String>>,
    bodies: Vec<Value>,
    transcript_without_deltas: String,
    deltas: Vec<StreamDelta>,
    usage: Usage,
}

async fn run_calculator(streaming: bool) -> Run {
    let server = TestServer::builder().script(calculator_script()).start().await.unwrap();
    let model = recording(provider(&server, streaming));
    let log = EventLog::new();
    let rt = Runtime::builder().provider("openai", model.clone()).subscribe(log.clone()).build();
    let ctx = rt.ctx();
    let answer = bounded(calculator(&ctx, "2+3 and 4*5".into())).await.unwrap();
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.path == "/v1/chat/completions" && r.method == "POST"));
    assert!(requests.iter().all(|r| r.header("authorization") == Some("[redacted]")));
    let deltas = log
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::ModelDelta { delta, .. } => Some(delta),
            _ => None,
        })
        .collect();
    let transcript_without_deltas = log
        .transcript()
        .lines()
        .filter(|l| !l.contains("model_delta"))
        .collect::<Vec<_>>()
        .join("\n");
    Run {
        answer,
        responses: model.observer().responses(),
        bodies: requests.into_iter().map(|r| r.body).collect(),
        transcript_without_deltas,
        deltas,
        usage: ctx.usage(),
    }
}

#[tokio::test]
async fn a_tool_loop_over_http_gives_the_same_results_streamed_or_not() {
    let plain = run_calculator(false).await;
    let streamed = run_calculator(true).await;

    assert_eq!(plain.answer, 25);
    assert_eq!(streamed.answer, 25);
    // Every model response, assembled from the stream or decoded from one body, is the same.
    assert_eq!(plain.responses.len(), 2);
    assert_eq!(plain.responses, streamed.responses);
    let first = plain.responses[0].as_ref().unwrap();
    assert_eq!(
        first.tool_calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["add", "mul"]
    );
    assert_eq!(first.usage, Usage::tokens(40, 12));
    assert_eq!(first.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(plain.usage, Usage { requests: 2, input_tokens: 100, output_tokens: 16 });
    assert_eq!(plain.usage, streamed.usage);
    // So are the runs' events, apart from the streamed pieces.
    assert_eq!(plain.transcript_without_deltas, streamed.transcript_without_deltas);
    assert!(plain.deltas.is_empty());

    // The requests the server received, streaming fields aside, are the same too.
    insta::assert_json_snapshot!("calculator_requests", plain.bodies);
    let unstreamed: Vec<Value> = streamed
        .bodies
        .iter()
        .map(|b| {
            assert_eq!(b["stream"], json!(true));
            assert_eq!(b["stream_options"], json!({"include_usage": true}));
            let mut b = b.clone();
            if let Some(map) = b.as_object_mut() {
                map.remove("stream");
                map.remove("stream_options");
            }
            b
        })
        .collect();
    assert_eq!(unstreamed, plain.bodies);
}

#[tokio::test]
async fn streamed_pieces_become_model_delta_events() {
    let run = run_calculator(true).await;
    // Turn 1 streams two tool calls, each opened by a piece with its id and name.
    let opened: Vec<(u32, Option<String>)> = run
        .deltas
        .iter()
        .filter_map(|d| match d {
            StreamDelta::ToolCall { index, name: Some(name), .. } => {
                Some((*index, Some(name.clone())))
            }
            _ => None,
        })
        .collect();
    assert_eq!(opened, [(0, Some("add".to_owned())), (1, Some("mul".to_owned()))]);
    let add_arguments: String = run
        .deltas
        .iter()
        .filter_map(|d| match d {
            StreamDelta::ToolCall { index: 0, arguments, .. } => Some(arguments.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(serde_json::from_str::<Value>(&add_arguments).unwrap(), json!({"a": 2, "b": 3}));
    // Turn 2's pieces add up to the answer: `-> i64` is a wrapped schema (`{"response": …}`),
    // so the text is held back and comes unwrapped, in one piece, when the stream ends.
    let text: String = run
        .deltas
        .iter()
        .filter_map(|d| match d {
            StreamDelta::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "25");
    assert_eq!(run.deltas.iter().filter(|d| matches!(d, StreamDelta::Text { .. })).count(), 1);
}

#[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
enum Category {
    Bug,
    Billing,
    Feature,
}

/// Classify a customer support ticket.
#[worker(model = "openai:gpt-4o-mini", prompt = "Classify this ticket: {ticket}")]
async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;

#[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
struct Triage {
    category: Category,
    urgent: bool,
}

/// Triage a customer support ticket.
#[worker(model = "openai:gpt-4o-mini", prompt = "Triage this ticket: {ticket}")]
async fn triage(ctx: &Ctx, ticket: String) -> Result<Triage>;

fn runtime_for(server: &TestServer, mode: StructuredOutput, streaming: bool) -> Runtime {
    let provider = OpenAiProvider::new(config(server, streaming).structured_output(mode));
    Runtime::builder().provider("openai", provider).build()
}

#[tokio::test]
async fn json_schema_output_is_strict_when_the_schema_allows_and_wrapped_when_not_an_object() {
    for streaming in [false, true] {
        // The server's default behaviour answers with an example of the requested schema.
        let server = TestServer::start().await.unwrap();
        let rt = runtime_for(&server, StructuredOutput::JsonSchema, streaming);
        let ctx = rt.ctx();
        let category = bounded(classify(&ctx, "charged twice".into())).await.unwrap();
        assert!(matches!(category, Category::Bug | Category::Billing | Category::Feature));
        let triaged = bounded(triage(&ctx, "charged twice".into())).await.unwrap();
        assert!(matches!(triaged.category, Category::Bug | Category::Billing | Category::Feature));

        let formats: Vec<Value> =
            server.requests().into_iter().map(|r| r.body["response_format"].clone()).collect();
        // An enum is no object: wrapped as {"response": ...}; the struct is strict as it is.
        insta::assert_json_snapshot!("json_schema_response_formats", formats);
    }
}

#[tokio::test]
async fn the_final_answer_tool_carries_structured_output_for_servers_without_json_schema() {
    let mut responses = Vec::new();
    for streaming in [false, true] {
        let server = TestServer::builder()
            .script([Reply::tool_call("final_result", json!({"response": "Billing"}))])
            .start()
            .await
            .unwrap();
        let config =
            config(&server, streaming).structured_output(StructuredOutput::FinalAnswerTool);
        let model = recording(OpenAiProvider::new(config));
        let log = EventLog::new();
        let rt =
            Runtime::builder().provider("openai", model.clone()).subscribe(log.clone()).build();
        let category = bounded(classify(&rt.ctx(), "charged twice".into())).await.unwrap();
        assert_eq!(category, Category::Billing);
        let body = server.last_request().unwrap().body;
        assert!(body.get("response_format").is_none());
        insta::assert_json_snapshot!("final_answer_tool", body["tools"]);
        // No tool call reaches the runtime: the answer tool's call is the final answer.
        assert!(!log.events().iter().any(|e| matches!(e.kind, EventKind::ToolCall { .. })));
        responses.push(model.observer().responses());
    }
    assert_eq!(responses[0], responses[1]);
    let response = responses[0][0].as_ref().unwrap();
    assert_eq!(response.text.as_deref(), Some("\"Billing\""));
    assert!(response.tool_calls.is_empty());
}

#[tokio::test]
async fn prompted_json_puts_the_schema_into_the_system_prompt() {
    let server = TestServer::builder().script([Reply::text("\"Feature\"")]).start().await.unwrap();
    let rt = runtime_for(&server, StructuredOutput::PromptedJson, false);
    let category = bounded(classify(&rt.ctx(), "add dark mode".into())).await.unwrap();
    assert_eq!(category, Category::Feature);
    let body = server.last_request().unwrap().body;
    assert!(body.get("response_format").is_none() && body.get("tools").is_none());
    insta::assert_json_snapshot!("prompted_json_messages", body["messages"]);
}

/// Summarise a text on the local server.
#[worker(model = "ollama:llama3.2", prompt = "Summarise: {text}")]
async fn local_summary(ctx: &Ctx, text: String) -> Result<String>;

/// Summarise a text on OpenAI.
#[worker(model = "openai:gpt-4o-mini", prompt = "Summarise: {text}")]
async fn remote_summary(ctx: &Ctx, text: String) -> Result<String>;

#[tokio::test]
async fn a_second_provider_name_reaches_the_second_server() {
    let openai = TestServer::builder().script([Reply::text("from openai")]).start().await.unwrap();
    let ollama = TestServer::builder().script([Reply::text("from ollama")]).start().await.unwrap();
    let rt = Runtime::builder()
        .provider("openai", provider(&openai, false))
        .provider("ollama", OpenAiProvider::new(OpenAiConfig::new().base_url(ollama.base_url())))
        .build();
    let ctx = rt.ctx();

    assert_eq!(bounded(local_summary(&ctx, "a text".into())).await.unwrap(), "from ollama");
    assert_eq!(openai.request_count(), 0);
    let local = ollama.last_request().unwrap();
    assert_eq!(local.body["model"], json!("llama3.2"));
    assert_eq!(local.header("authorization"), None, "no key configured, none sent");

    assert_eq!(bounded(remote_summary(&ctx, "a text".into())).await.unwrap(), "from openai");
    assert_eq!(ollama.request_count(), 1);
    let remote = openai.last_request().unwrap();
    assert_eq!(remote.body["model"], json!("gpt-4o-mini"));
    assert!(remote.header("authorization").is_some());
    assert!(!format!("{remote:?}").contains(KEY));
}

/// An answer that leaves nothing to use ends the call with a typed error after one request,
/// streamed or not, rather than being sent back as a wrong answer until the turns run out: a
/// refusal or a content filter (`Refused`), a token budget that cut off the structured answer
/// (`InvalidRequest`, "raise max_tokens").
#[tokio::test]
async fn refusals_filters_and_cut_off_answers_end_the_call_typed() {
    use llm_do::{Error, ModelErrorKind};
    let cases = [
        (Reply::refusal("I can't help with that."), ModelErrorKind::Refused, "can't help"),
        (
            Reply::text("2").with_finish_reason("content_filter"),
            ModelErrorKind::Refused,
            "content filter",
        ),
        (
            Reply::text("{\"response\": 2").with_finish_reason("length"),
            ModelErrorKind::InvalidRequest,
            "raise max_tokens",
        ),
    ];
    for streaming in [false, true] {
        for (reply, kind, says) in cases.clone() {
            let server = TestServer::builder().script([reply]).start().await.unwrap();
            let rt = Runtime::builder().provider("openai", provider(&server, streaming)).build();
            let err = bounded(calculator(&rt.ctx(), "2".into())).await.unwrap_err();
            let Error::Model { source, .. } = &err else { panic!("not a model error: {err}") };
            assert_eq!(source.kind(), kind, "streaming={streaming}: {err}");
            assert!(source.message().contains(says), "streaming={streaming}: {err}");
            assert_eq!(server.request_count(), 1, "streaming={streaming}: {err}");
        }
    }
}

#[tokio::test]
async fn absurd_usage_counts_saturate_and_end_the_run_on_its_token_budget() {
    let absurd = || {
        vec![
            Reply::tool_calls([("add", json!({"a": 2, "b": 3}))]).with_tokens(u64::MAX, u64::MAX),
            Reply::json(json!({"response": 5})).with_tokens(u64::MAX, u64::MAX),
        ]
    };
    for streaming in [false, true] {
        // No budget: the counts add up to the largest count, not around to a small one.
        let server = TestServer::builder().script(absurd()).start().await.unwrap();
        let rt = Runtime::builder().provider("openai", provider(&server, streaming)).build();
        let ctx = rt.ctx();
        assert_eq!(bounded(calculator(&ctx, "2+3".into())).await.unwrap(), 5);
        let usage = ctx.usage();
        assert_eq!((usage.input_tokens, usage.output_tokens), (u64::MAX, u64::MAX));
        assert_eq!(usage.total_tokens(), u64::MAX);
        // A budget: the first answer spends it.
        let server = TestServer::builder().script(absurd()).start().await.unwrap();
        let rt = Runtime::builder()
            .provider("openai", provider(&server, streaming))
            .max_total_tokens(1_000_000)
            .build();
        let error = bounded(calculator(&rt.ctx(), "2+3".into())).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::BudgetExceeded { kind: BudgetKind::TotalTokens, used: u64::MAX, .. }
            ),
            "streaming={streaming}: {error}"
        );
    }
}
