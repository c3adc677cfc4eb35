//! Python llm-do projects (`project.json` + `NAME.agent`) named by one of their files: `run`
//! and `chat` start with exactly that file's agent, in the project that lists it, and refuse a
//! file the project does not load; and the command line's other input rules for such projects.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::Value;
use std::path::Path;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// Writes `files` (relative path, text) under `root`, making their directories.
fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("mkdir");
        std::fs::write(path, text).expect("write project file");
    }
}

fn agent(name: &str) -> String {
    format!("---\nname: {name}\n---\nYou are {name}.\n")
}

/// `llm-do` run in `dir` against `server`, on its model.
fn llm_do(server: &TestServer, dir: &Path) -> std::process::Command {
    let mut cmd = command(BIN, Some(&server.base_url()));
    cmd.env("LLM_DO_MODEL", "openai:test-model").current_dir(dir);
    cmd
}

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out)).expect("one JSON object on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_target_runs_exactly_that_agent_or_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            (
                "n1/project.json",
                r#"{"version": 1, "runtime": {}, "entry": {"agent": "main"}, "agent_files": ["main.agent", "helper.agent"]}"#,
            ),
            ("n1/main.agent", &agent("main")),
            ("n1/helper.agent", &agent("helper")),
            ("n1/stray.agent", &agent("stray")),
            (
                "p9/project.json",
                r#"{"version": 1, "runtime": {}, "entry": {"agent": "alpha"}, "agent_files": ["main.agent", "agents/a.agent"]}"#,
            ),
            ("p9/main.agent", &agent("main")),
            ("p9/agents/a.agent", &agent("alpha")),
            ("p9/a.agent", &agent("beta")),
        ],
    );
    let server = TestServer::builder()
        .script(vec![Reply::text("from helper")])
        .start()
        .await
        .expect("test server");

    // A listed file runs its own agent, not the entry.
    let out = output(llm_do(&server, dir.path()).args(["run", "--json", "n1/helper.agent", "hi"]));
    assert_eq!(code(&out), 0);
    let result = json_out(&out);
    assert_eq!(
        (result["worker"].as_str(), result["output"].as_str()),
        (Some("helper"), Some("from helper"))
    );

    // Unlisted files are refused, naming the file, whether or not a listed one shares the name.
    for (target, project) in [("n1/stray.agent", "n1"), ("p9/a.agent", "p9")] {
        for command in ["run", "chat"] {
            let mut cmd = llm_do(&server, dir.path());
            cmd.args([command, target]);
            if command == "run" {
                cmd.arg("hi");
            }
            let out = output_with_stdin(&mut cmd, "hi\n");
            assert_eq!(code(&out), 2, "{command} {target}");
            let expected = format!(
                "llm-do: {target} is not a worker of the project in {project}: it is not listed in {project}/project.json's agent_files"
            );
            assert!(stderr(&out).contains(&expected), "{command} {target}: {}", stderr(&out));
        }
    }
    assert_eq!(server.request_count(), 1, "no refused target reached the model");
}

/// An agent file in a subdirectory of the project that lists it names that project (its
/// project.json's settings and root), not the subdirectory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_file_in_a_subdirectory_belongs_to_the_project_listing_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            (
                "p8/project.json",
                r#"{"version": 1, "runtime": {}, "allow_cli_input": false, "entry": {"agent": "main", "args": {"input": "from entry.args"}}, "agent_files": ["agents/main.agent"]}"#,
            ),
            ("p8/agents/main.agent", &agent("main")),
            ("p8/agents/other.agent", &agent("other")),
        ],
    );
    let out =
        output(command(BIN, None).current_dir(dir.path()).args(["check", "p8/agents/main.agent"]));
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "ok: 1 worker and 0 built-in tools in p8 (entry: main)\n")
    );
    // A file the project does not list keeps its own directory as its project.
    let out =
        output(command(BIN, None).current_dir(dir.path()).args(["check", "p8/agents/other.agent"]));
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "ok: 2 workers and 0 built-in tools in p8/agents (entry: main)\n")
    );

    let server =
        TestServer::builder().script(vec![Reply::text("done")]).start().await.expect("test server");
    let out = output(llm_do(&server, dir.path()).args(["run", "p8/agents/main.agent"]));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "done\n"));
    let sent = &server.requests()[0].body["messages"];
    assert_eq!(sent[1]["content"], "from entry.args");
    // And the project's `allow_cli_input: false` holds.
    let out = output(llm_do(&server, dir.path()).args(["run", "p8/agents/main.agent", "go"]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("p8 does not accept input on the command line"),
        "{}",
        stderr(&out)
    );
}

/// `allow_cli_input: false` refuses every input from the command line: `--attach` too, and
/// `llm-do chat`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_cli_input_false_refuses_attachments_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            (
                "p4/project.json",
                r#"{"version": 1, "runtime": {}, "allow_cli_input": false, "entry": {"agent": "main", "args": {"input": "Summarize."}}, "agent_files": ["main.agent"]}"#,
            ),
            ("p4/main.agent", &agent("main")),
            ("p4/a.txt", "a secret plan\n"),
        ],
    );
    let server =
        TestServer::builder().script(vec![Reply::text("done")]).start().await.expect("test server");
    let out = output(llm_do(&server, dir.path()).args(["run", "p4", "--attach", "a.txt"]));
    assert_eq!((code(&out), stdout(&out).as_str()), (2, ""));
    assert!(
        stderr(&out).contains("llm-do: p4 does not accept input on the command line (`allow_cli_input: false` in project.json)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.request_count(), 0);
    // A chat is input from the command line, line by line: refused too.
    let out = output_with_stdin(llm_do(&server, dir.path()).args(["chat", "p4"]), "hi\n");
    assert_eq!((code(&out), stdout(&out).as_str()), (2, ""));
    assert!(stderr(&out).contains("allow_cli_input: false` in project.json), so it cannot chat"));
    assert_eq!(server.request_count(), 0);
    // Without it, the entry.args run.
    let out = output(llm_do(&server, dir.path()).args(["run", "p4"]));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "done\n"));
}
