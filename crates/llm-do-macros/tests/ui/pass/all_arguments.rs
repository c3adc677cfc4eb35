//! Every `#[worker]` and `#[tool]` argument at once.
use llm_do::prelude::*;

/// Counts words.
#[tool(name = "count-words", description = "Counts the words of a text.")]
async fn count_words(text: String) -> Result<usize> {
    Ok(text.split_whitespace().count())
}

/// Summarize a text.
#[worker(
    prompt = "Summarize {text} in at most {words} words, in {lang}.",
    model = "anthropic:claude-sonnet-4-5",
    tools = [count_words, count_words_again],
    system = "You are terse and precise.",
    name = "summarize_v2",
    description = "Summarizes a text in a language.",
    temperature = 0.2,
    top_p = 1,
    max_tokens = 512,
    seed = 42,
    stop = ["\n\n", "END"],
    max_turns = 5,
    output_retries = 0,
)]
pub(crate) async fn summarize(
    _: &llm_do::Ctx,
    /// The text.
    mut text: String,
    words: u32,
    /** The language; English when absent. */
    lang: Option<String>,
) -> llm_do::Result<String>;

#[tool]
async fn count_words_again(ctx: &Ctx, text: String) -> Result<usize> {
    count_words(text).await.map(|n| n + ctx_depth(ctx))
}

fn ctx_depth(_: &Ctx) -> usize {
    0
}

fn main() {
    let spec = summarize::spec();
    assert_eq!(spec.worker().unwrap().settings.stop, ["\n\n", "END"]);
    let _ = summarize;
    let _ = count_words::spec;
}
