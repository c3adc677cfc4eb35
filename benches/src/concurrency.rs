//! Bench 3: many workers at once against the test server with latency — wall time against the
//! ideal, run latency percentiles and the peak memory of this (client) process.

use crate::loopback::{http_runtime, raw_run, wire_bodies};
use crate::stats::{Memory, cpu_seconds, millis, percentile};
use crate::workload::Variant;
use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Where and how much to run.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The test server's base URL (`http://127.0.0.1:PORT/v1`).
    #[arg(long)]
    pub base_url: String,
    /// The latency the server was started with, for the ideal wall time.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Workers in flight.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Runs in all.
    #[arg(long, default_value_t = 1000)]
    pub runs: usize,
    /// The output variant.
    #[arg(long, value_enum, default_value_t = Variant::Text)]
    pub variant: Variant,
    /// Send the same requests with a bare HTTP client instead (the floor: the HTTP stack and
    /// the test server without the harness).
    #[arg(long)]
    pub raw: bool,
}

/// What runs: the workload through llm-do, or its two requests through bare `reqwest`.
#[derive(Clone)]
enum Runner {
    Harness(llm_do::Runtime, Variant),
    Raw(reqwest::Client, Arc<str>, Arc<Vec<Vec<u8>>>),
}

impl Runner {
    async fn run(&self) -> llm_do::Result<()> {
        match self {
            Runner::Harness(rt, variant) => variant.run(&rt.ctx()).await.map(drop),
            Runner::Raw(client, url, bodies) => raw_run(client, url, bodies).await,
        }
    }
}

/// Runs bench 3 on Tokio's default multi-threaded runtime.
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.runs > 0 && args.concurrency > 0, "--runs and --concurrency must be positive");
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let runner = if args.raw {
            let url = format!("{}/chat/completions", args.base_url.trim_end_matches('/'));
            let bodies = wire_bodies(args.variant).await?;
            Runner::Raw(llm_do_openai::http::client(), url.into(), Arc::new(bodies))
        } else {
            Runner::Harness(http_runtime(&args.base_url), args.variant)
        };
        // Warm-up: one round of `concurrency` runs opens the connections the pool keeps.
        let _ = round(&runner, args.concurrency, args.concurrency).await?;
        let before = Memory::now();
        let cpu_before = cpu_seconds(None);
        let started = Instant::now();
        let (latencies, failed) = round(&runner, args.concurrency, args.runs).await?;
        let wall = started.elapsed().as_secs_f64();
        let memory = Memory::now();
        let cpu = cpu_seconds(None).zip(cpu_before).map(|(after, before)| after - before);
        let ideal = 2.0 * args.latency_ms as f64 / 1e3 * args.runs as f64 / args.concurrency as f64;
        Ok(json!({
            "bench": "concurrency",
            "variant": args.variant.name(),
            "client": if args.raw { "raw_http" } else { "llm_do" },
            "concurrency": args.concurrency,
            "runs": args.runs,
            "latency_ms": args.latency_ms,
            "completed": latencies.len(),
            "failed": failed,
            "wall_s": wall,
            "ideal_s": ideal,
            "over_ideal_pct": (wall / ideal - 1.0) * 100.0,
            "runs_per_s": args.runs as f64 / wall,
            "p50_ms": percentile(&latencies, 50.0),
            "p99_ms": percentile(&latencies, 99.0),
            "rss_before_kib": before.rss_kib,
            "peak_rss_kib": memory.peak_rss_kib,
            "client_cpu_us_per_run": cpu.map(|s| s * 1e6 / args.runs as f64),
            "threads": std::thread::available_parallelism().map_or(1, usize::from),
        }))
    })
}

/// `runs` runs by `concurrency` tasks; returns each successful run's latency in ms and the
/// number of failed runs.
async fn round(runner: &Runner, concurrency: usize, runs: usize) -> Result<(Vec<f64>, usize)> {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (runner, next) = (runner.clone(), next.clone());
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), 0usize);
                while next.fetch_add(1, Ordering::Relaxed) < runs {
                    let started = Instant::now();
                    match runner.run().await {
                        Ok(()) => latencies.push(millis(started.elapsed())),
                        Err(e) => {
                            if failed == 0 {
                                eprintln!("llm-do-bench: a run failed: {e}");
                            }
                            failed += 1;
                        }
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let (mut all, mut failed) = (Vec::with_capacity(runs), 0);
    for task in tasks {
        let (latencies, f) = task.await.context("a worker task panicked")?;
        all.extend(latencies);
        failed += f;
    }
    Ok((all, failed))
}
