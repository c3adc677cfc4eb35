//! Bench 5: the embedded local model (`local:smollm2`) — time to first token and tokens per
//! second, in-process through the local provider and over HTTP through `llm-do serve`, of a
//! free-text generation and of a JSON-Schema-constrained one. In-process, the engine's own
//! timings (a `tracing` debug event, [`TIMINGS`](llm_do::providers::local::TIMINGS)) also
//! give the constraint's cost: the time spent computing and applying the grammar's token
//! masks, as a share of decode time.

use crate::stats::{median, millis};
use anyhow::{Context, Result, bail, ensure};
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The prompt of every generation: long enough an answer that it rarely stops early.
pub const PROMPT: &str = "Write a long story about a lighthouse keeper and a storm.";
/// The sampling seed.
pub const SEED: u64 = 7;

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
    /// Base URL of a running `llm-do serve` (`http://127.0.0.1:PORT/v1`): measure over HTTP
    /// instead of in-process.
    #[arg(long)]
    pub base_url: Option<String>,
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

/// Runs bench 5, in-process or (with `--base-url`) against `llm-do serve`.
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.repeats > 0 && args.max_tokens > 1, "--repeats and --max-tokens too small");
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let mut result = match &args.base_url {
            Some(url) => {
                let free = over_http(url, args, false).await?;
                let structured = over_http(url, args, true).await?;
                let mut result = summary("serve", args, Duration::ZERO, &free);
                result["json"] = summary("serve", args, Duration::ZERO, &structured);
                result
            }
            None => in_process(args).await?,
        };
        result["json"]["schema"] = schema();
        Ok(result)
    })
}

fn summary(path: &str, args: &Args, load: Duration, generations: &[Generation]) -> Value {
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
        "load_ms": millis(load),
        "ttft_ms": median(&ttft),
        "decode_tokens_per_s": median(&decode),
        "tokens_per_s": median(&overall),
        "tokens": median(&tokens),
        "ttft_ms_repeats": ttft,
        "decode_tokens_per_s_repeats": decode,
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
    let free =
        ModelRequest::new("smollm2", vec![Message::user(PROMPT)]).with_settings(ModelSettings {
            seed: Some(SEED),
            max_tokens: Some(args.max_tokens),
            temperature: Some(0.0),
            ..Default::default()
        });
    let structured = free.clone().with_output(OutputMode::json("Story", schema()));
    let (load, generations) = generate(&model, &free, args.repeats, true).await?;
    let mut result = summary("in_process", args, load, &generations);
    timings.take();
    let (_, generations) = generate(&model, &structured, args.repeats, false).await?;
    let mut json = summary("in_process", args, Duration::ZERO, &generations);
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

/// One untimed generation (it loads the model when `loads`), then `repeats` timed ones.
#[cfg(feature = "local")]
async fn generate(
    model: &llm_do::providers::local::LocalModel,
    request: &llm_do::ModelRequest,
    repeats: usize,
    loads: bool,
) -> Result<(Duration, Vec<Generation>)> {
    use llm_do::{Model, StreamDelta};
    use std::sync::Mutex;

    let mut generations = Vec::new();
    let mut load = Duration::ZERO;
    for repeat in 0..=repeats {
        let first: Mutex<Option<Instant>> = Mutex::new(None);
        let sink = |delta: StreamDelta| {
            if let StreamDelta::Text { text } = delta {
                if !text.is_empty() {
                    let mut first = first.lock().unwrap_or_else(|p| p.into_inner());
                    first.get_or_insert_with(Instant::now);
                }
            }
        };
        let started = Instant::now();
        let response = model.request_streaming(request, &sink).await?;
        let total = started.elapsed();
        let first = first.into_inner().unwrap_or_else(|p| p.into_inner());
        let first = first.context("the model streamed no text")?;
        if repeat == 0 {
            if loads {
                load = total;
            }
            continue;
        }
        generations.push(Generation {
            first_token: first - started,
            total,
            tokens: response.usage.output_tokens,
        });
    }
    Ok((load, generations))
}

/// Collects the engine's timing events ([`TIMINGS`](llm_do::providers::local::TIMINGS)).
#[cfg(feature = "local")]
mod timings {
    use super::EngineTimings;
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};

    /// The events seen so far.
    #[derive(Clone, Default)]
    pub(super) struct Captured(Arc<Mutex<Vec<EngineTimings>>>);

    impl Captured {
        /// Returns (and forgets) the events seen so far.
        pub(super) fn take(&self) -> Vec<EngineTimings> {
            std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
        }
    }

    struct Layer(Captured);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Layer {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            if event.metadata().target() != llm_do::providers::local::TIMINGS {
                return;
            }
            let mut timings = EngineTimings::default();
            event.record(&mut timings);
            self.0.0.lock().unwrap_or_else(|p| p.into_inner()).push(timings);
        }
    }

    impl Visit for EngineTimings {
        fn record_u64(&mut self, field: &Field, value: u64) {
            match field.name() {
                "decode_us" => self.decode_us = value,
                "grammar_compile_us" => self.grammar_compile_us = value,
                "grammar_mask_us" => self.grammar_mask_us = value,
                _ => {}
            }
        }
        fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
    }

    /// Installs the collecting subscriber for the whole process (the engine's events come
    /// from its own thread).
    pub(super) fn capture() -> Captured {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(Layer(captured.clone()));
        let _ = tracing::subscriber::set_global_default(subscriber);
        captured
    }
}

#[cfg(not(feature = "local"))]
async fn in_process(_: &Args) -> Result<Value> {
    bail!("this llm-do-bench was built without the `local` feature")
}

/// Streams the same generation from `llm-do serve` (under the JSON Schema when `structured`):
/// first content chunk, usage at the end.
async fn over_http(base_url: &str, args: &Args, structured: bool) -> Result<Vec<Generation>> {
    let client = llm_do_openai::http::client();
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let mut body = json!({
        "model": "smollm2",
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": args.max_tokens,
        "temperature": 0.0,
        "seed": SEED,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if structured {
        body["response_format"] =
            json!({"type": "json_schema", "json_schema": {"name": "Story", "schema": schema()}});
    }
    let mut generations = Vec::new();
    for repeat in 0..=args.repeats {
        let started = Instant::now();
        let response = client.post(&url).json(&body).send().await?;
        if !response.status().is_success() {
            bail!("llm-do serve answered {}: {}", response.status(), response.text().await?);
        }
        let mut stream = response.bytes_stream();
        let (mut buffer, mut first, mut tokens) = (Vec::new(), None, 0u64);
        while let Some(piece) = stream.next().await {
            buffer.extend_from_slice(&piece?);
            while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = buffer.drain(..end + 2).collect();
                let text = String::from_utf8_lossy(&event);
                let Some(data) = text.trim().strip_prefix("data:") else { continue };
                let data = data.trim();
                if data == "[DONE]" {
                    continue;
                }
                let chunk: Value = serde_json::from_str(data)?;
                let content = &chunk["choices"][0]["delta"]["content"];
                if content.as_str().is_some_and(|c| !c.is_empty()) && first.is_none() {
                    first = Some(started.elapsed());
                }
                if let Some(n) = chunk["usage"]["completion_tokens"].as_u64() {
                    tokens = n;
                }
            }
        }
        let total = started.elapsed();
        let first_token = first.context("llm-do serve streamed no content")?;
        if repeat > 0 {
            generations.push(Generation { first_token, total, tokens });
        }
    }
    Ok(generations)
}
