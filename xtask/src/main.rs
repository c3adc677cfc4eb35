//! Project automation for llm-do.
//!
//! - `cargo xtask ci`: the exact gates CI runs (`.ci/run` calls this): no native build tool in
//!   the dependency graph ([`NATIVE_BUILD_CRATES`]), the crate layering ([`layering`]), rustfmt
//!   check, clippy with `-D warnings` on every target, rustdoc with `-D warnings` (no broken
//!   or private intra-doc links), then the test command from README.md.
//! - `cargo xtask test`: only the test command.
//! - `cargo xtask layering`: only the crate layering check.
//! - `cargo xtask bench [--quick] [--peer] [--no-local]`: the benchmark suite (see
//!   docs/benchmarks.md and [`bench`](mod@bench)).
//! - `cargo xtask pdfs`: the tiny PDF decks the examples and tests attach ([`pdfs`]).

mod bench;
// A test only: the documentation's relative links resolve (run by `cargo test --workspace`).
#[cfg(test)]
mod doc_links;
mod layering;
mod pdfs;

use anyhow::{Context, Result, bail};
use std::process::Command;

/// The test command README.md gives; CI runs exactly this.
const TEST_COMMAND: &[&str] = &["test", "--workspace"];

/// The documentation of every crate, as docs.rs would build it; CI fails on any rustdoc warning.
const DOC_COMMAND: &[&str] = &["doc", "--no-deps", "--workspace", "--all-features"];

/// Crates that mean a build script compiles C/C++ or generates bindings with libclang: none may
/// be in the workspace's dependency graph, so that a machine with only a Rust toolchain builds
/// everything (README's quick start).
const NATIVE_BUILD_CRATES: &[&str] = &["cmake", "bindgen", "llama-cpp-sys-2"];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().cloned().unwrap_or_default();
    match task.as_str() {
        "ci" => {
            check_no_native_builds()?;
            layering::check()?;
            cargo(&["fmt", "--all", "--check"])?;
            cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
            cargo_env(DOC_COMMAND, &[("RUSTDOCFLAGS", "-D warnings")])?;
            cargo(TEST_COMMAND)
        }
        "test" => cargo(TEST_COMMAND),
        "layering" => layering::check(),
        "bench" => bench::run(&args[1..]),
        "pdfs" => pdfs::run(&bench::workspace_root()),
        _ => {
            eprintln!("usage: cargo xtask <ci|test|layering|bench|pdfs>");
            eprintln!(
                "  ci    rustfmt check, clippy and rustdoc -D warnings, then `cargo test --workspace`"
            );
            eprintln!("  test  `cargo test --workspace`");
            eprintln!("  layering  the crate layering alone (cargo tree; part of ci)");
            eprintln!("  bench the benchmark suite (`cargo xtask bench --help`)");
            eprintln!(
                "  pdfs  write the example PDF decks (examples/pitchdeck_data/*.pdf, and their copies)"
            );
            bail!("unknown task `{task}`")
        }
    }
}

/// Fails when `cargo tree` shows one of [`NATIVE_BUILD_CRATES`] anywhere in the workspace's
/// graph (normal, build and dev dependencies, every feature).
fn check_no_native_builds() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = [
        "tree",
        "--workspace",
        "--all-features",
        "-e",
        "all",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ];
    eprintln!("$ cargo {}", args.join(" "));
    let out = Command::new(&cargo)
        .args(args)
        .output()
        .with_context(|| format!("could not run `{cargo}`"))?;
    if !out.status.success() {
        bail!("`cargo tree` failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let found = native_build_crates(&String::from_utf8_lossy(&out.stdout));
    if !found.is_empty() {
        bail!(
            "the dependency graph contains {}: a build script would need native tools (cmake, \
             libclang, a C++ compiler); see `cargo tree -i NAME` for who pulls it in",
            found.join(", ")
        );
    }
    Ok(())
}

/// The [`NATIVE_BUILD_CRATES`] named in `cargo tree --prefix none --format {p}` output.
fn native_build_crates(tree: &str) -> Vec<&'static str> {
    NATIVE_BUILD_CRATES
        .iter()
        .copied()
        .filter(|name| tree.lines().any(|line| line.split_whitespace().next() == Some(*name)))
        .collect()
}

fn cargo(args: &[&str]) -> Result<()> {
    cargo_env(args, &[])
}

/// [`cargo`] with environment variables set.
fn cargo_env(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
    eprintln!("$ {}cargo {}", shown.concat(), args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("could not run `{cargo}`"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_build_crates_are_found_by_exact_name() {
        let tree =
            "llm-do v0.1.0 (/w/crates/llm-do)\ncmake v0.1.54\ncmake-parser v1.0.0\nserde v1.0.0";
        assert_eq!(native_build_crates(tree), ["cmake"]);
        assert!(native_build_crates("bindgen-like v1.0.0\nllama v0.1.0").is_empty());
        assert_eq!(native_build_crates("llama-cpp-sys-2 v0.1.161 (*)"), ["llama-cpp-sys-2"]);
    }
}
