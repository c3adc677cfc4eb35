//! Times the embedded model: time to first token and decode tokens/s of a greedy generation,
//! free text and under a JSON Schema. `cargo run --release -p llm-do-local --example
//! decode_speed -- [MAX_TOKENS] [REPEATS]` (inference threads: `THREADS`, default the
//! machine's cores, and `CANDLE_NUM_THREADS` for models candle runs; another model:
//! `MODEL=/path/to/model.gguf`). The engine's own timings (prompt, decode, grammar) are printed
//! on stderr; docs/benchmarks.md has figures.

use llm_do_core::{Message, Model, ModelRequest, ModelSettings, OutputMode, StreamDelta};
use llm_do_local::LocalModel;
use serde_json::json;
use std::sync::Mutex;
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // The engine's per-generation timings (prompt, decode, grammar) on stderr.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let max_tokens: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(128);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let mut model = LocalModel::new();
    if let Some(threads) = std::env::var("THREADS").ok().and_then(|t| t.parse().ok()) {
        model = model.with_threads(threads);
    }
    let name = std::env::var("MODEL").unwrap_or_else(|_| "smollm2".into());
    let settings = ModelSettings {
        temperature: Some(0.0),
        seed: Some(7),
        max_tokens: Some(max_tokens),
        ..Default::default()
    };
    let plain = ModelRequest::new(
        &name,
        vec![Message::user("Write a long story about a lighthouse keeper and a storm.")],
    )
    .with_settings(settings.clone());
    let schema = json!({"type": "object", "properties": {
        "title": {"type": "string"},
        "characters": {"type": "array", "items": {"type": "string"}},
        "story": {"type": "string"}},
        "required": ["title", "characters", "story"], "additionalProperties": false});
    let structured = plain.clone().with_output(OutputMode::json("Story", schema));
    for (name, request) in [("free", &plain), ("json", &structured)] {
        for repeat in 0..=repeats {
            let first: Mutex<Option<Instant>> = Mutex::new(None);
            let sink = |delta: StreamDelta| {
                if let StreamDelta::Text { text } = delta
                    && !text.is_empty()
                {
                    first.lock().unwrap().get_or_insert_with(Instant::now);
                }
            };
            let cpu_before = cpu_seconds();
            let started = Instant::now();
            let response = match model.request_streaming(request, &sink).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{name}: {e}");
                    break;
                }
            };
            let total = started.elapsed();
            let first = first.into_inner().unwrap().unwrap_or(started);
            let tokens = response.usage.output_tokens;
            let cpu = cpu_seconds() - cpu_before;
            let decode =
                (tokens.saturating_sub(1)) as f64 / (total - (first - started)).as_secs_f64();
            println!(
                "{name} #{repeat}: ttft {:.0} ms, {tokens} tokens, decode {decode:.1} tok/s, {:.1} tok per CPU s",
                (first - started).as_secs_f64() * 1e3,
                tokens as f64 / cpu
            );
            if repeat == repeats {
                let text = response.text.unwrap_or_default();
                println!("  {}", text.chars().take(300).collect::<String>().replace('\n', " "));
                println!("  peak memory so far: {}", peak_memory());
            }
        }
    }
}

/// Peak resident memory of this process (`VmHWM`, Linux; empty elsewhere).
fn peak_memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ")
}

/// User + system CPU time of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
