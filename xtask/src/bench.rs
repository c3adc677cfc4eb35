//! `cargo xtask bench`: builds the benchmark harness and the test server in release mode,
//! prepares the peers' virtualenvs when asked (pydantic-ai for benches 1-4, llama.cpp's server
//! for bench 5), and runs the suite (`llm-do-bench suite`, benches/src/suite.rs). See
//! docs/benchmarks.md.
//!
//! ```text
//! cargo xtask bench [--quick] [--peer] [--no-local] [--only BENCHES] [--out FILE.json]
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
    /// `--only`: the benches to run, as the suite names them (empty: all).
    only: Vec<String>,
    out: Option<PathBuf>,
}

/// The benches, as `--only` names them (1-6).
const BENCHES: [&str; 6] = ["inprocess", "loopback", "concurrency", "scale", "local", "durable"];

const USAGE: &str =
    "usage: cargo xtask bench [--quick] [--peer] [--no-local] [--only BENCHES] [--out FILE.json]
  --quick     small sizes, for routine use (under 2 minutes once built)
  --peer      also run the peers: pydantic-ai for benches 1-4 (a virtualenv from
              benches/peer/requirements.txt) and llama.cpp's server for bench 5 (a virtualenv
              from benches/peer/llama-cpp/, which compiles llama.cpp: needs a C++ compiler)
  --no-local  skip bench 5 (the embedded model): no inference kernels to build
  --only B    run only these benches, comma-separated: inprocess, loopback, concurrency,
              scale, local, durable (e.g. `--only local` for bench 5 alone)
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
            "--only" => {
                let list = args.next().context("--only needs a list of benches")?;
                for bench in list.split(',').map(str::trim).filter(|b| !b.is_empty()) {
                    if !BENCHES.contains(&bench) {
                        bail!("unknown bench `{bench}` (one of {})\n{USAGE}", BENCHES.join(", "));
                    }
                    options.only.push(bench.to_owned());
                }
            }
            "--out" => options.out = Some(args.next().context("--out needs a file")?.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option `{other}`\n{USAGE}"),
        }
    }
    if !options.local && options.only.iter().any(|b| b == "local") {
        bail!("--no-local and --only local contradict each other");
    }
    if options.local && !options.only.is_empty() && !options.wants("local") {
        options.local = false; // nothing to build for bench 5
    }
    Ok(options)
}

impl Options {
    /// Whether `bench` runs.
    fn wants(&self, bench: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|b| b == bench))
            && (bench != "local" || self.local)
    }
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
    if !options.only.is_empty() {
        suite.arg("--only").arg(options.only.join(","));
    }
    if options.peer && BENCHES[..4].iter().any(|b| options.wants(b)) {
        let python = peer_venv(&root, &work)?;
        suite.arg("--python").arg(python);
        suite.arg("--peer-script").arg(root.join("benches/peer/peer_bench.py"));
    }
    if options.peer && options.wants("local") {
        suite.arg("--llama-python").arg(llama_cpp_venv(&root, &work)?);
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
    venv(&work.join("venv"), &[&lock], |python| {
        exec(Command::new(python).args(PIP_INSTALL).arg(&lock))
    })
}

/// Makes (once per pair of lock files) the virtualenv of bench 5's peer, llama.cpp's
/// OpenAI-compatible server from llama-cpp-python; returns its Python.
///
/// llama-cpp-python is an sdist that compiles llama.cpp (CMake and the system's C++ compiler;
/// only this peer does, never the library, the CLI or the tests). Its build requirements
/// (scikit-build-core, and CMake and Ninja from PyPI) are installed first, pinned and
/// hash-checked, from `build.txt`; then llama-cpp-python and its dependencies from
/// `requirements.txt` without build isolation, because an isolated build would fetch its
/// build requirements unpinned and unchecked.
fn llama_cpp_venv(root: &Path, work: &Path) -> Result<PathBuf> {
    let dir = root.join("benches/peer/llama-cpp");
    let (build, lock) = (dir.join("build.txt"), dir.join("requirements.txt"));
    venv(&work.join("venv-llama-cpp"), &[&build, &lock], |python| {
        eprintln!("llm-do: building llama-cpp-python (compiles llama.cpp: several minutes)");
        exec(Command::new(python).args(PIP_INSTALL).arg(&build))?;
        exec(
            Command::new(python)
                .args(PIP_INSTALL)
                .arg(&lock)
                .arg("--no-build-isolation")
                // The multimodal (llava) library is not needed to serve a text model.
                .env("CMAKE_ARGS", "-DLLAVA_BUILD=OFF"),
        )
    })
}

/// pip installing exactly the pinned, hash-checked packages of a lock file (`-r` follows).
const PIP_INSTALL: [&str; 7] =
    ["-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps", "-r"];

/// The virtualenv at `dir`, made afresh with `install` (given its Python) unless it was made
/// from the same contents of `locks`; returns its Python.
fn venv(dir: &Path, locks: &[&Path], install: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    let mut wanted = String::new();
    for lock in locks {
        wanted += &std::fs::read_to_string(lock)
            .with_context(|| format!("cannot read {}", lock.display()))?;
    }
    let python = dir.join("bin/python");
    let stamp = dir.join("llm-do-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Ok(python);
    }
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    exec(Command::new(&system_python).args(["-m", "venv", "--clear"]).arg(dir))?;
    install(&python)?;
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

    #[test]
    fn only_picks_benches_by_name() {
        let o = parse(&strings(&["--only", "local", "--peer"])).unwrap();
        assert_eq!(o.only, ["local"]);
        assert!(o.local && o.wants("local") && !o.wants("inprocess") && !o.wants("durable"));
        let o = parse(&strings(&["--only", "inprocess,scale"])).unwrap();
        assert!(o.wants("scale") && !o.wants("loopback"));
        assert!(!o.local, "bench 5 not asked for: nothing to build for it");
        let o = parse(&strings(&["--no-local"])).unwrap();
        assert!(o.wants("durable") && !o.wants("local"));
        let e = parse(&strings(&["--only", "local,fast"])).unwrap_err().to_string();
        assert!(e.contains("unknown bench `fast`"), "{e}");
        let e = parse(&strings(&["--no-local", "--only", "local"])).unwrap_err().to_string();
        assert!(e.contains("contradict"), "{e}");
        assert!(parse(&strings(&["--only"])).is_err());
    }
}
