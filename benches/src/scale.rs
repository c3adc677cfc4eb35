//! Bench 4: ten thousand workers in flight at once on a function model that takes 1 s per
//! answer — the memory each in-flight worker costs, and that every run completes.

use crate::stats::{Memory, millis, percentile};
use crate::workload::{FnModel, Variant, runtime_on};
use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How much to run.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Workers in flight (one run each, all started at once).
    #[arg(long, default_value_t = 10_000)]
    pub concurrency: usize,
    /// The model's delay before each of its 2 answers, ms.
    #[arg(long, default_value_t = 1000)]
    pub delay_ms: u64,
    /// The output variant.
    #[arg(long, value_enum, default_value_t = Variant::Text)]
    pub variant: Variant,
}

/// Runs bench 4 on Tokio's default multi-threaded runtime. Run it in a process of its own: the
/// peak resident memory is the process's.
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.concurrency > 0, "--concurrency must be positive");
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let delay = Duration::from_millis(args.delay_ms);
        let rt = runtime_on(FnModel::with_delay(delay));
        // One run first, so that lazily built state (schemas, validators) is not counted.
        args.variant.run(&rt.ctx()).await?;
        let before = Memory::now();
        let started = Instant::now();
        let tasks: Vec<_> = (0..args.concurrency)
            .map(|_| {
                let (rt, variant) = (rt.clone(), args.variant);
                tokio::spawn(async move {
                    let started = Instant::now();
                    variant.run(&rt.ctx()).await.map(|_| millis(started.elapsed()))
                })
            })
            .collect();
        // Halfway through the first answer every worker is in flight.
        tokio::time::sleep(delay / 2).await;
        let in_flight = Memory::now();
        let mut latencies = Vec::with_capacity(args.concurrency);
        let mut failed = 0usize;
        for task in tasks {
            match task.await.context("a worker task panicked")? {
                Ok(ms) => latencies.push(ms),
                Err(_) => failed += 1,
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let after = Memory::now();
        let per_worker =
            |kib: u64| kib.saturating_sub(before.rss_kib) as f64 * 1024.0 / args.concurrency as f64;
        Ok(json!({
            "bench": "scale",
            "variant": args.variant.name(),
            "concurrency": args.concurrency,
            "delay_ms": args.delay_ms,
            "completed": latencies.len(),
            "failed": failed,
            "wall_s": wall,
            "ideal_s": 2.0 * delay.as_secs_f64(),
            "p50_ms": percentile(&latencies, 50.0),
            "p99_ms": percentile(&latencies, 99.0),
            "rss_before_kib": before.rss_kib,
            "rss_in_flight_kib": in_flight.rss_kib,
            "peak_rss_kib": after.peak_rss_kib,
            "bytes_per_worker_in_flight": per_worker(in_flight.rss_kib),
            "bytes_per_worker_peak": per_worker(after.peak_rss_kib),
        }))
    })
}
