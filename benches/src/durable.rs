//! Bench 6: the overhead of a journaled step. The workload's text variant over loopback HTTP
//! (2 model requests to the test server + 1 tool execution = 3 journaled steps per run), run
//! durably — through the Restate service, served in this process, on a local Restate server
//! (`--restate-server`, else `LLM_DO_TEST_RESTATE_SERVER`, else the npm install under
//! `~/.cache/llm-do/restate`) — and in-process on the same runtime, one run after the other.
//! Overhead per step = (durable − in-process) / 3, per run: it includes the run's fixed costs
//! (submit, attach, the run's end record), spread over its 3 steps. The fixed costs alone are
//! measured too, as a durable run with no step (the tool `shout` called directly: submit,
//! attach and the run's end record), and the marginal cost of a step as
//! (durable − in-process − the run with no step) / 3.

use crate::loopback::http_runtime;
use crate::stats::{median, millis, percentile};
use crate::workload::TEXT;
use anyhow::{Context, Result, anyhow, ensure};
use llm_do_restate::{DurableService, LocalServer};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where and how much to run.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The test server's base URL (`http://127.0.0.1:PORT/v1`).
    #[arg(long)]
    pub base_url: String,
    /// The `restate-server` binary (default: `LLM_DO_TEST_RESTATE_SERVER`, else
    /// `~/.cache/llm-do/restate/node_modules/.bin/restate-server`).
    #[arg(long)]
    pub restate_server: Option<PathBuf>,
    /// Timed runs (each a new run id).
    #[arg(long, default_value_t = 200)]
    pub runs: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
}

/// Journaled steps of one run: 2 model requests + 1 tool execution.
const STEPS: usize = 3;

/// The `restate-server` to use, if there is one.
pub fn find_server(given: Option<&PathBuf>) -> Option<PathBuf> {
    given.cloned().or_else(LocalServer::find_binary)
}

/// Runs bench 6 on Tokio's multi-threaded runtime (the service and the client share it).
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.runs > 0, "--runs must be positive");
    let binary = find_server(args.restate_server.as_ref()).ok_or_else(|| {
        anyhow!("no restate-server: pass --restate-server or set {}", llm_do_restate::SERVER_ENV)
    })?;
    let version = std::process::Command::new(&binary)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let dir = std::env::temp_dir().join(format!("llm-do-bench-restate-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let server = LocalServer::start(&binary, &dir).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let rt = http_runtime(&args.base_url);
        let served = DurableService::new(rt.clone());
        tokio::spawn(served.serve(listener, std::future::pending::<()>()));
        let client = server.client();
        client.register(&format!("http://{addr}")).await?;
        let input = json!({ "text": TEXT });
        let limit = Duration::from_secs(60);
        let (mut durable, mut inprocess, mut no_step) = (Vec::new(), Vec::new(), Vec::new());
        let pid = std::process::id();
        for i in 0..args.warmup + args.runs {
            let started = Instant::now();
            let out = client
                .run(&format!("bench-{pid}-{i}-tool"), "shout", input.clone(), limit)
                .await
                .context("a durable run of the tool failed")?;
            let t = millis(started.elapsed());
            ensure!(out.output.as_str().is_some_and(|s| !s.is_empty()), "an empty answer");
            let started = Instant::now();
            let out = client
                .run(&format!("bench-{pid}-{i}"), "shouter", input.clone(), limit)
                .await
                .context("a durable run failed")?;
            let d = millis(started.elapsed());
            ensure!(out.output.as_str().is_some_and(|s| !s.is_empty()), "an empty answer");
            ensure!(out.usage.requests == 2, "a durable run made {} requests", out.usage.requests);
            let started = Instant::now();
            rt.ctx().call_value("shouter", input.clone()).await?;
            let p = millis(started.elapsed());
            if i >= args.warmup {
                durable.push(d);
                inprocess.push(p);
                no_step.push(t);
            }
        }
        server.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
        let per_step: Vec<f64> =
            durable.iter().zip(&inprocess).map(|(d, p)| (d - p) / STEPS as f64).collect();
        let marginal: Vec<f64> = durable
            .iter()
            .zip(&inprocess)
            .zip(&no_step)
            .map(|((d, p), t)| (d - p - t) / STEPS as f64)
            .collect();
        let stats = |v: &[f64]| json!({ "median": median(v), "p99": percentile(v, 99.0) });
        Ok(json!({
            "bench": "durable",
            "runs": args.runs,
            "steps_per_run": STEPS,
            "restate_server": version,
            "ms_per_run_durable": stats(&durable),
            "ms_per_run_inprocess": stats(&inprocess),
            "ms_overhead_per_step": stats(&per_step),
            "ms_per_run_without_steps": stats(&no_step),
            "ms_marginal_per_step": stats(&marginal),
        }))
    })
}
