//! Approvals: a worker that writes files, where every write its model asks for waits for a
//! decision — approve once, approve for the session, or deny.
//!
//! ```text
//! cargo run -p llm-do-examples --example approvals_demo [-- "what to note"]
//! ```
//!
//! The worker `note_taker` has one tool, the sandboxed `write_file` of
//! `llm_do::tools::fs::Filesystem` (rooted at a fresh temporary directory, offered here with
//! length bounds on its strings for the tiny default model: `max_path_chars`,
//! `max_write_chars`), which declares the approval verdict `Ask`. `main` answers the asks on the terminal through a
//! `ChannelApprover`: `o` approves the call once, `s` approves it and identical calls (same
//! tool, same arguments) for the rest of the session, anything else denies it. A denied call
//! never runs; the model receives a permission error as the tool result. Without a terminal
//! (stdin closed) every ask is denied: nothing that needs approval runs unattended.
//!
//! `main` runs on the default setup (the embedded `local:smollm2` when nothing is configured).
//! The same worker as a worker file, run by the CLI, is the project `approvals_demo/project`
//! (`cargo run -p llm-do-cli -- run examples/approvals_demo/project "Buy milk."`): the same
//! prompt, and its filesystem entry offers `only: [write_file]` with the same bounds. The CLI
//! asks at the terminal, and without one stops at the first write with exit code 3.
//!
//! The tests replay conversations recorded from the embedded model (`approvals_demo/cassettes`,
//! re-recorded with `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example approvals_demo`)
//! and drive them with scripted decisions: approved once (`approve.json`), denied
//! (`deny.json`), and once / for the session / denied in one session (`session.json`: the same
//! note three times, the third identical call runs without asking). The worker-file form
//! replays the Rust form's recording: its requests to the model are the same, byte for byte.

use anyhow::Context as _;
use llm_do::approval::{ApprovalRequest, ChannelApprover, Decision};
use llm_do::prelude::*;
use llm_do::tools::fs::Filesystem;
use llm_do::{CallableSpec, EventPrinter, RuntimeBuilder, WorkerSpecBuilder};
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

/// The note-taking worker's prompt (the same as `project/note_taker.worker`'s).
const PROMPT: &str = "First call the `write_file` tool with a path like \"notes/todo.md\" and \
     exactly the note as content, then answer with the path. The note: \"{note}\"";

/// The note-taking worker: its only tool is `write_file`, found by name in the runtime; its
/// answer is the path it wrote (at most 60 characters).
fn note_taker() -> Arc<CallableSpec> {
    WorkerSpecBuilder::new("note_taker")
        .description("Write notes to markdown files.")
        // No system prompt (the description would be the default): the tiny default model
        // follows one concrete instruction naming the tool best, and answers directly when a
        // system prompt comes first. Quoting the note makes it copy the note as the content.
        .system("")
        .prompt(PROMPT)
        // A bounded answer: the tiny model's free text can run on until the token budget.
        .output_schema(json!({
            "type": "string",
            "maxLength": 60,
            "description": "the path of the file written"
        }))
        .input_schema(json!({
            "type": "object",
            "properties": { "note": { "type": "string", "description": "the note to save" } },
            "required": ["note"]
        }))
        .tool_name("write_file")
        .temperature(0.0)
        .max_turns(4)
        .build()
        .expect("the worker definition is valid")
}

/// The example's runtime: the worker and a filesystem toolset rooted at `root`, on `builder`
/// (which brings the model and the approver).
fn runtime(builder: RuntimeBuilder, root: &Path) -> anyhow::Result<Runtime> {
    let fs = Filesystem::new(root).context("opening the notes directory")?;
    Ok(builder.register(note_taker()).register(write_file(fs)).build())
}

/// Longest path `write_file` accepts here, in characters.
const MAX_PATH: usize = 40;
/// Longest note `write_file` accepts here, in characters.
const MAX_CONTENT: usize = 160;

/// The filesystem's `write_file` (sandboxed to its root, declaring the approval verdict
/// `Ask`), offered with bounded strings: under a grammar a tiny model's string can otherwise
/// run on until the token budget is spent. (The worker file says the same with
/// `max_path_chars: 40, max_write_chars: 160`.)
fn write_file(fs: Filesystem) -> Arc<CallableSpec> {
    fs.max_path_chars(MAX_PATH).max_write_chars(MAX_CONTENT).write_file_spec()
}

/// Asks the worker to save one note; returns its final answer.
async fn take_note(ctx: &Ctx, note: &str) -> Result<String> {
    ctx.call("note_taker", json!({ "note": note })).await
}

/// Reads a decision for `request` from a line of text: `o`, `s`, or anything else (deny).
fn decision_from(line: Option<&str>, request: &ApprovalRequest) -> Decision {
    match line.map(str::trim) {
        Some("o") => Decision::ApproveOnce,
        Some("s") => Decision::ApproveForSession,
        Some(_) => Decision::deny(format!("the user refused {}", request.tool)),
        None => Decision::deny("no one is at the terminal to approve"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let note = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Buy milk, call the plumber, renew the passport.".to_owned());
    let dir = tempfile::tempdir()?;
    let (approver, mut requests) = ChannelApprover::new(1);
    // The terminal side: shows each ask and reads the answer from stdin.
    tokio::spawn(async move {
        while let Some(pending) = requests.next().await {
            let req = pending.request();
            eprintln!(
                "{} wants to call {} with {} ({}). [o]nce / [s]ession / anything else denies:",
                req.caller, req.tool, req.args, req.reason
            );
            let line = tokio::task::spawn_blocking(|| {
                std::io::stdin().lock().lines().next().and_then(|l| l.ok())
            })
            .await
            .ok()
            .flatten();
            let decision = decision_from(line.as_deref(), req);
            pending.answer(decision);
        }
    });
    let builder = Runtime::builder()
        .approver(approver)
        .subscribe(EventPrinter::stderr().calls(false).tool_results(true).approvals(true));
    let rt = runtime(builder.with_default_providers(), dir.path())?;
    let answer = take_note(&rt.ctx(), &note).await?;
    println!("{answer}");
    let notes = dir.path().join("notes");
    if let Ok(entries) = std::fs::read_dir(&notes) {
        for entry in entries.flatten() {
            println!("--- {}", entry.path().display());
            println!("{}", std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::EventLog;
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::{EventKind, Message, ModelRequest};
    use std::sync::Mutex;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    /// The note in a rendered prompt (between `The note: "` and the closing quote).
    /// (or, in the worker file's prompt, between `the content "` and `". Then`).
    fn note_in(prompt: &str) -> &str {
        if let Some((_, rest)) = prompt.split_once("the content \"") {
            return rest.split_once("\". Then").map_or(rest, |(note, _)| note);
        }
        prompt.rsplit_once("The note: \"").map_or("", |(_, rest)| rest.trim_end_matches('"'))
    }

    /// A stand-in model: writes the note to `notes/<first word>.md`, then answers with the
    /// path written, or `not saved` when the tool failed.
    fn writer() -> ScriptedModel {
        ScriptedModel::new(|req: &ModelRequest| {
            if let Some(Message::Tool(result)) = req.messages.last() {
                let written: serde_json::Value =
                    serde_json::from_str(&result.content).unwrap_or_default();
                let answer = match written["path"].as_str() {
                    Some(path) if !result.is_error => path.to_owned(),
                    _ => "not saved".to_owned(),
                };
                return Ok(Reply::json(json!(answer)));
            }
            let note = req
                .messages
                .iter()
                .find_map(|m| match m {
                    Message::User { content } => Some(note_in(content)),
                    _ => None,
                })
                .unwrap_or_default();
            let word: String = note.chars().take_while(|c| c.is_alphanumeric()).collect();
            Ok(Reply::tool_call(
                "write_file",
                json!({ "path": format!("notes/{}.md", word.to_lowercase()), "content": note }),
            ))
        })
    }

    /// The error results of `write_file` the model was sent, from the events.
    fn refusals(log: &EventLog) -> Vec<String> {
        log.events()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ModelRequest { new_messages, .. } => Some(new_messages.clone()),
                _ => None,
            })
            .flatten()
            .filter_map(|m| match m {
                Message::Tool(r) if r.is_error && r.name == "write_file" => Some(r.content),
                _ => None,
            })
            .collect()
    }

    /// An approver answering from a script, recording what it was asked.
    #[derive(Clone, Default)]
    struct Scripted {
        answers: Arc<Mutex<Vec<Decision>>>,
        asked: Arc<Mutex<Vec<ApprovalRequest>>>,
    }

    impl Scripted {
        fn new(answers: impl IntoIterator<Item = Decision>) -> Self {
            let mut answers: Vec<_> = answers.into_iter().collect();
            answers.reverse();
            Self { answers: Arc::new(Mutex::new(answers)), ..Self::default() }
        }
        fn approver(&self) -> impl Fn(&ApprovalRequest) -> Decision + Send + Sync + 'static {
            let this = self.clone();
            move |req: &ApprovalRequest| {
                this.asked.lock().unwrap().push(req.clone());
                this.answers.lock().unwrap().pop().unwrap_or_else(|| Decision::deny("unscripted"))
            }
        }
        fn asked(&self) -> usize {
            self.asked.lock().unwrap().len()
        }
    }

    #[test]
    fn approve_once_then_for_the_session_then_deny() {
        let dir = tempfile::tempdir().unwrap();
        let approver = Scripted::new([
            Decision::ApproveOnce,
            Decision::ApproveForSession,
            Decision::deny("not that one"),
        ]);
        let log = EventLog::new();
        let builder = Runtime::builder()
            .model_override(writer())
            .approver(approver.approver())
            .subscribe(log.clone())
            .ignore_env();
        let rt = runtime(builder, dir.path()).unwrap();
        let ctx = rt.ctx();
        let todo = dir.path().join("notes/todo.md");

        // 1. Approved once: the file is written.
        let answer = block_on(take_note(&ctx, "Todo: buy milk")).unwrap();
        assert_eq!(answer, "notes/todo.md");
        assert_eq!(std::fs::read_to_string(&todo).unwrap(), "Todo: buy milk");
        assert_eq!(approver.asked(), 1);
        let first = approver.asked.lock().unwrap()[0].clone();
        assert_eq!((first.tool.as_str(), first.caller.as_str()), ("write_file", "note_taker"));
        assert_eq!(first.args["path"], "notes/todo.md");

        // 2. The identical call is asked again (a once-approval does not stick), and approved
        //    for the session.
        std::fs::remove_file(&todo).unwrap();
        block_on(take_note(&ctx, "Todo: buy milk")).unwrap();
        assert_eq!(approver.asked(), 2);
        assert!(todo.exists());

        // 3. The identical call again: the session approval holds, nobody is asked.
        std::fs::remove_file(&todo).unwrap();
        block_on(take_note(&ctx, "Todo: buy milk")).unwrap();
        assert_eq!(approver.asked(), 2);
        assert!(todo.exists());

        // 4. A different call is asked and denied: nothing is written, the model is told.
        let answer = block_on(take_note(&ctx, "Secrets: the safe code")).unwrap();
        assert_eq!(approver.asked(), 3);
        assert!(!dir.path().join("notes/secrets.md").exists());
        assert_eq!(answer, "not saved");
        let refusals = refusals(&log);
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        assert!(refusals[0].contains("permission denied"), "{refusals:?}");
        assert!(refusals[0].contains("not that one"), "{refusals:?}");

        // The events tell the same story.
        let decided: Vec<bool> = log
            .events()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ApprovalDecided { approved, .. } => Some(*approved),
                _ => None,
            })
            .collect();
        assert_eq!(decided, [true, true, true, false]);
    }

    #[test]
    fn a_channel_approver_waits_for_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (approver, mut requests) = ChannelApprover::new(1);
            let answers = tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(pending) = requests.next().await {
                    seen.push(pending.request().args["path"].as_str().unwrap_or("").to_owned());
                    // The terminal's parser: "o" approves once, "x" denies.
                    let line = if seen.len() == 1 { "o" } else { "x" };
                    let decision = decision_from(Some(line), pending.request());
                    pending.answer(decision);
                }
                seen
            });
            let log = EventLog::new();
            let builder = Runtime::builder()
                .model_override(writer())
                .approver(approver)
                .subscribe(log.clone())
                .ignore_env();
            let runtime = runtime(builder, dir.path()).unwrap();
            let ctx = runtime.ctx();
            take_note(&ctx, "Groceries: eggs").await.unwrap();
            let denied = take_note(&ctx, "Plans: none").await.unwrap();
            assert_eq!(denied, "not saved");
            assert!(refusals(&log)[0].contains("the user refused write_file"));
            drop(runtime);
            drop(ctx);
            assert_eq!(answers.await.unwrap(), ["notes/groceries.md", "notes/plans.md"]);
        });
        assert!(dir.path().join("notes/groceries.md").exists());
        assert!(!dir.path().join("notes/plans.md").exists());
    }

    #[test]
    fn without_an_approver_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let rt =
            runtime(Runtime::builder().model_override(writer()).ignore_env(), dir.path()).unwrap();
        let answer = block_on(take_note(&rt.ctx(), "Todo: nothing")).unwrap();
        assert_eq!(answer, "not saved");
        assert!(!dir.path().join("notes").exists());
    }

    // The embedded model's own conversations. The cassettes under `approvals_demo/cassettes/`
    // were recorded from `local:smollm2`; these tests replay them offline, driving the recorded
    // conversation with scripted decisions. Re-record with
    // `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example approvals_demo`.

    const NOTE: &str = "Buy milk, call the plumber, renew the passport.";

    /// A runtime on the cassette `name` with `approver`, in `dir`.
    fn recorded_runtime(
        name: &str,
        approver: &Scripted,
        log: &EventLog,
        dir: &Path,
    ) -> (Runtime, Arc<llm_do::testing::cassette::CassetteModel>) {
        let cassette =
            llm_do_examples::cassettes::recorded(&format!("approvals_demo/cassettes/{name}"));
        let builder = llm_do_examples::cassettes::builder(&cassette)
            .approver(approver.approver())
            .subscribe(log.clone())
            .ignore_env();
        (runtime(builder, dir).unwrap(), cassette)
    }

    #[test]
    fn recorded_approve_once_writes_the_models_note() {
        let dir = tempfile::tempdir().unwrap();
        let approver = Scripted::new([Decision::ApproveOnce]);
        let log = EventLog::new();
        let (rt, cassette) = recorded_runtime("approve.json", &approver, &log, dir.path());
        let ctx = rt.ctx();

        // Approved once: the file the model asked for holds exactly the content it gave.
        let answer = block_on(take_note(&ctx, NOTE)).unwrap();
        assert_eq!(approver.asked(), 1);
        let asked = approver.asked.lock().unwrap()[0].clone();
        assert_eq!((asked.tool.as_str(), asked.caller.as_str()), ("write_file", "note_taker"));
        let (path, content) =
            (asked.args["path"].as_str().unwrap(), asked.args["content"].as_str().unwrap());
        let written = dir.path().join(path);
        assert_eq!(std::fs::read_to_string(&written).unwrap(), content);
        assert!(content.starts_with(NOTE), "the model copies the note: {content}");
        assert!(!answer.is_empty() && answer.chars().count() <= 60, "{answer}");
        assert!(refusals(&log).is_empty());

        llm_do_examples::cassettes::assert_replayed(
            &cassette,
            "approvals_demo/cassettes/approve.json",
        );
    }

    #[test]
    fn recorded_deny_writes_nothing_and_the_model_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let approver = Scripted::new([]); // denies everything ("unscripted")
        let log = EventLog::new();
        let (rt, cassette) = recorded_runtime("deny.json", &approver, &log, dir.path());
        let answer = block_on(take_note(&rt.ctx(), NOTE));
        assert!(approver.asked() >= 1);
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was written");
        // Every denial reached the model as a permission error, in its next request.
        let refusals = refusals(&log);
        assert_eq!(refusals.len(), approver.asked(), "{refusals:?}");
        assert!(refusals.iter().all(|r| r.contains("permission denied")), "{refusals:?}");
        println!("the model's answer after the denial: {answer:?}");
        llm_do_examples::cassettes::assert_replayed(
            &cassette,
            "approvals_demo/cassettes/deny.json",
        );
    }

    /// Once, for the session, deny — on the embedded model. The same note three times gives the
    /// identical `write_file` call three times (temperature 0 is reproducible): approved once,
    /// the second is asked again and approved for the session, the third runs without asking;
    /// another note is asked and denied.
    #[test]
    fn recorded_once_then_for_the_session_then_deny() {
        let dir = tempfile::tempdir().unwrap();
        let approver = Scripted::new([
            Decision::ApproveOnce,
            Decision::ApproveForSession,
            Decision::deny("not that one"),
        ]);
        let log = EventLog::new();
        let (rt, cassette) = recorded_runtime("session.json", &approver, &log, dir.path());
        let ctx = rt.ctx();
        let written = |approver: &Scripted, i: usize| {
            let asked = &approver.asked.lock().unwrap()[i];
            let path = dir.path().join(asked.args["path"].as_str().unwrap());
            (path, asked.args.clone())
        };

        block_on(take_note(&ctx, NOTE)).unwrap();
        assert_eq!(approver.asked(), 1);
        let (path, first) = written(&approver, 0);
        assert!(path.exists());
        std::fs::remove_file(&path).unwrap();

        // The identical call: asked again (a once-approval does not stick).
        block_on(take_note(&ctx, NOTE)).unwrap();
        assert_eq!(approver.asked(), 2);
        assert_eq!(written(&approver, 1).1, first, "the model repeated its call exactly");
        assert!(path.exists());
        std::fs::remove_file(&path).unwrap();

        // Approved for the session: the identical call runs without asking.
        block_on(take_note(&ctx, NOTE)).unwrap();
        assert_eq!(approver.asked(), 2);
        assert!(path.exists(), "written under the session approval");
        let kept = std::fs::read_to_string(&path).unwrap();

        // Another note is another call: asked, denied, not written, the model told.
        let _ = block_on(take_note(&ctx, "Secrets: the safe code is 1234."));
        assert_eq!(approver.asked(), 3);
        let (denied, _) = written(&approver, 2);
        if denied == path {
            assert_eq!(std::fs::read_to_string(&path).unwrap(), kept, "not overwritten");
        } else {
            assert!(!denied.exists());
        }
        let refusals = refusals(&log);
        assert!(!refusals.is_empty() && refusals[0].contains("not that one"), "{refusals:?}");
        llm_do_examples::cassettes::assert_replayed(
            &cassette,
            "approvals_demo/cassettes/session.json",
        );
    }

    /// The `.worker` form (`approvals_demo/project`), copied to a temporary folder so that its
    /// `notebook/` is fresh.
    fn project_copy() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("approvals_demo/project");
        for file in ["llm-do.toml", "note_taker.worker"] {
            std::fs::copy(src.join(file), dir.path().join(file)).unwrap();
        }
        std::fs::create_dir(dir.path().join("notebook")).unwrap();
        dir
    }

    #[test]
    fn the_worker_file_form_asks_before_writing() {
        let dir = project_copy();
        let project =
            llm_do::project::Project::check(dir.path(), &llm_do::Registry::default()).unwrap();
        // The same worker as `note_taker()`: the same prompt, offered only `write_file`.
        let file = &project.workers()[0];
        assert_eq!(file.prompt, PROMPT);
        let offered: Vec<String> = file.tools.iter().flat_map(|t| t.tool_names()).collect();
        assert_eq!(offered, ["write_file"]);
        let run = |approver: &Scripted| {
            let log = EventLog::new();
            let builder = Runtime::builder()
                .model_override(writer())
                .approver(approver.approver())
                .subscribe(log.clone());
            let rt = project.register(builder).ignore_env().build();
            let answer: String =
                block_on(rt.ctx().call("note_taker", json!({ "note": "Todo: call mum" }))).unwrap();
            (answer, log)
        };
        let note = dir.path().join("notebook/notes/todo.md");

        // Denied: nothing written, the model is told.
        let denying = Scripted::new([Decision::deny("no")]);
        let (answer, log) = run(&denying);
        assert_eq!((answer.as_str(), denying.asked()), ("not saved", 1));
        assert!(refusals(&log)[0].contains("permission denied"));
        assert!(!note.exists());

        // Approved: written inside the toolset's root, with the prompt's note as content.
        let approving = Scripted::new([Decision::ApproveOnce]);
        let (answer, _) = run(&approving);
        assert_eq!((answer.as_str(), approving.asked()), ("notes/todo.md", 1));
        let asked = approving.asked.lock().unwrap()[0].clone();
        assert_eq!((asked.tool.as_str(), asked.caller.as_str()), ("write_file", "note_taker"));
        assert_eq!(std::fs::read_to_string(&note).unwrap(), "Todo: call mum");
    }
    /// The file form sends the embedded model exactly the requests the Rust form sent when
    /// `approve.json` was recorded (same prompt, same tool and schema, same settings): the
    /// replay fails with a diff on any difference.
    #[test]
    fn the_worker_file_form_replays_the_rust_forms_recording() {
        let dir = project_copy();
        let project =
            llm_do::project::Project::check(dir.path(), &llm_do::Registry::default()).unwrap();
        let cassette =
            llm_do_examples::cassettes::replayed("approvals_demo/cassettes/approve.json");
        let approver = Scripted::new([Decision::ApproveOnce]);
        let log = EventLog::new();
        let builder = llm_do_examples::cassettes::builder(&cassette)
            .approver(approver.approver())
            .subscribe(log.clone())
            .ignore_env();
        let rt = project.register(builder).build();

        // Offered `write_file` only, it writes the note and answers.
        let answer: String =
            block_on(rt.ctx().call("note_taker", json!({ "note": NOTE }))).unwrap();
        assert_eq!(approver.asked(), 1);
        let asked = approver.asked.lock().unwrap()[0].clone();
        assert_eq!(asked.tool, "write_file");
        let path = asked.args["path"].as_str().unwrap();
        let written = dir.path().join("notebook").join(path);
        let content = asked.args["content"].as_str().unwrap();
        assert_eq!(std::fs::read_to_string(&written).unwrap(), content);
        assert!(content.starts_with(NOTE), "the model copies the note: {content}");
        assert!(!answer.is_empty() && answer.chars().count() <= 60, "{answer}");
        assert!(refusals(&log).is_empty());
        assert!(cassette.unused().is_empty(), "every recorded request was made again");
    }
}
