//! Program state for tools: `Runtime::builder().state(x)` and `ctx.state::<T>()` in `#[tool]`
//! bodies and in typed run-time tools, the typed error for a missing state, and `register`
//! taking `x::spec` and `x::spec()` alike.

use llm_do::error::ErrorKind;
use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{EventKind, EventLog, ToolSpecBuilder};
use std::sync::Mutex;

/// What the program shares with its tools: a tiny in-memory "database".
#[derive(Default)]
struct Notes {
    lines: Mutex<Vec<String>>,
}

/// A second state type, never given to the runtime in the tests that expect it missing.
struct Prefix(String);

/// Save a note.
#[tool]
async fn save_note(ctx: &Ctx, text: String) -> Result<usize> {
    let notes = ctx.state::<Notes>()?;
    let prefix = ctx.state::<Prefix>().map(|p| p.0.as_str()).unwrap_or("");
    let mut lines = notes.lines.lock().unwrap();
    lines.push(format!("{prefix}{text}"));
    Ok(lines.len())
}

/// Takes notes.
#[worker(prompt = "Note this down: {text}", tools = [save_note])]
async fn note_taker(ctx: &Ctx, text: String) -> Result<String>;

fn lines(rt: &Runtime) -> Vec<String> {
    rt.ctx().state::<Notes>().unwrap().lines.lock().unwrap().clone()
}

#[tokio::test]
async fn tools_read_the_state_given_to_the_builder() -> Result<()> {
    let rt = Runtime::builder()
        .state(Notes::default())
        .state(Prefix("- ".into()))
        .register(save_note::spec)
        .build();
    let ctx = rt.ctx();
    assert_eq!(save_note(&ctx, "milk".into()).await?, 1);
    let n: usize = ctx.call("save_note", json!({"text": "eggs"})).await?;
    assert_eq!(n, 2);
    // Every run of the runtime sees the same value.
    assert_eq!(save_note(&rt.ctx(), "bread".into()).await?, 3);
    assert_eq!(lines(&rt), ["- milk", "- eggs", "- bread"]);
    Ok(())
}

#[tokio::test]
async fn a_tool_called_by_a_model_reads_the_state_too() -> Result<()> {
    let model = ScriptedModel::queue([
        Reply::tool_call("save_note", json!({"text": "call the plumber"})),
        Reply::text("saved"),
    ]);
    let rt = Runtime::builder()
        .state(Notes::default())
        .register(note_taker::spec())
        .model_override(model)
        .build();
    assert_eq!(note_taker(&rt.ctx(), "call the plumber".into()).await?, "saved");
    assert_eq!(lines(&rt), ["call the plumber"]);
    Ok(())
}

#[tokio::test]
async fn a_missing_state_is_a_typed_error_naming_the_type() {
    let rt = Runtime::builder().register(save_note::spec()).build();
    let err = save_note(&rt.ctx(), "milk".into()).await.unwrap_err();
    let Error::MissingState { type_name } = err else { panic!("expected MissingState: {err}") };
    assert!(type_name.ends_with("::Notes"), "{type_name}");
    assert!(err_text(type_name).contains("Runtime::builder().state(..)"));
    assert!(Error::MissingState { type_name }.is_fatal());
}

fn err_text(type_name: &'static str) -> String {
    Error::MissingState { type_name }.to_string()
}

#[tokio::test]
async fn a_missing_state_ends_the_run_instead_of_going_back_to_the_model() {
    // The model would retry forever; no retry can supply a state, so the run stops at once.
    let model = ScriptedModel::queue([
        Reply::tool_call("save_note", json!({"text": "x"})),
        Reply::text("should not be reached"),
    ]);
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(note_taker::spec)
        .model_override(model.clone())
        .subscribe(log.clone())
        .build();
    let err = note_taker(&rt.ctx(), "x".into()).await.unwrap_err();
    assert!(matches!(err, Error::MissingState { .. }), "{err}");
    assert_eq!(model.request_count(), 1);
    let failed = log
        .events()
        .iter()
        .filter(|e| &*e.call.name == "save_note")
        .filter(|e| {
            matches!(&e.kind, EventKind::CallFinished { error: Some(m), .. }
            if m.kind == ErrorKind::MissingState && m.message.contains("Notes"))
        })
        .count();
    assert_eq!(failed, 1);
}

/// The arguments of a tool built at run time.
#[derive(Deserialize, JsonSchema)]
struct CountArgs {
    /// Only count notes that contain this.
    contains: String,
}

#[tokio::test]
async fn typed_run_time_tools_read_state_and_decode_their_arguments() -> Result<()> {
    let count = ToolSpecBuilder::new("count_notes")
        .description("Counts the notes that contain a word.")
        .typed_handler(|ctx: Ctx, args: CountArgs| async move {
            let notes = ctx.state::<Notes>()?.lines.lock().unwrap();
            Ok::<_, Error>(notes.iter().filter(|l| l.contains(&args.contains)).count())
        })
        .build();
    assert_eq!(count.input_schema()["required"], json!(["contains"]));
    assert_eq!(
        count.input_schema()["properties"]["contains"]["description"],
        "Only count notes that contain this."
    );
    assert_eq!(count.output_schema()["type"], "integer");
    let rt = Runtime::builder().state(Notes::default()).register(count).build();
    rt.ctx().state::<Notes>()?.lines.lock().unwrap().extend(["a cat".into(), "a dog".into()]);
    let n: usize = rt.ctx().call("count_notes", json!({"contains": "cat"})).await?;
    assert_eq!(n, 1);
    let n: usize = rt.ctx().call("count_notes", "a").await?; // one parameter: bare value
    assert_eq!(n, 2);
    let err = rt.ctx().call::<usize>("count_notes", json!({"contains": 3})).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArguments { .. }), "{err}");
    Ok(())
}

#[test]
fn register_takes_a_spec_or_its_function() {
    let rt = Runtime::builder().register(save_note::spec).register(note_taker::spec()).build();
    assert!(rt.registry().contains("save_note") && rt.registry().contains("note_taker"));
}
