//! Project automation for llm-do.
//!
//! - `cargo xtask ci`: the exact gates CI runs (`.ci/run` calls this): rustfmt check, clippy with
//!   `-D warnings` on every target, then the test command from README.md.
//! - `cargo xtask test`: only the test command.
//! - `cargo xtask bench [--quick] [--peer] [--no-local]`: the benchmark suite (see
//!   docs/benchmarks.md and [`bench`]).
//! - `cargo xtask pdfs`: the tiny PDF decks the examples and tests attach ([`pdfs`]).

mod bench;
mod pdfs;

use anyhow::{Context, Result, bail};
use std::process::Command;

/// The test command README.md gives; CI runs exactly this.
const TEST_COMMAND: &[&str] = &["test", "--workspace"];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().cloned().unwrap_or_default();
    match task.as_str() {
        "ci" => {
            cargo(&["fmt", "--all", "--check"])?;
            cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
            cargo(TEST_COMMAND)
        }
        "test" => cargo(TEST_COMMAND),
        "bench" => bench::run(&args[1..]),
        "pdfs" => pdfs::run(&bench::workspace_root()),
        _ => {
            eprintln!("usage: cargo xtask <ci|test|bench|pdfs>");
            eprintln!("  ci    rustfmt check, clippy -D warnings, then `cargo test --workspace`");
            eprintln!("  test  `cargo test --workspace`");
            eprintln!("  bench the benchmark suite (`cargo xtask bench --help`)");
            eprintln!("  pdfs  write the example PDF decks (examples/pitchdeck_data/*.pdf)");
            bail!("unknown task `{task}`")
        }
    }
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .with_context(|| format!("could not run `{cargo}`"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}
