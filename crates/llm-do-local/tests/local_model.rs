//! The local provider against the real embedded model (SmolLM2-135M-Instruct).
//!
//! The model comes from the default cache (`.ci/run` fetches it first); when it is missing,
//! the first test to need it fetches it through the provider's own code path (fetch + verify).
//! Every test is bounded by a timeout and asserts behaviour, never timings.

use futures::FutureExt;
use llm_do_core::{
    Message, Model, ModelErrorKind, ModelRequest, ModelResponse, ModelSettings, OutputMode,
    StreamDelta, ToolDefinition,
};
use llm_do_local::{LocalError, LocalModel};
use serde_json::{Value, json};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(300);

async fn bounded<T>(f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(LIMIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {LIMIT:?}"),
    }
}

/// Two inference threads (the CI machine has two cores).
fn model() -> LocalModel {
    LocalModel::new().with_context_size(2048).with_threads(2)
}

fn settings(temperature: f32, seed: Option<u64>, max_tokens: u32) -> ModelSettings {
    ModelSettings {
        temperature: Some(temperature),
        seed,
        max_tokens: Some(max_tokens),
        top_p: None,
        stop: Vec::new(),
    }
}

fn ask(text: &str) -> ModelRequest {
    ModelRequest::new(
        "smollm2",
        vec![Message::system("You are a concise assistant."), Message::user(text)],
    )
}

async fn request(req: &ModelRequest) -> ModelResponse {
    match bounded(model().request(req)).await {
        Ok(r) => r,
        Err(e) => panic!("request failed: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_makes_answers_reproducible() {
    let req = ask("Name three colours.").with_settings(settings(0.9, Some(42), 24));
    let a = request(&req).await;
    let b = request(
        &ask("Something else entirely, to change the cache.").with_settings(settings(0.9, None, 8)),
    )
    .await;
    let c = request(&req).await;
    assert!(b.text.is_some());
    assert_eq!(a.text, c.text, "same seed, same conversation, same answer");
    assert!(!a.text.as_deref().unwrap_or_default().is_empty());
    assert!(a.usage.input_tokens > 10 && a.usage.output_tokens > 0 && a.usage.output_tokens <= 24);
    assert!(matches!(a.finish_reason.as_deref(), Some("stop" | "length")));
}

/// Greedy decoding is reproducible too, also when the cache already holds the request's own
/// prompt: the approvals example's note-taking request, then its next turn, then the first
/// request again. (With the cached prefix reused, the repeated request ran on differently after
/// the note, so an "approve for the session" could never match the identical call.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greedy_requests_are_reproducible() {
    let tool: ToolDefinition = serde_json::from_value(json!({
        "name": "write_file",
        "description": "Create or replace a text file inside the sandbox directory with the given content (the whole file: previous content is replaced, atomically). Paths are relative to the sandbox root (for example `notes/todo.md`); missing parent directories are created; `..` and paths outside the sandbox are refused. May need approval before it runs.",
        "parameters": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "path": {
                    "type": "string",
                    "description": "Path of the file, relative to the sandbox root (for example `notes/todo.md`). Missing\nparent directories are created.",
                    "maxLength": 40
                },
                "content": {
                    "type": "string",
                    "description": "The complete new content of the file (UTF-8 text). It replaces any previous content.",
                    "maxLength": 160
                }
            },
            "required": [
                "path",
                "content"
            ],
            "description": "Arguments of `write_file`.\n\n```\nlet args: llm_do_tools::fs::WriteFileArgs =\n    serde_json::from_value(serde_json::json!({\"path\": \"notes/a.md\", \"content\": \"# A\\n\"})).unwrap();\nassert_eq!(args.content, \"# A\\n\");\n```"
        }
    }))
    .unwrap();
    let req = ModelRequest::new(
        "smollm2",
        vec![Message::user(
            "First call the `write_file` tool with a path like \"notes/todo.md\" and exactly the \
             note as content, then answer with the path. The note: \"Buy milk, call the plumber, \
             renew the passport.\"",
        )],
    )
    .with_tools(vec![tool])
    .with_output(OutputMode::json(
        "note_taker",
        json!({"type": "string", "maxLength": 60, "description": "the path of the file written"}),
    ))
    .with_settings(ModelSettings { temperature: Some(0.0), ..ModelSettings::default() });
    // (Tool call ids differ from request to request; they are not part of the answer.)
    let answer = |r: &ModelResponse| {
        let calls: Vec<(String, String)> =
            r.tool_calls.iter().map(|c| (c.name.clone(), c.arguments.clone())).collect();
        (r.text.clone(), calls)
    };
    let first = request(&req).await;
    assert_eq!(first.tool_calls.len(), 1, "{first:?}");
    let mut next = req.clone();
    next.messages.push(Message::assistant(None, first.tool_calls.clone()));
    next.messages.push(Message::Tool(llm_do_core::ToolResult::ok(
        first.tool_calls[0].id.clone(),
        "write_file",
        r#"{"path":"notes/todo.md","bytes_written":160,"created":true}"#,
    )));
    let _ = request(&next).await;
    let again = request(&req).await;
    assert_eq!(answer(&first), answer(&again), "the same request after its own next turn");
    let third = request(&req).await;
    assert_eq!(answer(&first), answer(&third), "the same request right after itself");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_tokens_bounds_the_answer() {
    let req = ask("Write a long story about a dragon.").with_settings(settings(0.0, None, 5));
    let r = request(&req).await;
    assert_eq!(r.usage.output_tokens, 5);
    assert_eq!(r.finish_reason.as_deref(), Some("length"));
}

/// A tool call the budget cannot hold is the request's fault (`InvalidRequest`: `llm-do serve`
/// answers 400, not 500), with the remedy. (A text or JSON answer is kept as far as it got,
/// with finish reason `length`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_cut_off_by_max_tokens_is_an_invalid_request_naming_the_budget() {
    let req = ask("What is the weather in Paris? Use the tool.")
        .with_tools(vec![weather_tool()])
        .with_settings(settings(0.0, None, 3));
    let err = bounded(model().request(&req)).await.expect_err("3 tokens hold no tool call");
    assert_eq!(err.kind(), ModelErrorKind::InvalidRequest, "{err}");
    assert!(
        err.to_string().contains("max_tokens = 3") && err.to_string().contains("raise"),
        "{err}"
    );
    let source = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<LocalError>());
    assert!(matches!(source, Some(LocalError::BudgetExhausted { max_tokens: 3, .. })), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_answers_always_match_the_schema() {
    let schema = json!({
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": ["Bug", "Billing", "Feature"]},
            "urgent": {"type": "boolean"},
            "priority": {"type": "integer", "minimum": 1, "maximum": 5}
        },
        "required": ["category", "urgent", "priority"],
        "additionalProperties": false
    });
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    for i in 0..20 {
        let req = ask("Classify this ticket: I was charged twice for my subscription.")
            .with_output(OutputMode::json("Ticket", schema.clone()))
            .with_settings(settings(0.8, Some(i), 64));
        let r = request(&req).await;
        let text = r.text.unwrap_or_default();
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("sample {i}: not JSON ({e}): {text}"));
        assert!(validator.is_valid(&value), "sample {i}: not schema-valid: {value}");
    }
}

fn weather_tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "The current weather in a city.",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 40}},
            "required": ["city"],
            "additionalProperties": false
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_turns_are_a_valid_call_or_an_answer() {
    for seed in 0..5 {
        let req = ask("What is the weather in Paris?")
            .with_tools(vec![weather_tool()])
            .with_settings(settings(0.8, Some(seed), 64));
        let r = request(&req).await;
        match r.tool_calls.as_slice() {
            [] => assert!(r.text.is_some()),
            [call] => {
                assert_eq!(call.name, "get_weather");
                let args = call.parse_arguments().expect("arguments are JSON");
                assert!(args["city"].is_string(), "{args}");
                assert_eq!(args.as_object().map(|o| o.len()), Some(1), "{args}");
                assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
            }
            more => panic!("one call per turn, got {more:?}"),
        }
    }
}

/// A tool without parameters: every call to it has the same arguments, `{}`.
fn no_argument_tool(name: &str) -> ToolDefinition {
    ToolDefinition::new(
        name,
        format!("Returns the current {name} reading."),
        json!({"type": "object", "properties": {}, "additionalProperties": false}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_never_repeats_an_answered_call() {
    // Both tools were already called and answered, and a call to either could only repeat
    // one of those: whatever the model starts with, the turn ends as a final answer.
    let calls = vec![
        llm_do_core::ToolCall::raw("call_a", "pressure", "{}"),
        llm_do_core::ToolCall::raw("call_b", "humidity", "{}"),
    ];
    for seed in 0..3 {
        let req = ModelRequest::new(
            "smollm2",
            vec![
                Message::system("You read sensors. Call the tools, again and again."),
                Message::user("Read the pressure and the humidity."),
                Message::Assistant { content: None, tool_calls: calls.clone() },
                Message::Tool(llm_do_core::ToolResult::ok("call_a", "pressure", "1013 hPa")),
                Message::Tool(llm_do_core::ToolResult::ok("call_b", "humidity", "40 %")),
            ],
        )
        .with_tools(vec![no_argument_tool("pressure"), no_argument_tool("humidity")])
        .with_settings(settings(0.8, Some(seed), 64));
        // The steering is opt-in: this provider is configured with it.
        let r = match bounded(model().avoid_repeated_calls(true).request(&req)).await {
            Ok(r) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        assert!(r.tool_calls.is_empty(), "seed {seed}: repeated {:?}", r.tool_calls);
        assert!(r.text.is_some(), "seed {seed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_pieces_add_up_to_the_answer() {
    let pieces = Mutex::new(String::new());
    let sink = |d: StreamDelta| {
        if let StreamDelta::Text { text } = d {
            pieces.lock().unwrap().push_str(&text);
        }
    };
    let req = ask("Say hello.").with_settings(settings(0.0, None, 16));
    let r = bounded(model().request_streaming(&req, &sink)).await.expect("answer");
    assert_eq!(pieces.lock().unwrap().as_str(), r.text.as_deref().unwrap_or_default());
}

/// A required tool call is a call, even for a question that needs no tool (seeds vary the
/// draws; the grammar leaves no other answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_tool_call_is_always_a_call() {
    for seed in 0..3 {
        let req = ask("Say hello.")
            .with_tools(vec![weather_tool()])
            .with_tool_required(true)
            .with_settings(settings(0.8, Some(seed), 64));
        let r = request(&req).await;
        assert_eq!(r.tool_calls.len(), 1, "seed {seed}: {r:?}");
        assert_eq!(r.tool_calls[0].name, "get_weather");
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }
}

/// A stop sequence taken from the middle of a greedy answer: the same request with it ends
/// right before its first occurrence, streamed and whole alike, with finish reason `stop`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_sequence_ends_a_text_answer_before_it() {
    let req = ask("Write a long story about a dragon.").with_settings(settings(0.0, None, 48));
    let full = request(&req).await.text.expect("text");
    let word = full
        .split_whitespace()
        .nth(3)
        .unwrap_or_else(|| panic!("a few words: {full:?}"))
        .to_owned();
    let expected = &full[..full.find(&word).unwrap()];
    let mut with_stop = req.settings.clone();
    // As many sequences as allowed, one as long as allowed: at the bounds, still honoured.
    let longest = "\u{1}".repeat(ModelSettings::MAX_STOP_BYTES);
    with_stop.stop = vec!["never appears \u{1}".into(), word.clone(), longest];
    with_stop.stop.resize(ModelSettings::MAX_STOP, "\u{2}".into());
    let stopped = req.clone().with_settings(with_stop);
    let pieces = Mutex::new(String::new());
    let sink = |d: StreamDelta| {
        if let StreamDelta::Text { text } = d {
            pieces.lock().unwrap().push_str(&text);
        }
    };
    let r = bounded(model().request_streaming(&stopped, &sink)).await.expect("answer");
    let text = r.text.clone().unwrap_or_default();
    assert_eq!(text.trim_end(), expected.trim_end(), "stop {word:?} in {full:?}");
    assert!(!text.contains(&word), "{text:?}");
    assert_eq!(pieces.lock().unwrap().as_str(), text);
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
}

/// Stop sequences beyond the bounds (each generated token is scanned for every one of them)
/// are an invalid request naming `stop`, refused before the model is even looked for: the
/// model file here does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_or_too_long_stop_sequences_are_an_invalid_request() {
    let refused = |stop: Vec<String>| async move {
        let req = ModelRequest::new("/nonexistent/dir/model.gguf", vec![Message::user("hi")])
            .with_settings(ModelSettings { stop, ..Default::default() });
        let e = bounded(model().request(&req)).await.expect_err("refused");
        assert_eq!(e.kind(), ModelErrorKind::InvalidRequest, "{e}");
        let local = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<LocalError>());
        let Some(LocalError::InvalidSetting { setting, reason }) = local else { panic!("{e:?}") };
        assert_eq!(setting, "stop");
        let prefix = "the request's `stop` cannot be used by the local model: ";
        assert_eq!(e.message(), format!("{prefix}{reason}"));
        reason.clone()
    };
    let many = vec!["END".to_owned(); ModelSettings::MAX_STOP + 1];
    assert_eq!(refused(many).await, "5 stop sequences are given; at most 4 are allowed");
    let long = "x".repeat(ModelSettings::MAX_STOP_BYTES + 1);
    assert_eq!(
        refused(vec!["END".into(), long]).await,
        "stop sequence 1 is 257 bytes long; at most 256 are allowed"
    );
    assert_eq!(refused(vec![String::new()]).await, "stop sequence 0 is empty");
    // Within the bounds, the same request gets as far as looking for the file.
    let req = ModelRequest::new("/nonexistent/dir/model.gguf", vec![Message::user("hi")])
        .with_settings(ModelSettings {
            stop: vec!["x".repeat(ModelSettings::MAX_STOP_BYTES); ModelSettings::MAX_STOP],
            ..Default::default()
        });
    let e = bounded(model().request(&req)).await.expect_err("no such file");
    assert!(e.to_string().contains("/nonexistent/dir/model.gguf"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_all_served_and_cancellation_is_clean() {
    // A cancelled request (its future dropped after the first poll) must not disturb others.
    let long = ask("Count from 1 to 500.").with_settings(settings(0.0, None, 400));
    let m = model();
    let mut cancelled = Box::pin(m.request(&long));
    assert!((&mut cancelled).now_or_never().is_none());
    drop(cancelled);

    let reqs: Vec<ModelRequest> = (0..3)
        .map(|i| ask(&format!("Say the number {i}.")).with_settings(settings(0.0, None, 8)))
        .collect();
    let answers = bounded(futures::future::join_all(reqs.iter().map(|r| m.request(r)))).await;
    for a in answers {
        assert!(a.expect("served").usage.output_tokens > 0);
    }
}

fn cached_model_file() -> PathBuf {
    llm_do_local::cache::ModelCache::default_location()
        .expect("cache dir")
        .ensure(&llm_do_local::cache::SMOLLM2)
        .expect("the embedded model is available")
}

async fn load_error(name: &str) -> LocalError {
    match bounded(model().load(name)).await {
        Ok(info) => panic!("{name} loaded: {info:?}"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_path_is_a_clear_error() {
    let e = load_error("/nonexistent/dir/model.gguf").await;
    assert!(matches!(e, LocalError::ModelNotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("/nonexistent/dir/model.gguf"), "{e}");

    // Through the Model trait, the same error is an `Other` ModelError.
    let req = ModelRequest::new("/nonexistent/dir/model.gguf", vec![Message::user("hi")]);
    let err = bounded(model().request(&req)).await.unwrap_err();
    assert_eq!(err.kind(), ModelErrorKind::Other);
    assert!(err.to_string().contains("cannot use model file"), "{err}");

    let e = load_error("gpt-9").await;
    assert!(matches!(e, LocalError::UnknownModel { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_and_corrupt_models_are_clear_errors() {
    let real = std::fs::read(cached_model_file()).expect("read the model");
    let dir = tempfile::tempdir().unwrap();

    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &real[..real.len() / 2]).unwrap();
    let e = load_error(truncated.to_str().unwrap()).await;
    assert!(matches!(e, LocalError::InvalidGguf { .. }), "{e:?}");
    assert!(e.to_string().contains("truncated"), "{e}");

    let garbage = dir.path().join("garbage.gguf");
    let mut bytes = b"GGUF".to_vec();
    let mut rng = fastrand::Rng::with_seed(7);
    bytes.extend((0..100_000).map(|_| rng.u8(..)));
    std::fs::write(&garbage, bytes).unwrap();
    let e = load_error(garbage.to_str().unwrap()).await;
    assert!(matches!(e, LocalError::InvalidGguf { .. }), "{e:?}");

    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "just some text").unwrap();
    let e = load_error(text.to_str().unwrap()).await;
    assert!(e.to_string().contains("magic number"), "{e}");

    // Headers with impossible counts or lengths: the tensor count, then the first key's length.
    for (at, what) in [(8usize, "tensors"), (24, "ends early")] {
        let corrupt = dir.path().join(format!("corrupt-{at}.gguf"));
        let mut bytes = real.clone();
        bytes[at..at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        std::fs::write(&corrupt, bytes).unwrap();
        let e = load_error(corrupt.to_str().unwrap()).await;
        assert!(matches!(e, LocalError::InvalidGguf { .. }), "{e:?}");
        assert!(e.to_string().contains(what), "{e}");
    }

    // The real model still loads afterwards.
    let info = bounded(model().load(cached_model_file().to_str().unwrap())).await.expect("loads");
    assert!(info.parameters > 100_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_schemas_are_rejected_before_inference() {
    let schema = json!({"type": "array", "items": {"type": "integer"}, "uniqueItems": true});
    let req = ask("hi").with_output(OutputMode::json("x", schema));
    let err = bounded(model().request(&req)).await.unwrap_err();
    assert_eq!(err.kind(), ModelErrorKind::InvalidRequest);
    assert!(err.to_string().contains("keyword `uniqueItems` is not supported"), "{err}");
}

/// A minimal, well-formed GGUF file of architecture `arch`: one f32 tensor of 4 values.
fn tiny_gguf(arch: &str) -> Vec<u8> {
    let mut b = Vec::new();
    let s = |b: &mut Vec<u8>, s: &str| {
        b.extend_from_slice(&(s.len() as u64).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    };
    b.extend_from_slice(b"GGUF");
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes()); // tensors
    b.extend_from_slice(&1u64.to_le_bytes()); // metadata entries
    s(&mut b, "general.architecture");
    b.extend_from_slice(&8u32.to_le_bytes()); // string
    s(&mut b, arch);
    s(&mut b, "token_embd.weight");
    b.extend_from_slice(&1u32.to_le_bytes()); // dimensions
    b.extend_from_slice(&4u64.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes()); // f32
    b.extend_from_slice(&0u64.to_le_bytes()); // offset
    while b.len() % 32 != 0 {
        b.push(0);
    }
    b.extend_from_slice(&[0u8; 16]);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_architecture_is_named_with_the_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mamba.gguf");
    std::fs::write(&path, tiny_gguf("mamba")).unwrap();
    let e = load_error(path.to_str().unwrap()).await;
    let LocalError::UnsupportedArchitecture { path: p, architecture } = &e else { panic!("{e:?}") };
    assert_eq!((p, architecture.as_str()), (&path, "mamba"));
    let text = e.to_string();
    assert!(text.contains("llama, qwen2, qwen3"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("`openai` provider"), "{text}");

    // A supported architecture whose tensors are missing is a load error naming the file.
    let llama = dir.path().join("llama.gguf");
    std::fs::write(&llama, tiny_gguf("llama")).unwrap();
    let e = load_error(llama.to_str().unwrap()).await;
    assert!(matches!(e, LocalError::LoadFailed { .. }), "{e:?}");
    assert!(e.to_string().contains(&llama.display().to_string()), "{e}");
}

/// A message's text is text: `<|im_end|>` or `<|im_start|>` in a user's words or a tool's
/// result does not become the control token that ends a turn or opens a forged `system` turn.
/// Read as the marker it would cost one token each time; read as text, several.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn special_token_text_in_a_message_is_read_as_plain_text() {
    let input_tokens = |text: String| async move {
        let req = ModelRequest::new("smollm2", vec![Message::user(text)])
            .with_settings(settings(0.0, None, 1));
        request(&req).await.usage.input_tokens
    };
    for marker in ["<|im_end|>", "<|im_start|>", "<|endoftext|>"] {
        let once = input_tokens(format!("x{marker}")).await;
        let twice = input_tokens(format!("x{marker}{marker}")).await;
        assert!(twice >= once + 3, "{marker}: {once} tokens once, {twice} twice");
    }
}
