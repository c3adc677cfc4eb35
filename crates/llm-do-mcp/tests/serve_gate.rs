//! A served call passes the gate a model's call passes: the callee's forbidden arguments are
//! refused, and the policy, the question to the client's user and the run all get the callee's
//! canonical form of the arguments (for file tools, paths resolved in the sandbox), never the
//! client's spelling. Before, `llm-do mcp` matched its rules against the arguments as the
//! client wrote them: a rule denying `read_file` on `secret/**` did not hold for
//! `./secret/key.txt`, `secret//key.txt`, or a symbolic link to `secret/`.

#[path = "support/served.rs"]
mod served;

use llm_do_core::approval::{ApprovalPolicy, Pattern, Rule, Verdict};
use llm_do_core::{Runtime, ToolSpecBuilder};
use llm_do_mcp::serve::McpService;
use llm_do_tools::fs::Filesystem;
use serde_json::json;
use served::{User, call, connect, text_of};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A sandbox with `secret/key.txt`, `public/readme.txt` and `alias`, a link to `secret`; the
/// filesystem tools on it.
fn sandbox() -> (tempfile::TempDir, Filesystem) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("secret")).unwrap();
    std::fs::create_dir_all(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("secret/key.txt"), "TOP-SECRET").unwrap();
    std::fs::write(dir.path().join("public/readme.txt"), "hello").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("secret", dir.path().join("alias")).unwrap();
    let fs = Filesystem::new(dir.path()).unwrap();
    (dir, fs)
}

fn runtime(fs: &Filesystem) -> Runtime {
    fs.specs().into_iter().fold(Runtime::builder(), |b, spec| b.register(spec)).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_rule_on_a_path_holds_for_every_spelling_of_it() {
    let (_dir, fs) = sandbox();
    let deny = Rule::new("read_file", Verdict::Deny)
        .unwrap()
        .arg("/path", Pattern::glob("secret/**").unwrap());
    let service = McpService::new(runtime(&fs)).policy(ApprovalPolicy::new().rule(deny));
    let client = connect(service, ()).await;
    let absolute = fs.root().join("secret/key.txt").display().to_string();
    let mut spellings =
        vec!["secret/key.txt", "./secret/key.txt", "secret//key.txt", "secret/./key.txt"];
    spellings.push(&absolute);
    #[cfg(unix)]
    spellings.push("alias/key.txt");
    for path in spellings {
        let r = client.peer().call_tool(call("read_file", json!({ "path": path }))).await.unwrap();
        let text = text_of(&r);
        assert_eq!(r.is_error, Some(true), "{path}: {text}");
        assert_eq!(
            text,
            "permission denied: the call to `read_file` was denied (rule read_file [/path glob \
             \"secret/**\"] → deny); it did not run",
            "{path}"
        );
    }
    // What the rule does not name still runs, and with the canonical path.
    let r = client.peer().call_tool(call("read_file", json!({"path": "./public//readme.txt"})));
    let r = r.await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    assert_eq!(r.structured_content.as_ref().unwrap()["content"], "hello");
    client.cancel().await.unwrap();
}

/// An allow rule matches the canonical form too, and the question asked of the client's user
/// about a call that needs approval shows that form: what will be touched, not how the client
/// spelled it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_rule_and_the_question_see_the_canonical_arguments() {
    let (dir, fs) = sandbox();
    let allow = Rule::new("write_file", Verdict::Allow)
        .unwrap()
        .arg("/path", Pattern::glob("public/**").unwrap());
    // No one to ask: only the rule lets `write_file` (declared `Ask`) run.
    let service = McpService::new(runtime(&fs)).policy(ApprovalPolicy::new().rule(allow));
    let client = connect(service, ()).await;
    let args = json!({"path": "./public//notes.txt", "content": "allowed"});
    let r = client.peer().call_tool(call("write_file", args)).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    assert_eq!(std::fs::read_to_string(dir.path().join("public/notes.txt")).unwrap(), "allowed");
    client.cancel().await.unwrap();

    let user = User::deciding(|_| true);
    let service = McpService::new(runtime(&fs)).elicit_approvals(true);
    let client = connect(service, user.clone()).await;
    let args = json!({"path": "./drafts//a.txt", "content": "asked"});
    let r = client.peer().call_tool(call("write_file", args)).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let asked = user.asked();
    assert_eq!(asked.len(), 1);
    let message = &asked[0].0;
    assert!(message.contains("\"path\": \"drafts/a.txt\""), "{message}");
    assert!(!message.contains("./drafts//a.txt"), "{message}");
    assert_eq!(std::fs::read_to_string(dir.path().join("drafts/a.txt")).unwrap(), "asked");
    client.cancel().await.unwrap();
}

/// A tool's forbidden arguments are refused before any rule, even under `--approve-all`; and
/// arguments that cannot be put in canonical form are refused with the tool's reason. Neither
/// call runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_and_unresolvable_arguments_are_refused_before_the_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let run = ToolSpecBuilder::new("run")
        .input_schema(json!({"type": "object", "properties": {"command": {"type": "string"}}}))
        .forbidden_args(|a| a["command"].as_str()?.contains('|').then(|| "a pipe".to_owned()))
        .canonical_args(|a| match a["command"].as_str() {
            Some(c) if c.starts_with('/') => Err(format!("`{c}` is not in the project")),
            _ => Ok(a.clone()),
        })
        .handler(move |_, _| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(json!("ran"))
            }
        })
        .build();
    let rt = Runtime::builder().register(run).build();
    let client = connect(McpService::new(rt).approve_all(true), ()).await;
    let r = client.peer().call_tool(call("run", json!({"command": "ls | sh"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        text_of(&r),
        "permission denied: the call to `run` was refused (a pipe); no approval can allow it, \
         and it did not run"
    );
    let r = client.peer().call_tool(call("run", json!({"command": "/bin/ls"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        text_of(&r),
        "the call to `run` was refused: `/bin/ls` is not in the project; it did not run"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0, "a refused call never runs");
    let r = client.peer().call_tool(call("run", json!({"command": "ls"}))).await.unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "ran"));
    client.cancel().await.unwrap();
}

/// A rule on a served worker's attachment argument matches the path the runtime's loader will
/// read, as the gate of a model's call does: a deny rule on `secret/**` holds for
/// `./secret/x.png`, `secret//x.png` and a path through a link to `secret/`; a path the loader
/// refuses (`sub/../secret/x.png`: no `..` in the sandbox) is refused before any rule; none of
/// those calls runs. A path the rule does not name runs, with the resolved path. Before, the
/// rule was matched against the client's spelling: each of those calls ran the worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_rule_on_a_workers_attachment_holds_for_every_spelling_of_it() {
    use llm_do_core::WorkerSpecBuilder;
    use llm_do_testing::scripted::{Reply, ScriptedModel};
    use llm_do_tools::fs::AttachmentFiles;
    let (dir, _fs) = sandbox();
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("secret/x.png"), b"\x89PNG\r\n\x1a\n").unwrap();
    let schema = json!({"type": "object", "properties": {
        "image": {"type": "string", "format": "attachment"}
    }, "required": ["image"]});
    let describe = WorkerSpecBuilder::new("describe")
        .prompt("Describe the attached file.")
        .input_schema(schema)
        .model("scripted:any")
        .build()
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let saw = seen.clone();
    let model = ScriptedModel::new(move |req: &llm_do_core::ModelRequest| {
        saw.lock().unwrap().push(serde_json::to_string(&req.messages).unwrap_or_default());
        Ok::<_, llm_do_core::ModelError>(Reply::text("described"))
    });
    let rt = Runtime::builder()
        .register(describe)
        .attachment_loader(AttachmentFiles::new(dir.path()).unwrap())
        .model_override(model)
        .build();
    let deny = Rule::new("describe", Verdict::Deny)
        .unwrap()
        .arg("/image", Pattern::glob("secret/**").unwrap());
    let client = connect(McpService::new(rt).policy(ApprovalPolicy::new().rule(deny)), ()).await;
    let mut spellings = vec!["secret/x.png", "./secret/x.png", "secret//x.png"];
    #[cfg(unix)]
    spellings.push("alias/x.png");
    for path in spellings {
        let r = client.peer().call_tool(call("describe", json!({ "image": path }))).await.unwrap();
        let text = text_of(&r);
        assert_eq!(r.is_error, Some(true), "{path}: {text}");
        assert_eq!(
            text,
            "permission denied: the call to `describe` was denied (rule describe [/image glob \
             \"secret/**\"] → deny); it did not run",
            "{path}"
        );
    }
    // A path the loader refuses is refused before the rules.
    for path in ["sub/../secret/x.png", "../x.png"] {
        let r = client.peer().call_tool(call("describe", json!({ "image": path }))).await.unwrap();
        let text = text_of(&r);
        assert_eq!(r.is_error, Some(true), "{path}: {text}");
        assert!(text.starts_with("the call to `describe` was refused: "), "{path}: {text}");
        assert!(text.ends_with("; it did not run"), "{path}: {text}");
    }
    assert!(seen.lock().unwrap().is_empty(), "a refused call never reaches the model");
    // One the rule does not name runs, reading the file it names.
    let args = json!({"image": "./public//readme.txt"});
    let r = client.peer().call_tool(call("describe", args)).await.unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "described"));
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].contains("hello"), "the model was given the file: {}", requests[0]);
    client.cancel().await.unwrap();
}
