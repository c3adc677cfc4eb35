//! Bench 2: the workload over loopback HTTP, one run after the other, through the OpenAI
//! provider against the test server at 0 ms latency; and the same two requests sent by a bare
//! `reqwest` client (the floor), to show the harness's share of the time.

use crate::stats::{median, micros};
use crate::workload::{Variant, shout, shouter, shouter_structured};
use anyhow::{Context, Result, ensure};
use llm_do::Runtime;
use llm_do::providers::openai::{OpenAiConfig, OpenAiProvider};
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Where and how much to run.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The test server's base URL (`http://127.0.0.1:PORT/v1`).
    #[arg(long)]
    pub base_url: String,
    /// Runs per repeat.
    #[arg(long, default_value_t = 500)]
    pub runs: usize,
    /// Timed repeats (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
}

/// A runtime whose workers reach the server at `base_url` through the OpenAI provider.
pub fn http_runtime(base_url: &str) -> Runtime {
    let config = OpenAiConfig::new()
        .base_url(base_url)
        .api_key("sk-bench")
        .timeout(Duration::from_secs(60))
        .streaming(false);
    Runtime::builder()
        .register(shouter::spec())
        .register(shouter_structured::spec())
        .register(shout::spec())
        .provider("openai", OpenAiProvider::new(config))
        .ignore_env()
        .build()
}

/// Runs bench 2 on a single-threaded Tokio runtime (like Python's event loop).
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.runs > 0 && args.repeats > 0, "--runs and --repeats must be positive");
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    tokio.block_on(async {
        let mut results = Vec::new();
        for variant in Variant::ALL {
            let rt = http_runtime(&args.base_url);
            let harness = timed(args, || async { variant.run(&rt.ctx()).await.map(drop) }).await?;
            let bodies = wire_bodies(variant).await?;
            let client = llm_do_openai::http::client();
            let url = format!("{}/chat/completions", args.base_url.trim_end_matches('/'));
            let floor = timed(args, || raw_run(&client, &url, &bodies)).await?;
            results.push(json!({
                "variant": variant.name(),
                "llm_do": harness,
                "raw_http": floor,
                "harness_share": 1.0 - floor["us_per_run"].as_f64().unwrap_or(0.0)
                    / harness["us_per_run"].as_f64().unwrap_or(f64::INFINITY),
            }));
        }
        Ok(json!({
            "bench": "loopback",
            "runs": args.runs,
            "repeats": args.repeats,
            "results": results,
        }))
    })
}

/// Times `args.runs` sequential runs of `run`, `args.repeats` times after a warm-up.
async fn timed<F, Fut>(args: &Args, run: F) -> Result<Value>
where
    F: Fn() -> Fut,
    Fut: Future<Output = llm_do::Result<()>>,
{
    let mut per_run = Vec::with_capacity(args.repeats);
    for repeat in 0..=args.repeats {
        let n = if repeat == 0 { args.warmup.max(1) } else { args.runs };
        let started = Instant::now();
        for _ in 0..n {
            run().await.context("a run failed")?;
        }
        if repeat > 0 {
            per_run.push(micros(started.elapsed()) / n as f64);
        }
    }
    let us = median(&per_run);
    Ok(json!({ "us_per_run": us, "runs_per_s": 1e6 / us, "us_per_run_repeats": per_run }))
}

/// The exact request bodies the provider sends for one run of `variant`, recorded by an
/// in-process test server.
pub(crate) async fn wire_bodies(variant: Variant) -> Result<Vec<Vec<u8>>> {
    let server = TestServer::start().await?;
    let rt = http_runtime(&server.base_url());
    variant.run(&rt.ctx()).await?;
    let bodies: Vec<Vec<u8>> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| serde_json::to_vec(&r.body))
        .collect::<Result<_, _>>()?;
    ensure!(bodies.len() == 2, "one run made {} requests, not 2", bodies.len());
    Ok(bodies)
}

/// The floor: posts the recorded bodies and parses each answer as JSON.
pub(crate) async fn raw_run(
    client: &reqwest::Client,
    url: &str,
    bodies: &[Vec<u8>],
) -> llm_do::Result<()> {
    for body in bodies {
        let response = client
            .post(url)
            .bearer_auth("sk-bench")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| llm_do::Error::msg(e.to_string()))?;
        let bytes = response.bytes().await.map_err(|e| llm_do::Error::msg(e.to_string()))?;
        let answer: Value =
            serde_json::from_slice(&bytes).map_err(|e| llm_do::Error::msg(e.to_string()))?;
        if answer.get("choices").is_none() {
            return Err(llm_do::Error::msg(format!("not a completion: {answer}")));
        }
    }
    Ok(())
}
