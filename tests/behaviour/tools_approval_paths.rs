//! Hostile input: approval rules on paths hold for the path a tool will touch, not for its
//! spelling. A deny rule on `write_file` for `secret/**` must stop `./secret/b.txt`,
//! `secret//b.txt`, `secret/./b.txt`, the absolute path of the same file, and a path through
//! an in-root symbolic link to `secret/`; an allow rule must hold for the same spellings;
//! a standing approval "for the session" covers every spelling of the same file; and `..` or
//! an absolute path outside the root is still refused (by the sandbox, before anyone is asked).
//! The same holds for a worker's attachment arguments, read through the runtime's loader.

#![cfg(unix)]

use llm_do::approval::Pattern;
use llm_do::approval::{ApprovalPolicy, ApprovalRequest, ApproveAll, Decision, Rule, Verdict};
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::tools::fs::{AttachmentFiles, Filesystem};
use llm_do::{EventKind, EventLog, Runtime, WorkerSpecBuilder};
use llm_do_tests::bounded;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A root with `secret/`, `notes/`, a link `s -> secret`, a link `deep/n -> ../notes` and an
/// absolute link `abs -> <root>/secret`.
fn project() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("secret")).unwrap();
    std::fs::create_dir_all(root.join("notes")).unwrap();
    std::fs::create_dir_all(root.join("deep")).unwrap();
    std::fs::write(root.join("secret/a.txt"), "classified").unwrap();
    std::os::unix::fs::symlink("secret", root.join("s")).unwrap();
    std::os::unix::fs::symlink("../notes", root.join("deep/n")).unwrap();
    std::os::unix::fs::symlink(root.join("secret"), root.join("abs")).unwrap();
    std::os::unix::fs::symlink("secret/new.txt", root.join("dangling")).unwrap();
    (tmp, root)
}

/// Every spelling of `secret/<file>` a model might try.
fn secret_spellings(root: &Path, file: &str) -> Vec<String> {
    vec![
        format!("secret/{file}"),
        format!("./secret/{file}"),
        format!("secret//{file}"),
        format!("secret/./{file}"),
        format!("./secret/.//{file}"),
        format!("{}/secret/{file}", root.display()),
        format!("s/{file}"),
        format!("./s/{file}"),
        format!("abs/{file}"),
    ]
}

struct Outcome {
    /// `(is_error, content)` of every tool result.
    results: Vec<(bool, String)>,
    /// The paths the approver was asked about.
    asked: Vec<String>,
}

/// Runs a worker whose model calls `tool` once per argument object, then answers "done".
async fn drive(
    root: &Path,
    tool: &str,
    calls: Vec<Value>,
    policy: ApprovalPolicy,
    decision: Decision,
) -> Outcome {
    let fs = Filesystem::new(root).unwrap();
    let mut replies: Vec<Reply> = calls.into_iter().map(|a| Reply::tool_call(tool, a)).collect();
    replies.push(Reply::text("done"));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let approver = move |req: &ApprovalRequest| {
        seen.lock().unwrap().push(req.args["path"].as_str().unwrap_or_default().to_owned());
        decision.clone()
    };
    let log = EventLog::new();
    let worker = WorkerSpecBuilder::new("writer").prompt("Write.").tool_name(tool).build().unwrap();
    let rt = fs
        .specs()
        .into_iter()
        .fold(Runtime::builder(), |b, s| b.register(s))
        .register(worker)
        .approval_policy(policy)
        .approver(approver)
        .model_override(ScriptedModel::queue(replies))
        .subscribe(log.clone())
        .build();
    let answer: String = bounded(rt.ctx().call("writer", json!({}))).await.unwrap();
    assert_eq!(answer, "done");
    let results = log
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::ToolResult { result } => Some((result.is_error, result.content)),
            _ => None,
        })
        .collect();
    let asked = asked.lock().unwrap().clone();
    Outcome { results, asked }
}

fn deny_secret_writes() -> ApprovalPolicy {
    ApprovalPolicy::new()
        .rule(
            Rule::new("write_file", Verdict::Deny)
                .unwrap()
                .arg("/path", Pattern::glob("secret/**").unwrap()),
        )
        .rule(Rule::new("write_file", Verdict::Allow).unwrap())
}

#[tokio::test]
async fn a_deny_rule_on_a_directory_holds_for_every_spelling_of_a_path_in_it() {
    let (_tmp, root) = project();
    let mut spellings = secret_spellings(&root, "b.txt");
    spellings.push("dangling".to_owned()); // a dangling link whose target is secret/new.txt
    let calls = spellings.iter().map(|p| json!({"path": p, "content": "pwned"})).collect();
    let out = drive(&root, "write_file", calls, deny_secret_writes(), Decision::ApproveOnce).await;
    assert_eq!(out.results.len(), spellings.len());
    for ((is_error, content), spelling) in out.results.iter().zip(&spellings) {
        assert!(is_error, "{spelling}: {content}");
        assert!(content.starts_with("permission denied"), "{spelling}: {content}");
        assert!(content.contains("secret/**"), "{spelling}: {content}");
    }
    assert!(!root.join("secret/b.txt").exists());
    assert!(!root.join("secret/new.txt").exists());
    assert!(out.asked.is_empty(), "a denied call is never asked about: {:?}", out.asked);
}

#[tokio::test]
async fn a_deny_rule_on_reads_holds_for_every_spelling_too() {
    let (_tmp, root) = project();
    let spellings = secret_spellings(&root, "a.txt");
    let policy = ApprovalPolicy::new().rule(
        Rule::new("read_file", Verdict::Deny)
            .unwrap()
            .arg("/path", Pattern::glob("secret/**").unwrap()),
    );
    let calls = spellings.iter().map(|p| json!({"path": p})).collect();
    let out = drive(&root, "read_file", calls, policy, Decision::ApproveOnce).await;
    for ((is_error, content), spelling) in out.results.iter().zip(&spellings) {
        assert!(*is_error && content.starts_with("permission denied"), "{spelling}: {content}");
        assert!(!content.contains("classified"), "{spelling}: {content}");
    }
}

#[tokio::test]
async fn an_allow_rule_holds_for_every_spelling_and_the_call_writes_the_resolved_file() {
    let (_tmp, root) = project();
    // Allowed under notes/, asked (and denied) elsewhere.
    let policy = ApprovalPolicy::new().rule(
        Rule::new("write_file", Verdict::Allow)
            .unwrap()
            .arg("/path", Pattern::glob("notes/**").unwrap()),
    );
    let spellings = [
        "notes/a.md".to_owned(),
        "./notes/b.md".to_owned(),
        "notes//c.md".to_owned(),
        format!("{}/notes/d.md", root.display()),
        "deep/n/e.md".to_owned(), // through deep/n -> ../notes
    ];
    let calls = spellings.iter().map(|p| json!({"path": p, "content": "ok"})).collect();
    let out = drive(&root, "write_file", calls, policy, Decision::deny("not asked for this")).await;
    for ((is_error, content), spelling) in out.results.iter().zip(&spellings) {
        assert!(!is_error, "{spelling}: {content}");
    }
    for name in ["a", "b", "c", "d", "e"] {
        assert_eq!(std::fs::read_to_string(root.join(format!("notes/{name}.md"))).unwrap(), "ok");
    }
    assert!(out.asked.is_empty(), "{:?}", out.asked);
    // And an allow rule on notes/** does not let a link named like it reach elsewhere.
    std::os::unix::fs::symlink("../secret", root.join("notes/sneaky")).unwrap();
    let policy = ApprovalPolicy::new().rule(
        Rule::new("write_file", Verdict::Allow)
            .unwrap()
            .arg("/path", Pattern::glob("notes/**").unwrap()),
    );
    let calls = vec![json!({"path": "notes/sneaky/x.txt", "content": "pwned"})];
    let out = drive(&root, "write_file", calls, policy, Decision::deny("no")).await;
    assert_eq!(out.asked, ["secret/x.txt"], "asked about the file it would really write");
    assert!(out.results[0].0 && out.results[0].1.starts_with("permission denied"));
    assert!(!root.join("secret/x.txt").exists());
}

#[tokio::test]
async fn a_session_approval_covers_every_spelling_of_the_same_call_and_no_other() {
    let (_tmp, root) = project();
    let calls = vec![
        json!({"path": "./notes/x.md", "content": "same"}),
        json!({"path": "notes//x.md", "content": "same"}),
        json!({"path": "deep/n/x.md", "content": "same"}),
        json!({"path": "notes/y.md", "content": "same"}),
    ];
    let out =
        drive(&root, "write_file", calls, ApprovalPolicy::new(), Decision::ApproveForSession).await;
    assert!(out.results.iter().all(|(e, _)| !e), "{:?}", out.results);
    assert_eq!(out.asked, ["notes/x.md", "notes/y.md"]);
    assert_eq!(std::fs::read_to_string(root.join("notes/y.md")).unwrap(), "same");
}

#[tokio::test]
async fn escapes_are_refused_by_the_sandbox_before_anyone_is_asked() {
    let (tmp, root) = project();
    let outside = tmp.path().parent().unwrap().join("llm-do-approval-escape.txt");
    let calls = vec![
        json!({"path": "../x.txt", "content": "pwned"}),
        json!({"path": "a/../secret/x.txt", "content": "pwned"}),
        json!({"path": "notes/../../x.txt", "content": "pwned"}),
        json!({"path": outside.display().to_string(), "content": "pwned"}),
        json!({"path": "/etc/passwd", "content": "pwned"}),
    ];
    std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
    let mut calls = calls;
    calls.push(json!({"path": "etc/hostname", "content": "pwned"}));
    let n = calls.len();
    let out = drive(&root, "write_file", calls, ApprovalPolicy::new(), Decision::ApproveOnce).await;
    assert_eq!(out.results.len(), n);
    for (is_error, content) in &out.results {
        assert!(is_error, "{content}");
        assert!(!content.starts_with("permission denied"), "refused by the sandbox: {content}");
    }
    assert!(out.asked.is_empty(), "nobody is asked about an impossible call: {:?}", out.asked);
    assert!(!outside.exists());
    assert!(!root.join("secret/x.txt").exists());
}

#[tokio::test]
async fn direct_calls_from_code_are_unchanged() {
    // Trusted code calling the tool is not gated; the spelling it uses still works.
    let (_tmp, root) = project();
    let fs = Filesystem::new(&root).unwrap();
    let rt = fs
        .specs()
        .into_iter()
        .fold(Runtime::builder(), |b, s| b.register(s))
        .approver(ApproveAll)
        .build();
    let out: Value = rt
        .ctx()
        .call("write_file", json!({"path": "./notes//z.md", "content": "z"}))
        .await
        .unwrap();
    assert_eq!(out["created"], true);
    assert_eq!(std::fs::read_to_string(root.join("notes/z.md")).unwrap(), "z");
}

#[tokio::test]
async fn a_rule_on_a_workers_attachment_argument_holds_for_every_spelling_of_the_file() {
    let (tmp, root) = project();
    std::fs::write(root.join("notes/n.txt"), "hello").unwrap();
    let schema = json!({"type": "object", "properties": {
        "doc": {"type": "string", "format": "attachment"}
    }, "required": ["doc"]});
    let summarize = WorkerSpecBuilder::new("summarize")
        .prompt("Summarize the attached file.")
        .input_schema(schema)
        .build()
        .unwrap();
    let main = WorkerSpecBuilder::new("main").prompt("Go.").tool_name("summarize").build().unwrap();
    let policy = ApprovalPolicy::new().rule(
        Rule::new("summarize", Verdict::Deny)
            .unwrap()
            .arg("/doc", Pattern::glob("secret/**").unwrap()),
    );
    let spellings = secret_spellings(&root, "a.txt");
    let mut calls: Vec<(&str, Value)> =
        spellings.iter().map(|p| ("summarize", json!({ "doc": p }))).collect();
    calls.push(("summarize", json!({"doc": "./notes//n.txt"})));
    let outside = tmp.path().parent().unwrap().join("x.txt").display().to_string();
    calls.push(("summarize", json!({ "doc": outside })));
    calls.push(("summarize", json!({"doc": "../x.txt"})));
    let n = calls.len();
    let model = ScriptedModel::queue([
        Reply::tool_calls(calls),
        Reply::text("summary"),
        Reply::text("done"),
    ]);
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(summarize)
        .register(main)
        .approval_policy(policy)
        .approver(ApproveAll)
        .attachment_loader(AttachmentFiles::new(&root).unwrap())
        .model_override(model)
        .subscribe(log.clone())
        .build();
    let answer: String = bounded(rt.ctx().call("main", json!({}))).await.unwrap();
    assert_eq!(answer, "done");
    let events = log.events();
    let results: Vec<(bool, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolResult { result } => Some((result.is_error, result.content.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), n);
    let secret = &results[..spellings.len()];
    for ((is_error, content), spelling) in secret.iter().zip(&spellings) {
        assert!(*is_error && content.starts_with("permission denied"), "{spelling}: {content}");
        assert!(content.contains("secret/**"), "{spelling}: {content}");
    }
    // The allowed call ran once, with the path resolved; escapes were refused by the sandbox.
    let started: Vec<&Value> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CallStarted { input } if &*e.call.name == "summarize" => Some(input),
            _ => None,
        })
        .collect();
    assert_eq!(started, [&json!({"doc": "notes/n.txt"})]);
    assert!(results.iter().any(|(is_error, content)| !is_error && content == "summary"));
    for (is_error, content) in &results[spellings.len() + 1..] {
        assert!(*is_error && content.starts_with("attachment path refused"), "{content}");
    }
}

/// A rule written for `read_file` holds for a worker's attachments too (they are read from the
/// same root): before, `read_file` denied on `secret/**` still let a model hand
/// `secret/a.txt` to a worker as an attachment, and the file went to that worker's model.
/// A rule on `read_file` that asks makes such a call ask; the stricter verdict holds.
#[tokio::test]
async fn a_rule_on_read_file_holds_for_a_workers_attachments_too() {
    let (_tmp, root) = project();
    std::fs::write(root.join("notes/n.txt"), "hello").unwrap();
    std::fs::write(root.join("notes/ask.txt"), "maybe").unwrap();
    let schema = json!({"type": "object", "properties": {
        "doc": {"type": "string", "format": "attachment"}
    }, "required": ["doc"]});
    let summarize = WorkerSpecBuilder::new("summarize")
        .prompt("Summarize the attached file.")
        .input_schema(schema)
        .build()
        .unwrap();
    let main = WorkerSpecBuilder::new("main").prompt("Go.").tool_name("summarize").build().unwrap();
    // Only `read_file` rules, and an explicit allow of the worker itself: the deny still holds.
    let read_rule = |verdict, glob| {
        Rule::new("read_file", verdict).unwrap().arg("/path", Pattern::glob(glob).unwrap())
    };
    let policy = ApprovalPolicy::new()
        .rule(Rule::new("summarize", Verdict::Allow).unwrap())
        .rule(read_rule(Verdict::Deny, "secret/**"))
        .rule(read_rule(Verdict::Ask, "notes/ask.txt"));
    let spellings = secret_spellings(&root, "a.txt");
    let mut calls: Vec<(&str, Value)> =
        spellings.iter().map(|p| ("summarize", json!({ "doc": p }))).collect();
    calls.push(("summarize", json!({"doc": "./notes//n.txt"})));
    calls.push(("summarize", json!({"doc": "notes/ask.txt"})));
    let n = calls.len();
    let model = ScriptedModel::queue([
        Reply::tool_calls(calls),
        Reply::text("summary"),
        Reply::text("done"),
    ]);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let approver = move |req: &ApprovalRequest| {
        seen.lock().unwrap().push((req.tool.clone(), req.args.clone()));
        Decision::deny("no")
    };
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(summarize)
        .register(main)
        .approval_policy(policy)
        .approver(approver)
        .attachment_loader(AttachmentFiles::new(&root).unwrap())
        .model_override(model)
        .subscribe(log.clone())
        .build();
    let answer: String = bounded(rt.ctx().call("main", json!({}))).await.unwrap();
    assert_eq!(answer, "done");
    let events = log.events();
    let results: Vec<(bool, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolResult { result } => Some((result.is_error, result.content.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), n);
    for ((is_error, content), spelling) in results[..spellings.len()].iter().zip(&spellings) {
        assert!(*is_error && content.starts_with("permission denied"), "{spelling}: {content}");
        assert!(content.contains("read_file") && content.contains("secret/**"), "{content}");
    }
    // The call whose file a `read_file` rule asks about was asked about (and refused), once.
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked, [("summarize".to_owned(), json!({"doc": "notes/ask.txt"}))]);
    // Only the call with nothing against it ran, with its path resolved.
    let started: Vec<&Value> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CallStarted { input } if &*e.call.name == "summarize" => Some(input),
            _ => None,
        })
        .collect();
    assert_eq!(started, [&json!({"doc": "notes/n.txt"})]);
}

#[tokio::test]
async fn a_path_too_long_or_leading_to_a_name_that_is_not_utf8_is_refused_before_anyone_is_asked() {
    use std::os::unix::ffi::OsStrExt as _;
    let (_tmp, root) = project();
    // `docs -> d\xff`, and a decoy `d\u{fffd}` that the lossy spelling of `d\xff` would name.
    let real = root.join(std::ffi::OsStr::from_bytes(b"d\xff"));
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("a.txt"), "REAL").unwrap();
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(b"d\xff"), root.join("docs")).unwrap();
    std::fs::create_dir(root.join("d\u{fffd}")).unwrap();
    std::fs::write(root.join("d\u{fffd}/a.txt"), "DECOY").unwrap();
    let long = "a/".repeat(20_000) + "x.txt";
    let calls = vec![json!({"path": "docs/a.txt"}), json!({"path": long})];
    let out = drive(&root, "read_file", calls, ApprovalPolicy::new(), Decision::ApproveOnce).await;
    assert_eq!(out.results.len(), 2);
    let (is_error, content) = &out.results[0];
    assert!(*is_error && content.contains("whose name is not UTF-8"), "{content}");
    let (is_error, content) = &out.results[1];
    assert!(*is_error && content.contains("40005 bytes long, more than 4096"), "{content}");
    assert!(content.len() < 400, "the error does not repeat the path: {} bytes", content.len());
    assert!(out.asked.is_empty(), "nobody is asked about an impossible call: {:?}", out.asked);
}
