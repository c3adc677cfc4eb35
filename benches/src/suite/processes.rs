//! The suite's processes: each bench in a child process of its own (its JSON read from its
//! output), the servers the benches talk to (killed on drop), and what the results say about
//! the machine.

use super::{LOCAL_CONTEXT, LOCAL_THREADS};
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Runs one bench in a child process; returns the JSON it printed.
pub(super) fn child(cmd: &[String], args: &[&str], more: &[&str]) -> Result<Value> {
    child_with(cmd, args, more, &[])
}

/// [`child`] with more environment variables.
pub(super) fn child_with(
    cmd: &[String],
    args: &[&str],
    more: &[&str],
    env: &[(&str, &str)],
) -> Result<Value> {
    let (program, first) = cmd.split_first().context("empty command")?;
    eprintln!("llm-do-bench: {} {}", args.join(" "), more.join(" "));
    let output = Command::new(program)
        .args(first)
        .args(args)
        .args(more)
        .envs(env.iter().copied())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        bail!("`{program} {}` failed ({})", args.join(" "), output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("`{}` printed no JSON: {text}", args[0]))
}

/// A child process that prints `... http://ADDR/v1` once listening; killed on drop.
pub(super) struct Listening {
    pub(super) child: Child,
    pub(super) url: String,
}

impl Listening {
    fn start(mut command: Command, what: &str) -> Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                bail!("{what} exited before listening");
            };
            let line = line?;
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_owned();
            }
        };
        // Keep draining stdout so that the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Self { child, url })
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the test server, `llm-do-testkit serve`, with this latency.
pub(super) fn start_testkit(binary: &Path, latency_ms: u64) -> Result<Listening> {
    let mut command = Command::new(binary);
    command.args(["serve", "--port", "0", "--latency-ms", &latency_ms.to_string()]);
    Listening::start(command, "the test server")
}

/// Starts `llm-do serve` on the embedded model.
pub(super) fn start_llm_do_serve(binary: &Path) -> Result<Listening> {
    let mut command = Command::new(binary);
    command.args(["serve", "--port", "0", "--threads", LOCAL_THREADS]);
    command.args(["--context-size", LOCAL_CONTEXT]);
    command.env("CANDLE_NUM_THREADS", LOCAL_THREADS);
    Listening::start(command, "llm-do serve")
}

/// Starts llama.cpp's OpenAI-compatible server (llama-cpp-python) on `gguf`, configured as
/// `llm-do serve` is in bench 5: the same inference threads (for the prompt too), the same
/// context window ([`LOCAL_CONTEXT`]), on a free loopback port; its output goes to `log`.
/// Returns once it accepts connections (it loads the model before listening).
pub(super) fn start_llama_cpp(python: &Path, gguf: &Path, log: &Path) -> Result<Listening> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let output =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut command = Command::new(python);
    command.args(["-m", "llama_cpp.server", "--model"]).arg(gguf);
    command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
    command.args(["--n_threads", LOCAL_THREADS, "--n_threads_batch", LOCAL_THREADS]);
    command.args(["--n_ctx", LOCAL_CONTEXT]);
    command.stdout(output.try_clone()?).stderr(output);
    let mut child =
        command.spawn().with_context(|| format!("cannot start {}", python.display()))?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("llama.cpp's server exited ({status}) before listening: see {}", log.display());
        }
        if started.elapsed() > std::time::Duration::from_secs(300) {
            let _ = child.kill();
            bail!("llama.cpp's server did not listen within 300 s: see {}", log.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(Listening { child, url: format!("http://127.0.0.1:{port}/v1") })
}

/// The machine and versions the results come from.
pub(super) fn machine() -> Map<String, Value> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map(|(_, v)| v.trim().to_owned());
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = mem
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    let mut m = Map::new();
    m.insert("cores".into(), json!(std::thread::available_parallelism().map_or(1, usize::from)));
    m.insert("cpu".into(), json!(cpu));
    m.insert("memory_gib".into(), json!(mem_kib.map(|k| k as f64 / 1048576.0)));
    m.insert(
        "kernel".into(),
        json!(
            std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_owned())
        ),
    );
    m.insert("llm_do".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert("git_commit".into(), json!(command_line("git", &["rev-parse", "--short", "HEAD"])));
    m.insert("rustc".into(), json!(command_line("rustc", &["--version"])));
    m
}

/// The first line a command prints, if it runs.
pub(super) fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(str::to_owned)
}

/// The 1-minute load average.
pub(super) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}
