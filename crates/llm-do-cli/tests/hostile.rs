//! Hostile input against the real `llm-do` binary (issue 15): a model making hostile tool
//! calls (through the loopback test server), hostile project files, a provider that never
//! answers, runaway fan-out, torn run logs and bad `--input-json`. Every case must end with a
//! documented exit code (never a signal: a stack overflow aborts with SIGABRT), `--json` must
//! still print its one object, and the run log must be complete.
//!
//! Every child process runs under a deadline ([`bounded_output`]), so a hang fails the test
//! instead of holding the suite.

#[path = "support/cli.rs"]
mod support;

use llm_do_cli::run_log;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// Runs `cmd`, killing it after two minutes (a hang is a failure, reported as such). Its
/// output is read while it runs, so a chatty child never blocks on a full pipe.
fn bounded_output(cmd: &mut Command) -> Output {
    use std::io::Read as _;
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn llm-do");
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!("llm-do hung: {cmd:?}\nstderr: {}", String::from_utf8_lossy(&err));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    eprintln!("--- stderr of {cmd:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.code().is_some(), "killed by a signal (a crash): {:?}", out.status);
    out
}

/// The one JSON object `run --json` prints.
fn json_result(out: &Output) -> Value {
    serde_json::from_str(stdout(out).trim()).expect("--json prints one JSON object")
}

/// The run log is whole: it parses without a cut-off line, and the entry call finished.
fn assert_log_complete(log: &Path) {
    let parsed = run_log::read_log(log).expect("the run log parses");
    assert_eq!(parsed.torn_line, None, "the run log was cut off");
    let last = parsed.records.last().expect("records");
    assert_eq!((last.event.as_str(), last.parent), ("call_finished", None), "{last:?}");
}

async fn scripted(replies: Vec<Reply>) -> TestServer {
    TestServer::builder().script(replies).start().await.expect("test server")
}

const CONFIG: &str = "entry = \"main\"\nmodel = \"openai:test-model\"\n";
const LISTER: &str = "---\ndescription: Lists files.\ntools:\n  - filesystem: { read_only: true }\n---\nList {input}.\n";

fn nested_braces(n: usize) -> String {
    format!("{}a{}", "{".repeat(n), "}".repeat(n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_files_glob_with_thousands_of_nested_braces_is_a_tool_error() {
    // ~1,600 nested `{` overflowed the stack and aborted the process, even under --deny-all
    // (listing needs no approval): no JSON on stdout, a run log stopping mid-call.
    let server = scripted(vec![
        Reply::tool_call("list_files", json!({"pattern": nested_braces(1_600)})),
        Reply::tool_call("list_files", json!({"pattern": nested_braces(300)})),
        Reply::text("could not list"),
    ])
    .await;
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", LISTER)]);
    let log = dir.path().join("run.jsonl");
    let out = bounded_output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--deny-all", "--json", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("everything"),
    );
    assert_eq!(code(&out), 0);
    let result = json_result(&out);
    assert_eq!(
        (result["ok"].as_bool(), result["output"].as_str()),
        (Some(true), Some("could not list"))
    );
    // The model was told what was wrong with each pattern.
    let requests = server.requests();
    let told = requests[1].body["messages"].to_string();
    assert!(told.contains("the glob is 3201 characters long"), "{told}");
    let told = requests[2].body["messages"].to_string();
    assert!(told.contains("nested more than 16 levels deep"), "{told}");
    assert_log_complete(&log);
}

#[test]
fn approval_rule_globs_and_regexes_beyond_the_bounds_are_located_errors() {
    let hostile = nested_braces(20_000);
    let regex = format!("{}a{}", "(".repeat(20_000), ")".repeat(20_000));
    let cases = [
        (
            "llm-do.toml",
            format!("[approval]\nrules = [{{ tool = \"{hostile}\", verdict = \"deny\" }}]\n"),
            "llm-do.toml:2:10",
        ),
        (
            "llm-do.toml",
            format!(
                "[approval]\nrules = [\n  {{ tool = \"w\", verdict = \"deny\", args = {{ \"/p\" = {{ glob = \"{hostile}\" }} }} }},\n]\n"
            ),
            "llm-do.toml:3:3",
        ),
        (
            "llm-do.toml",
            format!(
                "[approval]\nrules = [{{ tool = \"w\", verdict = \"deny\", args = {{ \"/p\" = {{ regex = \"{regex}\" }} }} }}]\n"
            ),
            "llm-do.toml:2:10",
        ),
        (
            "main.worker",
            format!("---\napproval:\n  - {{ tool: \"{hostile}\", verdict: deny }}\n---\nGo.\n"),
            "main.worker:3:5",
        ),
    ];
    for (file, text, at) in cases {
        let mut files = vec![("main.worker", "---\n---\nGo {input}.\n")];
        files.retain(|(name, _)| *name != file);
        files.push((file, text.as_str()));
        let dir = project(&files);
        let out = bounded_output(command(BIN, None).arg("check").arg(dir.path()));
        assert_eq!(code(&out), 2, "{file}");
        let err = stderr(&out);
        assert!(err.contains(at) && err.contains("invalid approval rule"), "{at}: {err}");
        assert!(err.len() < 2_000, "the hostile pattern is not echoed whole: {} bytes", err.len());
        // `run` stops at the same diagnostics, and --json still prints its object.
        let out =
            bounded_output(command(BIN, None).args(["run", "--json"]).arg(dir.path()).arg("x"));
        assert_eq!(code(&out), 2);
        assert_eq!(json_result(&out)["ok"], false);
    }
}

#[cfg(unix)]
#[test]
fn project_files_that_are_not_regular_files_are_located_errors() {
    let good = "---\n---\nGo {input}.\n";
    let fifo = |dir: &Path, name: &str| {
        let status = Command::new("mkfifo").arg(dir.join(name)).status().expect("mkfifo");
        assert!(status.success());
    };
    let link = |dir: &Path, target: &str, name: &str| {
        std::os::unix::fs::symlink(target, dir.join(name)).expect("symlink")
    };
    type Setup = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Setup, &str)> = vec![
        // A FIFO hung `check` forever.
        ("llm-do.toml", Box::new(move |d| fifo(d, "llm-do.toml")), "is a FIFO"),
        // A symlink to /dev/zero read until memory ran out.
        ("llm-do.toml", Box::new(move |d| link(d, "/dev/zero", "llm-do.toml")), "is a device"),
        // Dangling and looping links were silently ignored, dropping their approval rules.
        (
            "llm-do.toml",
            Box::new(move |d| link(d, "gone.toml", "llm-do.toml")),
            "is a symbolic link that leads nowhere",
        ),
        (
            "llm-do.toml",
            Box::new(move |d| link(d, "llm-do.toml", "llm-do.toml")),
            "is a symbolic link that leads nowhere",
        ),
        ("x.worker", Box::new(move |d| fifo(d, "x.worker")), "is a FIFO"),
        ("x.worker", Box::new(move |d| link(d, "/dev/zero", "x.worker")), "is a device"),
        (
            "x.worker",
            Box::new(move |d| link(d, "gone.worker", "x.worker")),
            "is a symbolic link that leads nowhere",
        ),
        (
            "x.worker",
            Box::new(|d: &Path| std::fs::create_dir(d.join("x.worker")).expect("mkdir")),
            "is a directory",
        ),
    ];
    for (name, setup, message) in cases {
        let dir = project(&[("main.worker", good)]);
        setup(dir.path());
        let out = bounded_output(command(BIN, None).arg("check").arg(dir.path()));
        assert_eq!(code(&out), 2, "{name}: {message}");
        let err = stderr(&out);
        assert!(err.contains(&format!("{name}:1:1: error: the path {message}")), "{err}");
    }
    // A symbolic link to a regular file in the project is fine.
    let dir = project(&[("real.toml", "entry = \"main\"\n"), ("main.worker", good)]);
    link(dir.path(), "real.toml", "llm-do.toml");
    let out = bounded_output(command(BIN, None).arg("check").arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// A provider that accepts connections and never sends a byte; they are held until the test
/// process ends.
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn a_provider_that_never_answers_ends_with_a_timeout_error() {
    let base = silent_server();
    let main = "---\n---\nAnswer {input}.\n";
    // From llm-do.toml ...
    let config = format!("{CONFIG}[providers.openai]\nfirst_byte_timeout = 0.2\n");
    let dir = project(&[("llm-do.toml", &config), ("main.worker", main)]);
    let out =
        bounded_output(command(BIN, Some(&base)).args(["run", "--json"]).arg(dir.path()).arg("x"));
    assert_eq!(code(&out), 1);
    let error = json_result(&out)["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        error.contains("timed out") && error.contains("first-byte timeout of 200ms"),
        "{error}"
    );
    // ... and from the command line, over the file.
    let config = format!("{CONFIG}[providers.openai]\nfirst_byte_timeout = 3600\n");
    let dir = project(&[("llm-do.toml", &config), ("main.worker", main)]);
    let out = bounded_output(
        command(BIN, Some(&base))
            .args(["run", "--json", "--first-byte-timeout", "0.2"])
            .arg(dir.path())
            .arg("x"),
    );
    assert_eq!(code(&out), 1);
    let error = json_result(&out)["error"].as_str().unwrap_or_default().to_owned();
    assert!(error.contains("first-byte timeout of 200ms"), "{error}");
    // A nonsense timeout is a usage error.
    let out = bounded_output(
        command(BIN, Some(&base)).args(["run", "--request-timeout", "0"]).arg(dir.path()),
    );
    assert_eq!(code(&out), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_over_the_size_limit_is_an_error_and_not_retried() {
    let long = "x".repeat(4096);
    let server = scripted(vec![
        Reply::text(&long),
        Reply::text(&long),
        Reply::text(&long),
        Reply::text("short"),
    ])
    .await;
    let main = "---\n---\nAnswer {input}.\n";
    let run = |config: &str, flags: &[&str]| {
        let dir = project(&[("llm-do.toml", config), ("main.worker", main)]);
        let out = bounded_output(
            command(BIN, Some(&server.base_url()))
                .args(["run", "--json"])
                .args(flags)
                .arg(dir.path())
                .arg("x"),
        );
        (code(&out), json_result(&out)["error"].as_str().unwrap_or_default().to_owned())
    };
    // From llm-do.toml ...
    let config = format!("{CONFIG}[providers.openai]\nmax_answer_bytes = 1000\n");
    let (exit, error) = tokio::task::block_in_place(|| run(&config, &[]));
    assert_eq!(exit, 1);
    assert!(error.contains("larger than the limit of 1000 bytes"), "{error}");
    assert_eq!(server.request_count(), 1, "an answer over the limit is not asked for again");
    // ... and from the command line, over the file.
    let config = format!("{CONFIG}[providers.openai]\nmax_answer_bytes = 1000000\n");
    let (exit, error) =
        tokio::task::block_in_place(|| run(&config, &["--max-answer-bytes", "2000"]));
    assert_eq!(exit, 1);
    assert!(error.contains("larger than the limit of 2000 bytes"), "{error}");
    // A server that needs no key (OPENAI_BASE_URL alone, as for Ollama) gets the settings too.
    let config = format!("{CONFIG}[providers.openai]\nmax_answer_bytes = 3000\n");
    let dir = project(&[("llm-do.toml", &config), ("main.worker", main)]);
    let out = tokio::task::block_in_place(|| {
        bounded_output(
            command(BIN, Some(&server.base_url()))
                .env_remove("OPENAI_API_KEY")
                .args(["run", "--json"])
                .arg(dir.path())
                .arg("x"),
        )
    });
    assert_eq!(code(&out), 1);
    let error = json_result(&out)["error"].as_str().unwrap_or_default().to_owned();
    assert!(error.contains("larger than the limit of 3000 bytes"), "{error}");
    // Within the limit the run goes through.
    let config = format!("{CONFIG}[providers.openai]\nmax_answer_bytes = 1000000\n");
    let (exit, error) = tokio::task::block_in_place(|| run(&config, &[]));
    assert_eq!((exit, error.as_str()), (0, ""));
    // A limit of 0 is a usage error on the command line and a located error in the file.
    let (exit, _) = tokio::task::block_in_place(|| run(CONFIG, &["--max-answer-bytes", "0"]));
    assert_eq!(exit, 2);
    let config = format!("{CONFIG}[providers.openai]\nmax_answer_bytes = 0\n");
    let dir = project(&[("llm-do.toml", &config), ("main.worker", main)]);
    let out = tokio::task::block_in_place(|| {
        bounded_output(command(BIN, Some(&server.base_url())).arg("run").arg(dir.path()).arg("x"))
    });
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("llm-do.toml:4:"), "{}", stderr(&out));
}

/// A worker that lists itself, whose model asks for itself `n` times on every turn.
fn self_calls(n: usize, replies: usize) -> Vec<Reply> {
    let calls: Vec<(&str, Value)> = (0..n).map(|_| ("main", json!({"input": "again"}))).collect();
    (0..replies).map(|_| Reply::tool_calls(calls.clone())).collect()
}

const SELF_LISTING: &str = "---\ndescription: Does it again.\ntools: [main]\n---\nDo {input}.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_run_stops_at_the_default_request_budget() {
    // It made 2,222 requests at depth 4 before; the default budget is 200 requests per run.
    let server = scripted(self_calls(10, 260)).await;
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", SELF_LISTING)]);
    let log = dir.path().join("run.jsonl");
    let out = bounded_output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--approve-all", "--json", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("it"),
    );
    assert_eq!(code(&out), 1);
    let result = json_result(&out);
    assert_eq!(
        result["error"].as_str(),
        Some("run budget exceeded: model requests used 200, limit 200")
    );
    assert_eq!(result["usage"]["requests"], 200);
    assert_eq!(server.requests().len(), 200);
    assert_log_complete(&log);

    // Budgets from the command line and from llm-do.toml.
    let server = scripted(self_calls(10, 60)).await;
    let out = bounded_output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--approve-all", "--json", "--max-tool-calls", "25"])
            .arg(dir.path())
            .arg("it"),
    );
    assert_eq!(code(&out), 1);
    assert_eq!(
        json_result(&out)["error"].as_str(),
        Some("run budget exceeded: tool calls used 25, limit 25")
    );
    let config = format!("{CONFIG}[budget]\nrequests = 7\n");
    let dir = project(&[("llm-do.toml", &config), ("main.worker", SELF_LISTING)]);
    let server = scripted(self_calls(10, 60)).await;
    let out = bounded_output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--approve-all", "--json"])
            .arg(dir.path())
            .arg("it"),
    );
    assert_eq!(code(&out), 1);
    assert_eq!(json_result(&out)["usage"]["requests"], 7);
    // The entry worker's `budget:` is over llm-do.toml's, the command line over both.
    let worker = "---\ntools: [main]\nbudget: { requests: 4 }\n---\nDo {input}.\n";
    let dir = project(&[("llm-do.toml", &config), ("main.worker", worker)]);
    for (flags, requests) in [(vec![], 4), (vec!["--max-requests", "2"], 2)] {
        let server = scripted(self_calls(10, 60)).await;
        let out = bounded_output(
            command(BIN, Some(&server.base_url()))
                .args(["run", "--approve-all", "--json"])
                .args(flags)
                .arg(dir.path())
                .arg("it"),
        );
        assert_eq!(
            (code(&out), json_result(&out)["usage"]["requests"].as_u64()),
            (1, Some(requests))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_calls_its_worker_after_every_depth_error_ends_within_the_budget() {
    // Was still running after 30 s: depth bounds depth, not turns x retries at each level.
    let server = scripted(self_calls(1, 400)).await;
    let config = format!("{CONFIG}max_depth = 3\n[budget]\nrequests = 50\n");
    let dir = project(&[("llm-do.toml", &config), ("main.worker", SELF_LISTING)]);
    let log = dir.path().join("run.jsonl");
    let out = bounded_output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--approve-all", "--json", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("it"),
    );
    assert_eq!(code(&out), 1);
    let result = json_result(&out);
    assert_eq!(
        result["error"].as_str(),
        Some("run budget exceeded: model requests used 50, limit 50")
    );
    // The depth error did reach the model (and it called again anyway).
    let told: String = server.requests().iter().map(|r| r.body["messages"].to_string()).collect();
    assert!(told.contains("depth"), "no depth error was reported to the model");
    assert_log_complete(&log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_show_shows_a_log_torn_by_a_kill() {
    let server = scripted(vec![
        Reply::tool_call("helper", json!({"input": "x"})),
        Reply::text("helped"),
        Reply::text("done"),
    ])
    .await;
    let helper = "---\n---\nHelp with {input}.\n";
    let main = "---\ntools: [helper]\n---\nDo {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main), ("helper.worker", helper)]);
    let log = dir.path().join("run.jsonl");
    let out = bounded_output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--approve-all", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("it"),
    );
    assert_eq!(code(&out), 0);
    let text = std::fs::read_to_string(&log).expect("log");
    let lines = text.lines().count();
    // Cut in the middle of the last record, as a kill while writing it would.
    let torn = &text[..text.len() - 30];
    std::fs::write(&log, torn).expect("write");
    let out = bounded_output(command(BIN, None).args(["log", "show"]).arg(&log));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("#2 helper"), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("run.jsonl:{lines}: the last record was cut off")), "{err}");
    // A bad line in the middle is still an error.
    let mut broken: Vec<&str> = text.lines().collect();
    broken[1] = "{\"v\":1,";
    std::fs::write(&log, broken.join("\n") + "\n").expect("write");
    let out = bounded_output(command(BIN, None).args(["log", "show"]).arg(&log));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("run.jsonl:2: not a run-log record"), "{}", stderr(&out));
    // A log that is a FIFO is refused, not waited on.
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo.jsonl");
        assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
        let out = bounded_output(command(BIN, None).args(["log", "show"]).arg(&fifo));
        assert_eq!(code(&out), 2);
        assert!(stderr(&out).contains("is a FIFO"), "{}", stderr(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_json_that_does_not_fit_the_schema_is_a_usage_error() {
    let server = scripted(vec![Reply::text("never asked")]).await;
    let worker = "---\ninput:\n  type: object\n  properties: { n: { type: integer } }\n  required: [n]\n---\nCount to {n}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", worker)]);
    for bad in [r#"{"n": "three"}"#, r#"{}"#, r#"[1]"#] {
        let out = bounded_output(
            command(BIN, Some(&server.base_url()))
                .args(["run", "--json", "--input-json", bad])
                .arg(dir.path()),
        );
        assert_eq!(code(&out), 2, "{bad}");
        let result = json_result(&out);
        assert_eq!(result["usage"]["requests"], 0);
        assert!(
            result["error"].as_str().is_some_and(|e| e.contains("does not fit the input schema")),
            "{result}"
        );
    }
    // Text for a worker whose one parameter is not a string is refused with the same code.
    let out = bounded_output(
        command(BIN, Some(&server.base_url())).args(["run", "--json"]).arg(dir.path()).arg("3"),
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(json_result(&out)["error"].as_str().is_some_and(|e| e.contains("main")));
    assert!(server.requests().is_empty(), "no model request for bad input");
}
