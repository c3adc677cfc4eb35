//! The agent loop: tool dispatch (also concurrent), error tool results the model can act on,
//! structured-output validation with retries, and the turn limit.

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{Message, ModelRequest};
use llm_do_tests::bounded;
use std::sync::Arc;
use tokio::sync::Barrier;

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
#[worker(prompt = "Compute: {question}", tools = [add, mul], model = "test:calc")]
async fn calculator(ctx: &Ctx, question: String) -> Result<i64>;

fn tool_results(req: &ModelRequest) -> Vec<(String, String, bool)> {
    req.messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool(r) => Some((r.name.clone(), r.content.clone(), r.is_error)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn tool_calls_are_dispatched_and_results_fed_back() {
    let model = ScriptedModel::queue([
        Reply::tool_calls([("add", json!({"a": 2, "b": 3})), ("mul", json!({"a": 4, "b": 5}))]),
        Reply::json(json!(25)),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    let answer = bounded(calculator(&ctx, "2+3 and 4*5".into())).await.unwrap();
    assert_eq!(answer, 25);

    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    // First request: system prompt from the doc comment, rendered user prompt, both tools.
    assert_eq!(requests[0].messages[0], Message::system("Do arithmetic with the tools."));
    assert_eq!(requests[0].messages[1], Message::user("Compute: 2+3 and 4*5"));
    let offered: Vec<&str> = requests[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(offered, ["add", "mul"]);
    assert_eq!(requests[0].model, "calc");
    // Second request carries both results, in call order.
    assert_eq!(
        tool_results(&requests[1]),
        [("add".into(), "5".into(), false), ("mul".into(), "20".into(), false)]
    );
}

/// Waits at a barrier shared with `meet_b`: completes only if both run at the same time.
#[tool]
async fn meet_a(ctx: &Ctx) -> Result<String> {
    let _ = ctx;
    BARRIER.wait().await;
    Ok("a".into())
}

/// Waits at a barrier shared with `meet_a`.
#[tool]
async fn meet_b() -> Result<String> {
    BARRIER.wait().await;
    Ok("b".into())
}

static BARRIER: std::sync::LazyLock<Arc<Barrier>> =
    std::sync::LazyLock::new(|| Arc::new(Barrier::new(2)));

/// Meets twice.
#[worker(prompt = "Meet.", tools = [meet_a, meet_b])]
async fn meeter(ctx: &Ctx) -> Result<String>;

#[tokio::test]
async fn several_tool_calls_in_one_turn_run_concurrently() {
    // Each tool waits for the other at a barrier: run one after the other, they would deadlock
    // and `bounded` would fail the test.
    let model = ScriptedModel::queue([
        Reply::tool_calls([("meet_a", json!({})), ("meet_b", json!({}))]),
        Reply::text("met"),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    assert_eq!(bounded(meeter(&ctx)).await.unwrap(), "met");
    assert_eq!(
        tool_results(&model.requests()[1]),
        [("meet_a".into(), "a".into(), false), ("meet_b".into(), "b".into(), false)]
    );
}

#[tokio::test]
async fn at_most_max_parallel_tool_calls_of_one_answer_run_at_once_in_order() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // 40 calls in one answer, each holding its slot for a while: never more than the limit
    // at once (16 by default), and the results in the answer's order.
    for (limit, expected) in [(None, 16), (Some(3), 3), (Some(0), 1)] {
        let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (now, peak) = (in_flight.clone(), most.clone());
        let slow = llm_do::ToolSpecBuilder::new("slow")
            .description("Waits.")
            .input_schema(json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}))
            .handler(move |_, args| {
                let (now, peak) = (now.clone(), peak.clone());
                async move {
                    peak.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(args["n"].clone())
                }
            })
            .build();
        let worker =
            llm_do::WorkerSpecBuilder::new("w").prompt("go").tool_name("slow").build().unwrap();
        let calls: Vec<(&str, serde_json::Value)> =
            (0..40).map(|n| ("slow", json!({ "n": n }))).collect();
        let model = ScriptedModel::queue([Reply::tool_calls(calls), Reply::text("done")]);
        let mut builder =
            Runtime::builder().model_override(model.clone()).register(slow).register(worker);
        if let Some(limit) = limit {
            builder = builder.max_parallel_tool_calls(limit);
        }
        let out = bounded(builder.build().ctx().call_value("w", json!({}))).await.unwrap();
        assert_eq!(out, json!("done"));
        assert_eq!(most.load(Ordering::SeqCst), expected, "limit {limit:?}");
        let order: Vec<String> =
            tool_results(&model.requests()[1]).into_iter().map(|(_, n, _)| n).collect();
        assert_eq!(order, (0..40).map(|n| n.to_string()).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn bad_tool_calls_become_error_results_and_the_run_continues() {
    let model = ScriptedModel::queue([
        Reply::tool_call("divide", json!({"a": 1})),
        Reply::raw_tool_call("add", "{\"a\": 1, \"b\": "),
        Reply::tool_call("add", json!({"a": "one", "b": 2})),
        Reply::tool_call("add", json!({"a": 1, "b": 2, "c": 3})),
        Reply::tool_call("add", json!({"a": 1})),
        Reply::tool_call("add", json!({"a": 1, "b": 2})),
        Reply::json(json!(3)),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    assert_eq!(bounded(calculator(&ctx, "1+2".into())).await.unwrap(), 3);
    let last = model.requests().pop().unwrap();
    let results = tool_results(&last);
    let errors: Vec<String> =
        results.iter().filter(|r| r.2).map(|r| format!("{}: {}", r.0, r.1)).collect();
    insta::assert_snapshot!(errors.join("\n"));
    assert_eq!(results.last().unwrap(), &("add".to_owned(), "3".to_owned(), false));
}

/// A hostile model's huge tool name or argument is not echoed back whole in the error result
/// it gets (which would double every following request's size).
#[tokio::test]
async fn error_results_quote_a_huge_name_or_argument_cut() {
    let huge = "x".repeat(100_000);
    let model = ScriptedModel::queue([
        Reply::tool_call(huge.as_str(), json!({})),
        Reply::tool_call("add", json!({"a": huge, "b": 2})),
        Reply::json(json!(3)),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    assert_eq!(bounded(calculator(&ctx, "1+2".into())).await.unwrap(), 3);
    let results = tool_results(&model.requests().pop().unwrap());
    let [(_, unknown, true), (_, invalid, true)] = results.as_slice() else {
        panic!("{results:?}")
    };
    assert!(unknown.len() < 1_000, "{} bytes", unknown.len());
    assert!(unknown.starts_with("there is no tool named `xxx"), "{unknown}");
    assert!(unknown.ends_with("available tools: add, mul"), "{unknown}");
    assert!(invalid.len() < 1_000, "{} bytes", invalid.len());
    assert!(invalid.contains("is not of type \"integer\""), "{invalid}");
}

/// Two calls of one answer with the same id (a buggy server) each get an id of their own, so
/// that each result pairs with its call (providers refuse two results with one id).
#[tokio::test]
async fn calls_of_one_answer_sharing_an_id_get_ids_of_their_own() {
    let calls = vec![
        llm_do::ToolCall::new("same", "add", &json!({"a": 1, "b": 1})),
        llm_do::ToolCall::new("same", "mul", &json!({"a": 2, "b": 3})),
        llm_do::ToolCall::new("same_2", "add", &json!({"a": 0, "b": 0})),
    ];
    let model = ScriptedModel::queue([
        Reply::from(llm_do::ModelResponse::tool_calls(calls)),
        Reply::json(json!(6)),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    assert_eq!(bounded(calculator(&ctx, "1+1, 2*3".into())).await.unwrap(), 6);
    let last = model.requests().pop().unwrap();
    let asked: Vec<(String, String)> = last
        .messages
        .iter()
        .flat_map(|m| match m {
            Message::Assistant { tool_calls, .. } => tool_calls.clone(),
            _ => Vec::new(),
        })
        .map(|c| (c.id, c.name))
        .collect();
    let answered: Vec<(String, String)> = last
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool(r) => Some((r.tool_call_id.clone(), r.name.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(asked, answered);
    let ids: std::collections::HashSet<&str> = asked.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{asked:?}");
    assert_eq!(asked[0].0, "same", "the first keeps its id");
    assert_eq!(asked[2].0, "same_2", "an id that is unique is kept");
}

#[tokio::test]
async fn invalid_structured_output_is_sent_back_and_retried() {
    let model = ScriptedModel::queue([
        Reply::text("twenty-five"),
        Reply::json(json!("25")),
        Reply::json(json!(25)),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    assert_eq!(bounded(calculator(&ctx, "5*5".into())).await.unwrap(), 25);
    let requests = model.requests();
    assert_eq!(requests.len(), 3);
    let feedback = match requests[2].messages.last().unwrap() {
        Message::User { content } => content.clone(),
        other => panic!("expected feedback to the model, got {other:?}"),
    };
    assert!(
        feedback.starts_with(
            "Your answer was rejected: at the top level: \"25\" is not of type \"integer\""
        ),
        "{feedback}"
    );
    assert!(
        feedback.ends_with(r#"{"type":"integer","format":"int64","title":"int64"}"#),
        "the schema is restated: {feedback}"
    );
}

/// Pick a number (at most one retry).
#[worker(prompt = "Pick a number.", output_retries = 1)]
async fn picky(ctx: &Ctx) -> Result<u8>;

#[tokio::test]
async fn output_retries_are_bounded_and_the_raw_answer_is_kept() {
    let model = ScriptedModel::queue([Reply::json(json!(300)), Reply::text("```json\n-1\n```")]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    let err = bounded(picky(&ctx)).await.unwrap_err();
    match &err {
        Error::InvalidOutput { name, attempts, raw, .. } => {
            assert_eq!(name, "picky");
            assert_eq!(*attempts, 2);
            assert_eq!(raw, "```json\n-1\n```");
        }
        other => panic!("expected InvalidOutput, got {other:?}"),
    }
    insta::assert_snapshot!(err.to_string());
    assert_eq!(model.request_count(), 2);
}

/// Loops forever.
#[worker(prompt = "Loop.", tools = [add], max_turns = 3)]
async fn looper(ctx: &Ctx) -> Result<String>;

#[tokio::test]
async fn max_turns_stops_a_model_that_never_answers() {
    let model = ScriptedModel::new(|_req: &ModelRequest| {
        Ok(Reply::tool_call("add", json!({"a": 1, "b": 1})))
    });
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    let err = bounded(looper(&ctx)).await.unwrap_err();
    assert!(matches!(err, Error::MaxTurns { max_turns: 3, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "`looper` gave no final answer within max_turns = 3 model requests"
    );
    assert_eq!(model.request_count(), 3);
}

/// Fails on purpose.
#[tool]
async fn flaky(ctx: &Ctx, fail: bool) -> Result<String> {
    let _ = ctx;
    if fail {
        Err(Error::msg("the upstream service is down; try again later"))
    } else {
        Ok("fine".into())
    }
}

/// Panics on purpose.
#[tool]
async fn explode() -> Result<String> {
    panic!("boom")
}

/// Uses fragile tools.
#[worker(prompt = "Try.", tools = [flaky, explode])]
async fn fragile(ctx: &Ctx) -> Result<String>;

#[tokio::test]
async fn tool_errors_and_panics_reach_the_model_not_the_caller() {
    let model = ScriptedModel::queue([
        Reply::tool_calls([("flaky", json!({"fail": true})), ("explode", json!({}))]),
        Reply::text("gave up politely"),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    assert_eq!(bounded(fragile(&ctx)).await.unwrap(), "gave up politely");
    assert_eq!(
        tool_results(&model.requests()[1]),
        [
            ("flaky".into(), "the upstream service is down; try again later".into(), true),
            ("explode".into(), "tool `explode` panicked: boom".into(), true),
        ]
    );
}

#[tokio::test]
async fn code_callers_get_typed_errors() {
    let rt = Runtime::builder().register(add::spec()).register(flaky::spec()).build();
    let ctx = rt.ctx();
    let unknown = ctx.call::<i64>("sub", json!({"a": 1, "b": 2})).await.unwrap_err();
    assert!(matches!(&unknown, Error::UnknownCallable { name, .. } if name == "sub"));
    assert_eq!(
        unknown.to_string(),
        "no worker or tool named `sub` is registered (known: add, flaky)"
    );

    let bad_args = ctx.call::<i64>("add", json!({"a": 1})).await.unwrap_err();
    assert!(matches!(bad_args, Error::InvalidArguments { .. }), "{bad_args:?}");

    let wrong_type = ctx.call::<String>("add", json!({"a": 1, "b": 2})).await.unwrap_err();
    assert!(matches!(wrong_type, Error::ResultType { .. }), "{wrong_type:?}");

    let failed = flaky(&ctx, true).await.unwrap_err();
    assert_eq!(failed.to_string(), "the upstream service is down; try again later");
    assert_eq!(flaky(&ctx, false).await.unwrap(), "fine");
}

#[tokio::test]
async fn model_errors_are_typed_and_name_the_worker() {
    let model = ScriptedModel::queue([]);
    let ctx = Runtime::builder().model_override(model).build().ctx();
    let err = bounded(picky(&ctx)).await.unwrap_err();
    match &err {
        Error::Model { name, source, .. } => {
            assert_eq!(name, "picky");
            assert_eq!(source.kind(), llm_do::ModelErrorKind::Other);
            assert!(llm_do::testing::ScriptError::of(source).is_some(), "{source:?}");
        }
        other => panic!("expected a model error, got {other:?}"),
    }
}

/// Adds, and says nothing back: its work is the tool calls.
#[worker(prompt = "Add {a} and {b} with the tool, then say you are done.", tools = [add], model = "test:calc")]
async fn add_quietly(ctx: &Ctx, a: i64, b: i64) -> Result<()>;

#[tokio::test]
async fn a_worker_returning_unit_is_asked_for_text_and_accepts_any_closing_words() {
    let model = ScriptedModel::queue([
        Reply::tool_call("add", json!({"a": 1, "b": 2})),
        Reply::text("All done: the sum was 3."),
    ]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    bounded(add_quietly(&ctx, 1, 2)).await.expect("closing words are no schema violation");
    let requests = model.requests();
    assert_eq!(requests.len(), 2, "no retry: the text was accepted");
    assert_eq!(requests[0].output, llm_do::OutputMode::Text);
    assert_eq!(tool_results(&requests[1]), [("add".into(), "3".into(), false)]);
}

#[tokio::test]
async fn a_tool_handler_panicking_before_its_future_is_a_typed_error_and_the_call_finishes() {
    use llm_do::{EventKind, EventLog, ToolSpecBuilder};
    // The panic happens in the handler's synchronous part, before it returns its future; the
    // same check inside the future panics there.
    let early = ToolSpecBuilder::new("early")
        .handler(|_, a| {
            let n = a["n"].as_u64().expect("n must be a number");
            async move { Ok(json!(n)) }
        })
        .build();
    let late = ToolSpecBuilder::new("late")
        .handler(|_, a| async move { Ok(json!(a["n"].as_u64().expect("n must be a number"))) })
        .build();
    let log = EventLog::new();
    let rt = Runtime::builder().register(early).register(late).subscribe(log.clone()).build();
    let ctx = rt.ctx();
    for name in ["early", "late"] {
        let err = bounded(ctx.call_value(name, json!({"n": "x"}))).await.unwrap_err();
        assert_eq!(err.kind(), llm_do::error::ErrorKind::Panicked, "{name}: {err:?}");
        assert_eq!(err.to_string(), format!("tool `{name}` panicked: n must be a number"));
        let finished = log.events().into_iter().any(|e| {
            &*e.call.name == name
                && matches!(e.kind, EventKind::CallFinished { error: Some(_), .. })
        });
        assert!(finished, "{name}: the call reported its end");
    }
    // The runtime keeps working.
    assert_eq!(bounded(ctx.call_value("early", json!({"n": 2}))).await.unwrap(), json!(2));
}
