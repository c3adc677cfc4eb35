//! Recursive summarizer: a worker that calls itself, by name, as a tool on the halves of a text
//! too long to summarize at once — with the runtime's depth limit in plain view.
//!
//! ```text
//! cargo run -p llm-do-examples --example recursive_summarizer [-- FILE] [--max-depth N]
//! ```
//!
//! `summarize` lists itself in `tools`, so its model may hand each half of a long text to a
//! fresh `summarize` call, one level deeper. Every call runs at `depth = caller's + 1`; a call
//! that would run deeper than `max_depth` is refused with `Error::DepthExceeded`: code callers
//! get the typed error, and a model gets it as an error tool result (and can then summarize
//! what it has itself). Runaway recursion costs at most `max_depth` levels.
//!
//! `main` runs on the default setup (the embedded `local:smollm2` when nothing is configured).
//! That 135M model does not split and does not really summarize: it hands the *start* of its
//! text down to `summarize`, level after level, until the depth limit refuses the call at the
//! bottom (the `✗` line in the printed tree); the model there gets the refusal as an error
//! tool result and answers with a copy of its text's opening, and the answers go back up.
//! What keeps it finite is the schema: the text is bounded ([`MAX_TEXT`] characters) and so is
//! the summary ([`MAX_SUMMARY`]), and the local model's grammar honours `maxLength` (it even
//! caps a bounded string at 500 characters), so a copy, or an answer that falls into
//! repetition, must end. Without the bounds, the first copy ran on until `max_tokens`.
//!
//! The same worker is a worker file in `recursive_summarizer/workers/` (`summarize.worker`
//! and `llm-do.toml`), run by the command line:
//!
//! ```text
//! cargo run -p llm-do-cli -- run examples/recursive_summarizer/workers - < examples/recursive_summarizer/text.md
//! ```
//!
//! The tests drive the plumbing with a scripted model that does split, and replay a run of
//! `main` on `local:smollm2` recorded in `recursive_summarizer/cassettes/` (re-record with
//! `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example recursive_summarizer`).

use llm_do::prelude::*;
use llm_do::{EventPrinter, RuntimeBuilder};

/// The sample text (about 1,200 characters).
const TEXT: &str = include_str!("text.md");

/// Texts longer than this many characters are split in halves first.
pub const SPLIT_ABOVE: usize = 400;

/// The depth limit of the example's runtime (the library's default is 5).
pub const MAX_DEPTH: u32 = 4;

/// The longest text `summarize` takes, in characters.
pub const MAX_TEXT: usize = 1500;

/// The longest summary `summarize` gives, in characters.
pub const MAX_SUMMARY: usize = 600;

/// A text of at most 1,500 characters ([`MAX_TEXT`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(inline)]
pub struct Text(#[schemars(length(max = 1500))] pub String);

/// A summary of at most 600 characters ([`MAX_SUMMARY`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(inline)]
pub struct Summary(#[schemars(length(max = 600))] pub String);

/// Summarize a text in one or two sentences.
#[worker(
    system = "You summarize texts in one or two sentences. When a text is longer than 400 characters, first call the summarize tool once on its first half and once on its second half, then combine the two summaries into one.",
    prompt = "Summarize this text:\n\n{text}",
    tools = [summarize],
    temperature = 0.0,
    max_turns = 4
)]
async fn summarize(
    ctx: &Ctx,
    /** the text to summarize */
    text: Text,
) -> Result<Summary>;

/// The example's runtime on `builder` (which brings the model and subscribers).
fn runtime(builder: RuntimeBuilder, max_depth: u32) -> Runtime {
    builder.register(summarize::spec()).max_depth(max_depth).build()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut file, mut max_depth) = (None, MAX_DEPTH);
    while let Some(arg) = args.next() {
        if arg == "--max-depth" {
            let n = args.next().ok_or_else(|| anyhow::anyhow!("--max-depth needs a number"))?;
            max_depth = n.parse()?;
        } else {
            file = Some(arg);
        }
    }
    let text = match file {
        Some(path) => std::fs::read_to_string(path)?,
        None => TEXT.to_owned(),
    };
    let chars = text.chars().count();
    if chars > MAX_TEXT {
        anyhow::bail!("the text has {chars} characters; this example takes at most {MAX_TEXT}");
    }
    let rt = runtime(
        Runtime::builder()
            .subscribe(EventPrinter::stderr().outputs(false))
            .with_default_providers(),
        max_depth,
    );
    let summary = summarize(&rt.ctx(), Text(text)).await?;
    println!("{}", summary.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::{EventKind, EventLog, Message, ModelRequest};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    /// Splits `text` at the whitespace nearest to its middle.
    fn halves(text: &str) -> (String, String) {
        let mid = text.len() / 2;
        let cut = text
            .char_indices()
            .filter(|(_, c)| c.is_whitespace())
            .map(|(i, _)| i)
            .min_by_key(|i| i.abs_diff(mid))
            .unwrap_or(mid);
        let (a, b) = text.split_at(cut);
        (a.trim().to_owned(), b.trim().to_owned())
    }

    fn first_sentence(text: &str) -> String {
        let end = text.find(['.', '!', '?']).map_or(text.len(), |i| i + 1);
        text[..end].trim().to_owned()
    }

    /// A stand-in model following the system prompt's instructions: split long texts in halves
    /// with the tool, combine the results; summarize short ones by their first sentence; when a
    /// tool call is refused, summarize the whole text by its first sentence instead.
    fn splitter() -> ScriptedModel {
        ScriptedModel::new(|req: &ModelRequest| {
            let text = req
                .messages
                .iter()
                .find_map(|m| match m {
                    Message::User { content } => content.strip_prefix("Summarize this text:\n\n"),
                    _ => None,
                })
                .unwrap_or_default()
                .to_owned();
            let results: Vec<_> = req
                .messages
                .iter()
                .filter_map(|m| match m {
                    Message::Tool(r) => Some(r.clone()),
                    _ => None,
                })
                .collect();
            Ok(if results.iter().any(|r| r.is_error) {
                Reply::json(json!(first_sentence(&text)))
            } else if !results.is_empty() {
                // Each result is a summary, as a JSON string.
                let parts: Vec<String> = results
                    .iter()
                    .map(|r| serde_json::from_str(&r.content).unwrap_or_else(|_| r.content.clone()))
                    .collect();
                Reply::json(json!(parts.join(" ")))
            } else if text.len() > SPLIT_ABOVE {
                let (a, b) = halves(&text);
                Reply::tool_calls([
                    ("summarize", json!({ "text": a })),
                    ("summarize", json!({ "text": b })),
                ])
            } else {
                Reply::json(json!(first_sentence(&text)))
            })
        })
    }

    /// (depth, input length) of every `summarize` call that started.
    fn calls(log: &EventLog) -> Vec<(u32, usize)> {
        log.events()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::CallStarted { input } => {
                    Some((e.call.depth, input["text"].as_str().map_or(0, str::len)))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn long_texts_are_split_until_the_pieces_are_short() {
        let log = EventLog::new();
        let rt = runtime(
            Runtime::builder().model_override(splitter()).subscribe(log.clone()).ignore_env(),
            MAX_DEPTH,
        );
        let summary = block_on(summarize(&rt.ctx(), Text(TEXT.to_owned()))).unwrap().0;
        let calls = calls(&log);
        // 1,222 characters: two levels of halving give four pieces of at most 400.
        let per_depth = |d| calls.iter().filter(|(depth, _)| *depth == d).count();
        assert_eq!((per_depth(1), per_depth(2), per_depth(3), per_depth(4)), (1, 2, 4, 0));
        assert!(calls.iter().filter(|(d, _)| *d == 3).all(|(_, len)| *len <= SPLIT_ABOVE));
        // The tool results went back to the right callers, in order: the summary is the
        // leaves' summaries in the text's order.
        fn expected(text: &str) -> String {
            if text.len() > SPLIT_ABOVE {
                let (a, b) = halves(text);
                format!("{} {}", expected(&a), expected(&b))
            } else {
                first_sentence(text)
            }
        }
        assert_eq!(summary, expected(TEXT));
        assert!(summary.starts_with("The lighthouse at Harrow Point was built in 1871"));
    }

    #[test]
    fn the_depth_limit_is_told_to_the_model() {
        let model = splitter();
        let log = EventLog::new();
        let rt = runtime(
            Runtime::builder().model_override(model.clone()).subscribe(log.clone()).ignore_env(),
            2,
        );
        let summary = block_on(summarize(&rt.ctx(), Text(TEXT.to_owned()))).unwrap().0;
        // The depth-2 workers' calls to depth 3 were refused, never started.
        assert!(calls(&log).iter().all(|(d, _)| *d <= 2));
        let refusals: Vec<String> = model
            .requests()
            .iter()
            .flat_map(|r| r.messages.clone())
            .filter_map(|m| match m {
                Message::Tool(r) if r.is_error => Some(r.content),
                _ => None,
            })
            .collect();
        assert!(!refusals.is_empty());
        for refusal in &refusals {
            assert!(
                refusal.contains("would run at depth 3, deeper than max_depth = 2"),
                "{refusal}"
            );
        }
        // The model went on without the refused calls: each half got a first-sentence summary.
        assert!(
            summary.starts_with("The lighthouse at Harrow Point was built in 1871"),
            "{summary}"
        );
    }

    #[test]
    fn code_callers_get_the_typed_depth_error() {
        let model = splitter();
        let rt = runtime(Runtime::builder().model_override(model.clone()).ignore_env(), 0);
        let err = block_on(summarize(&rt.ctx(), Text("short".to_owned()))).unwrap_err();
        match err {
            Error::DepthExceeded { name, depth, max_depth, .. } => {
                assert_eq!((name.as_str(), depth, max_depth), ("summarize", 1, 0))
            }
            other => panic!("expected DepthExceeded, got {other:?}"),
        }
        assert_eq!(model.request_count(), 0, "a refused call never reaches the model");
    }

    #[test]
    fn the_bounds_are_in_the_schemas_models_see() {
        let spec = summarize::spec();
        let tool = spec.tool_definition();
        assert_eq!(tool.parameters["properties"]["text"]["maxLength"], json!(MAX_TEXT));
        assert_eq!(spec.output_schema()["maxLength"], json!(MAX_SUMMARY));
        assert!(TEXT.chars().count() <= MAX_TEXT);
    }

    #[test]
    fn the_worker_file_form_recurses_like_the_rust_worker() {
        let dir = llm_do_examples::cassettes::path("recursive_summarizer/workers");
        let project = llm_do::project::Project::check(&dir, &llm_do::Registry::default()).unwrap();
        // Same prompt, same scripted model, same depth limit: the same calls and summary.
        let run = |builder: RuntimeBuilder| {
            let log = EventLog::new();
            let rt = builder.model_override(splitter()).subscribe(log.clone()).ignore_env();
            (rt, log)
        };
        let (builder, file_log) = run(project.register(Runtime::builder()));
        let file_rt = builder.max_depth(MAX_DEPTH).build();
        let from_file: String =
            block_on(file_rt.ctx().call("summarize", json!({ "text": TEXT }))).unwrap();
        let (builder, rust_log) = run(Runtime::builder());
        let rust_rt = runtime(builder, MAX_DEPTH);
        let from_rust = block_on(summarize(&rust_rt.ctx(), Text(TEXT.to_owned()))).unwrap().0;
        assert_eq!(from_file, from_rust);
        assert_eq!(calls(&file_log), calls(&rust_log));
        assert_eq!(calls(&file_log).iter().map(|(d, _)| *d).max(), Some(3));
        // The file's schema bounds the text like the Rust type: too long is refused by both.
        let too_long = json!({ "text": "x".repeat(MAX_TEXT + 1) });
        for rt in [&file_rt, &rust_rt] {
            let err = block_on(rt.ctx().call::<String>("summarize", too_long.clone()));
            assert!(matches!(err, Err(Error::InvalidArguments { .. })), "{err:?}");
        }
    }

    // A run of `main` on the embedded model, recorded in
    // `recursive_summarizer/cassettes/main.json` and replayed offline. Re-record with
    // `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example recursive_summarizer`.
    #[test]
    fn the_recorded_run_stays_within_the_depth_limit() {
        let model =
            llm_do_examples::cassettes::recorded("recursive_summarizer/cassettes/main.json");
        let log = EventLog::new();
        let rt = runtime(
            llm_do_examples::cassettes::builder(&model).subscribe(log.clone()).ignore_env(),
            MAX_DEPTH,
        );
        let summary = block_on(summarize(&rt.ctx(), Text(TEXT.to_owned())));
        llm_do_examples::cassettes::assert_replayed(
            &model,
            "recursive_summarizer/cassettes/main.json",
        );
        // The run completed, with a summary within its bound.
        let summary = summary.unwrap().0;
        println!("summary: {summary}");
        assert!(summary.chars().count() <= MAX_SUMMARY);

        // Every call that started ran within the limit, on a text within its bound.
        let calls = calls(&log);
        assert!(!calls.is_empty());
        assert!(calls.iter().all(|(depth, _)| (1..=MAX_DEPTH).contains(depth)), "{calls:?}");
        assert!(calls.iter().all(|(_, len)| *len <= MAX_TEXT), "{calls:?}");
        // Every call that finished succeeded (the refusals are not calls: they never started).
        let events = log.events();
        for e in &events {
            if let EventKind::CallFinished { error: Some(err), .. } = &e.kind {
                panic!("{} at depth {} failed: {err}", e.call.name, e.call.depth);
            }
        }
        // Calls that would have run deeper were refused, and each refusal reached the model
        // that asked, as an error tool result.
        let refusals: Vec<(u32, String)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ToolResult { result } if result.is_error => {
                    Some((e.call.depth, result.content.clone()))
                }
                _ => None,
            })
            .collect();
        let deepest = calls.iter().map(|(d, _)| *d).max().unwrap_or(0);
        if deepest == MAX_DEPTH {
            assert!(!refusals.is_empty(), "a call at the limit asked for none deeper");
        }
        for (depth, refusal) in &refusals {
            assert_eq!(*depth, MAX_DEPTH, "{refusal}");
            let expected = format!(
                "would run at depth {}, deeper than max_depth = {MAX_DEPTH}",
                MAX_DEPTH + 1
            );
            assert!(refusal.contains(&expected), "{refusal}");
        }
    }
}
