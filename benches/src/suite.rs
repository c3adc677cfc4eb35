//! `llm-do-bench suite`: every bench in a process of its own, the test server as a separate
//! process (the same binary the Python peer talks to), a table and a JSON file.

mod processes;

use crate::stats::{cpu_seconds, median, percentile};
use crate::table;
use anyhow::{Context, Result, bail};
use processes::{
    Listening, child, child_with, command_line, load_average, machine, start_llama_cpp,
    start_llm_do_serve, start_testkit,
};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to run and where the pieces are.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Small sizes, for routine use (well under 2 minutes).
    #[arg(long)]
    pub quick: bool,
    /// The `llm-do-testkit` binary (the test server).
    #[arg(long)]
    pub testkit: PathBuf,
    /// Bench 5: the `llm-do` binary built with `--features local` (serves the local model).
    #[arg(long)]
    pub llm_do: Option<PathBuf>,
    /// Bench 5 in-process (this binary must be built with the `local` feature).
    #[arg(long)]
    pub local: bool,
    /// The peer: a Python interpreter with pydantic-ai installed ...
    #[arg(long, requires = "peer_script")]
    pub python: Option<PathBuf>,
    /// ... and the peer's script (benches/peer/peer_bench.py).
    #[arg(long)]
    pub peer_script: Option<PathBuf>,
    /// Bench 5's peer: a Python interpreter with `llama-cpp-python[server]` installed, whose
    /// server (llama.cpp) is measured on the same GGUF, prompts and thread count.
    #[arg(long)]
    pub llama_python: Option<PathBuf>,
    /// The GGUF llama.cpp serves (default: the embedded model's cached file, as
    /// `llm-do fetch-model` prints it).
    #[arg(long)]
    pub gguf: Option<PathBuf>,
    /// Run only these benches (comma-separated; default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Bench>,
    /// Bench 6: the `restate-server` binary (default: `LLM_DO_TEST_RESTATE_SERVER`, else the
    /// npm install under `~/.cache/llm-do/restate`); without one, bench 6 is skipped.
    #[arg(long)]
    pub restate_server: Option<PathBuf>,
    /// Where to write the results as JSON.
    #[arg(long)]
    pub out: PathBuf,
    /// Where to write the table as Markdown too.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

/// The benches, as `--only` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bench {
    /// 1: in-process.
    Inprocess,
    /// 2: loopback, sequential.
    Loopback,
    /// 3: concurrency.
    Concurrency,
    /// 4: scale.
    Scale,
    /// 5: the embedded model (and llama.cpp with `--llama-python`).
    Local,
    /// 6: durable runs.
    Durable,
}

/// Inference threads of the embedded model in bench 5, in-process and served: one, because
/// candle's quantized kernels' threads wait for each other by spinning, and on a small machine
/// shared with other work (the test server, builds) more threads are several times slower, not
/// faster. It is passed as `--threads` (the engine's own pool) and as `CANDLE_NUM_THREADS`
/// (the process-wide pool of candle's quantized matrix kernels, which only the environment
/// sets).
const LOCAL_THREADS: &str = "1";

/// The context window of bench 5's servers, in tokens: `llm-do serve`'s default (the local
/// provider's `DEFAULT_CONTEXT_SIZE`), given to llama.cpp's server too.
const LOCAL_CONTEXT: &str = "4096";

/// Sizes of every bench.
struct Sizes {
    inprocess: [usize; 3],
    loopback: [usize; 3],
    /// Bench 2's ratio: processes, runs in each.
    loopback_ratio: [usize; 2],
    concurrency: [usize; 3],
    scale: [usize; 2],
    local: [usize; 2],
    durable: [usize; 2],
}

const FULL: Sizes = Sizes {
    inprocess: [2000, 5, 200],    // runs, repeats, warm-up
    loopback: [500, 3, 20],       // runs, repeats, warm-up
    loopback_ratio: [100, 300],   // processes, runs in each
    concurrency: [200, 1000, 50], // C, runs, latency ms
    scale: [10_000, 1000],        // C, delay ms
    local: [128, 3],              // max tokens, repeats
    durable: [200, 20],           // runs, warm-up
};

const QUICK: Sizes = Sizes {
    inprocess: [300, 3, 50],
    loopback: [100, 1, 10],
    loopback_ratio: [5, 100],
    concurrency: [200, 400, 50],
    scale: [2000, 200],
    local: [24, 1],
    durable: [50, 5],
};

/// Runs the suite.
pub fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    let date = command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]);
    let sizes = if args.quick { QUICK } else { FULL };
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let load_before = load_average();
    let mut ours = Map::new();
    let mut peer = Map::new();
    let mut meta_local = Map::new();
    let peer_cmd = match (&args.python, &args.peer_script) {
        (Some(python), Some(script)) => Some((python.clone(), script.clone())),
        _ => None,
    };
    let contenders: Vec<(&str, Vec<String>)> = {
        let mut c = vec![("llm-do", vec![exe.display().to_string()])];
        if let Some((python, script)) = &peer_cmd {
            c.push((
                "pydantic-ai",
                vec![python.display().to_string(), script.display().to_string()],
            ));
        }
        c
    };
    let wants = |bench: Bench| args.only.is_empty() || args.only.contains(&bench);
    for (name, cmd) in &contenders {
        let into = if *name == "llm-do" { &mut ours } else { &mut peer };
        if wants(Bench::Inprocess) {
            let [runs, repeats, warmup] = sizes.inprocess;
            let a = ["inprocess", "--runs", &runs.to_string(), "--repeats", &repeats.to_string()];
            into.insert("inprocess".into(), child(cmd, &a, &["--warmup", &warmup.to_string()])?);
        }

        if wants(Bench::Loopback) {
            let server = start_testkit(&args.testkit, 0)?;
            let [runs, repeats, warmup] = sizes.loopback;
            let a = ["loopback", "--base-url", &server.url, "--runs", &runs.to_string()];
            let b = ["--repeats", &repeats.to_string(), "--warmup", &warmup.to_string()];
            into.insert("loopback".into(), child(cmd, &a, &b)?);
            if *name == "llm-do" {
                let [processes, runs] = sizes.loopback_ratio;
                into.insert(
                    "loopback_ratio".into(),
                    loopback_ratio(cmd, &server, processes, runs)?,
                );
            }
        }

        if wants(Bench::Concurrency) {
            let [c, runs, latency] = sizes.concurrency;
            let server = start_testkit(&args.testkit, latency as u64)?;
            let a =
                ["concurrency", "--base-url", &server.url, "--latency-ms", &latency.to_string()];
            let b = ["--concurrency", &c.to_string(), "--runs", &runs.to_string()];
            let cpu_before = cpu_seconds(Some(server.child.id()));
            let mut result = child(cmd, &a, &b)?;
            if let (Some(after), Some(before)) = (cpu_seconds(Some(server.child.id())), cpu_before)
            {
                // Includes the warm-up round of C runs.
                result["server_cpu_us_per_run"] = json!((after - before) * 1e6 / (runs + c) as f64);
            }
            into.insert("concurrency".into(), result);
            if *name == "llm-do" {
                let raw = child(cmd, &a, &[&b[..], &["--raw"]].concat())?;
                into.insert("concurrency_raw_http".into(), raw);
            }
        }

        if wants(Bench::Scale) {
            let [c, delay] = sizes.scale;
            let a = ["scale", "--concurrency", &c.to_string(), "--delay-ms", &delay.to_string()];
            into.insert("scale".into(), child(cmd, &a, &[])?);
        }
    }
    let exe_cmd = vec![exe.display().to_string()];
    let mut llama_cpp = Map::new();
    if wants(Bench::Local) {
        local(args, &sizes, &exe_cmd, &mut ours, &mut llama_cpp, &mut meta_local)?;
    }
    if wants(Bench::Durable) {
        match crate::durable::find_server(args.restate_server.as_ref()) {
            Some(binary) => {
                let server = start_testkit(&args.testkit, 0)?;
                let [runs, warmup] = sizes.durable.map(|n| n.to_string());
                let a =
                    ["durable", "--base-url", &server.url, "--runs", &runs, "--warmup", &warmup];
                let b = ["--restate-server".to_owned(), binary.display().to_string()];
                let b: Vec<&str> = b.iter().map(String::as_str).collect();
                ours.insert("durable".into(), child(&exe_cmd, &a, &b)?);
            }
            None => eprintln!(
                "llm-do-bench: bench 6 (durable runs) skipped: no restate-server (pass \
                 --restate-server, set {}, or `npm install --prefix ~/.cache/llm-do/restate \
                 @restatedev/restate-server`)",
                llm_do_restate::SERVER_ENV
            ),
        }
    }
    let mut meta = machine();
    meta.insert("date".into(), json!(date));
    meta.insert("mode".into(), json!(if args.quick { "quick" } else { "full" }));
    meta.insert("load_average_before".into(), json!(load_before));
    meta.insert("load_average_after".into(), json!(load_average()));
    meta.insert("duration_s".into(), json!(started.elapsed().as_secs_f64()));
    if let Some(versions) = peer.get("inprocess").and_then(|v| v.get("versions")) {
        meta.insert("peer_versions".into(), versions.clone());
    }
    meta.extend(meta_local);
    let results =
        json!({ "meta": meta, "llm_do": ours, "pydantic_ai": peer, "llama_cpp": llama_cpp });
    let markdown = table::markdown(&results);
    println!("{markdown}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&results)? + "\n")
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("llm-do-bench: results in {}", args.out.display());
    if let Some(path) = &args.markdown {
        std::fs::write(path, &markdown)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Bench 5: in-process (with `--local`), through `llm-do serve` (with `--llm-do`) and through
/// llama.cpp's server (with `--llama-python`), one after the other, with the same arguments.
/// Each server's peak memory and CPU time are read from `/proc` once it has served both
/// series.
fn local(
    args: &Args,
    sizes: &Sizes,
    exe_cmd: &[String],
    ours: &mut Map<String, Value>,
    llama_cpp: &mut Map<String, Value>,
    meta: &mut Map<String, Value>,
) -> Result<()> {
    let [max_tokens, repeats] = sizes.local;
    let (max_tokens, repeats) = (max_tokens.to_string(), repeats.to_string());
    let local_args =
        ["local", "--max-tokens", &max_tokens, "--repeats", &repeats, "--threads", LOCAL_THREADS];
    let threads = [("CANDLE_NUM_THREADS", LOCAL_THREADS)];
    meta.insert("load_average_before_local".into(), json!(load_average()));
    if args.local {
        ours.insert("local_in_process".into(), child_with(exe_cmd, &local_args, &[], &threads)?);
    }
    if let Some(llm_do) = &args.llm_do {
        let server = start_llm_do_serve(llm_do)?;
        let more = ["--base-url", server.url.as_str(), "--server", "llm-do"];
        ours.insert("local_serve".into(), served(exe_cmd, &local_args, &more, &server)?);
    }
    if let Some(python) = &args.llama_python {
        let gguf = match (&args.gguf, &args.llm_do) {
            (Some(path), _) => path.clone(),
            (None, Some(llm_do)) => command_line(&llm_do.display().to_string(), &["fetch-model"])
                .map(PathBuf::from)
                .context("`llm-do fetch-model` printed no path")?,
            (None, None) => bail!("--llama-python needs --gguf or --llm-do (to find the GGUF)"),
        };
        let log = args.out.with_file_name("llama-cpp-server.log");
        let server = start_llama_cpp(python, &gguf, &log)?;
        let more = ["--base-url", server.url.as_str(), "--server", "llama-cpp"];
        let mut result = served(exe_cmd, &local_args, &more, &server)?;
        // File names only: the results are published, the machine's paths are not theirs.
        // The log lies beside the JSON file.
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        result["gguf"] = json!(name(&gguf));
        result["server_log"] = json!(name(&log));
        llama_cpp.insert("local_serve".into(), result);
        let version = "import importlib.metadata as m; print(m.version('llama_cpp_python'))";
        let python = python.display().to_string();
        meta.insert("llama_cpp_python".into(), json!(command_line(&python, &["-c", version])));
    }
    meta.insert("load_average_after_local".into(), json!(load_average()));
    Ok(())
}

/// Bench 5 against a running server: the bench's JSON, with the server's peak and current
/// memory and the CPU time it spent on the bench.
fn served(cmd: &[String], args: &[&str], more: &[&str], server: &Listening) -> Result<Value> {
    let pid = server.child.id();
    let cpu_before = cpu_seconds(Some(pid));
    let threads = [("CANDLE_NUM_THREADS", LOCAL_THREADS)];
    let mut result = child_with(cmd, args, more, &threads)?;
    if let (Some(after), Some(before)) = (cpu_seconds(Some(pid)), cpu_before) {
        result["server_cpu_s"] = json!(after - before);
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
    let kib = |field: &str| -> Option<u64> {
        let status = status.as_deref().ok()?;
        let line = status.lines().find_map(|l| l.strip_prefix(field))?;
        line.trim().trim_end_matches("kB").trim().parse().ok()
    };
    result["peak_rss_kib"] = json!(kib("VmHWM:"));
    result["rss_kib"] = json!(kib("VmRSS:"));
    Ok(result)
}

/// Bench 2's figure that varies most from one process to the next, the harness's rate as a
/// share of the bare client's, measured in `processes` separate processes of `runs` runs each
/// (one repeat, its blocks alternating as always) against the same server: per variant, the
/// median and the quartiles of the per-process ratios, and the ratios themselves.
fn loopback_ratio(
    cmd: &[String],
    server: &Listening,
    processes: usize,
    runs: usize,
) -> Result<Value> {
    let runs_arg = runs.to_string();
    let args = ["loopback", "--base-url", &server.url, "--runs", &runs_arg, "--repeats", "1"];
    let mut ratios: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for _ in 0..processes {
        let result = child(cmd, &args, &[])?;
        for variant in result["results"].as_array().into_iter().flatten() {
            let rate = |who: &str| variant[who]["runs_per_s"].as_f64().filter(|r| *r > 0.0);
            let (Some(name), Some(ours), Some(floor)) =
                (variant["variant"].as_str(), rate("llm_do"), rate("raw_http"))
            else {
                bail!("bench 2 printed no rates: {variant}");
            };
            ratios.entry(name.to_owned()).or_default().push(ours / floor);
        }
    }
    let mut out = Map::new();
    out.insert("processes".into(), json!(processes));
    out.insert("runs".into(), json!(runs));
    for (variant, values) in ratios {
        let summary = json!({
            "median": median(&values),
            "q1": percentile(&values, 25.0),
            "q3": percentile(&values, 75.0),
            "ratios": values,
        });
        out.insert(variant, summary);
    }
    Ok(Value::Object(out))
}
