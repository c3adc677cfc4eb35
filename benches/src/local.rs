//! Bench 5: the embedded local model (`local:smollm2`) — time to first token and tokens per
//! second, in-process through the local provider and over HTTP through `llm-do serve`, of a
//! free-text generation and of a JSON-Schema-constrained one; and, as the peer, the same
//! generations from llama.cpp's OpenAI-compatible server (llama-cpp-python) on the same GGUF,
//! measured the same way ([`http`]). In-process, the engine's own timings (a `tracing` debug
//! event, [`TIMINGS`](llm_do::providers::local::TIMINGS)) also give the constraint's cost: the
//! time spent computing and applying the grammar's token masks, as a share of decode time.
//!
//! Every generation of a series has a prompt of its own ([`system_prompt`]): llama.cpp's
//! server keeps the previous request's evaluated tokens and evaluates only what differs, so
//! the same prompt again would give it a first token without evaluating the prompt. The
//! prompts differ from their fourth token on (after `<|im_start|>system\n`), the same for
//! every contender.

mod http;
#[cfg(feature = "local")]
mod timings;

use crate::stats::{median, millis};
use anyhow::{Result, ensure};
use serde_json::{Value, json};
use std::time::Duration;

/// The prompt of every generation: long enough an answer that it rarely stops early.
pub const PROMPT: &str = "Write a long story about a lighthouse keeper and a storm.";
/// The sampling seed.
pub const SEED: u64 = 7;

/// The system message of generation number `n` of a run (see the module's documentation):
/// the number comes first, so that prompts share only the chat template's first 3 tokens.
pub fn system_prompt(n: usize) -> String {
    format!("{n}. You are a helpful assistant.")
}

/// The output schema of the constrained generation (same prompt): nested, with free strings,
/// so that the grammar has work at every token.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "characters": {"type": "array", "items": {"type": "string"}},
            "story": {"type": "string"}
        },
        "required": ["title", "characters", "story"],
        "additionalProperties": false
    })
}

/// How much to generate.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Maximum tokens per answer.
    #[arg(long, default_value_t = 128)]
    pub max_tokens: u32,
    /// Timed generations (the medians are reported); one untimed generation comes first.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Inference threads (default: the provider's, cores up to 4).
    #[arg(long)]
    pub threads: Option<u32>,
    /// Base URL of a running server (`http://127.0.0.1:PORT/v1`): measure over HTTP instead
    /// of in-process.
    #[arg(long)]
    pub base_url: Option<String>,
    /// What serves `--base-url`.
    #[arg(long, value_enum, default_value_t = Server::LlmDo)]
    pub server: Server,
}

/// The OpenAI-compatible server bench 5 talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Server {
    /// `llm-do serve` on the embedded model.
    LlmDo,
    /// llama.cpp's server from llama-cpp-python (`python -m llama_cpp.server`), the peer.
    LlamaCpp,
}

/// One generation's timings.
#[derive(Debug, Clone, Copy)]
struct Generation {
    first_token: Duration,
    total: Duration,
    tokens: u64,
}

/// The engine's timings of one generation (in-process only), µs.
#[cfg(feature = "local")]
#[derive(Debug, Clone, Copy, Default)]
struct EngineTimings {
    decode_us: u64,
    grammar_compile_us: u64,
    grammar_mask_us: u64,
}

/// The untimed first generation of a series: the load time (in-process, the first request
/// loads the model) and the token counts the model reported.
#[derive(Debug, Clone, Copy, Default)]
struct Untimed {
    load: Duration,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

/// Runs bench 5, in-process or (with `--base-url`) against a server.
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.repeats > 0 && args.max_tokens > 1, "--repeats and --max-tokens too small");
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let mut result = match &args.base_url {
            Some(url) => {
                let path = match args.server {
                    Server::LlmDo => "serve",
                    Server::LlamaCpp => "llama_cpp_server",
                };
                let (untimed, free) = http::generate(url, args, false, 0).await?;
                let (untimed_json, structured) =
                    http::generate(url, args, true, args.repeats + 1).await?;
                let mut result = summary(path, args, untimed, &free);
                result["json"] = summary(path, args, untimed_json, &structured);
                result
            }
            None => in_process(args).await?,
        };
        result["json"]["schema"] = schema();
        Ok(result)
    })
}

fn summary(path: &str, args: &Args, untimed: Untimed, generations: &[Generation]) -> Value {
    let ttft: Vec<f64> = generations.iter().map(|g| millis(g.first_token)).collect();
    let decode: Vec<f64> = generations
        .iter()
        .map(|g| {
            let after_first = (g.total - g.first_token).as_secs_f64();
            if after_first > 0.0 { g.tokens.saturating_sub(1) as f64 / after_first } else { 0.0 }
        })
        .collect();
    let overall: Vec<f64> =
        generations.iter().map(|g| g.tokens as f64 / g.total.as_secs_f64()).collect();
    let tokens: Vec<f64> = generations.iter().map(|g| g.tokens as f64).collect();
    json!({
        "bench": "local",
        "path": path,
        "model": "local:smollm2",
        "max_tokens": args.max_tokens,
        "repeats": args.repeats,
        "threads": args.threads,
        "load_ms": millis(untimed.load),
        "prompt_tokens": untimed.prompt_tokens,
        "untimed_completion_tokens": untimed.completion_tokens,
        "ttft_ms": median(&ttft),
        "decode_tokens_per_s": median(&decode),
        "tokens_per_s": median(&overall),
        "tokens": median(&tokens),
        "ttft_ms_repeats": ttft,
        "decode_tokens_per_s_repeats": decode,
        "tokens_repeats": tokens,
    })
}

#[cfg(feature = "local")]
async fn in_process(args: &Args) -> Result<Value> {
    use llm_do::providers::local::LocalModel;
    use llm_do::{Message, ModelRequest, ModelSettings, OutputMode};

    let timings = timings::capture();
    let mut model = LocalModel::new();
    if let Some(threads) = args.threads {
        model = model.with_threads(threads);
    }
    let settings = ModelSettings {
        seed: Some(SEED),
        max_tokens: Some(args.max_tokens),
        temperature: Some(0.0),
        ..Default::default()
    };
    let request = |n: usize, structured: bool| {
        let messages = vec![Message::system(system_prompt(n)), Message::user(PROMPT)];
        let request = ModelRequest::new("smollm2", messages).with_settings(settings.clone());
        if structured { request.with_output(OutputMode::json("Story", schema())) } else { request }
    };
    let (untimed, generations) = generate(&model, |n| request(n, false), 0, args.repeats).await?;
    let mut result = summary("in_process", args, untimed, &generations);
    timings.take();
    let first = args.repeats + 1;
    let (mut untimed, generations) =
        generate(&model, |n| request(n, true), first, args.repeats).await?;
    untimed.load = Duration::ZERO;
    let mut json = summary("in_process", args, untimed, &generations);
    let engine = timings.take();
    // The untimed first generation is in `engine` too: the timed ones are the last `repeats`.
    let engine = &engine[engine.len().saturating_sub(args.repeats)..];
    let share: Vec<f64> = engine
        .iter()
        .map(|t| 100.0 * t.grammar_mask_us as f64 / t.decode_us.max(1) as f64)
        .collect();
    let compile: Vec<f64> = engine.iter().map(|t| t.grammar_compile_us as f64 / 1e3).collect();
    json["constraint_cost_pct"] = json!(median(&share));
    json["constraint_cost_pct_repeats"] = json!(share);
    json["grammar_compile_ms"] = json!(median(&compile));
    result["json"] = json;
    Ok(result)
}

/// Generations `first..=first + repeats` of `request(n)`: the first untimed (the first of a
/// run loads the model: its time is the load time), then `repeats` timed ones.
#[cfg(feature = "local")]
async fn generate(
    model: &llm_do::providers::local::LocalModel,
    request: impl Fn(usize) -> llm_do::ModelRequest,
    first: usize,
    repeats: usize,
) -> Result<(Untimed, Vec<Generation>)> {
    use anyhow::Context as _;
    use llm_do::{Model, StreamDelta};
    use std::sync::Mutex;
    use std::time::Instant;

    let mut generations = Vec::new();
    let mut untimed = Untimed::default();
    for n in first..=first + repeats {
        let first_text: Mutex<Option<Instant>> = Mutex::new(None);
        let sink = |delta: StreamDelta| {
            if let StreamDelta::Text { text } = delta
                && !text.is_empty()
            {
                let mut first = first_text.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert_with(Instant::now);
            }
        };
        let request = request(n);
        let started = Instant::now();
        let response = model.request_streaming(&request, &sink).await?;
        let total = started.elapsed();
        let first_text = first_text.into_inner().unwrap_or_else(|p| p.into_inner());
        let first_text = first_text.context("the model streamed no text")?;
        if n == first {
            untimed = Untimed {
                load: total,
                prompt_tokens: Some(response.usage.input_tokens),
                completion_tokens: Some(response.usage.output_tokens),
            };
            continue;
        }
        generations.push(Generation {
            first_token: first_text - started,
            total,
            tokens: response.usage.output_tokens,
        });
    }
    Ok((untimed, generations))
}

#[cfg(not(feature = "local"))]
async fn in_process(_: &Args) -> Result<Value> {
    anyhow::bail!("this llm-do-bench was built without the `local` feature")
}
