//! `cargo xtask bench`: builds the benchmark harness and the test server in release mode,
//! prepares the pydantic-ai peer's virtualenv when asked, and runs the suite
//! (`llm-do-bench suite`, benches/src/suite.rs). See docs/benchmarks.md.
//!
//! ```text
//! cargo xtask bench [--quick] [--peer] [--no-local] [--out FILE.json]
//! ```

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The options of `cargo xtask bench`.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    peer: bool,
    local: bool,
    out: Option<PathBuf>,
}

const USAGE: &str = "usage: cargo xtask bench [--quick] [--peer] [--no-local] [--out FILE.json]
  --quick     small sizes, for routine use (under 2 minutes once built)
  --peer      also run the pydantic-ai peer (makes a virtualenv from benches/peer/requirements.txt)
  --no-local  skip bench 5 (the embedded model): no inference kernels to build
  --out F     write the JSON there instead of target/llm-do-bench/results[-quick].json
              (the table always goes to target/llm-do-bench/results[-quick].md)
Bench 6 (durable runs) runs when a restate-server is found (LLM_DO_TEST_RESTATE_SERVER, or
~/.cache/llm-do/restate as .ci/run installs it), and is skipped with a note otherwise.";

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options { local: true, ..Options::default() };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--peer" => options.peer = true,
            "--no-local" => options.local = false,
            "--out" => options.out = Some(args.next().context("--out needs a file")?.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option `{other}`\n{USAGE}"),
        }
    }
    Ok(options)
}

/// Runs `cargo xtask bench ARGS`.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let root = workspace_root();
    let target = target_dir(&root);
    let work = target.join("llm-do-bench");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;

    let mut build = vec!["build", "--release", "-p", "llm-do-bench", "-p", "llm-do-testkit"];
    if options.local {
        build.extend(["-p", "llm-do-cli", "--features", "llm-do-bench/local,llm-do-cli/local"]);
    }
    crate::cargo(&build)?;

    let release = target.join("release");
    let bench = release.join("llm-do-bench");
    let stem = if options.quick { "results-quick" } else { "results" };
    let out = options.out.clone().unwrap_or_else(|| work.join(format!("{stem}.json")));
    let mut suite = Command::new(&bench);
    suite.arg("suite").arg("--testkit").arg(release.join("llm-do-testkit"));
    suite.arg("--out").arg(&out).arg("--markdown").arg(work.join(format!("{stem}.md")));
    if options.quick {
        suite.arg("--quick");
    }
    if options.local {
        suite.arg("--local").arg("--llm-do").arg(release.join("llm-do"));
    }
    if options.peer {
        let python = peer_venv(&root, &work)?;
        suite.arg("--python").arg(python);
        suite.arg("--peer-script").arg(root.join("benches/peer/peer_bench.py"));
    }
    eprintln!("$ {suite:?}");
    let status = suite.status().with_context(|| format!("could not run {}", bench.display()))?;
    if !status.success() {
        bail!("the bench suite failed ({status})");
    }
    Ok(())
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `target/` in the workspace.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { root.join(dir) }
        }
        _ => root.join("target"),
    }
}

/// Makes (once per lock file) a virtualenv with the peer's pinned, hash-checked packages;
/// returns its Python.
fn peer_venv(root: &Path, work: &Path) -> Result<PathBuf> {
    let lock = root.join("benches/peer/requirements.txt");
    let wanted = std::fs::read_to_string(&lock)
        .with_context(|| format!("cannot read {}", lock.display()))?;
    let venv = work.join("venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("llm-do-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Ok(python);
    }
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    exec(Command::new(&system_python).args(["-m", "venv", "--clear"]).arg(&venv))?;
    exec(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps", "-r"])
            .arg(&lock),
    )?;
    std::fs::write(&stamp, wanted).with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(python)
}

fn exec(command: &mut Command) -> Result<()> {
    eprintln!("$ {command:?}");
    let status = command.status().with_context(|| format!("could not run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_options() {
        let o = parse(&strings(&["--quick", "--peer", "--no-local", "--out", "x.json"])).unwrap();
        assert!(o.quick && o.peer && !o.local);
        assert_eq!(o.out, Some(PathBuf::from("x.json")));
        let d = parse(&[]).unwrap();
        assert!(!d.quick && !d.peer && d.local && d.out.is_none());
        assert!(parse(&strings(&["--fast"])).unwrap_err().to_string().contains("unknown option"));
        assert!(parse(&strings(&["--out"])).is_err());
    }
}
