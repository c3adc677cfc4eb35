//! Record / replay cassettes through the runtime: a worker run recorded from a scripted model,
//! replayed offline, and the diff a changed request produces.

use llm_do::prelude::*;
use llm_do::testing::cassette::redact::redactor;
use llm_do::testing::cassette::{
    Cassette, CassetteError, CassetteMode, CassetteModel, cassette_with_mode,
};
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{Event, EventKind, EventLog, Message, ModelRequest, WorkerSpecBuilder};
use std::path::Path;
use std::sync::Arc;

/// Temperature of a city, in degrees.
#[tool]
async fn temperature(city: String) -> Result<String> {
    Ok(match city.as_str() {
        "Oslo" => "3".into(),
        "Rome" => "19 (station key: sk-live0123456789abcdefXYZ)".into(),
        _ => "unknown".into(),
    })
}

/// Compare the weather of two cities.
#[worker(model = "openai:gpt-4o-mini", prompt = "Which is warmer, {a} or {b}?", tools = [temperature])]
async fn warmer(ctx: &Ctx, a: String, b: String) -> Result<String>;

/// A live model: asks for both temperatures at once, then answers from the tool results.
fn live() -> ScriptedModel {
    ScriptedModel::new(|req: &ModelRequest| {
        let results: Vec<String> = req
            .messages
            .iter()
            .filter_map(|m| match m {
                Message::Tool(r) => Some(r.content.clone()),
                _ => None,
            })
            .collect();
        if results.is_empty() {
            let Some(Message::User { content }) = req.messages.get(1) else {
                return Ok(Reply::text("no prompt"));
            };
            let cities: Vec<&str> = content
                .trim_start_matches("Which is warmer, ")
                .trim_end_matches('?')
                .split(" or ")
                .collect();
            Ok(Reply::tool_calls(cities.iter().map(|c| ("temperature", json!({"city": c})))))
        } else {
            Ok(Reply::text(format!("Measured: {}", results.join(" / "))))
        }
    })
}

fn runtime(model: Arc<CassetteModel>, log: &EventLog) -> Runtime {
    Runtime::builder()
        .register(warmer::spec())
        .register(temperature::spec())
        .model_override(model)
        .subscribe(log.clone())
        .build()
}

fn open(mode: CassetteMode, path: &Path) -> Arc<CassetteModel> {
    match cassette_with_mode(mode, path, live) {
        Ok(m) => Arc::new(m),
        Err(e) => panic!("{e}"),
    }
}

async fn ask(rt: &Runtime, a: &str, b: &str) -> Result<String> {
    warmer(&rt.ctx(), a.into(), b.into()).await
}

#[tokio::test]
async fn a_recorded_run_replays_offline_with_the_same_result() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::msg)?;
    let path = dir.path().join("warmer.json");

    let recorded =
        ask(&runtime(open(CassetteMode::Record, &path), &EventLog::new()), "Oslo", "Rome").await?;
    assert!(recorded.starts_with("Measured: 3 / 19"), "{recorded}");

    let replay = open(CassetteMode::Replay, &path);
    let log = EventLog::new();
    let replayed = ask(&runtime(replay.clone(), &log), "Oslo", "Rome").await?;
    // The tools run again on replay; the tool result with a key is redacted in the cassette
    // but matches because the live request is redacted the same way.
    // Answers are redacted too: the key the live model echoed is not replayed.
    assert_eq!(replayed, redactor().redact(&recorded));
    assert!(replayed.contains("[redacted]"));
    assert!(replay.unused().is_empty());
    // Streaming consumers still see the answer in pieces.
    let deltas = log
        .events()
        .iter()
        .filter(|e: &&Event| matches!(e.kind, EventKind::ModelDelta { .. }))
        .count();
    assert_eq!(deltas, 3, "two tool call pieces, then the text");
    Ok(())
}

#[tokio::test]
async fn the_cassette_is_readable_stable_and_free_of_secrets() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::msg)?;
    let path = dir.path().join("warmer.json");
    ask(&runtime(open(CassetteMode::Record, &path), &EventLog::new()), "Oslo", "Rome").await?;
    let text = std::fs::read_to_string(&path).map_err(Error::msg)?;
    assert!(!text.contains("sk-live0123456789"), "a key reached the cassette");
    insta::assert_snapshot!("warmer_cassette", text);
    Ok(())
}

#[tokio::test]
async fn concurrent_requests_replay_in_any_order() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::msg)?;
    let path = dir.path().join("pairs.json");
    let pairs = [("Oslo", "Rome"), ("Rome", "Oslo"), ("Oslo", "Lima")];

    let rt = runtime(open(CassetteMode::Record, &path), &EventLog::new());
    let recorded = futures::future::join_all(pairs.iter().map(|(a, b)| ask(&rt, a, b))).await;
    let first_file = std::fs::read_to_string(&path).map_err(Error::msg)?;
    let cassette = Cassette::load(&path).map_err(Error::msg)?;
    assert_eq!(cassette.interactions.len(), 6);

    let rt = runtime(open(CassetteMode::Replay, &path), &EventLog::new());
    for (i, (a, b)) in pairs.iter().enumerate().rev() {
        let again = ask(&rt, a, b).await?;
        assert_eq!(Some(again), recorded[i].as_deref().ok().map(|t| redactor().redact(t)));
    }
    // Re-recording sequentially gives the same file: order does not depend on arrival.
    let rt = runtime(open(CassetteMode::Record, &path), &EventLog::new());
    for (a, b) in pairs.iter().rev() {
        ask(&rt, a, b).await?;
    }
    let second_file = std::fs::read_to_string(&path).map_err(Error::msg)?;
    let ids = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("\"id\"") && !l.contains("tool_call_id"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Tool call ids come from the live model's counter, which depends on arrival order.
    assert_eq!(ids(&first_file), ids(&second_file));
    Ok(())
}

/// The replay error behind a failed worker call.
fn cassette_error(err: &Error) -> &CassetteError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(c) = e.downcast_ref::<CassetteError>() {
            return c;
        }
        source = e.source();
    }
    panic!("not a cassette error: {err}")
}

/// Same tool, but the worker now also offers `humidity`.
#[tool]
async fn humidity(city: String) -> Result<u32> {
    Ok(city.len() as u32)
}

#[tokio::test]
async fn a_changed_request_fails_with_a_diff() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::msg)?;
    let path = dir.path().join("warmer.json");
    ask(&runtime(open(CassetteMode::Record, &path), &EventLog::new()), "Oslo", "Rome").await?;

    // Changed prompt (here: different arguments).
    let rt = runtime(open(CassetteMode::Replay, &path), &EventLog::new());
    let err = ask(&rt, "Oslo", "Paris").await.unwrap_err();
    let CassetteError::Mismatch(m) = cassette_error(&err) else { panic!("{err}") };
    assert_eq!(m.differences.len(), 1);
    assert_eq!(m.differences[0].path, "messages[1].content");
    insta::assert_snapshot!(
        "changed_prompt",
        m.to_string().replace(&path.display().to_string(), "[cassette]")
    );

    // Changed output schema and tool list: a worker with the same prompt but more tools and
    // a typed answer.
    let changed = WorkerSpecBuilder::new("warmer")
        .model("openai:gpt-4o-mini")
        .description(warmer::spec().description())
        .prompt("Which is warmer, {a} or {b}?")
        .tool(temperature::spec)
        .tool(humidity::spec)
        .output_schema(json!({"type": "integer"}))
        .build()?;
    let rt = Runtime::builder()
        .register(changed)
        .register(temperature::spec())
        .model_override(open(CassetteMode::Replay, &path))
        .build();
    let err = rt.ctx().call_value("warmer", json!({"a": "Oslo", "b": "Rome"})).await.unwrap_err();
    let CassetteError::Mismatch(m) = cassette_error(&err) else { panic!("{err}") };
    let paths: Vec<&str> = m.differences.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["tools[humidity]", "output.type", "output.name", "output.schema"]);
    Ok(())
}

#[tokio::test]
async fn replay_without_a_cassette_says_how_to_record_one() {
    let err =
        cassette_with_mode(CassetteMode::Replay, "tests/cassettes/none.json", live).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cassette tests/cassettes/none.json does not exist; record it by running the test with LLM_DO_RECORD=1"
    );
}

/// The shared corpus of secrets (`tests/fixtures/secrets.json`) in a recorded interaction: in
/// the request's messages, the answer's text and its tool calls' raw arguments. None of them
/// reaches the cassette. (The corpus entries that are environment values need the variables
/// set in this process, which this test cannot do; the CLI test sets them.)
#[test]
fn no_secret_of_the_corpus_reaches_a_cassette() {
    use llm_do::testing::cassette::Interaction;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/secrets.json");
    let corpus: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let env_values: Vec<&str> =
        corpus["env"].as_object().unwrap().values().filter_map(|v| v.as_str()).collect();
    let entries: Vec<&serde_json::Value> = corpus["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !env_values.contains(&e["secret"].as_str().unwrap()))
        .collect();
    let mut cassette = Cassette::default();
    for e in &entries {
        let text = e["text"].as_str().map(str::to_owned).unwrap_or_else(|| e["args"].to_string());
        let request = ModelRequest::new("m", vec![Message::user(text.clone())]);
        let mut response = llm_do::ModelResponse::text(text.clone());
        let args = e.get("args").cloned().unwrap_or_else(|| json!({"text": text}));
        response.tool_calls.push(llm_do::ToolCall::new("c1", "lookup", &args));
        cassette.push(Interaction::new(&request, response));
    }
    let written = cassette.to_pretty_json();
    for e in entries {
        let secret = e["secret"].as_str().unwrap();
        assert!(!written.contains(secret), "{}: {secret} in\n{written}", e["name"]);
    }
}
