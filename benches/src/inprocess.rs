//! Bench 1: the workload in-process on a function model, no I/O — the harness's own cost per
//! run — and the cost of one `ctx.call` by name to a trivial tool.

use crate::stats::{median, micros};
use crate::workload::{FnModel, TEXT, Variant, runtime_on, scripted_model};
use anyhow::{Context, Result, ensure};
use llm_do::{Model, Runtime};
use serde_json::{Value, json};
use std::time::Instant;

/// How much to run.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Runs per repeat.
    #[arg(long, default_value_t = 2000)]
    pub runs: usize,
    /// Timed repeats (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Only this part (`fn_model`, `scripted_model` or `call`), e.g. to count instructions
    /// under `valgrind --tool=callgrind`.
    #[arg(long)]
    pub only: Option<String>,
    /// Only this variant.
    #[arg(long, value_enum)]
    pub variant: Option<Variant>,
}

/// Runs bench 1 on a single-threaded Tokio runtime (like Python's event loop).
pub fn bench(args: &Args) -> Result<Value> {
    ensure!(args.runs > 0 && args.repeats > 0, "--runs and --repeats must be positive");
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    tokio.block_on(async {
        let wanted = |part: &str| args.only.as_deref().is_none_or(|only| only == part);
        let mut results = Vec::new();
        for variant in Variant::ALL {
            if args.variant.is_some_and(|v| v != variant) {
                continue;
            }
            if wanted("fn_model") {
                results.push(workload(args, variant, "fn_model", FnModel::new).await?);
            }
            if wanted("scripted_model") {
                results.push(workload(args, variant, "scripted_model", scripted_model).await?);
            }
        }
        let call = if wanted("call") { call_by_name(args).await? } else { Value::Null };
        Ok(json!({
            "bench": "inprocess",
            "runs": args.runs,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "results": results,
            "call_by_name": call,
        }))
    })
}

/// µs per run of `variant` on models made by `make` (a fresh model and runtime per repeat, so
/// that a recording model does not grow across repeats).
async fn workload<M: Model>(
    args: &Args,
    variant: Variant,
    model: &str,
    make: impl Fn() -> M,
) -> Result<Value> {
    let mut per_run = Vec::with_capacity(args.repeats);
    for repeat in 0..=args.repeats {
        let rt = runtime_on(make());
        // Repeat 0 is the warm-up.
        let n = if repeat == 0 { args.warmup.max(1) } else { args.runs };
        let started = Instant::now();
        for _ in 0..n {
            let check = variant.run(&rt.ctx()).await.context("a workload run failed")?;
            ensure!(check > 0, "empty answer");
        }
        if repeat > 0 {
            per_run.push(micros(started.elapsed()) / n as f64);
        }
    }
    Ok(json!({
        "variant": variant.name(),
        "model": model,
        "us_per_run": median(&per_run),
        "us_per_run_repeats": per_run,
    }))
}

/// ns per `ctx.call("shout", {"text": ...})`, 10 calls per run.
async fn call_by_name(args: &Args) -> Result<Value> {
    let rt: Runtime = runtime_on(FnModel::new());
    let ctx = rt.ctx();
    let calls = args.runs * 10;
    let mut per_call = Vec::with_capacity(args.repeats);
    for repeat in 0..=args.repeats {
        let n = if repeat == 0 { args.warmup.max(1) * 10 } else { calls };
        let started = Instant::now();
        for _ in 0..n {
            let out: String = ctx.call("shout", json!({ "text": TEXT })).await?;
            ensure!(out.len() == TEXT.len(), "wrong tool result {out:?}");
        }
        if repeat > 0 {
            per_call.push(micros(started.elapsed()) * 1e3 / n as f64);
        }
    }
    Ok(json!({ "calls": calls, "ns_per_call": median(&per_call), "ns_per_call_repeats": per_call }))
}
