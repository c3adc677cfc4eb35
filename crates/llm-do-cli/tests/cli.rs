//! `llm-do` commands against the loopback test server: run (text, --json, --log, stdin),
//! check, list, log show, approvals without a terminal, and every exit code.

#[path = "support/cli.rs"]
mod support;

use llm_do_cli::run_log;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

const CONFIG: &str = "entry = \"main\"\nmodel = \"openai:test-model\"\n";
const MAIN: &str = "---\ndescription: Answers, asking the helper first.\ntemperature: 0.3\ntools: [helper]\n---\nAnswer {input}.\n";
const HELPER: &str = "---\ndescription: Helps with one question.\n---\nHelp with {input}.\n";

fn files(config: &str) -> tempfile::TempDir {
    project(&[("llm-do.toml", config), ("main.worker", MAIN), ("helper.worker", HELPER)])
}

/// main asks helper, helper answers, main answers.
fn script() -> Vec<Reply> {
    vec![
        Reply::tool_call("helper", json!({"input": "the sky"})).with_tokens(10, 3),
        Reply::text("it is blue").with_tokens(5, 2),
        Reply::text("The sky is blue.").with_tokens(20, 4),
    ]
}

async fn server(replies: Vec<Reply>) -> TestServer {
    TestServer::builder().script(replies).start().await.expect("test server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_prints_only_the_result_on_stdout() {
    let server = server(script()).await;
    let dir = files(CONFIG);
    let out =
        output(command(BIN, Some(&server.base_url())).args(["run"]).arg(dir.path()).arg("why?"));
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "The sky is blue.\n");
    let err = stderr(&out);
    assert!(err.contains("main [worker]") && err.contains("helper [worker]"), "{err}");
    assert!(err.contains("tokens: 35 in + 9 out"), "{err}");
    // The helper's call got the helper's prompt; main's settings went to the server.
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].body["temperature"], json!(0.3));
    assert!(requests[1].body["messages"].to_string().contains("Help with the sky."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_log_and_log_show() {
    let server = server(script()).await;
    let dir = files(CONFIG);
    // Its directories do not exist yet: `--log` creates them.
    let log = dir.path().join("runs/mon/run.jsonl");
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--json", "-v", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("why?"),
    );
    assert_eq!(code(&out), 0);
    let result: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(result["ok"], true);
    assert_eq!(result["worker"], "main");
    assert_eq!(result["output"], "The sky is blue.");
    assert_eq!(
        result["usage"],
        json!({"requests": 3, "input_tokens": 35, "output_tokens": 9, "total_tokens": 44})
    );
    assert!(stderr(&out).contains("→ helper("), "-v shows tool calls");

    // The log: every event, spec hashes, the model and settings, no secret.
    let text = std::fs::read_to_string(&log).expect("log written");
    assert!(!text.contains("sk-test-0123456789abcdefghij"), "the API key never reaches the log");
    let records = run_log::read(&log).expect("log parses");
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=records.len() as u64).collect::<Vec<_>>());
    let main_start = &records[0];
    assert_eq!((main_start.event.as_str(), main_start.name.as_str()), ("call_started", "main"));
    let spec = main_start.spec.as_ref().expect("spec info");
    assert!(spec.hash.starts_with("sha256:") && spec.hash.len() == 71);
    assert_eq!(spec.settings.as_ref().and_then(|s| s.temperature), Some(0.3));
    let helper = run_log::worker_calls(&records, "helper");
    assert_eq!(helper.len(), 1);
    assert_eq!(helper[0].input, json!({"input": "the sky"}));
    assert_eq!(helper[0].output, Some(json!("it is blue")));
    assert_eq!(helper[0].parent, Some(1));
    assert_eq!(helper[0].model.as_deref(), Some("openai:test-model"));

    let shown = output(command(BIN, None).args(["log", "show"]).arg(&log));
    assert_eq!(code(&shown), 0);
    let tree = stdout(&shown);
    let main_line =
        tree.lines().position(|l| l.starts_with("#1 main [worker openai:test-model] ok"));
    let helper_line =
        tree.lines().position(|l| l.starts_with("  #2 helper [worker openai:test-model] ok"));
    assert!(main_line.is_some() && helper_line > main_line, "{tree}");
    assert!(tree.contains("output: \"The sky is blue.\""), "{tree}");
    assert!(tree.contains("total: 3 request(s), 35 input + 9 output tokens"), "{tree}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_from_stdin_and_from_json() {
    let server = server(vec![Reply::text("one"), Reply::text("two")]).await;
    let dir = files(CONFIG);
    let mut cmd = command(BIN, Some(&server.base_url()));
    cmd.args(["run"])
        .arg(dir.path().join("helper.worker"))
        .arg("-")
        .stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    use std::io::Write as _;
    child.stdin.take().expect("stdin").write_all(b"from stdin").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "one\n");
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--worker", "helper", "--input-json", r#"{"input": "from json"}"#])
            .arg(dir.path()),
    );
    assert_eq!(code(&out), 0);
    let bodies: Vec<String> =
        server.requests().iter().map(|r| r.body["messages"].to_string()).collect();
    assert!(
        bodies[0].contains("Help with from stdin.") && bodies[1].contains("Help with from json."),
        "{bodies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_asks_fails_fast_without_a_terminal() {
    let config =
        format!("{CONFIG}[approval]\nrules = [{{ tool = \"helper\", verdict = \"ask\" }}]\n");
    let server = server(script()).await;
    let dir = files(&config);
    let out = output(
        command(BIN, Some(&server.base_url())).args(["run", "--json"]).arg(dir.path()).arg("why?"),
    );
    assert_eq!(code(&out), 3);
    let err = stderr(&out);
    assert!(
        err.contains("the call to `helper` (asked by `main` at depth 2) needs approval"),
        "{err}"
    );
    assert!(err.contains("--approve-all") && err.contains("verdict = \"allow\""), "{err}");
    let result: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON even on failure");
    assert_eq!(result["ok"], false);
    assert_eq!(server.request_count(), 1, "the helper never ran");

    // --approve-all runs it.
    let server = server_with(script()).await;
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--approve-all"])
            .arg(dir.path())
            .arg("why?"),
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "The sky is blue.\n"));

    // --deny-all tells the model and goes on.
    let server = server_with(vec![
        Reply::tool_call("helper", json!({"input": "x"})),
        Reply::text("no help"),
    ])
    .await;
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--deny-all"])
            .arg(dir.path())
            .arg("why?"),
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "no help\n"));
    assert!(server.requests()[1].body["messages"].to_string().contains("permission denied"));
    // The denied call never ran, and the tree on stderr says so.
    let err = stderr(&out);
    assert!(err.contains("  ⊘ helper denied by the approver"), "{err}");
    assert!(!err.contains("▸ #2 helper"), "{err}");
}

async fn server_with(replies: Vec<Reply>) -> TestServer {
    server(replies).await
}

#[test]
fn check_reports_every_mistake_with_its_location() {
    // The one broken-project fixture tree, shared with llm-do-project's `check` tests.
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../llm-do-project/tests/fixtures");
    let out = output(command(BIN, None).current_dir(&fixtures).args(["check", "broken"]));
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "", "diagnostics go to stderr");
    let err = stderr(&out);
    // The kinds of mistakes the snapshot must show, each at file:line:col.
    for (file, what) in [
        ("bad_yaml.worker:4:1", "invalid YAML"),
        ("unknown_key.worker:3:1", "unknown key `temprature`"),
        ("unknown_tool.worker:5:5", "unknown tool `summarise`"),
        ("bad_schema.worker:3:3", "is not a valid JSON Schema"),
        ("no_prompt.worker:3:1", "the worker has no prompt"),
        ("bad_model.worker:2:8", "invalid model string `gpt-4o`"),
        ("twin_b.worker:2:7", "duplicate worker name `twin`"),
        ("wrong_types.worker:2:14", "`temperature` is the string `hot`"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("broken/{file}: error: ")) && l.contains(what)),
            "{file}: {what}\n{err}"
        );
    }
    assert!(!err.contains("recursive.worker"), "a worker calling itself is allowed");
    insta::assert_snapshot!(err);
}

#[test]
fn check_finds_a_model_provider_the_runtime_does_not_have() {
    // `anthropic:` is no provider of llm-do; `openai:` is one, usable or not (no key here).
    let dir = project(&[
        ("a.worker", "---\nmodel: anthropic:claude-haiku-4-5\n---\nHi {input}\n"),
        ("b.worker", "---\nmodel: openai:gpt-4o-mini\n---\nHi {input}\n"),
    ]);
    let out = output(command(BIN, None).args(["check"]).arg(dir.path()));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.ends_with(
            "a.worker:2:8: error: unknown model provider `anthropic` in \
             `anthropic:claude-haiku-4-5` (known: local, openai)"
        )),
        "{err}"
    );
    assert!(!err.contains("b.worker"), "{err}");
    std::fs::remove_file(dir.path().join("a.worker")).unwrap();
    let out = output(command(BIN, None).args(["check"]).arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // llm-do.toml's `model` too, at its place in the file (it was not checked: every run of
    // a worker that names no model failed instead).
    let toml = dir.path().join("llm-do.toml");
    std::fs::write(&toml, "max_depth = 3\nmodel = \"anthropic:claude-haiku-4-5\"\n").unwrap();
    std::fs::write(dir.path().join("c.worker"), "---\n---\nHi {input}\n").unwrap();
    let out = output(command(BIN, None).args(["check"]).arg(dir.path()));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.ends_with(
            "llm-do.toml:2:9: error: unknown model provider `anthropic` in \
             `anthropic:claude-haiku-4-5` (known: local, openai)"
        )),
        "{err}"
    );
    std::fs::write(&toml, "model = \"openai:gpt-4o-mini\"\n").unwrap();
    let out = output(command(BIN, None).args(["check"]).arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn check_list_and_run_a_good_project() {
    let dir = files(CONFIG);
    let out = output(command(BIN, None).args(["check"]).arg(dir.path()));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("ok: 2 workers and 0 built-in tools in "), "{}", stdout(&out));
    let out = output(command(BIN, None).args(["list", "--json"]).arg(dir.path()));
    assert_eq!(code(&out), 0);
    let listed: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let names: Vec<&str> = listed["callables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["helper", "main"]);
    assert_eq!(listed["entry"], "main");
    assert_eq!(listed["callables"][1]["tools"], json!(["helper"]));
    assert_eq!(listed["callables"][1]["source"], "main.worker");
    assert_eq!(listed["callables"][0]["input"]["required"], json!(["input"]));
    let out = output(command(BIN, None).args(["list"]).arg(dir.path()));
    let text = stdout(&out);
    assert!(
        text.contains("main [worker, main.worker, default model] (entry)")
            && text.contains("    tools:  helper"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes() {
    let dir = files(CONFIG);
    // 2: clap usage errors, bad flags, project diagnostics, bad input, missing input.
    let usage = [
        vec!["run", "--no-such-flag"],
        vec!["frobnicate"],
        vec!["run", "--approve-all", "--deny-all", "."],
    ];
    for args in usage {
        let out = output(command(BIN, None).args(&args));
        assert_eq!(code(&out), 2, "{args:?}");
    }
    let d = dir.path().to_str().unwrap();
    for args in [
        vec!["run", d, "--input-json", "{not json"],
        vec!["run", d, "--model", "nocolon"],
        vec!["run", d],
        vec!["run", d, "x", "--worker", "nobody"],
        vec!["check", "/no/such/dir"],
        vec!["log", "show", "/no/such/log"],
    ] {
        let out = output(command(BIN, None).args(&args));
        assert_eq!(code(&out), 2, "{args:?}");
    }
    // 0: help.
    let out = output(command(BIN, None).args(["run", "--help"]));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("Exit codes:") && stdout(&out).contains("3  a call was denied"));
    // 1: the model fails.
    let server = server(vec![Reply::error(llm_do::ModelError::new(
        llm_do::ModelErrorKind::InvalidRequest,
        "bad request",
    ))])
    .await;
    let out = output(command(BIN, Some(&server.base_url())).args(["run", d, "x"]));
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("model `openai:test-model` failed for `main`"),
        "{}",
        stderr(&out)
    );
    // 2: a provider that is not configured.
    let out = output(command(BIN, None).args(["run", d, "x", "--model", "nosuch:model"]));
    assert_eq!(code(&out), 2);
}

/// `run --json` prints exactly one JSON object on stdout also when the run cannot start: a
/// command line that does not parse (`--max-depth 0` too), a missing project, a missing or
/// malformed input.
#[test]
fn json_runs_that_cannot_start_still_print_one_json_object() {
    let dir = files(CONFIG);
    let d = dir.path().to_str().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let notes = dir.path().join("notes.txt");
    let notes = notes.to_str().unwrap();
    let cases: [(&[&str], Option<&str>, &str); 7] = [
        (&["run", "--json", "--no-such-flag", d, "x"], None, "--no-such-flag"),
        // The entry call is depth 1: a depth limit of 0 could run nothing.
        (
            &["run", "--json", "--max-depth", "0", d, "x"],
            None,
            "invalid value '0' for '--max-depth <N>'",
        ),
        (&["run", "--json", "/no/such/project", "x"], None, "/no/such/project"),
        (&["run", "--json", notes, "x"], None, "is neither a project directory"),
        (&["run", "--json", d], Some("main"), "needs an input"),
        (&["run", "--json", "--input-json", "{oops", d], Some("main"), "not valid JSON"),
        (&["run", "--json", "--worker", "nobody", d, "x"], Some("nobody"), "no worker or tool"),
    ];
    for (args, worker, needle) in cases {
        let out = output(command(BIN, None).args(args));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        let stdout = stdout(&out);
        assert_eq!(stdout.lines().count(), 1, "{args:?}: {stdout}");
        let result: Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(result["ok"], false, "{args:?}");
        assert_eq!(result["worker"], json!(worker), "{args:?}");
        assert_eq!(result["usage"]["requests"], 0, "{args:?}");
        let error = result["error"].as_str().unwrap();
        assert!(error.contains(needle), "{args:?}: {error}");
        // The same message on stderr, for people.
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    // Without --json, nothing on stdout.
    let out = output(command(BIN, None).args(["run", "/no/such/project", "x"]));
    assert_eq!((code(&out), stdout(&out).as_str()), (2, ""));
}

/// Every command that takes a project takes one of its files too (`main.worker`, an `.agent`,
/// project.json), as `run` does: `check` and `list` work on its directory, `chat` with that
/// file's worker; another file is a usage error that says what is expected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_can_be_named_by_one_of_its_files() {
    let dir = files(CONFIG);
    let helper = dir.path().join("helper.worker");
    let out = output(command(BIN, None).arg("check").arg(&helper));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ok: 2 workers and 0 built-in tools in "), "{}", stdout(&out));
    let out = output(command(BIN, None).args(["list", "--json"]).arg(&helper));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(listed["entry"], "main");

    // `chat helper.worker` chats with `helper`, not with the project's entry.
    let server = server(vec![Reply::text("helped")]).await;
    let out = output_with_stdin(
        command(BIN, Some(&server.base_url())).arg("chat").arg(&helper),
        "the plan\n",
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "helped\n"), "{}", stderr(&out));
    let sent = server.requests()[0].body["messages"].clone();
    assert_eq!(sent[0]["content"], "Helps with one question.", "{sent}");
    assert_eq!(sent[1]["content"], "Help with the plan.", "{sent}");

    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    for command_name in ["check", "list", "chat", "mcp"] {
        let out = output(command(BIN, None).arg(command_name).arg(dir.path().join("notes.txt")));
        assert_eq!(code(&out), 2, "{command_name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("notes.txt is neither a project directory, a `.worker` or `.agent` file nor a project.json"),
            "{command_name}: {}",
            stderr(&out)
        );
    }
}
