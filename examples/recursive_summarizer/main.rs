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

use llm_do::prelude::*;
use llm_do::setup::RuntimeBuilderExt;
use llm_do::{Event, EventKind, RuntimeBuilder};

/// The sample text (about 1,200 characters).
const TEXT: &str = include_str!("text.md");

/// Texts longer than this many characters are split in halves first.
pub const SPLIT_ABOVE: usize = 400;

/// The depth limit of the example's runtime (the library's default is 5).
pub const MAX_DEPTH: u32 = 4;

/// Summarize a text in one or two sentences.
#[worker(
    system = "You summarize texts. When a text is longer than 400 characters, first call the summarize tool once on its first half and once on its second half, then combine the two summaries into one.",
    prompt = "Summarize this text:\n\n{text}",
    tools = [summarize],
    temperature = 0.0,
    max_turns = 4
)]
async fn summarize(
    ctx: &Ctx,
    /** the text to summarize */
    text: String,
) -> Result<String>;

/// The example's runtime on `builder` (which brings the model and subscribers).
fn runtime(builder: RuntimeBuilder, max_depth: u32) -> Runtime {
    builder.register(summarize::spec()).max_depth(max_depth).build()
}

/// Prints the calls as a tree.
fn print_event(event: &Event) {
    let indent = "  ".repeat(event.call.depth.saturating_sub(1) as usize);
    match &event.kind {
        EventKind::CallStarted { input } => {
            let len = input["text"].as_str().map_or(0, str::len);
            eprintln!("{indent}→ {} depth={} ({len} chars)", event.call.name, event.call.depth)
        }
        EventKind::ToolResult { result } if result.is_error => {
            eprintln!("{indent}  ✗ {}: {}", result.name, result.content)
        }
        _ => {}
    }
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
    let rt = runtime(Runtime::builder().subscribe(print_event).with_default_providers(), max_depth);
    let summary = summarize(&rt.ctx(), text).await?;
    println!("{summary}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::{EventLog, Message, ModelRequest};

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
                Reply::text(first_sentence(&text))
            } else if !results.is_empty() {
                Reply::text(
                    results.iter().map(|r| r.content.as_str()).collect::<Vec<_>>().join(" "),
                )
            } else if text.len() > SPLIT_ABOVE {
                let (a, b) = halves(&text);
                Reply::tool_calls([
                    ("summarize", json!({ "text": a })),
                    ("summarize", json!({ "text": b })),
                ])
            } else {
                Reply::text(first_sentence(&text))
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
        let summary = block_on(summarize(&rt.ctx(), TEXT.to_owned())).unwrap();
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
        let summary = block_on(summarize(&rt.ctx(), TEXT.to_owned())).unwrap();
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
        let err = block_on(summarize(&rt.ctx(), "short".to_owned())).unwrap_err();
        match err {
            Error::DepthExceeded { name, depth, max_depth, .. } => {
                assert_eq!((name.as_str(), depth, max_depth), ("summarize", 1, 0))
            }
            other => panic!("expected DepthExceeded, got {other:?}"),
        }
        assert_eq!(model.request_count(), 0, "a refused call never reaches the model");
    }
}
