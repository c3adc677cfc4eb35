//! `llm-do-bench`: the benchmark harness behind `cargo xtask bench` (see docs/benchmarks.md).
//!
//! Each bench is a subcommand that prints one JSON object on stdout; `suite` runs them all,
//! each in a process of its own (peak memory is per process), next to the test server and,
//! with `--peer`, the pydantic-ai peer, then prints a table and writes the JSON.
//!
//! A custom harness rather than criterion: the benches measure wall time under concurrency,
//! peak memory of whole processes and a Python peer on the same server, which criterion's
//! per-iteration model does not cover; the in-process bench applies the same method
//! (warm-up, N runs, median of repeats) to both contenders.

mod concurrency;
mod durable;
mod inprocess;
mod local;
mod loopback;
mod scale;
mod stats;
mod suite;
mod table;
mod workload;

use clap::{Parser, Subcommand};
use std::io::Write;

/// The llm-do benchmark harness.
#[derive(Debug, Parser)]
#[command(name = "llm-do-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bench 1: the workload in-process on a function model; one `ctx.call` by name.
    Inprocess(inprocess::Args),
    /// Bench 2: the workload over loopback HTTP, sequentially; and a raw HTTP client.
    Loopback(loopback::Args),
    /// Bench 3: concurrent workers against the test server with latency.
    Concurrency(concurrency::Args),
    /// Bench 4: ten thousand workers in flight on a slow function model.
    Scale(scale::Args),
    /// Bench 5: the embedded local model, in-process or through `llm-do serve`.
    Local(local::Args),
    /// Bench 6: the overhead of a journaled step on a local Restate server (durable runs).
    Durable(durable::Args),
    /// All benches, each in its own process; prints a table and writes JSON.
    Suite(suite::Args),
}

fn main() -> anyhow::Result<()> {
    let value = match Cli::parse().command {
        Command::Inprocess(args) => inprocess::bench(&args)?,
        Command::Loopback(args) => loopback::bench(&args)?,
        Command::Concurrency(args) => concurrency::bench(&args)?,
        Command::Scale(args) => scale::bench(&args)?,
        Command::Local(args) => local::bench(&args)?,
        Command::Durable(args) => durable::bench(&args)?,
        Command::Suite(args) => return suite::run(&args),
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &value)?;
    writeln!(stdout)?;
    Ok(())
}
