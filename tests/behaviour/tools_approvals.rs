//! The built-in tools behind the approval gate, driven by a model: the design's acceptance
//! scenario for a read-only shell (allow `grep -ri`, block `ls | wc`, ask before
//! `find -delete`), writes that need approval, the tool refusing what its rules deny even
//! when the policy lets the call through, and a model's command running exactly as written
//! while the rules match its path arguments' normalised spelling.

#![cfg(unix)]

use llm_do::approval::{ApprovalPolicy, ApprovalRequest, ApproveAll, Decision, Rule, Verdict};
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::tools::fs::Filesystem;
use llm_do::tools::shell::{Shell, ShellRule, read_only_rules};
use llm_do::{EventKind, EventLog, Runtime, WorkerSpecBuilder};
use llm_do_tests::bounded;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// A worker that may use `tools`, driven by `replies`.
fn explorer(tools: &[&str]) -> Arc<llm_do::CallableSpec> {
    tools
        .iter()
        .fold(WorkerSpecBuilder::new("explorer").prompt("Tidy up the project."), |b, t| {
            b.tool_name(*t)
        })
        .build()
        .unwrap()
}

/// The tool results the model received, in order, as `(is_error, content)`.
fn results(log: &EventLog) -> Vec<(bool, String)> {
    log.events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::ToolResult { result } => Some((result.is_error, result.content)),
            _ => None,
        })
        .collect()
}

/// An approver that records what it is asked and answers `decision`.
fn recording(
    decision: Decision,
) -> (impl Fn(&ApprovalRequest) -> Decision + Send + Sync, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let approver = move |req: &ApprovalRequest| {
        seen.lock().unwrap().push(req.args["command"].as_str().unwrap_or_default().to_owned());
        decision.clone()
    };
    (approver, asked)
}

fn scenario_model() -> ScriptedModel {
    ScriptedModel::queue([
        Reply::tool_call("shell", json!({"command": "grep -ri todo ."})),
        Reply::tool_call("shell", json!({"command": "ls | wc -l"})),
        Reply::tool_call("shell", json!({"command": "find . -name junk.tmp -delete"})),
        Reply::text("done"),
    ])
}

async fn run_scenario(decision: Decision) -> (tempfile::TempDir, Vec<(bool, String)>, Vec<String>) {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("notes.md"), "TODO: ship it\n").unwrap();
    std::fs::write(root.path().join("junk.tmp"), "").unwrap();
    let shell = Shell::new(root.path()).unwrap().rules(read_only_rules());
    let (approver, asked) = recording(decision);
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(shell.spec())
        .register(explorer(&["shell"]))
        .approval_policy(shell.approval_policy(ApprovalPolicy::new()).unwrap())
        .approver(approver)
        .model_override(scenario_model())
        .subscribe(log.clone())
        .build();
    let answer: String = bounded(rt.ctx().call("explorer", json!({}))).await.unwrap();
    assert_eq!(answer, "done");
    let asked = asked.lock().unwrap().clone();
    (root, results(&log), asked)
}

#[tokio::test]
async fn read_only_shell_allows_grep_blocks_pipes_and_asks_before_find_delete() {
    let (root, results, asked) = run_scenario(Decision::deny("not today")).await;
    assert_eq!(asked, ["find . -name junk.tmp -delete"], "only the find -delete was asked about");
    assert_eq!(results.len(), 3);
    let (grep_err, grep) = &results[0];
    assert!(!grep_err && grep.contains("TODO: ship it"), "{grep}");
    let (pipe_err, pipe) = &results[1];
    assert!(*pipe_err && pipe.contains("`|`"), "{pipe}");
    let (find_err, find) = &results[2];
    assert!(*find_err && find.contains("denied by the approver: not today"), "{find}");
    assert!(root.path().join("junk.tmp").exists(), "the denied find did not run");
}

#[tokio::test]
async fn an_approved_find_delete_runs() {
    let (root, results, asked) = run_scenario(Decision::ApproveOnce).await;
    assert_eq!(asked, ["find . -name junk.tmp -delete"]);
    assert!(!results[2].0, "{}", results[2].1);
    assert!(!root.path().join("junk.tmp").exists(), "the approved find deleted the file");
    assert!(root.path().join("notes.md").exists());
}

#[tokio::test]
async fn the_tool_refuses_denied_commands_even_when_the_policy_allows_every_call() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("keep.txt"), "x").unwrap();
    let shell = Shell::new(root.path()).unwrap().rules(read_only_rules());
    let log = EventLog::new();
    let misconfigured = ApprovalPolicy::new().rule(Rule::new("shell", Verdict::Allow).unwrap());
    let rt = Runtime::builder()
        .register(shell.spec())
        .register(explorer(&["shell"]))
        .approval_policy(misconfigured)
        .approver(ApproveAll)
        .model_override(ScriptedModel::queue([
            Reply::tool_call("shell", json!({"command": "rm keep.txt"})),
            Reply::text("done"),
        ]))
        .subscribe(log.clone())
        .build();
    let _: String = bounded(rt.ctx().call("explorer", json!({}))).await.unwrap();
    let results = results(&log);
    assert!(results[0].0 && results[0].1.contains("not allowed"), "{:?}", results[0]);
    assert!(root.path().join("keep.txt").exists());
}

#[tokio::test]
async fn without_policy_rules_every_shell_call_and_every_write_is_asked_about() {
    let root = tempfile::tempdir().unwrap();
    let shell = Shell::new(root.path()).unwrap().rules(read_only_rules());
    let fs = Filesystem::new(root.path()).unwrap();
    let (approver, asked) = recording(Decision::deny("no"));
    let log = EventLog::new();
    let builder = Runtime::builder()
        .register(shell.spec())
        .register(explorer(&["shell", "read_file", "write_file", "list_files"]))
        .approver(approver)
        .model_override(ScriptedModel::queue([
            Reply::tool_calls([
                ("list_files", json!({})),
                ("write_file", json!({"path": "new.txt", "content": "x"})),
                ("shell", json!({"command": "ls"})),
            ]),
            Reply::text("done"),
        ]))
        .subscribe(log.clone());
    let rt = fs.specs().into_iter().fold(builder, |b, s| b.register(s)).build();
    let _: String = bounded(rt.ctx().call("explorer", json!({}))).await.unwrap();
    let asked_tools: Vec<String> = log
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::ApprovalRequested { request } => Some(request.tool),
            _ => None,
        })
        .collect();
    let mut sorted = asked_tools.clone();
    sorted.sort();
    assert_eq!(sorted, ["shell", "write_file"], "reads are allowed, writes and commands ask");
    assert_eq!(asked.lock().unwrap().len(), 2);
    assert!(!root.path().join("new.txt").exists(), "the denied write did not happen");
    let listed = log.events().into_iter().any(|e| {
        matches!(e.kind, EventKind::ToolResult { result } if result.name == "list_files" && !result.is_error)
    });
    assert!(listed, "list_files ran without asking");
}

/// A root with `f.txt` ("abc") and `secret/key.txt`, and a worker whose model runs `commands`
/// through `shell` (one per turn) under the shell's own policy and an approver answering
/// `decision`: the `stdout` of each result (`Err` with the message of an error result) and the
/// commands the approver was asked about.
async fn run_commands(
    shell: impl FnOnce(&std::path::Path) -> Shell,
    commands: &[&str],
    decision: Decision,
) -> (Vec<Result<String, String>>, Vec<String>) {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("f.txt"), "abc\n").unwrap();
    std::fs::create_dir(root.path().join("secret")).unwrap();
    std::fs::write(root.path().join("secret/key.txt"), "TOP-SECRET\n").unwrap();
    let shell = shell(root.path());
    let mut replies: Vec<Reply> =
        commands.iter().map(|c| Reply::tool_call("shell", json!({ "command": c }))).collect();
    replies.push(Reply::text("done"));
    let (approver, asked) = recording(decision);
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(shell.spec())
        .register(explorer(&["shell"]))
        .approval_policy(shell.approval_policy(ApprovalPolicy::new()).unwrap())
        .approver(approver)
        .model_override(ScriptedModel::queue(replies))
        .subscribe(log.clone())
        .build();
    let _: String = bounded(rt.ctx().call("explorer", json!({}))).await.unwrap();
    let outputs = results(&log)
        .into_iter()
        .map(|(is_error, content)| match is_error {
            true => Err(content),
            false => {
                let out: serde_json::Value = serde_json::from_str(&content).unwrap();
                Ok(out["stdout"].as_str().unwrap().to_owned())
            }
        })
        .collect();
    let asked = asked.lock().unwrap().clone();
    (outputs, asked)
}

#[tokio::test]
async fn a_models_command_runs_as_written_while_rules_match_its_normalised_paths() {
    let shell = |root: &std::path::Path| {
        Shell::new(root)
            .unwrap()
            .rule(ShellRule::deny("cat secret/key.txt"))
            .rule(ShellRule::allow("cat"))
            .rule(ShellRule::allow("sed"))
            .rule(ShellRule::allow("echo"))
    };
    let commands = [
        "sed s/./X/ f.txt",
        "echo https://example.com/a//b x//y ./z s/./X/",
        "cat ./f.txt",
        "cat ./secret//key.txt",
        "cat secret/./key.txt",
    ];
    let (outputs, asked) = run_commands(shell, &commands, Decision::deny("not asked")).await;
    assert_eq!(outputs.len(), commands.len());
    // What ran is what the model wrote: no word that looks like a path was rewritten.
    assert_eq!(outputs[0], Ok("Xbc\n".to_owned()), "sed got its expression unchanged");
    assert_eq!(outputs[1], Ok("https://example.com/a//b x//y ./z s/./X/\n".to_owned()));
    assert_eq!(outputs[2], Ok("abc\n".to_owned()));
    // The deny rule on the path holds for its other spellings.
    for denied in &outputs[3..] {
        let message = denied.as_ref().unwrap_err();
        assert!(message.starts_with("permission denied"), "{message}");
        assert!(message.contains("cat secret/key.txt"), "{message}");
    }
    assert!(asked.is_empty(), "{asked:?}");
}

#[tokio::test]
async fn the_approver_sees_the_command_that_runs_and_a_session_approval_holds_for_it_alone() {
    let shell = |root: &std::path::Path| Shell::new(root).unwrap().rule(ShellRule::ask("sed"));
    let commands = ["sed s/./X/ f.txt", "sed s/./X/ f.txt", "sed s/X/ f.txt"];
    let (outputs, asked) = run_commands(shell, &commands, Decision::ApproveForSession).await;
    // `sed s/X/` is another command (it normalises to the same text, but is not the same
    // program input): approving the first for the session does not approve it.
    assert_eq!(asked, ["sed s/./X/ f.txt", "sed s/X/ f.txt"]);
    assert_eq!(outputs[0], Ok("Xbc\n".to_owned()));
    assert_eq!(outputs[1], Ok("Xbc\n".to_owned()));
}
