//! Bench 5: the embedded local model (`local:smollm2`) — time to first token and tokens per
//! second, in-process through the local provider and over HTTP through `llm-do serve`.

use crate::stats::{median, millis};
use anyhow::{Context, Result, bail, ensure};
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The prompt of every generation: long enough an answer that it rarely stops early.
pub const PROMPT: &str = "Write a long story about a lighthouse keeper and a storm.";
/// The sampling seed.
pub const SEED: u64 = 7;

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

/// Runs bench 5, in-process or (with `--base-url`) against `llm-do serve`.
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.repeats > 0 && args.max_tokens > 1, "--repeats and --max-tokens too small");
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let (path, load, generations) = match &args.base_url {
            Some(url) => ("serve", Duration::ZERO, over_http(url, args).await?),
            None => in_process(args).await?,
        };
        Ok(summary(path, args, load, &generations))
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
async fn in_process(args: &Args) -> Result<(&'static str, Duration, Vec<Generation>)> {
    use llm_do::providers::local::LocalModel;
    use llm_do::{Message, Model, ModelRequest, ModelSettings, StreamDelta};
    use std::sync::Mutex;

    let mut model = LocalModel::new();
    if let Some(threads) = args.threads {
        model = model.with_threads(threads);
    }
    let request =
        ModelRequest::new("smollm2", vec![Message::user(PROMPT)]).with_settings(ModelSettings {
            seed: Some(SEED),
            max_tokens: Some(args.max_tokens),
            temperature: Some(0.0),
            ..Default::default()
        });
    let mut generations = Vec::new();
    let mut load = Duration::ZERO;
    for repeat in 0..=args.repeats {
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
        let response = model.request_streaming(&request, &sink).await?;
        let total = started.elapsed();
        let first = first.into_inner().unwrap_or_else(|p| p.into_inner());
        let first = first.context("the model streamed no text")?;
        if repeat == 0 {
            // The untimed first generation loads the model.
            load = total;
            continue;
        }
        generations.push(Generation {
            first_token: first - started,
            total,
            tokens: response.usage.output_tokens,
        });
    }
    Ok(("in_process", load, generations))
}

#[cfg(not(feature = "local"))]
async fn in_process(_: &Args) -> Result<(&'static str, Duration, Vec<Generation>)> {
    bail!("this llm-do-bench was built without the `local` feature")
}

/// Streams the same generation from `llm-do serve`: first content chunk, usage at the end.
async fn over_http(base_url: &str, args: &Args) -> Result<Vec<Generation>> {
    let client = llm_do_openai::http::client();
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let body = json!({
        "model": "smollm2",
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": args.max_tokens,
        "temperature": 0.0,
        "seed": SEED,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
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
