//! A bounded fuzz run, inside the test suite, over what an attacker controls: worker files,
//! `llm-do.toml`, approval rules (globs and regexes) and the arguments of tool calls a model
//! makes. Inputs are seed files mutated with structure bombs (thousands of nested `{`, `[`,
//! `(`, deep YAML and TOML nesting, special characters, cuts and duplications), drawn from a
//! fixed seed so every failure reproduces.
//!
//! **Why one process per case.** A stack overflow is not a panic: it aborts the whole process
//! (SIGABRT), so it cannot be caught inside the test. Each case therefore runs the real
//! `llm-do` binary (`llm-do check DIR` for project files; `llm-do run` against the loopback
//! test server for tool arguments, one run per batch of hostile calls), and the test fails
//! when the child dies by a signal, hangs past a deadline, or exits with an undocumented code
//! (only 0, 1 and 2 may occur here). The failing input is written to
//! `target/fuzz-failures/` and named in the message.
//!
//! Bounded: about 150 cases, a few seconds in all. Set `LLM_DO_FUZZ_CASES` for a longer run
//! and `LLM_DO_FUZZ_SEED` for other inputs. Before the fixes of issue 15 this run found the
//! stack overflows of approval-rule globs in `check` and of `list_files` globs in `run`.

#[path = "support/cli.rs"]
mod support;

use fastrand::Rng;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Exit status of `cmd`, or `None` when it ran past the deadline (then it is killed).
fn status_within(cmd: &mut Command, limit: Duration) -> Option<ExitStatus> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Keeps a failing input for reproduction; returns where.
fn keep(name: &str, files: &[(String, Vec<u8>)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures").join(name);
    std::fs::create_dir_all(&dir).expect("failure dir");
    for (file, bytes) in files {
        std::fs::write(dir.join(file), bytes).expect("keep input");
    }
    dir
}

/// A failure message, or nothing when `status` is an allowed outcome.
fn judge(status: Option<ExitStatus>, allowed: &[i32]) -> Option<String> {
    match status {
        None => Some("hung (killed after the deadline)".to_owned()),
        Some(s) => match s.code() {
            Some(c) if allowed.contains(&c) => None,
            Some(c) => Some(format!("exited with undocumented code {c}")),
            None => Some(format!("died by a signal (a crash, e.g. a stack overflow): {s:?}")),
        },
    }
}

/// Text that makes recursive parsers and walkers work hard.
fn bomb(rng: &mut Rng) -> String {
    const DEPTHS: [usize; 6] = [17, 200, 1_700, 20_000, 100_000, 300_000];
    let n = DEPTHS[rng.usize(..DEPTHS.len())];
    let nested =
        |open: &str, mid: &str, close: &str| format!("{}{mid}{}", open.repeat(n), close.repeat(n));
    match rng.usize(..9) {
        0 => nested("{", "a", "}"),
        1 => nested("{a,", "b", "}"),
        2 => nested("[", "", "]"),
        3 => nested("(", "a", ")"),
        4 => nested("{a: ", "1", "}"),
        5 => "[[".repeat(n.min(100_000)),
        6 => (0..n.min(3_000)).map(|i| format!("{}- a\n", " ".repeat(i % 200))).collect(),
        7 => {
            const SPECIAL: &[u8] = b"{}[]()*?,\\/:\"'\n-#&!|>%@`=.$^+ a\t";
            let len = 1 + rng.usize(..4_000);
            (0..len).map(|_| SPECIAL[rng.usize(..SPECIAL.len())] as char).collect()
        }
        _ => "x".repeat(1 + rng.usize(..5_000)),
    }
}

/// `seed` mutated once to four times.
fn mutate(rng: &mut Rng, seed: &str) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.usize(..4) {
        let at = rng.usize(..bytes.len() + 1);
        match rng.usize(..5) {
            0 | 1 => {
                let b = bomb(rng);
                bytes.splice(at..at, b.into_bytes());
            }
            2 => {
                let end = (at + rng.usize(..40)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + rng.usize(..200)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                bytes.splice(at..at, piece);
            }
            _ => {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << rng.usize(..8);
                }
            }
        }
    }
    bytes
}

const WORKER: &str = "---\nname: main\ndescription: Reads.\nmodel: openai:m\ntemperature: 0.2\nmax_turns: 4\nbudget: { requests: 9 }\ntools:\n  - helper\n  - filesystem: { read_only: true, only: [read_file, list_files] }\n  - shell: { rules: [ { allow: \"git log\" }, { ask: \"find\", args: [\"-delete\"] } ] }\ninput:\n  type: object\n  properties: { path: { type: string }, n: { type: array, items: { type: integer } } }\n  required: [path]\noutput:\n  type: object\n  properties: { bullets: { type: array, items: { type: string } } }\napproval:\n  - { tool: \"write_*\", verdict: ask }\n  - { tool: read_file, verdict: allow, args: { /path: { glob: \"docs/**\" } } }\n  - { tool: shell, verdict: deny, args: { /command: { regex: \"^rm\" } } }\n---\nSummarize {path}.\n";
const HELPER: &str = "---\ndescription: Helps.\n---\nHelp with {input}.\n";
const CONFIG: &str = "entry = \"main\"\nmodel = \"openai:gpt-4o-mini\"\nmax_depth = 4\n\n[budget]\nrequests = 20\n\n[providers.openai]\nfirst_byte_timeout = 30\n\n[approval]\nmode = \"prompt\"\nrules = [\n  { tool = \"write_*\", verdict = \"ask\" },\n  { tool = \"read_file\", verdict = \"allow\", args = { \"/path\" = { glob = \"docs/**\" } } },\n  { tool = \"shell\", verdict = \"deny\", args = { \"/command\" = { regex = \"^rm\" } } },\n]\n";

/// One rule whose glob or regex is a bomb, in TOML or in YAML.
fn hostile_rule(rng: &mut Rng) -> (String, String) {
    let text = bomb(rng).replace(['"', '\\', '\n'], "");
    let (key, arg) = if rng.usize(..2) == 0 { ("glob", "/path") } else { ("regex", "/path") };
    let toml = if rng.usize(..2) == 0 {
        format!("[approval]\nrules = [{{ tool = \"{text}\", verdict = \"deny\" }}]\n")
    } else {
        format!(
            "[approval]\nrules = [{{ tool = \"x\", verdict = \"deny\", args = {{ \"{arg}\" = {{ {key} = \"{text}\" }} }} }}]\n"
        )
    };
    let yaml = format!(
        "---\napproval:\n  - {{ tool: \"x\", verdict: ask, args: {{ {arg}: {{ {key}: \"{text}\" }} }} }}\n  - {{ tool: \"{text}\", verdict: deny }}\n---\nGo {{input}}.\n"
    );
    (toml, yaml)
}

#[test]
fn project_files_and_approval_rules_never_crash_or_hang_check() {
    let cases = env_number("LLM_DO_FUZZ_CASES", 140);
    let seed = env_number("LLM_DO_FUZZ_SEED", 0x15_15_15);
    let mut rng = Rng::with_seed(seed);
    let mut failures = Vec::new();
    for case in 0..cases {
        let files: Vec<(String, Vec<u8>)> = match case % 4 {
            0 => vec![
                ("llm-do.toml".into(), CONFIG.into()),
                ("main.worker".into(), mutate(&mut rng, WORKER)),
            ],
            1 => vec![
                ("llm-do.toml".into(), mutate(&mut rng, CONFIG)),
                ("main.worker".into(), HELPER.into()),
            ],
            _ => {
                let (toml, yaml) = hostile_rule(&mut rng);
                vec![("llm-do.toml".into(), toml.into()), ("main.worker".into(), yaml.into())]
            }
        };
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, bytes) in &files {
            std::fs::write(dir.path().join(name), bytes).expect("write");
        }
        std::fs::write(dir.path().join("helper.worker"), HELPER).expect("write");
        let status =
            status_within(command(BIN, None).arg("check").arg(dir.path()), Duration::from_secs(60));
        if let Some(problem) = judge(status, &[0, 2]) {
            let kept = keep(&format!("check-{seed:x}-{case}"), &files);
            failures.push(format!(
                "case {case}: `llm-do check` {problem}; input in {}",
                kept.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Hostile arguments for the filesystem tools, and arguments that are not even JSON.
fn hostile_call(rng: &mut Rng) -> Reply {
    let text = bomb(rng);
    match rng.usize(..5) {
        0 | 1 => Reply::tool_call("list_files", json!({"pattern": text})),
        2 => Reply::tool_call("read_file", json!({"path": text})),
        3 => {
            // Arguments nested past serde_json's recursion limit (128).
            let depth = 100 + rng.usize(..200);
            let mut v = json!("x");
            for _ in 0..depth {
                v = Value::Array(vec![v]);
            }
            Reply::tool_call("list_files", json!({"pattern": "*", "max_results": v}))
        }
        _ => Reply::raw_tool_call("list_files", text),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tool_arguments_never_crash_or_hang_a_run() {
    let runs = env_number("LLM_DO_FUZZ_CASES", 140) / 28;
    let seed = env_number("LLM_DO_FUZZ_SEED", 0x15_15_15);
    let mut rng = Rng::with_seed(seed ^ 0xA55A);
    let dir = project(&[
        ("llm-do.toml", "entry = \"main\"\nmodel = \"openai:test-model\"\n"),
        (
            "main.worker",
            "---\ntools:\n  - filesystem: { read_only: true }\nmax_turns: 50\n---\nList {input}.\n",
        ),
        ("notes.md", "hello"),
    ]);
    let mut failures = Vec::new();
    for run in 0..runs.max(1) {
        let mut script: Vec<Reply> = (0..12).map(|_| hostile_call(&mut rng)).collect();
        script.push(Reply::text("done"));
        let kept: Vec<(String, Vec<u8>)> =
            vec![("script.json".into(), format!("{script:?}").into_bytes())];
        let server = TestServer::builder().script(script).start().await.expect("server");
        let mut cmd = command(BIN, Some(&server.base_url()));
        cmd.args(["run", "--deny-all", "--json"]).arg(dir.path()).arg("x");
        let status =
            tokio::task::spawn_blocking(move || status_within(&mut cmd, Duration::from_secs(120)))
                .await
                .expect("join");
        if let Some(problem) = judge(status, &[0, 1]) {
            let at = keep(&format!("run-{seed:x}-{run}"), &kept);
            failures.push(format!("run {run}: `llm-do run` {problem}; script in {}", at.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
