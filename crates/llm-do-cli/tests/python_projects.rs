//! Projects written for the Python llm-do (`project.json` + `NAME.agent` files, the fixtures of
//! `crates/llm-do-project/tests/fixtures/python`), checked, listed and run unchanged by the
//! `llm-do` binary against the loopback test server.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");
const MODEL: &str = "openai:test-model";

fn fixtures() -> PathBuf {
    repo_root().join("crates/llm-do-project/tests/fixtures/python")
}

async fn server(replies: Vec<Reply>) -> TestServer {
    TestServer::builder().script(replies).start().await.expect("test server")
}

/// The `llm-do` command against `server`, the model chosen the Python llm-do's way.
fn llm_do(server: &TestServer) -> std::process::Command {
    let mut cmd = command(BIN, Some(&server.base_url()));
    cmd.env("LLM_DO_MODEL", MODEL);
    cmd
}

/// A copy of a fixture (for runs that may write into it).
fn copy(fixture: &str) -> tempfile::TempDir {
    fn walk(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read fixture") {
            let path = entry.expect("entry").path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                walk(&path, &target);
            } else {
                std::fs::copy(&path, &target).expect("copy");
            }
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    walk(&fixtures().join(fixture), dir.path());
    dir
}

fn messages(server: &TestServer, request: usize) -> Vec<Value> {
    server.requests()[request].body["messages"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_greeter_runs_on_its_entry_args() {
    let out = output(command(BIN, None).arg("check").arg(fixtures().join("greeter")));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("ok: 1 worker and 0 built-in tools in "), "{}", stdout(&out));
    assert!(stdout(&out).trim_end().ends_with("(entry: main)"), "{}", stdout(&out));

    let server = server(vec![Reply::text("Welcome, Ada!"), Reply::text("Welcome, Bo!")]).await;
    let out = output(llm_do(&server).arg("run").arg(fixtures().join("greeter")));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Welcome, Ada!\n"));
    let sent = messages(&server, 0);
    assert_eq!(sent[0]["role"], "system");
    assert!(sent[0]["content"].as_str().unwrap().starts_with("Reply to the visitor"), "{sent:?}");
    assert_eq!(sent[1], json!({"role": "user", "content": "Good morning, I am Ada."}));

    // Input on the command line replaces entry.args (allow_cli_input defaults to true).
    let out = output(llm_do(&server).arg("run").arg(fixtures().join("greeter")).arg("Hi, I am Bo"));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Welcome, Bo!\n"));
    assert_eq!(messages(&server, 1)[1]["content"], "Hi, I am Bo");

    // A model outside compatible_models is refused before anything runs.
    let out = output(
        llm_do(&server)
            .arg("run")
            .arg(fixtures().join("greeter"))
            .args(["--model", "local:smollm2"]),
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("greeter/main.agent:5:3: error: the model `local:smollm2` does not match `compatible_models` of `main` (expected a model matching `openai:*`"),
        "{err}"
    );
    assert_eq!(server.request_count(), 2, "nothing more was asked of the server");
}

/// `compatible_models` is checked wherever the project's agents run on a chosen model: `chat`
/// (and `mcp`, `restate serve`) as `run`, before anything is asked of the model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_checks_compatible_models() {
    let server = server(vec![Reply::text("Welcome!")]).await;
    let mut chat = llm_do(&server);
    chat.env("LLM_DO_MODEL", "local:smollm2").arg("chat").arg(fixtures().join("greeter"));
    let out = output_with_stdin(&mut chat, "Hello, I am Di\n");
    assert_eq!((code(&out), stdout(&out).as_str()), (2, ""));
    let err = stderr(&out);
    assert!(
        err.contains("greeter/main.agent:5:3: error: the model `local:smollm2` does not match `compatible_models` of `main` (expected a model matching `openai:*`"),
        "{err}"
    );
    let mut mcp = llm_do(&server);
    mcp.args(["mcp", "--model", "local:smollm2"]).arg(fixtures().join("greeter"));
    let out = output_with_stdin(&mut mcp, "");
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("does not match `compatible_models` of `main`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.request_count(), 0, "nothing was asked of the server");
    // Nothing configured: the embedded default model is the chosen one, and is checked too.
    let mut run = command(BIN, None);
    run.arg("run").arg(fixtures().join("greeter"));
    let out = output(&mut run);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("the model `local:smollm2` does not match"), "{}", stderr(&out));

    // A compatible model chats.
    let out =
        output_with_stdin(llm_do(&server).arg("chat").arg(fixtures().join("greeter")), "Hi\n");
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Welcome!\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_under_prompt_mode_without_a_terminal_exits_3_and_writes_nothing() {
    let dir = copy("notes");
    let reminders = dir.path().join("notes/reminders.txt");
    let script = || {
        vec![
            Reply::tool_call("read_file", json!({"path": "notes/reminders.txt"})),
            Reply::tool_call(
                "write_file",
                json!({"path": "notes/reminders.txt", "content": "- buy stamps\n- water the ferns on Tuesday\n"}),
            ),
            Reply::text("Stored: water the ferns on Tuesday"),
        ]
    };
    let server = server(script()).await;
    let out = output(llm_do(&server).args(["run", "--json"]).arg(dir.path()));
    assert_eq!(code(&out), 3);
    let err = stderr(&out);
    assert!(
        err.contains("the call to `write_file` (asked by `main` at depth 2) needs approval"),
        "{err}"
    );
    // The remedy is one a project.json project can use: it has no llm-do.toml.
    assert!(
        err.contains(r#"set "approval_mode": "approve_all" in the "runtime" of project.json"#),
        "{err}"
    );
    assert!(!err.contains("llm-do.toml"), "{err}");
    let result: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(result["ok"], false);
    assert_eq!(std::fs::read_to_string(&reminders).unwrap(), "- buy stamps\n", "not written");
    // The read ran without asking: its content reached the model.
    assert!(messages(&server, 1).iter().any(|m| m.to_string().contains("buy stamps")));

    // Approved, the same project writes.
    let server = self::server(script()).await;
    let out = output(llm_do(&server).args(["run", "--approve-all"]).arg(dir.path()));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Stored: water the ferns on Tuesday\n"));
    assert!(std::fs::read_to_string(&reminders).unwrap().contains("water the ferns"));
}

/// `reject_all`, `return_permission_errors` and `allow_cli_input: false` of project.json. As
/// upstream, a denied call ends the run (exit 3) unless `return_permission_errors` is true:
/// then the model is told and the run goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_settings_of_the_manifest_are_honoured() {
    let script = || {
        vec![
            Reply::tool_call("write_file", json!({"path": "notes/reminders.txt", "content": "x"})),
            Reply::text("Could not store it."),
        ]
    };
    for (runtime, told) in [
        (r#"{"approval_mode": "reject_all"}"#, false),
        (r#"{"approval_mode": "reject_all", "return_permission_errors": true}"#, true),
        (r#"{"approval_mode": "prompt", "return_permission_errors": true}"#, true),
    ] {
        let dir = copy("notes");
        let manifest = format!(
            r#"{{"version": 1, "runtime": {runtime}, "allow_cli_input": false, "entry": {{"agent": "main", "args": {{"input": "Remember the milk"}}}}, "agent_files": ["main.agent"]}}"#
        );
        std::fs::write(dir.path().join("project.json"), &manifest).unwrap();
        let server = server(script()).await;
        let out = output(llm_do(&server).arg("run").arg(dir.path()));
        if told {
            assert_eq!(
                (code(&out), stdout(&out).as_str()),
                (0, "Could not store it.\n"),
                "{runtime}"
            );
            let told = messages(&server, 1).last().unwrap().to_string();
            assert!(told.contains("permission denied"), "{runtime}: {told}");
        } else {
            assert_eq!((code(&out), stdout(&out).as_str()), (3, ""), "{runtime}");
            assert!(
                stderr(&out).contains("call to `write_file` was denied"),
                "{runtime}: {}",
                stderr(&out)
            );
            assert!(stderr(&out).contains("the run was aborted"), "{}", stderr(&out));
            assert_eq!(server.request_count(), 1, "{runtime}: the model was not asked again");
        }
        let reminders = dir.path().join("notes/reminders.txt");
        assert_eq!(std::fs::read_to_string(reminders).unwrap(), "- buy stamps\n");

        let out = output(llm_do(&server).arg("run").arg(dir.path()).arg("other input"));
        assert_eq!(code(&out), 2);
        assert!(stderr(&out).contains("allow_cli_input: false"), "{}", stderr(&out));

        // `llm-do chat` without a terminal decides the same way (on the project that accepts
        // input from the command line: a chat is nothing else).
        let manifest = manifest.replace(r#""allow_cli_input": false, "#, "");
        std::fs::write(dir.path().join("project.json"), manifest).unwrap();
        let server = self::server(script()).await;
        let out = output_with_stdin(llm_do(&server).arg("chat").arg(dir.path()), "Milk\n");
        if told {
            assert_eq!((code(&out), stdout(&out).as_str()), (0, "Could not store it.\n"));
            let told = messages(&server, 1).last().unwrap().to_string();
            assert!(told.contains("permission denied"), "chat, {runtime}: {told}");
        } else {
            assert_eq!(server.request_count(), 1, "chat, {runtime}: {}", stderr(&out));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readonly_shell_analyser_runs_commands_in_the_current_directory() {
    let server = server(vec![
        Reply::tool_call("shell", json!({"command": "grep -c apples inventory.txt"})),
        Reply::tool_call("shell", json!({"command": "rm inventory.txt"})),
        Reply::text("never asked for"),
    ])
    .await;
    let analyser = fixtures().join("analyser");
    let out = output(llm_do(&server).current_dir(&analyser).args(["run", "."]));
    // An unlisted command is denied, and a denial ends the run (as upstream, without
    // `return_permission_errors`).
    assert_eq!((code(&out), stdout(&out).as_str()), (3, ""));
    assert!(
        stderr(&out).contains("call to `shell` was denied by rule shell → deny (no shell rule allows this command (default deny)); the run was aborted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.request_count(), 2, "the model was not asked after the denial");
    let result = messages(&server, 1).last().unwrap().to_string();
    assert!(result.contains(r#"\"stdout\":\"2\\n\""#), "{result}");
    assert!(analyser.join("inventory.txt").exists());
}

/// Shell metacharacters are a permission error, as upstream: the run ends, unless
/// `return_permission_errors`, with which the model is told and the run goes on. Nothing runs
/// either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_metacharacters_are_denied_as_upstream() {
    let pipe = || Reply::tool_call("shell", json!({"command": "cat inventory.txt | wc -l"}));
    let analyser = copy("analyser");
    let server = server(vec![pipe(), Reply::text("never asked for")]).await;
    let out = output(llm_do(&server).current_dir(analyser.path()).args(["run", "."]));
    assert_eq!((code(&out), stdout(&out).as_str()), (3, ""));
    let err = stderr(&out);
    assert!(
        err.contains("llm-do: call to `shell` was refused: the command contains `|`")
            && err.contains("; the run was aborted"),
        "{err}"
    );
    assert_eq!(server.request_count(), 1);

    let manifest = analyser.path().join("project.json");
    let json = std::fs::read_to_string(&manifest).unwrap().replace(
        r#""approval_mode": "approve_all""#,
        r#""approval_mode": "approve_all", "return_permission_errors": true"#,
    );
    std::fs::write(&manifest, json).unwrap();
    let server = self::server(vec![pipe(), Reply::text("Counted another way.")]).await;
    let out = output(llm_do(&server).current_dir(analyser.path()).args(["run", "."]));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Counted another way.\n"));
    let told = messages(&server, 1).last().unwrap().to_string();
    assert!(told.contains("permission denied: the call to `shell` was refused"), "{told}");
    assert!(told.contains("`|` (a pipe or `||`)"), "{told}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_delegates_to_another() {
    let server = server(vec![
        Reply::tool_call("fact_checker", json!({"input": "The moon is made of cheese."})),
        Reply::text("False: the moon is rock."),
        Reply::text("The moon is made of rock."),
    ])
    .await;
    let out = output(
        llm_do(&server)
            .arg("run")
            .arg(fixtures().join("delegation"))
            .arg("The moon is made of cheese."),
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "The moon is made of rock.\n"));
    let checker = messages(&server, 1);
    assert!(checker[0]["content"].as_str().unwrap().starts_with("Say in one sentence"));
    assert_eq!(checker[1]["content"], "The moon is made of cheese.");
    let tools = &server.requests()[0].body["tools"];
    assert_eq!(tools[0]["function"]["name"], "fact_checker", "{tools}");

    // One agent file runs on its own; project.json names the project too.
    let server = self::server(vec![Reply::text("True."), Reply::text("Edited.")]).await;
    let checker = fixtures().join("delegation/fact_checker.agent");
    let out = output(llm_do(&server).arg("run").arg(checker).arg("Water is wet."));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "True.\n"));
    assert!(messages(&server, 0)[0]["content"].as_str().unwrap().starts_with("Say in one"));
    let manifest = fixtures().join("delegation/project.json");
    let out = output(llm_do(&server).arg("run").arg(manifest).arg("Water is wet."));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Edited.\n"), "the entry ran");

    let out =
        output(command(BIN, None).args(["list", "--json"]).arg(fixtures().join("delegation")));
    let listed: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(listed["entry"], "editor");
    assert_eq!(listed["callables"][0]["source"], "editor.agent");
}

/// `agent_attachments_require_approval`: a call of an agent that carries attachments needs
/// approval (here: none can be asked, so the run ends with exit 3); one without runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_attachments_asks_when_the_manifest_says_so() {
    let dir = copy("delegation");
    std::fs::write(dir.path().join("claim.txt"), "The moon is made of cheese.").unwrap();
    std::fs::write(
        dir.path().join("project.json"),
        r#"{"version": 1, "runtime": {"approval_mode": "prompt", "agent_attachments_require_approval": true}, "entry": {"agent": "editor"}, "agent_files": ["editor.agent", "fact_checker.agent"]}"#,
    )
    .unwrap();
    let server = server(vec![
        Reply::tool_call(
            "fact_checker",
            json!({"input": "Check it.", "attachments": ["claim.txt"]}),
        ),
        Reply::tool_call("fact_checker", json!({"input": "The moon is made of cheese."})),
        Reply::text("False: the moon is rock."),
        Reply::text("The moon is made of rock."),
    ])
    .await;
    let out = output(llm_do(&server).arg("run").arg(dir.path()).arg("Check the claim."));
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("the call to `fact_checker` (asked by `editor` at depth 2) needs approval"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.request_count(), 1, "the fact checker did not run");
    let out = output(llm_do(&server).arg("run").arg(dir.path()).arg("The moon is made of cheese."));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "The moon is made of rock.\n"));
}

/// `runtime.max_depth` counts agent calls only, as upstream: with 1 the entry agent uses its
/// tools, but cannot call another agent (its call ends the run, as upstream); with 2 it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_depth_counts_agents_not_tools() {
    let notes = copy("notes");
    std::fs::write(
        notes.path().join("project.json"),
        r#"{"version": 1, "runtime": {"approval_mode": "approve_all", "max_depth": 1}, "entry": {"agent": "main", "args": {"input": "Remember the milk"}}, "agent_files": ["main.agent"]}"#,
    )
    .unwrap();
    let server = self::server(vec![
        Reply::tool_call("read_file", json!({"path": "notes/reminders.txt"})),
        Reply::text("Read them."),
    ])
    .await;
    let out = output(llm_do(&server).arg("run").arg(notes.path()));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Read them.\n"), "{}", stderr(&out));
    assert!(messages(&server, 1).last().unwrap().to_string().contains("buy stamps"));

    let delegation = copy("delegation");
    let manifest = |depth: u32| {
        format!(
            r#"{{"version": 1, "runtime": {{"approval_mode": "approve_all", "max_depth": {depth}}}, "entry": {{"agent": "editor"}}, "agent_files": ["editor.agent", "fact_checker.agent"]}}"#
        )
    };
    std::fs::write(delegation.path().join("project.json"), manifest(1)).unwrap();
    let server = self::server(vec![
        Reply::tool_call("fact_checker", json!({"input": "Water is wet."})),
        Reply::text("Could not check."),
    ])
    .await;
    let out = output(llm_do(&server).arg("run").arg(delegation.path()).arg("Water is wet."));
    // As upstream, the run ends with the error (an `llm-do.toml` project tells the model).
    assert_eq!((code(&out), stdout(&out).as_str()), (1, ""));
    let err = stderr(&out);
    assert!(
        err.contains("call to `fact_checker` would run at depth 2, deeper than max_depth = 1"),
        "{err}"
    );
    // Core's message names the Rust way to raise it; the CLI adds the command line's.
    assert!(
        err.contains("if the recursion is intended (here: `runtime.max_depth` in project.json, or --max-depth N)"),
        "{err}"
    );
    assert_eq!(server.request_count(), 1, "neither the fact checker nor the editor ran again");
    std::fs::write(delegation.path().join("project.json"), manifest(2)).unwrap();
    let server = self::server(vec![
        Reply::tool_call("fact_checker", json!({"input": "Water is wet."})),
        Reply::text("True."),
        Reply::text("Water is wet."),
    ])
    .await;
    let out = output(llm_do(&server).arg("run").arg(delegation.path()).arg("Water is wet."));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Water is wet.\n"), "{}", stderr(&out));
}

/// `filesystem_project` and `filesystem_cwd` are one toolset when the current directory is the
/// project, however the command line names it (`.`, `../NAME`, an absolute path); elsewhere
/// they differ and `check` says so.
#[test]
fn the_project_directory_is_the_same_root_however_it_is_named() {
    let dir = project(&[
        (
            "project.json",
            r#"{"version": 1, "runtime": {}, "entry": {"agent": "main"}, "agent_files": ["main.agent", "reader.agent"]}"#,
        ),
        ("main.agent", "---\nname: main\ntoolsets: [filesystem_cwd, reader]\n---\nGo.\n"),
        ("reader.agent", "---\nname: reader\ntoolsets: [filesystem_project]\n---\nRead.\n"),
    ]);
    let name = dir.path().file_name().unwrap().to_str().unwrap().to_owned();
    for target in [".".to_owned(), format!("../{name}"), dir.path().display().to_string()] {
        let out = output(command(BIN, None).current_dir(dir.path()).args(["check", &target]));
        assert_eq!(code(&out), 0, "check {target}: {}", stderr(&out));
    }
    let out =
        output(command(BIN, None).current_dir(dir.path().parent().unwrap()).args(["check", &name]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(
            "error: the `filesystem` toolset is configured differently by another worker"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_refuses_what_cannot_run_with_locations() {
    let out = output(command(BIN, None).current_dir(fixtures()).args(["check", "refused"]));
    assert_eq!(code(&out), 2);
    insta::assert_snapshot!(stderr(&out));
    let out = output(command(BIN, None).current_dir(fixtures()).args(["check", "calculator"]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("calculator/main.agent:5:5: error: the toolset `arithmetic` is defined in Python (tools.py)"),
        "{}",
        stderr(&out)
    );
}

/// An agent's default input is upstream's: the `input` text and optional `attachments`. Files
/// given by `--attach` or in the arguments reach the model with the text; the text alone still
/// runs (and is one chat turn per line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_takes_attachments_as_the_python_llm_do_does() {
    let dir = copy("greeter");
    std::fs::write(dir.path().join("visitor.txt"), "The visitor is Cy, from Lyon.").unwrap();
    let server =
        server(vec![Reply::text("Welcome, Cy!"), Reply::text("Bonjour!"), Reply::text("Hi!")])
            .await;
    let contains =
        |request: usize, text: &str| messages(&server, request)[1].to_string().contains(text);

    let out = output(llm_do(&server).arg("run").arg(dir.path()).args([
        "--attach",
        "visitor.txt",
        "Hello there",
    ]));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Welcome, Cy!\n"), "{}", stderr(&out));
    assert!(contains(0, "Hello there") && contains(0, "from Lyon"), "{:?}", messages(&server, 0));

    let args = json!({"input": "Say hello", "attachments": ["visitor.txt"]}).to_string();
    let out = output(llm_do(&server).arg("run").arg(dir.path()).args(["--input-json", &args]));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Bonjour!\n"), "{}", stderr(&out));
    assert!(contains(1, "Say hello") && contains(1, "from Lyon"), "{:?}", messages(&server, 1));

    // A file outside the project is refused before any request (bad input: exit 2).
    let args = json!({"input": "x", "attachments": ["../outside.txt"]}).to_string();
    let out = output(llm_do(&server).arg("run").arg(dir.path()).args(["--input-json", &args]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("attachment path refused: `../outside.txt`"), "{}", stderr(&out));
    assert_eq!(server.request_count(), 2);

    // `llm-do chat`: a line is the `input` text.
    let out = output_with_stdin(llm_do(&server).arg("chat").arg(dir.path()), "Good evening\n");
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "Hi!\n"), "{}", stderr(&out));
    assert!(contains(2, "Good evening"), "{:?}", messages(&server, 2));
}
