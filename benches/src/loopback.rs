//! Bench 2: the workload over loopback HTTP, one run after the other, through the OpenAI
//! provider against the test server at 0 ms latency; and the same two requests sent by a bare
//! `reqwest` client (the floor), to show the harness's share of the time.
//!
//! The two are timed in alternating blocks (harness, floor, floor, harness, ...) rather than
//! one after the other: the rate of this machine drifts by ±10 % from one second to the next,
//! and a comparison of two stretches of time measures that drift as much as the harness.

use crate::stats::{median, micros};
use crate::workload::{Variant, shout, shouter, shouter_structured};
use anyhow::{Context, Result, ensure};
use futures::future::BoxFuture;
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
    /// Blocks per repeat in which the harness and the floor take turns.
    #[arg(long, default_value_t = 10)]
    pub blocks: usize,
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
            let bodies = wire_bodies(variant).await?;
            let client = llm_do_openai::http::client();
            let url = format!("{}/chat/completions", args.base_url.trim_end_matches('/'));
            let run = |contender: Contender| -> BoxFuture<'_, llm_do::Result<()>> {
                match contender {
                    Contender::Harness => {
                        Box::pin(async { variant.run(&rt.ctx()).await.map(drop) })
                    }
                    Contender::Floor => Box::pin(raw_run(&client, &url, &bodies)),
                }
            };
            let [harness, floor] = timed(args, run).await?;
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
            "blocks": args.blocks.clamp(1, args.runs),
            "results": results,
        }))
    })
}

/// What bench 2 times.
#[derive(Debug, Clone, Copy)]
enum Contender {
    /// The workload through llm-do.
    Harness,
    /// Its two requests through a bare client.
    Floor,
}

/// Times `args.runs` sequential runs of each contender, `args.repeats` times after a warm-up,
/// in `args.blocks` blocks per repeat in which they take turns (the one that went second goes
/// first in the next block); returns the harness's figures and the floor's.
async fn timed<'a, F>(args: &Args, run: F) -> Result<[Value; 2]>
where
    F: Fn(Contender) -> BoxFuture<'a, llm_do::Result<()>>,
{
    for _ in 0..args.warmup.max(1) {
        for contender in [Contender::Harness, Contender::Floor] {
            run(contender).await.context("a warm-up run failed")?;
        }
    }
    let blocks = args.blocks.clamp(1, args.runs);
    let mut per_run = [Vec::with_capacity(args.repeats), Vec::with_capacity(args.repeats)];
    for _ in 0..args.repeats {
        let mut spent = [Duration::ZERO; 2];
        for block in 0..blocks {
            // The runs split as evenly as they can: the first `runs % blocks` blocks get one more.
            let n = args.runs / blocks + usize::from(block < args.runs % blocks);
            let order = if block % 2 == 0 { [0, 1] } else { [1, 0] };
            for who in order {
                let contender = if who == 0 { Contender::Harness } else { Contender::Floor };
                let started = Instant::now();
                for _ in 0..n {
                    run(contender).await.context("a run failed")?;
                }
                spent[who] += started.elapsed();
            }
        }
        for (who, spent) in spent.into_iter().enumerate() {
            per_run[who].push(micros(spent) / args.runs as f64);
        }
    }
    Ok(per_run.map(|per_run| {
        let us = median(&per_run);
        json!({ "us_per_run": us, "runs_per_s": 1e6 / us, "us_per_run_repeats": per_run })
    }))
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
